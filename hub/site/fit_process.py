"""The consensus fit in a process of its own. Dawid-Skene is numpy and Python for up to
seconds at a time; in a thread of the hub process it held the GIL often enough to hold up the
router's event loop (tens of milliseconds at a time: the longest waits kiosks saw for work).
In its own process it takes none of the router's time.

The process keeps the fit's state between rounds (`hub.consensus_fit.ConsensusFit`), reads
through a read-only store handle of its own, and sends back the rows to write; the hub
process writes them (its one writer). It runs at a lower CPU priority, ends when the hub
process ends (also after a SIGKILL: the parent-death signal, and the socket's end of file), and
when it dies the next round starts a new one (its first fit is a full one)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from protocol import messages as m

from ..consensus.assignment import Policy
from ..consensus_fit import ConsensusFit
from ..store import DatabaseUnavailable, Store
from .parent import die_with_parent, name_process

#: The process's name in `ps -o comm`, `top` and the journal (15 bytes at most).
PROCESS_NAME = b"straat-hub-fit"

Rows = list[tuple[str, float, int, str]]


class FitProcessDied(RuntimeError):
    """The fit's process ended during a fit (killed, out of memory); the next fit starts a
    new one."""


class FitProcess:
    """The hub's side: `rows(retractions)` (blocking: call it from a worker thread) sends one
    fit to the process, starting it first when there is none, and returns the rows to write.
    One call at a time (the hub's housekeeping)."""

    def __init__(
        self,
        open_reader: Callable[[], Store],
        schema: m.ProjectSchema,
        policy: Policy,
        nice: int = 0,
    ) -> None:
        self._args = (open_reader, schema, policy, nice, os.getpid())
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._lock = threading.Lock()
        #: processes started so far (the first, and one after each death)
        self.started = 0

    @property
    def pid(self) -> int | None:
        """The running fit process's id (None: none runs)."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def rows(self, retractions: int, full: bool = False) -> Rows:
        """`ConsensusFit.rows` in the fit's process on its own reader; raises
        DatabaseUnavailable when the process cannot reach the database, FitProcessDied when
        the process died meanwhile, RuntimeError with the process's traceback otherwise."""
        with self._lock:
            conn = self._running()
            try:
                conn.send((retractions, full))
                outcome, value = conn.recv()
            except (EOFError, OSError) as e:
                code = self._stop()
                raise FitProcessDied(f"the consensus fit's process ended (exit code {code})") from e
        if outcome == "rows":
            return value
        if outcome == "unavailable":
            raise DatabaseUnavailable(value)
        raise RuntimeError(f"the consensus fit failed in its process:\n{value}")

    def start(self) -> None:
        """Start the process now (it imports for about half a second of CPU) rather than at
        the first fit, when kiosks are labelling."""
        with self._lock:
            self._running()

    def close(self) -> None:
        """End the process (a fit under way is abandoned: nothing of it was written; the
        thread waiting for it gets FitProcessDied)."""
        process = self._process
        if process is not None:
            with contextlib.suppress(Exception):
                process.kill()
        with self._lock:
            self._stop()

    def _running(self) -> Connection:
        if self._conn is not None and self._process is not None and self._process.poll() is None:
            return self._conn
        self._stop()
        # a fresh interpreter (no copy of this process's threads and sockets), started as a
        # module, not through this process's __main__; the two talk over a socket pair
        ours, theirs = socket.socketpair()
        with theirs:
            process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
            )
        conn = Connection(ours.detach())
        self._process, self._conn = process, conn
        self.started += 1
        conn.send(self._args)
        return conn

    def _stop(self) -> int | None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            conn.close()
        if process is None:
            return None
        if process.poll() is None:
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(5)
        return process.returncode


def serve(conn: Connection) -> None:
    """The fit's process: its set-up, then one fit per request until the hub's end of the
    socket closes."""
    try:
        open_reader, schema, policy, nice, parent = conn.recv()
    except (EOFError, OSError):
        return
    _bound_to_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal is for the hub
    with contextlib.suppress(OSError):
        os.nice(nice)
    fit = ConsensusFit(schema, policy)
    reader: Store | None = None
    while True:
        try:
            retractions, full = conn.recv()
        except (EOFError, OSError):
            return  # the hub closed its end, or died
        try:
            if reader is None:
                reader = open_reader()
            reply: tuple[str, Any] = ("rows", fit.rows(reader, retractions, full))
        except DatabaseUnavailable as e:
            reply = ("unavailable", str(e))
            if reader is not None:  # a new connection next time
                with contextlib.suppress(Exception):
                    reader.close()
                reader = None
        except Exception:
            reply = ("error", traceback.format_exc())
        try:
            conn.send(reply)
        except (EOFError, OSError):
            return


def _bound_to_parent(parent: int) -> None:
    """Linux: this process is killed when the hub process dies (even by SIGKILL, even in the
    middle of a fit), and is named in `ps`; if the hub already died before this ran, end
    now. (It has nothing to clean up: it only reads.)"""
    die_with_parent(signal.SIGKILL)
    name_process(PROCESS_NAME)
    if os.getppid() != parent:
        os._exit(0)


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])))
