"""Which of a site's hub processes fits consensus: the one holding the fitter lock. Each
process that may fit asks `FitterLock.held()` before each fit; one process holds it, and when
that process dies the lock goes with it (its connection or file closes) and another takes it
at its next try. Two fitters would each write their own model's wanted votes back and forth.

PostgreSQL: a session advisory lock on a connection of its own (the server frees it when the
session ends, also after a crash or a server restart). SQLite (processes on one machine, one
data folder): an exclusive `flock` on a file beside the database."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
from typing import Any

from .dialect import is_postgres_url

log = logging.getLogger(__name__)

#: The advisory lock's key: one per database (a site, or a program on one central server).
LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"annotatiestraat consensus fitter").digest()[:8], "big", signed=True
)


class FitterLock:
    def __init__(self, location: str) -> None:
        self.location = location
        self._conn: Any = None  # PostgreSQL: the session that holds the advisory lock
        self._fd: int | None = None  # SQLite: the locked file

    def held(self) -> bool:
        """True when this process holds the lock (taking it if it is free)."""
        if is_postgres_url(self.location):
            return self._held_postgres()
        return self._held_file()

    def _held_postgres(self) -> bool:
        import psycopg

        if self._conn is not None:
            try:  # still our session? (a server restart ends it and frees the lock)
                self._conn.execute("SELECT 1")
                return True
            except psycopg.Error:
                self.release()
        try:
            conn = psycopg.connect(self.location, autocommit=True, connect_timeout=5)
        except psycopg.Error:
            return False
        try:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
        except psycopg.Error:  # the server went away in between
            row = None
        if row is None or not row[0]:
            with contextlib.suppress(Exception):
                conn.close()
            return False
        self._conn = conn
        log.info("this process fits consensus (holds the fitter lock)")
        return True

    def _held_file(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.location + ".fitter.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        if self._fd is not None:
            os.close(self._fd)  # closing frees the flock
            self._fd = None
