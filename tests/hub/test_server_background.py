"""The hub's background work (consensus fit, priority refresh, WAL checkpoints) runs on
threads with a lower CPU priority than the router's: when both want the CPU, kiosks' requests
go first (Linux keeps a nice value per thread)."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from hub.server import BACKGROUND_NICE, background_executor
from tests.hub.in_process_hub import loopback_config, while_running


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
