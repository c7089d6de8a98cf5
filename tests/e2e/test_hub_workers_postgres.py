"""Several hub processes of one site on one PostgreSQL database, with faults: `straat-hub serve
--workers 2 --db postgresql://…` while headless kiosks label (zeroconf on loopback), then
SIGKILL of one worker (its kiosks move with at most one reconnect each) or a PostgreSQL
restart (`pg_ctl stop -m immediate` + start) under both workers. Afterwards nothing is lost,
doubled, repeated for an operator or over-assigned. Real hub, kiosk and PostgreSQL processes."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import pytest

from tests.conftest import HubProc
from tests.e2e.test_hub_workers import KIOSKS, _invariants, _kill_one_and_check, _kiosks, _site
from tests.faults import KioskProc
from tests.pg import PgServer
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


def _workers(hub: HubProc) -> dict[int, tuple[int, int]]:
    """index -> (pid, kiosk port) of each worker, from the supervisor's log (latest line)."""
    wait_until(lambda: any("2 workers ready" in line for line in hub.log), 60, "workers")
    workers = {}
    for line in list(hub.log):
        if m := re.search(r"hub worker (\d+): pid (\d+) port (\d+)", line):
            workers[int(m.group(1))] = (int(m.group(2)), int(m.group(3)))
    assert len(workers) == 2 and workers[0][1] != workers[1][1], hub.log
    return workers


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
    kiosks: list[KioskProc] = []
    try:
        assert not hub.db.exists(), "a SQLite file next to a PostgreSQL site"
        workers = _workers(hub)
        kiosks = _kiosks(tmp_path, hub, [port for _, port in workers.values()])
        held = _kill_one_and_check(
            kiosks,
            {i: port for i, (_, port) in workers.items()},
            lambda i: os.kill(workers[i][0], signal.SIGKILL),
        )
        victim = max(held, key=lambda i: held[i])
        wait_until(  # the supervisor restarted it (a second "pid" line)
            lambda: sum(f"hub worker {victim}: pid" in line for line in list(hub.log)) == 2,
            60,
            "the killed worker restarted",
        )
    finally:
        for k in kiosks:
            k.kill(signal.SIGKILL)
        hub.kill(signal.SIGTERM)
    assert any("workers stopped" in line for line in hub.log[-20:]), hub.log[-20:]
    _invariants(hub, kiosks)


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
