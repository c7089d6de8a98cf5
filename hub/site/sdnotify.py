"""A tiny sd_notify client (no libsystemd): readiness and watchdog pings to systemd.

systemd (Type=notify, NotifyAccess=main) passes `NOTIFY_SOCKET`, an AF_UNIX datagram socket,
as a path or, starting with '@', a name in the abstract namespace; with WatchdogSec= it also
passes `WATCHDOG_USEC` (and `WATCHDOG_PID`). Outside systemd both are unset and every call
here is a cheap no-op, so the hub runs the same by hand, in tests and under systemd.

    notify("READY=1")                      # after the sockets are bound
    notify("STATUS=serving 3 kiosks")
    interval = watchdog_interval()         # seconds, or None
    ... every interval / 2: notify("WATCHDOG=1")   (from the event loop: a stuck loop is
                                                    then what the watchdog catches)
    notify("STOPPING=1")
"""

from __future__ import annotations

import asyncio
import os
import socket


def _address() -> str | bytes | None:
    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        return None
    if path.startswith("@"):  # abstract namespace: a leading NUL byte instead of '@'
        return b"\0" + path[1:].encode()
    if path.startswith("/"):
        return path
    return None  # vsock:… and other forms are not for us


def notify(state: str) -> bool:
    """Send `state` (e.g. "READY=1", "WATCHDOG=1", "STATUS=…", "STOPPING=1") to systemd.

    True if a datagram was sent; False outside systemd or when the socket is gone.
    """
    address = _address()
    if address is None:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(state.encode())
    except OSError:
        return False
    return True


def watchdog_interval() -> float | None:
    """The watchdog timeout systemd expects pings within, in seconds; None if not watched.

    Ping at least twice per interval. `WATCHDOG_PID`, when set, must be this process.
    """
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec:
        return None
    try:
        if pid and int(pid) != os.getpid():
            return None
        value = int(usec)
    except ValueError:
        return None
    return value / 1_000_000 if value > 0 else None


async def watchdog_loop() -> None:
    """Ping the watchdog at half its interval until cancelled (run it as a task).

    Without a watchdog it just waits to be cancelled, so it can sit among tasks awaited with
    FIRST_COMPLETED without ending them.
    """
    interval = watchdog_interval()
    if interval is None:
        await asyncio.Future()  # never done: wait for cancellation
        return
    while True:
        notify("WATCHDOG=1")
        await asyncio.sleep(interval / 2)
