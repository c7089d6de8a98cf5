"""`/healthz` through a real aiohttp server over a real hub database: 200 while the hub can
work; 503 naming the reason when the database is gone, the loop is held, or the disk is full."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from importlib.metadata import version
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hub.service import HubService
from hub.web import health
from hub.web.app import create_app
from hub.web.health import LIMITS, HealthLimits
from hub.web.state import WebSettings

from .conftest import make_service, open_store


@pytest.fixture
def service(tmp_path: Path) -> HubService:
    return make_service(open_store(tmp_path / "hub.db"), tmp_path / "media")


@pytest.fixture
async def client(service: HubService) -> AsyncIterator[TestClient]:
    app = create_app(service, WebSettings(secure_cookies=False))
    async with TestClient(TestServer(app)) as c:
        yield c


async def test_healthy(client: TestClient) -> None:
    r = await client.get("/healthz")
    body = await r.json()
    assert r.status == 200 and body["ok"] and body["problems"] == []
    assert body["disk_free_bytes"] > 0 and body["version"] == version("annotatiestraat")


async def test_fails_when_the_database_is_gone(client: TestClient, service: HubService) -> None:
    assert (await client.get("/healthz")).status == 200
    for suffix in ("", "-wal", "-shm"):
        Path(f"{service.store.path}{suffix}").unlink(missing_ok=True)
    r = await client.get("/healthz")
    body = await r.json()
    assert r.status == 503 and not body["ok"]
    assert body["problems"] == [f"the database {service.store.path} is gone"]


async def test_fails_while_the_loop_is_held(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    lag = client.app[health.LAG]
    ticks = len(lag.late)
    deadline = time.monotonic() + 10
    while len(lag.late) == ticks and time.monotonic() < deadline:  # the monitor runs
        await asyncio.sleep(0.05)
    time.sleep(1.3)  # the router's loop held by blocking work, as a bug would hold it
    await asyncio.sleep(health.TICK_SECONDS * 2)  # the late tick is recorded
    r = await client.get("/healthz")
    body = await r.json()
    assert r.status == 503 and "the event loop ran" in body["problems"][0], body
    assert body["loop_lag_seconds"] >= 1.0


async def test_fails_when_the_disk_is_nearly_full(service: HubService) -> None:
    app = create_app(service, WebSettings(secure_cookies=False))
    app[LIMITS] = HealthLimits(min_free_bytes=2**62)  # more than any disk here
    async with TestClient(TestServer(app)) as client:
        r = await client.get("/healthz")
        body = await r.json()
    assert r.status == 503 and "MiB free in" in body["problems"][0]
