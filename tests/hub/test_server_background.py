"""The hub's background work (consensus fit, priority refresh, WAL checkpoints) runs on
threads with a lower CPU priority than the router's: when both want the CPU, kiosks' requests
go first (Linux keeps a nice value per thread)."""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import threading
from pathlib import Path

import pytest

from hub.server import BACKGROUND_NICE, background_executor
from tests.faults import write_project


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
    import hub.server as server

    monkeypatch.setattr(server, "CHECKPOINT_SECONDS", 0.1)
    config = server.HubConfig(
        project=write_project(tmp_path / "project.toml"), data=tmp_path / "hub",
        bind="tcp://127.0.0.1:0", pair_bind="tcp://127.0.0.1:0", web_host="127.0.0.1",
        web_port=0, zeroconf=False,
    )
    here = os.getpriority(os.PRIO_PROCESS, 0)

    async def main() -> dict[str, int]:
        ready = asyncio.Event()
        hub = asyncio.create_task(server.run_hub(config, ready))
        await asyncio.wait_for(ready.wait(), 30)
        await asyncio.sleep(0.5)  # a few checkpoints
        nice = {
            t.name: os.getpriority(os.PRIO_PROCESS, t.native_id)
            for t in threading.enumerate()
            if t.name.startswith("hub-background") and t.native_id is not None
        }
        hub.cancel()
        await asyncio.gather(hub, return_exceptions=True)
        return nice

    try:
        nice = asyncio.run(main())
    finally:
        gc.unfreeze()
    assert nice and set(nice.values()) == {min(19, here + BACKGROUND_NICE)}
