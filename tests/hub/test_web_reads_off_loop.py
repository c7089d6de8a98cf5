"""Dashboard reads run in the web reader thread, never on the event loop (where the router
serves every kiosk's labels and heartbeats)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hub.service import HubService
from hub.store import dashboard
from hub.web import api
from hub.web.app import create_app
from hub.web.state import WebSettings
from tests.hub.test_web_auth import LEAD, login, service  # noqa: F401  (fixture)

READS = [
    "counts",
    "throughput",
    "label_distribution",
    "operator_stats",
    "alerts",
    "votes",
    "labels_version",
    "operator_names",
    "totals",
    "operator_exists",
    "first_activity",
    "statement",
]


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> dict[str, set[str]]:
    threads: dict[str, set[str]] = {}

    def spy(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            threads.setdefault(name, set()).add(threading.current_thread().name)
            return fn(*args, **kwargs)

        return wrapped

    for name in READS:
        monkeypatch.setattr(dashboard, name, spy(name, getattr(dashboard, name)))
    monkeypatch.setattr(api, "majority_rows", spy("majority_rows", api.majority_rows))
    return threads


@pytest.fixture
async def client(service: HubService) -> AsyncIterator[TestClient]:  # noqa: F811
    async with TestClient(TestServer(create_app(service, WebSettings(False)))) as c:
        yield c


async def test_pages_and_api_read_in_the_reader_thread(
    client: TestClient,
    seen: dict[str, set[str]],
    service: HubService,  # noqa: F811
) -> None:
    from protocol.pins import hash_pin

    service.store.add_operator("op1", "Op Een", hash_pin("1234", n=2**10))
    await login(client, LEAD)
    for path in [
        "/operators",
        "/progress",
        "/quality",
        "/api/v1/status",
        "/api/v1/operators",
        "/api/v1/progress",
        "/api/v1/export/clips.jsonl",
        "/api/v1/export/clips.csv",
        "/operators/op1/statement",
        "/api/v1/operators/op1/statement",
        "/operators/op1/statement?from=2026-02-01&to=2026-01-01",
    ]:
        r = await client.get(path)
        assert r.status == (400 if "from=" in path else 200), path
    for path in ["/operators/nobody/statement", "/api/v1/operators/nobody/statement"]:
        assert (await client.get(path)).status == 404, path
    assert set(seen) >= set(READS) | {"majority_rows"}, sorted(seen)
    for name, threads in seen.items():
        assert all(t.startswith("web-read") for t in threads), (name, threads)


async def test_live_updates_read_in_the_reader_thread(
    client: TestClient, seen: dict[str, set[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from hub.web import events

    snap: set[str] = set()
    take = events.take

    def spy_take(*args: Any, **kwargs: Any) -> Any:
        snap.add(threading.current_thread().name)
        return take(*args, **kwargs)

    monkeypatch.setattr(events, "take", spy_take)
    await login(client, LEAD)
    r = await client.get("/events")
    assert r.status == 200
    line = await r.content.readline()
    while not line.startswith(b"event:"):
        line = await r.content.readline()
    r.close()
    assert snap and all(t.startswith("web-read") for t in snap), snap
