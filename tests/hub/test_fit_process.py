"""The consensus fit runs in a process of its own (hub.site.fit_process): the same rows as a
fit in the hub's process, its state kept between fits, a lower CPU priority, a new process
after one dies, and no process left behind when the hub process is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from hub.service import HubService
from hub.site.fit_process import PROCESS_NAME, FitProcess, FitProcessDied
from hub.store import DatabaseUnavailable, ReaderAt
from tests.hub.test_consensus_incremental import label_round, stored
from tests.hub.test_label_batch import make


def fit_process(service: HubService, nice: int = 0) -> FitProcess:
    return FitProcess(service.store.reader_at(), service.schema, service.policy, nice=nice)


def gone(pid: int, within: float = 10.0) -> bool:
    """The process ended within `within` seconds (a zombie waiting for its parent has)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            return True
        if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def ended(fits: FitProcess, within: float = 10.0) -> bool:
    """The fit's process has ended and its exit was collected."""
    deadline = time.monotonic() + within
    while fits.pid is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    return fits.pid is None


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_the_process_fits_what_the_hub_would_and_keeps_its_model(
    tmp_path: Path, engine: str, request: pytest.FixtureRequest
) -> None:
    db = request.getfixturevalue("pg_url") if engine == "postgres" else None
    service = make(tmp_path / "a", clips=40, db=db)
    twin = make(tmp_path / "b", clips=40)  # the same labels, fitted in this process
    fits = fit_process(service)
    try:
        for tag in ("a", "b"):
            for s in (service, twin):
                label_round(s, 6, tag)
            rows = fits.rows(0)
            service.store.set_consensus(rows)
            twin.refresh_consensus()
            assert rows, "a round of labels moves some clips' consensus"
            assert stored(service) == stored(twin)
        assert fits.pid is not None and fits.pid != os.getpid() and fits.started == 1
        assert fits.rows(0) == []  # nothing new: nothing moved (an incremental fit)
        assert fits.started == 1
    finally:
        fits.close()
    assert fits.pid is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl and /proc are Linux's")
def test_the_process_is_named_and_niced(tmp_path: Path) -> None:
    service = make(tmp_path, clips=10)
    label_round(service, 3, "a")
    fits = fit_process(service, nice=7)
    try:
        fits.rows(0)
        pid = fits.pid
        assert pid is not None
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        assert comm == PROCESS_NAME.decode()
        assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, os.nice(0) + 7)
    finally:
        fits.close()


def test_a_killed_process_is_replaced_and_fits_from_scratch(tmp_path: Path) -> None:
    service = make(tmp_path, clips=40)
    label_round(service, 6, "a")
    fits = fit_process(service)
    try:
        service.store.set_consensus(fits.rows(0))
        first = fits.pid
        assert first is not None
        # killed between two fits: the next one starts a new process, which fits in full
        os.kill(first, signal.SIGKILL)
        assert ended(fits)
        label_round(service, 6, "b")
        service.store.set_consensus(fits.rows(0))
        assert fits.started == 2 and fits.pid not in (None, first)
        # killed during a fit (stopped first, so that the request is surely under way)
        second = fits.pid
        assert second is not None
        os.kill(second, signal.SIGSTOP)
        outcome: list[object] = []
        caller = threading.Thread(target=lambda: outcome.append(_try(fits.rows, 0)))
        caller.start()
        time.sleep(0.3)
        os.kill(second, signal.SIGKILL)
        caller.join(10)
        assert not caller.is_alive()
        assert isinstance(outcome[0], FitProcessDied) and "exit code -9" in str(outcome[0])
        label_round(service, 6, "c")
        service.store.set_consensus(fits.rows(0))
        assert fits.started == 3
        twin = make(tmp_path / "twin", clips=40)
        for tag in ("a", "b", "c"):
            label_round(twin, 6, tag)
        twin.refresh_consensus()
        assert stored(service) == stored(twin)  # nothing of the killed fits is missing
    finally:
        fits.close()


def _try(fn, *args):  # noqa: ANN001, ANN202 - the outcome or the exception
    try:
        return fn(*args)
    except Exception as e:
        return e


def test_an_unreachable_database_is_reported_as_such(tmp_path: Path) -> None:
    service = make(tmp_path, clips=4)
    nobody = "postgresql://straat@127.0.0.1:9/nothing?connect_timeout=2"  # port 9: discard
    fits = FitProcess(ReaderAt(nobody, None), service.schema, service.policy)
    try:
        with pytest.raises(DatabaseUnavailable):
            fits.rows(0)
        assert fits.pid is not None  # the process lives on; it opens a reader next time
        with pytest.raises(DatabaseUnavailable):
            fits.rows(0)
        assert fits.started == 1
    finally:
        fits.close()


def test_a_failing_fit_is_reported_with_its_traceback(tmp_path: Path) -> None:
    """A fit that fails in the process (here: its reader opens a file that is not a
    database) is raised in the hub's process with the process's traceback; the process
    lives on and tries again at the next fit."""
    service = make(tmp_path, clips=4)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database " * 100)
    fits = FitProcess(ReaderAt(str(garbage), None), service.schema, service.policy)
    try:
        for _ in range(2):
            with pytest.raises(RuntimeError, match="file is not a database") as failed:
                fits.rows(0)
            assert "Traceback" in str(failed.value)
        assert fits.started == 1 and fits.pid is not None
    finally:
        fits.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal")
@pytest.mark.parametrize("busy", [False, True], ids=["waiting", "busy"])
def test_no_fit_process_outlives_a_killed_hub_process(tmp_path: Path, busy: bool) -> None:
    """A hub process killed with SIGKILL (no clean-up runs) takes its fit process along:
    one waiting for its next fit reads the end of its socket; a busy one (here: stopped, so
    that it cannot read anything) gets the parent-death signal."""
    script = textwrap.dedent(
        f"""
        import os
        import signal
        import time
        from pathlib import Path
        from tests.hub.test_consensus_incremental import label_round
        from tests.hub.test_fit_process import fit_process
        from tests.hub.test_label_batch import make

        service = make(Path({str(tmp_path / "hub")!r}), clips=10)
        label_round(service, 3, "a")
        fits = fit_process(service)
        fits.rows(0)
        if {busy!r}:
            os.kill(fits.pid, signal.SIGSTOP)
        print(fits.pid, flush=True)
        time.sleep(600)
        """
    )
    hub = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert hub.stdout is not None
        child = int(hub.stdout.readline())
        assert not gone(child, within=0)  # it runs
        hub.kill()
        hub.wait(10)
        assert gone(child), "the fit process outlived the hub process"
    finally:
        if hub.poll() is None:
            hub.kill()


def fit_children() -> list[int]:
    """This process's children named like the fit's process."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        if comm == PROCESS_NAME.decode() and int(fields[1]) == os.getpid() and fields[0] != "Z":
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_a_running_hub_fits_consensus_in_its_fit_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str, request: pytest.FixtureRequest
) -> None:
    """A real hub (its router, housekeeping and store) writes the consensus its fit process
    sent; the process runs while the hub does and ends with it. Killed with SIGKILL, it is
    replaced and the labels since get their consensus all the same."""
    import asyncio
    import dataclasses

    import hub.site.server as server
    from hub.store import Store
    from tests.hub.in_process_hub import loopback_config, while_running
    from tests.hub.store_contract.helpers import N, V, label

    monkeypatch.setattr(server, "HOUSEKEEPING_SECONDS", 0.05)
    config = loopback_config(tmp_path)
    if engine == "postgres":
        config = dataclasses.replace(config, db=request.getfixturevalue("pg_url"))
    operators = ("op1", "op2", "op3")

    def label_clips(db: Store, first: int) -> list[str]:
        clips = [f"{i:02x}" * 32 for i in range(first, first + 4)]
        for n, sha in enumerate(clips):
            db.add_clip(sha, 10, 1.0, f"{sha[:4]}.mp4", want=3)
            votes = [label(op, sha, N if (op == "op3" and n % 2) else V) for op in operators]
            db.add_labels("k1", votes)
        return clips

    async def consensus_of(db: Store, clips: list[str]) -> dict[str, tuple]:
        """The clips' stored consensus once all of them have one (or after 20 s)."""
        deadline = time.monotonic() + 20
        found: dict[str, tuple] = {}
        while time.monotonic() < deadline:
            found = {
                sha: (value, conf)
                for sha, value, conf in db.conn.execute(
                    "SELECT sha256, consensus, confidence FROM clips"
                )
                if value is not None and sha in clips
            }
            if len(found) == len(clips):
                break
            await asyncio.sleep(0.1)
        return found

    async def probe() -> tuple[list[int], list[int], dict[str, tuple]]:
        db = Store(config.db or config.data / "hub.db")
        try:
            for op in operators:
                db.add_operator(op, op, "x")
            first = label_clips(db, 0)
            await consensus_of(db, first)
            before = fit_children()
            for pid in before:
                os.kill(pid, signal.SIGKILL)
            second = label_clips(db, 4)
            consensus = await consensus_of(db, first + second)
            return before, fit_children(), consensus
        finally:
            db.close()

    before, after, consensus = while_running(config, probe)
    assert len(before) == 1, f"fit processes while the hub ran: {before}"
    assert len(after) == 1 and after != before, "no new fit process after the kill"
    assert len(consensus) == 8, f"{8 - len(consensus)} clips without consensus"
    assert {value for value, _ in consensus.values()} == {"gewelddadig"}
    assert all(0.5 < conf <= 1 for _, conf in consensus.values())
    assert gone(after[0]), "the fit process outlived the hub"
