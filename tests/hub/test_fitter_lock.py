"""One consensus fitter per site (hub/store/fitter.py): of the processes on one database only
one holds the fitter lock; when it is killed, another takes the lock at its next try. On both
engines, the holder a real process killed with SIGKILL."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hub.store import Store
from hub.store.fitter import FitterLock
from tests.pg import PgServer
from tests.waiting import wait_until

HOLDER = """
import sys, time
from hub.store.fitter import FitterLock
lock = FitterLock(sys.argv[1])
print("held" if lock.held() else "not held", flush=True)
time.sleep(600)
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        loc = str(tmp_path / "hub.db")
    else:
        loc = request.getfixturevalue("pg_url")
    Store(loc).close()  # the hub's database, made
    return loc


def test_one_holder_at_a_time(location: str) -> None:
    first, second = FitterLock(location), FitterLock(location)
    try:
        assert first.held()
        assert not second.held()
        assert first.held()  # kept
        first.release()
        assert second.held()
        assert not first.held()
    finally:
        first.release()
        second.release()


def test_a_killed_holder_leaves_the_lock_to_another(location: str) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, location], stdout=subprocess.PIPE, text=True
    )
    other = FitterLock(location)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert not other.held()
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        wait_until(other.held, 10, "the lock taken over")
    finally:
        holder.kill()
        holder.wait(10)
        other.release()


def test_after_a_server_restart_the_lock_is_taken_again(pg_server: PgServer) -> None:
    """A PostgreSQL restart ends the holder's session (and frees the lock): its next try
    notices and takes the lock again; only one holder still."""
    url = pg_server.create_database()
    Store(url).close()
    first, second = FitterLock(url), FitterLock(url)
    try:
        assert first.held()
        pg_server.restart()
        wait_until(first.held, 30, "the lock taken again")
        assert not second.held()
    finally:
        first.release()
        second.release()
