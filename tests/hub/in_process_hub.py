"""A hub run in the test's own process (its event loop, its threads) for a probe of its state
while it runs; zeroconf off, loopback ports picked by the system."""

from __future__ import annotations

import asyncio
import gc
import inspect
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from hub.site.server import HubConfig, run_hub
from tests.faults import write_project

T = TypeVar("T")


def loopback_config(tmp_path: Path) -> HubConfig:
    return HubConfig(
        project=write_project(tmp_path / "project.toml"),
        data=tmp_path / "hub",
        bind="tcp://127.0.0.1:0",
        pair_bind="tcp://127.0.0.1:0",
        web_host="127.0.0.1",
        web_port=0,
        zeroconf=False,
    )


def while_running(
    config: HubConfig, probe: Callable[[], T | Awaitable[T]], settle: float = 0.0
) -> T:
    """Start the hub, wait until it is ready (and `settle` seconds more), call `probe` (and
    await it if it is a coroutine function: the hub runs meanwhile), stop the hub. The hub
    freezes the garbage collector's start-up objects: unfrozen afterwards."""

    async def main() -> T:
        ready = asyncio.Event()
        hub = asyncio.create_task(run_hub(config, ready))
        await asyncio.wait_for(ready.wait(), 30)
        await asyncio.sleep(settle)
        try:
            result = probe()
            return await result if inspect.isawaitable(result) else result  # type: ignore[return-value]
        finally:
            hub.cancel()
            await asyncio.gather(hub, return_exceptions=True)

    try:
        return asyncio.run(main())
    finally:
        gc.unfreeze()
