"""The hub's background work (priority refresh, WAL checkpoints, and the hub's side of the
consensus fit, whose maths runs in a process of its own) runs on threads with a lower CPU
priority than the router's: when both want the CPU, kiosks' requests go first (Linux keeps a
nice value per thread)."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from hub.site.server import BACKGROUND_NICE, background_executor
from tests.hub.in_process_hub import loopback_config, while_running
from tests.labelling import add_label


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_background_threads_are_niced() -> None:
    here = os.getpriority(os.PRIO_PROCESS, 0)
    pool = background_executor()
    try:
        there = pool.submit(os.getpriority, os.PRIO_PROCESS, 0).result(timeout=10)
    finally:
        pool.shutdown()
    assert there == min(19, here + BACKGROUND_NICE)
    assert os.getpriority(os.PRIO_PROCESS, 0) == here  # the calling thread keeps its own


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_the_hub_checkpoints_on_a_background_thread(tmp_path: Path, monkeypatch) -> None:
    import hub.site.server as server

    monkeypatch.setattr(server, "CHECKPOINT_SECONDS", 0.1)
    here = os.getpriority(os.PRIO_PROCESS, 0)

    def nice_of_background_threads() -> dict[str, int]:
        return {
            t.name: os.getpriority(os.PRIO_PROCESS, t.native_id)
            for t in threading.enumerate()
            if t.name.startswith("hub-background") and t.native_id is not None
        }

    # settle: a few checkpoints have run
    nice = while_running(loopback_config(tmp_path), nice_of_background_threads, settle=0.5)
    assert nice and set(nice.values()) == {min(19, here + BACKGROUND_NICE)}


@pytest.mark.parametrize("shared", [False, True], ids=["one process", "one of several"])
def test_consensus_is_fitted_when_labels_change_not_every_round(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared: bool
) -> None:
    """The housekeeping fits consensus when a label came in or one was taken back, and not
    otherwise; the check is two lookups (it was a count of every label, each round). One of
    several processes on one store (`--workers`) also refits after a retraction made
    elsewhere (here: by another connection, as another process would)."""
    import asyncio
    import dataclasses
    import time
    import uuid

    import hub.site.server as server
    from hub.service import HubService
    from hub.site.fit_process import FitProcess
    from hub.store import Store

    monkeypatch.setattr(server, "HOUSEKEEPING_SECONDS", 0.05)
    fits: list[int] = []
    services: list[HubService] = []
    real_rows, real_mark = FitProcess.rows, HubService.retraction_mark

    def counted(self: FitProcess, *args: object, **kwargs: object) -> list:
        fits.append(1)
        return real_rows(self, *args, **kwargs)  # type: ignore[arg-type]

    def seen(self: HubService, reader: Store) -> int:
        services.append(self)
        return real_mark(self, reader)

    monkeypatch.setattr(FitProcess, "rows", counted)
    monkeypatch.setattr(HubService, "retraction_mark", seen)
    config = loopback_config(tmp_path)
    if shared:
        config = dataclasses.replace(config, worker=0)

    def label(db: Store, clip: str) -> str:
        uid = str(uuid.uuid4())
        add_label(
            db,
            uuid=uid,
            operator="op1",
            clip=clip,
            kiosk="k1",
            schema_version=1,
            values=["gewelddadig"],
            segments=[],
            telemetry={},
            created_at=time.time(),
        )
        return uid

    async def settle(expected: int) -> int:
        """Wait (up to 10 s on a busy machine) for `expected` fits, then ten more rounds: any
        fit beyond it shows up in the count."""
        deadline = time.monotonic() + 10
        while len(fits) < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        return len(fits)

    async def probe() -> tuple[int, int, int]:
        idle = await settle(1)  # the first fit, then about ten rounds with nothing new
        db = Store(config.data / "hub.db")
        try:
            sha = "ab" * 32
            db.add_clip(sha, 10, 1.0, "a.mp4", want=3)
            db.add_operator("op1", "Op", "x")
            uid = label(db, sha)
            labelled = await settle(idle + 1)
            # a retraction adds no row: the service counts it (as its Retract handler does)
            assert db.retract_label(uid, "op1")
            if not shared:  # its own Retract handler counts it
                services[-1]._retractions += 1
        finally:
            db.close()
        return idle, labelled, await settle(labelled + 1)

    idle, labelled, retracted = while_running(config, probe)
    assert idle == 1, f"{idle} fits with no label in"
    assert labelled == 2, f"{labelled - idle} fits after one label"
    assert retracted == 3, f"{retracted - labelled} fits after a retraction"
