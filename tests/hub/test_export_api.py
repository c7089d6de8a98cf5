"""Export API over real HTTP (aiohttp TestServer): tokens, snapshots, downloads, traversal."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hub.store import Store
from hub.store.accounts import create_token
from hub.web.app import create_app
from hub.web.export_routes import resolve_export_file
from hub.web.state import WebSettings

from .conftest import make_service
from .test_export_snapshot import build_store


@dataclass
class Api:
    client: TestClient
    store: Store
    root: Path
    lead: dict[str, str]
    staff: dict[str, str]


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    store = build_store(tmp_path, sources=10)
    (tmp_path / "secret.txt").write_text("not for you")
    root = tmp_path / "exports"
    service = make_service(store, tmp_path / "media")
    app = create_app(service, WebSettings(secure_cookies=False), export_root=root)
    client = TestClient(TestServer(app))
    await client.start_server()
    lead = {"Authorization": f"Bearer {create_token(store, 'lead', 'ml-team')}"}
    staff = {"Authorization": f"Bearer {create_token(store, 'staff')}"}
    try:
        yield Api(client, store, root, lead, staff)
    finally:
        await client.close()
        store.close()


async def test_a_lead_token_is_required(api: Api) -> None:
    c = api.client
    for headers in (
        {},
        {"Authorization": "Bearer st_wrong"},
        {"Authorization": "Basic bGVhZDpsZWFk"},
        {"Authorization": "Bearer "},
        {"Authorization": api.lead["Authorization"].replace("Bearer ", "")},
    ):
        for method, path in (
            ("GET", "/api/v1/exports"),
            ("POST", "/api/v1/exports"),
            ("GET", "/api/v1/exports/v1"),
            ("GET", "/api/v1/exports/v1/README.md"),
        ):
            resp = await c.request(method, path, headers=headers)
            assert resp.status == 401, (method, path, headers)
            assert resp.headers["WWW-Authenticate"].startswith("Bearer")
            assert "error" in await resp.json()
    resp = await c.get("/api/v1/exports", headers=api.staff)
    assert resp.status == 403
    resp = await c.post("/api/v1/exports", headers=api.staff)
    assert resp.status == 403
    assert not api.root.exists() or not list(api.root.glob("v*"))


async def test_create_list_and_download_snapshots(api: Api) -> None:
    c = api.client
    resp = await c.post("/api/v1/exports", headers=api.lead)
    assert resp.status == 201, await resp.text()
    first = await resp.json()
    assert first["version"] == 1 and resp.headers["Location"] == "/api/v1/exports/v1"
    assert "data/clips-train.parquet" in first["files"]
    resp = await c.post(
        "/api/v1/exports", headers=api.lead, json={"formats": ["parquet", "csv"], "seed": 5}
    )
    assert resp.status == 201
    second = await resp.json()
    assert second["version"] == 2 and second["seed"] == 5
    assert second["formats"] == ["parquet", "csv"]

    resp = await c.get("/api/v1/exports", headers=api.lead)
    listing = (await resp.json())["snapshots"]
    assert [s["version"] for s in listing] == [1, 2]
    assert listing[0]["clips"] == 30 and listing[0]["annotations"] == 29 * 3

    resp = await c.get("/api/v1/exports/v2", headers=api.lead)
    assert resp.status == 200 and (await resp.json())["version"] == 2

    v1 = api.root / "v1"
    for line in (v1 / "SHA256SUMS").read_text().splitlines():
        name = line.split("  ", 1)[1]
        resp = await c.get(f"/api/v1/exports/v1/{name}", headers=api.lead)
        assert resp.status == 200, name
        assert await resp.read() == (v1 / name).read_bytes(), name
    resp = await c.get("/api/v1/exports/v1/SHA256SUMS", headers=api.lead)
    assert await resp.read() == (v1 / "SHA256SUMS").read_bytes()
    assert resp.headers["Content-Type"].startswith("text/plain")
    resp = await c.get("/api/v1/exports/v1/data/clips-train.parquet", headers=api.lead)
    assert resp.headers["Content-Type"] == "application/vnd.apache.parquet"


async def test_bad_requests_are_refused(api: Api) -> None:
    c = api.client
    for body in ('{"formats": ["xml"]}', '{"seed": "x"}', "[1]", "{not json", '{"formats": 3}'):
        resp = await c.post(
            "/api/v1/exports",
            headers={**api.lead, "Content-Type": "application/json"},
            data=body,
        )
        assert resp.status == 400, body
        assert "error" in await resp.json()
    assert not list(api.root.glob("v*"))


async def raw_get(client: TestClient, target: str, headers: dict[str, str]) -> int:
    """Send the request line exactly as given (no client-side URL normalisation)."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    lines = [f"GET {target} HTTP/1.1", f"Host: {client.host}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    status = (await reader.readline()).decode()
    writer.close()
    await writer.wait_closed()
    return int(status.split()[1])


async def test_paths_outside_the_snapshot_are_404(api: Api) -> None:
    c = api.client
    assert (await c.post("/api/v1/exports", headers=api.lead, json={"formats": "parquet"})).ok
    v1 = api.root / "v1"
    (v1 / "escape").symlink_to(api.root.parent / "secret.txt")
    (api.root / "v1.txt").write_text("beside the snapshots")
    targets = [
        "/api/v1/exports/v1/../../secret.txt",
        "/api/v1/exports/v1/..%2F..%2Fsecret.txt",
        "/api/v1/exports/v1/%2e%2e/%2e%2e/secret.txt",
        "/api/v1/exports/v1/%2E%2E%2F%2E%2E%2Fsecret.txt",
        "/api/v1/exports/v1/data/..%2F..%2F..%2Fsecret.txt",
        "/api/v1/exports/v1/..%252F..%252Fsecret.txt",
        "/api/v1/exports/v1/..%5C..%5Csecret.txt",
        "/api/v1/exports/v1//etc/passwd",
        "/api/v1/exports/v1/%2Fetc%2Fpasswd",
        f"/api/v1/exports/v1/{api.root.parent / 'secret.txt'}",
        "/api/v1/exports/v1/escape",
        "/api/v1/exports/v1/data",
        "/api/v1/exports/v1/nothing.parquet",
        "/api/v1/exports/v1/%00README.md",
        "/api/v1/exports/..%2Fsecret.txt/x",
        "/api/v1/exports/v1.txt/x",
        "/api/v1/exports/%2e%2e/secret.txt",
        "/api/v1/exports/v3/README.md",
        "/api/v1/exports/v01/README.md",
        "/api/v1/exports/.export.lock/x",
        "/api/v1/exports/v1/.hidden",
    ]
    for target in targets:
        assert await raw_get(c, target, api.lead) == 404, target
        resp = await c.get(target, headers=api.lead)
        assert resp.status == 404, target
        assert b"not for you" not in await resp.read()
    assert await raw_get(c, "/api/v1/exports/v1/README.md", api.lead) == 200


def test_resolve_export_file(tmp_path: Path) -> None:
    (tmp_path / "v1" / "data").mkdir(parents=True)
    (tmp_path / "v1" / "data" / "x.parquet").write_bytes(b"x")
    (tmp_path / "outside").write_text("no")
    good = resolve_export_file(tmp_path, "v1", "data/x.parquet")
    assert good == (tmp_path / "v1" / "data" / "x.parquet").resolve()
    for version, path in [
        ("v1", "../outside"),
        ("v1", "data/../../outside"),
        ("v1", str(tmp_path / "outside")),
        ("v1", "data"),
        ("v1", ""),
        ("v1", "data/x.parquet\x00"),
        ("v1", "data\\x.parquet"),
        ("..", "outside"),
        ("v0", "data/x.parquet"),
        ("v2", "data/x.parquet"),
    ]:
        assert resolve_export_file(tmp_path, version, path) is None, (version, path)


async def test_manifest_json_is_valid(api: Api) -> None:
    resp = await api.client.post("/api/v1/exports", headers=api.lead, json={})
    manifest = await resp.json()
    on_disk = json.loads((api.root / "v1" / "snapshot.json").read_text())
    assert manifest == on_disk
