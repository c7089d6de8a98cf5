"""Several hub processes for one site (`straat-hub serve --workers 2`, one SQLite database in
WAL mode): kiosks find both on zeroconf (loopback), spread over them, and when one is killed
with SIGKILL they carry on at the other (or at its restarted self) after one reconnect at most,
with nothing lost, nothing doubled and no clip given to more operators than it wants. Real hub
processes, real headless kiosk processes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

from hub.store.audit import audit
from tests.conftest import PIN, make_hub
from tests.faults import KioskProc, check, seed_clips, write_project
from tests.waiting import wait_until

KIOSKS = 4


def _connections(port: int) -> int:
    """Established TCP connections to a local port (the kiosks a worker has)."""
    out = subprocess.run(
        ["ss", "-Htn", "state", "established", f"( sport = :{port} )"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return len([line for line in out.splitlines() if line.strip()])


def test_kiosks_move_to_another_worker_when_one_is_killed(tmp_path: Path) -> None:
    hub = make_hub(tmp_path, operators=KIOSKS)
    hub.project = write_project(tmp_path / "project.toml", redundancy=2)
    seed_clips(hub.data, 300, 4000, want=2)
    hub.extra = ["--open-pairing", "--workers", "2"]
    hub.start()  # back at the first worker's "ready"
    kiosks: list[KioskProc] = []
    try:
        wait_until(lambda: any("2 workers ready" in line for line in hub.log), 60, "workers")
        workers = {}  # index -> (pid, kiosk port)
        for line in list(hub.log):
            if m := re.search(r"hub worker (\d+): pid (\d+) port (\d+)", line):
                workers[int(m.group(1))] = (int(m.group(2)), int(m.group(3)))
        assert len(workers) == 2 and workers[0][1] != workers[1][1], hub.log
        for i in range(KIOSKS):
            name = f"k{i + 1}"
            kiosks.append(
                KioskProc(
                    name,
                    tmp_path / name,
                    [
                        f"--hub-key={hub.public_key}", "--interface", "127.0.0.1",
                        "--operator", f"op{i + 1}", "--pin", PIN, "--interval", "0.05",
                    ],
                ).start()
            )  # fmt: skip
        for k in kiosks:
            k.wait_event("labelled", 5, timeout=60)
        # both workers hold kiosks (rendezvous hashing over two addresses); kill the busier
        held = {i: _connections(port) for i, (_, port) in workers.items()}
        assert sum(held.values()) == KIOSKS, held
        victim = max(held, key=held.get)
        at_kill = [k.count("labelled") for k in kiosks]
        os.kill(workers[victim][0], signal.SIGKILL)
        for k, n in zip(kiosks, at_kill, strict=True):  # every kiosk labels on, acked
            k.wait_event("labelled", n + 20, timeout=60)
        wait_until(  # the supervisor restarts it (a second "pid" line)
            lambda: sum(f"hub worker {victim}: pid" in line for line in list(hub.log)) == 2,
            60,
            "the killed worker restarted",
        )
        for k in kiosks:
            k.kill(signal.SIGTERM)  # drains its outbox first
        welcomes = {k.kiosk_id: k.count("welcome") for k in kiosks}
        moved = [name for name, n in welcomes.items() if n == 2]
        assert all(n in (1, 2) for n in welcomes.values()), welcomes  # one reconnect at most
        assert len(moved) == held[victim], (welcomes, held)  # those of the dead one moved
    finally:
        for k in kiosks:
            k.kill(signal.SIGKILL)
        hub.kill(signal.SIGTERM)
    assert any("workers stopped" in line for line in hub.log[-20:]), hub.log[-20:]
    verdict = check(hub.db, [k.data for k in kiosks])
    assert verdict.ok and verdict.labels >= KIOSKS * 25, verdict
    assert audit(hub.db, now=time.time())["over_assigned"] == 0
