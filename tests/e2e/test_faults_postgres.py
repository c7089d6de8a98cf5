"""Faults of the database under a hub on PostgreSQL: the server restarted (`pg_ctl stop -m
immediate` + start) while kiosks label. The hub stays up; what was not committed is sent
again by the kiosks; afterwards nothing is lost, doubled, repeated for an operator or
over-assigned."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from hub.store.audit import audit
from tests import waiting
from tests.conftest import PIN, HubProc, make_hub
from tests.faults import KioskProc, check, seed_clips, write_project
from tests.pg import PgServer

pytestmark = pytest.mark.slow


def kiosk(tmp_path: Path, hub: HubProc, name: str, operator: str) -> KioskProc:
    return KioskProc(
        name,
        tmp_path / name,
        [*hub.kiosk_args(), "--operator", operator, "--pin", PIN, "--interval", "0.01",
         "--prefetch", "10"],
    )  # fmt: skip


def test_postgresql_restart_mid_run(tmp_path: Path, pg_server: PgServer) -> None:
    url = pg_server.create_database()
    hub = make_hub(tmp_path, operators=2, db_url=url)
    hub.project = write_project(tmp_path / "project.toml", redundancy=2)
    seed_clips(hub.data, 150, 4000, want=2, db=url)
    hub.extra = ["--open-pairing", "--no-zeroconf"]
    hub.start()
    kiosks = [kiosk(tmp_path, hub, f"k{i}", f"op{i}").start() for i in (1, 2)]
    try:
        for k in kiosks:
            k.wait_event("labelled", 15, timeout=60)
        pg_server.restart()  # immediate: open transactions die with the server
        after = [k.count("labelled") for k in kiosks]
        for k, n in zip(kiosks, after, strict=True):  # labelling goes on, through the hub
            k.wait_event("labelled", n + 15, timeout=60)
        assert hub.proc is not None and hub.proc.poll() is None, "".join(hub.log[-20:])
        for k in kiosks:
            k.kill(signal.SIGTERM)  # drains its outbox first (headless waits for acks)
        verdict = check(hub.location, [k.data for k in kiosks])
        found = audit(hub.location)
        print(verdict.line(1), found)
        assert verdict.ok, verdict
        assert found["over_assigned"] == 0 and found["repeated_for_operator"] == 0
        assert found["counter_mismatch"] == 0
        assert verdict.labels >= sum(after) + 30
        waiting.wait_until(
            lambda: any("database unreachable since" in line for line in hub.log),
            10,
            "the hub saying the database was unavailable",
            lambda: "".join(hub.log[-20:]),
        )
    finally:
        for k in kiosks:
            k.kill()
        hub.kill()
