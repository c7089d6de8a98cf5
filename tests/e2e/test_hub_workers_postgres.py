"""Several hub processes of one site on one PostgreSQL database, with faults: `straat-hub serve
--workers 2 --db postgresql://…` while headless kiosks label (zeroconf on loopback), then
SIGKILL of one worker (its kiosks move with at most one reconnect each) or a PostgreSQL
restart (`pg_ctl stop -m immediate` + start) under both workers. Afterwards nothing is lost,
doubled, repeated for an operator or over-assigned. Real hub, kiosk and PostgreSQL processes."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.conftest import HubProc
from tests.e2e.test_hub_workers import (
    KIOSKS,
    _invariants,
    _kiosks,
    _site,
    _workers,
    kill_a_worker_and_check,
)
from tests.faults import KioskProc
from tests.pg import PgServer

pytestmark = pytest.mark.slow


def _start(tmp_path: Path, url: str) -> HubProc:
    # work for everyone to the end: a kiosk whose message was dropped during the restart
    # waits for its resend while the others label at 20/s (300 clips ran out in one run)
    hub = _site(tmp_path, db_url=url, clips=1200)
    hub.extra = ["--open-pairing", "--workers", "2"]
    return hub.start()  # back at the first worker's "ready"


def test_workers_on_postgresql_carry_on_when_one_is_killed(
    tmp_path: Path, pg_server: PgServer
) -> None:
    hub = _start(tmp_path, pg_server.create_database())
    try:
        assert not hub.db.exists(), "a SQLite file next to a PostgreSQL site"
    except AssertionError:
        hub.kill(signal.SIGTERM)
        raise
    kill_a_worker_and_check(tmp_path, hub)


def test_workers_on_postgresql_carry_on_through_a_server_restart(
    tmp_path: Path, pg_server: PgServer
) -> None:
    hub = _start(tmp_path, pg_server.create_database())
    kiosks: list[KioskProc] = []
    try:
        workers = _workers(hub)
        kiosks = _kiosks(tmp_path, hub, [port for _, port in workers.values()])
        for k in kiosks:
            k.wait_event("labelled", 5, timeout=60)
        pg_server.restart()  # immediate: open transactions die with the server
        after = [k.count("labelled") for k in kiosks]
        try:
            for k, n in zip(kiosks, after, strict=True):  # labelling goes on, at both workers
                k.wait_event("labelled", n + 10, timeout=60)
        except AssertionError as e:
            events = "\n".join(f"{k.kiosk_id}: {k.tail(60)}" for k in kiosks)
            raise AssertionError(f"{e}\nhub:\n{''.join(hub.log[-60:])}\n{events}") from None
        for k in kiosks:
            k.kill(signal.SIGTERM)  # drains its outbox first
        # the workers stayed up: no restart by the supervisor, no kiosk had to move
        assert not any("exited" in line for line in hub.log), hub.log[-20:]
        welcomes = {k.kiosk_id: k.count("welcome") for k in kiosks}
        assert all(n == 1 for n in welcomes.values()), welcomes
    finally:
        for k in kiosks:
            k.kill(signal.SIGKILL)
        hub.kill(signal.SIGTERM)
    _invariants(hub, kiosks)
    assert len(kiosks) == KIOSKS
