"""Several hub processes for one site on one SQLite database (WAL): kiosks find every process
on zeroconf (loopback), spread over them, and when one is killed with SIGKILL its kiosks carry
on after one reconnect at most, with nothing lost, nothing doubled and no clip given to more
operators than it wants. Two set-ups: `straat-hub serve --workers 2` (the supervisor restarts
the killed worker; its kiosks reconnect to whichever process answers first), and two separate
`straat-hub serve` processes (nobody restarts the killed one: its kiosks move to the other).
A moved kiosk carries its operator's session on where it lands, without a new PIN check
(`Resume`): each operator logged in once in the store's session log. Real hub processes, real
headless kiosk processes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from hub.store import Store
from hub.store.audit import audit
from hub.store.dashboard import statement
from kiosk.discovery import HubAddress, spread
from tests.conftest import PIN, HubProc, make_hub
from tests.faults import KioskProc, check, seed_clips, write_project
from tests.waiting import wait_until

KIOSKS = 4


def _connections(port: int) -> int:
    """Established TCP connections to a local port (the kiosks a hub process has)."""
    out = subprocess.run(
        ["ss", "-Htn", "state", "established", f"( sport = :{port} )"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return len([line for line in out.splitlines() if line.strip()])


def _site(tmp_path: Path, db_url: str | None = None, clips: int = 300) -> HubProc:
    """Two labels per clip, fixed (max_votes = redundancy): the end-of-run audit counts a clip
    whose wanted votes the consensus lowered after a third operator got it as over-assigned
    (seen: 5 and 11 such clips in two runs of 10, when each separate process still fitted its
    own consensus; one fitter per site now, hub/store/fitter.py, but a refit may still lower
    `want`)."""
    hub = make_hub(tmp_path, operators=KIOSKS, db_url=db_url)
    hub.project = write_project(tmp_path / "project.toml", redundancy=2)
    text = hub.project.read_text()
    assert "max_votes = 5" in text
    hub.project.write_text(text.replace("max_votes = 5", "max_votes = 2"))
    seed_clips(hub.data, clips, 4000, want=2, db=db_url)
    return hub


def kiosk_ids(endpoints: list[str]) -> list[str]:
    """KIOSKS kiosk ids that spread evenly over the processes at `endpoints` (picked with the
    kiosks' own `spread`, so that the test knows where each should go)."""
    site = [HubAddress(endpoint=e, hub_id="", project="", fingerprint="") for e in endpoints]
    per: dict[str, list[str]] = {a.endpoint: [] for a in site}
    for n in range(1, 200):
        first = spread(site, f"k{n}")[0].endpoint
        if len(per[first]) < KIOSKS // len(endpoints):
            per[first].append(f"k{n}")
    return [name for chosen in per.values() for name in chosen]


def _kiosks(tmp_path: Path, hub: HubProc, ports: list[int]) -> list[KioskProc]:
    """KIOSKS kiosks on this host, spread evenly over the processes at `ports`."""
    names = kiosk_ids([f"tcp://127.0.0.1:{p}" for p in ports])
    return [
        KioskProc(
            name,
            tmp_path / name,
            [
                f"--hub-key={hub.public_key}", "--interface", "127.0.0.1",
                "--operator", f"op{i}", "--pin", PIN, "--interval", "0.05",
            ],
        ).start()
        for i, name in enumerate(names, start=1)
    ]  # fmt: skip


def _kill_one_and_check(
    kiosks: list[KioskProc],
    ports: dict[int, int],
    kill: Callable[[int], None],
    connections: Callable[[int], int] | None = None,
) -> dict[int, int]:
    """Kill the process (index → kiosk port) holding the most kiosks; wait until its kiosks
    are welcomed elsewhere and everyone labels on. Returns the kiosks held before.
    `connections`: the kiosks a process holds, by index (default: `_connections` of its
    port on this host)."""
    held_by = connections or (lambda i: _connections(ports[i]))
    for k in kiosks:
        k.wait_event("labelled", 5, timeout=60)
    held = {i: held_by(i) for i in ports}
    assert held == {i: KIOSKS // len(ports) for i in ports}, held  # spread as they chose
    victim = max(held, key=lambda i: held[i])
    kill(victim)
    wait_until(  # exactly those of the dead process are welcomed again, and all are connected
        lambda: (
            sum(k.count("welcome") for k in kiosks) >= KIOSKS + held[victim]
            and sum(held_by(i) for i in ports) == KIOSKS
        ),
        60,
        "the dead process's kiosks back",
        lambda: str({k.kiosk_id: k.count("welcome") for k in kiosks}),
    )
    now = [k.count("labelled") for k in kiosks]
    for k, n in zip(kiosks, now, strict=True):  # labelling on, online
        k.wait_event("labelled", n + 10, timeout=60)
    for k in kiosks:
        k.kill(signal.SIGTERM)  # drains its outbox first
    welcomes = {k.kiosk_id: k.count("welcome") for k in kiosks}
    assert all(n in (1, 2) for n in welcomes.values()), welcomes  # one reconnect at most
    assert sum(n == 2 for n in welcomes.values()) == held[victim], (welcomes, held)
    return held


def _invariants(hub: HubProc, kiosks: list[KioskProc]) -> None:
    verdict = check(hub.location, [k.data for k in kiosks])
    found = audit(hub.location, now=time.time())
    print(verdict.line(1), found)
    assert verdict.ok and verdict.labels >= KIOSKS * 15, verdict
    assert found["over_assigned"] == 0 and found["repeated_for_operator"] == 0, found


def resumed_without_pin(hub: HubProc, kiosks: list[KioskProc]) -> None:
    """The moved kiosks' operators work on where their kiosks landed, and no operator logged
    in again: each has one login in the store's session log (a Login with the PIN adds one,
    a resumed session none)."""
    store = Store(hub.location)
    try:
        logins = {
            f"op{i}": statement(store, f"op{i}", 0.0, time.time() + 1).sessions
            for i in range(1, len(kiosks) + 1)
        }
    finally:
        store.close()
    assert logins == {f"op{i}": 1 for i in range(1, len(kiosks) + 1)}, logins


def _workers(hub: HubProc) -> dict[int, tuple[int, int]]:
    """index -> (pid, kiosk port) of each worker, from the supervisor's log (latest line)."""
    wait_until(lambda: any("2 workers ready" in line for line in hub.log), 60, "workers")
    workers = {}
    for line in list(hub.log):
        if m := re.search(r"hub worker (\d+): pid (\d+) port (\d+)", line):
            workers[int(m.group(1))] = (int(m.group(2)), int(m.group(3)))
    assert len(workers) == 2 and workers[0][1] != workers[1][1], hub.log
    return workers


def kill_a_worker_and_check(tmp_path: Path, hub: HubProc) -> None:
    """Kiosks at both workers of `hub` (`serve --workers 2`, started); SIGKILL of one worker:
    its kiosks come back once, the supervisor restarts it, then the invariants hold."""
    kiosks: list[KioskProc] = []
    try:
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
    resumed_without_pin(hub, kiosks)


def test_kiosks_carry_on_when_a_worker_is_killed(tmp_path: Path) -> None:
    hub = _site(tmp_path)
    hub.extra = ["--open-pairing", "--workers", "2"]
    hub.start()  # back at the first worker's "ready"
    kill_a_worker_and_check(tmp_path, hub)


def test_kiosks_move_to_the_other_process_when_one_is_killed(tmp_path: Path) -> None:
    first = _site(tmp_path)
    first.extra = ["--open-pairing"]
    first.start()
    # a second process of the same site: same data folder (database, key), its own ports
    second = HubProc(data=first.data, project=first.project, extra=["--open-pairing"])
    second.start()
    hubs = {0: first, 1: second}
    kiosks: list[KioskProc] = []
    try:
        assert second.public_key == first.public_key and second.port != first.port
        kiosks = _kiosks(tmp_path, first, [first.port, second.port])
        _kill_one_and_check(
            kiosks, {i: h.port for i, h in hubs.items()}, lambda i: hubs[i].kill(signal.SIGKILL)
        )
    finally:
        for k in kiosks:
            k.kill(signal.SIGKILL)
        for h in hubs.values():
            h.kill(signal.SIGTERM)
    _invariants(first, kiosks)
    resumed_without_pin(first, kiosks)
    resumes = [line for h in hubs.values() for line in h.log if "without a PIN check" in line]
    assert len(resumes) == KIOSKS // 2, resumes  # the dead process's kiosks, at the other
