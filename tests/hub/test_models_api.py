"""Model API over real HTTP (aiohttp TestServer): lead tokens, posting predictions in every
format, size limit, evaluation JSON and the HTML page."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from aiohttp.test_utils import TestClient, TestServer

from hub.models.importer import ImportReport
from hub.render.model_report import STYLE_CSP
from hub.store import Store
from hub.store import predictions as sql
from hub.store.accounts import create_token
from hub.web.app import ModelSettings, create_app
from hub.web.state import WebSettings

from .conftest import make_service
from .test_models_import import HEADER, N, V, clip_sha, csv_text, models_store

LIMIT = 4096


@dataclass
class Api:
    client: TestClient
    store: Store
    lead: dict[str, str]
    staff: dict[str, str]
    hooked: list[ImportReport]


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    store = models_store(tmp_path)
    hooked: list[ImportReport] = []
    models = ModelSettings(max_upload=LIMIT, on_import=lambda s, report: hooked.append(report))
    service = make_service(store, tmp_path / "media")
    app = create_app(service, WebSettings(secure_cookies=False), models=models)
    client = TestClient(TestServer(app))
    await client.start_server()
    lead = {"Authorization": f"Bearer {create_token(store, 'lead', 'model-service')}"}
    staff = {"Authorization": f"Bearer {create_token(store, 'staff')}"}
    try:
        yield Api(client, store, lead, staff, hooked)
    finally:
        await client.close()
        store.close()


ROWS = [
    {"clip": clip_sha(0, 0), "label": V, "scores": {V: 0.8, N: 0.2}},
    {"clip": clip_sha(0, 1), f"score_{V}": 0.3},
    {"source": "match1.mp4", "start": 0, "end": 20, "label": N},
]
POST = "/api/v1/models/violence-net/predictions"


async def test_a_lead_token_is_required(api: Api) -> None:
    c = api.client
    for headers in (
        {},
        {"Authorization": "Bearer st_wrong"},
        {"Authorization": "Basic bGVhZDpsZWFk"},
        {"Authorization": "Bearer "},
    ):
        for method, path in (
            ("POST", POST),
            ("GET", "/api/v1/models"),
            ("GET", "/api/v1/models/violence-net/evaluation"),
            ("GET", "/models/violence-net"),
            ("GET", "/models"),
        ):
            resp = await c.request(method, path, headers=headers, json=ROWS, allow_redirects=False)
            if not headers and not path.startswith("/api/"):  # a page: to the login form
                assert resp.status == 303 and resp.headers["Location"].startswith("/login")
                continue
            assert resp.status == 401, (method, path, headers)
            assert resp.headers["WWW-Authenticate"].startswith("Bearer")
            assert "error" in await resp.json()
    for method, path in (("POST", POST), ("GET", "/api/v1/models"), ("GET", "/models/x")):
        resp = await c.request(method, path, headers=api.staff, json=ROWS)
        assert resp.status == 403, (method, path)
    assert sql.models(api.store) == [] and api.hooked == []


async def test_post_json_then_again_then_a_batch_into_a_version(api: Api) -> None:
    c = api.client
    resp = await c.post(POST, headers=api.lead, json=ROWS)
    assert resp.status == 201, await resp.text()
    report = await resp.json()
    assert (report["model"], report["version"], report["clips"]) == ("violence-net", 1, 4)
    assert report["bad_rows"] == 0 and report["source"] == "api token:model-service"
    assert resp.headers["Location"] == "/api/v1/models/violence-net/evaluation?version=1"
    assert len(api.hooked) == 1
    got = sql.latest_predictions(api.store, "violence-net")
    assert got[clip_sha(0, 1)].label == N and got[clip_sha(1, 1)].label == N

    resp = await c.post(POST, headers=api.lead, json=ROWS)  # the same again: nothing changes
    assert resp.status == 200 and (await resp.json())["already_imported"] is True
    assert len(api.hooked) == 1

    batch = {"version": 1, "rows": [{"clip": clip_sha(1, 2), "label": V}]}
    resp = await c.post(POST, headers=api.lead, json=batch)
    body = await resp.json()
    assert resp.status == 200 and (body["version"], body["new_version"]) == (1, False)
    assert len(sql.version_predictions(api.store, "violence-net", 1)) == 5

    resp = await c.get("/api/v1/models", headers=api.lead)
    (model,) = (await resp.json())["models"]
    assert model["model"] == "violence-net" and model["latest"] == 1
    assert model["versions"][0]["clips"] == 5


async def test_post_csv_jsonl_parquet_and_multipart(api: Api) -> None:
    c = api.client
    csv_body = csv_text([[clip_sha(0, 0), None, None, None, V, 0.9, 0.1]], HEADER)
    resp = await c.post(
        "/api/v1/models/m-csv/predictions",
        headers={**api.lead, "Content-Type": "text/csv"},
        data=csv_body,
    )
    assert resp.status == 201 and (await resp.json())["clips"] == 1

    jsonl = "\n".join(json.dumps(r) for r in ROWS) + "\n{broken\n"
    resp = await c.post(
        "/api/v1/models/m-jsonl/predictions?format=jsonl", headers=api.lead, data=jsonl
    )
    body = await resp.json()
    assert resp.status == 201 and body["clips"] == 4
    assert body["bad_rows"] == 1 and body["problems"][0]["line"] == 4

    buf = io.BytesIO()
    pq.write_table(pa.table({"clip_id": [clip_sha(1, 0)], "label": [N]}), buf)
    resp = await c.post(
        "/api/v1/models/m-pq/predictions",
        headers={**api.lead, "Content-Type": "application/vnd.apache.parquet"},
        data=buf.getvalue(),
    )
    assert resp.status == 201 and (await resp.json())["clips"] == 1

    form = aiohttp.FormData()
    form.add_field("version", "3")
    form.add_field("file", csv_body, filename="preds.csv", content_type="text/csv")
    resp = await c.post("/api/v1/models/m-form/predictions", headers=api.lead, data=form)
    body = await resp.json()
    assert resp.status == 201 and body["version"] == 3 and body["source"].endswith("preds.csv")


async def test_bad_posts(api: Api) -> None:
    c = api.client
    big = json.dumps([ROWS[0]] * 200).encode()
    assert len(big) > LIMIT
    resp = await c.post(POST, headers={**api.lead, "Content-Type": "application/json"}, data=big)
    assert resp.status == 413
    assert "larger than 4096 bytes" in (await resp.json())["error"]

    async def chunks():  # no Content-Length: the limit holds while reading
        for _ in range(10):
            yield b"x" * 1000

    resp = await c.post(POST, headers=api.lead, data=chunks())
    assert resp.status == 413

    unknown_only = [{"clip": "f" * 64, "label": V}, {"clip": clip_sha(0, 0), "label": "boos"}]
    resp = await c.post(POST, headers=api.lead, json=unknown_only)
    body = await resp.json()
    assert resp.status == 422 and "no row could be imported" in body["error"]
    assert body["unknown"][0]["row"] == 1 and body["problems"][0]["row"] == 2

    for path, data, why in (
        (POST, b"{not json", "not JSON"),
        (POST, b"", "empty"),
        (POST + "?version=0", json.dumps(ROWS).encode(), "version"),
        (POST + "?format=xml", json.dumps(ROWS).encode(), "format"),
        (POST + "?min_overlap=2", json.dumps(ROWS).encode(), "min_overlap"),
        ("/api/v1/models/..%2Fx/predictions", json.dumps(ROWS).encode(), "model name"),
        (POST, json.dumps({"version": "two", "rows": ROWS}).encode(), "version"),
    ):
        resp = await c.post(
            path, headers={**api.lead, "Content-Type": "application/json"}, data=data
        )
        assert resp.status == 400, (path, data)
        assert why in (await resp.json())["error"], why
    assert sql.models(api.store) == []


async def test_evaluation_json_and_page(api: Api) -> None:
    c = api.client
    await c.post(POST, headers=api.lead, json=ROWS)
    resp = await c.get("/api/v1/models/violence-net/evaluation?threshold=0.8", headers=api.lead)
    report = await resp.json()
    assert resp.status == 200 and report["model"] == "violence-net"
    assert report["threshold"] == 0.8 and report["learning_curve"][0]["version"] == 1
    for path in (
        "/api/v1/models/nope/evaluation",
        "/api/v1/models/violence-net/evaluation?version=9",
    ):
        assert (await c.get(path, headers=api.lead)).status == 404
    resp = await c.get("/api/v1/models/violence-net/evaluation?threshold=x", headers=api.lead)
    assert resp.status == 400

    resp = await c.get("/models/violence-net", headers=api.lead)
    page = await resp.text()
    assert resp.status == 200 and resp.content_type == "text/html"
    assert "<svg" in page and "<script" not in page
    assert STYLE_CSP in resp.headers["Content-Security-Policy"]
    resp = await c.get("/models", headers=api.lead)
    assert 'href="/models/violence-net"' in await resp.text()


# ---- inside the dashboard app (its auth middleware in front) ---------------------------------


async def test_inside_the_dashboard_app(tmp_path: Path) -> None:
    import re

    from hub.store.accounts import add_user

    store = models_store(tmp_path)
    add_user(store, "lea", "lead", "lead-pass-1")
    add_user(store, "sam", "staff", "staff-pass-1")
    app = create_app(make_service(store, tmp_path / "media"), WebSettings(secure_cookies=False))
    token = {"Authorization": f"Bearer {create_token(store, 'lead')}"}
    csrf_input = re.compile(r'name="csrf" value="([^"]+)"')

    async def login(c: TestClient, user: str, password: str) -> str:
        page = await (await c.get("/login")).text()
        form = {"username": user, "password": password, "next": "/kiosks"}
        form["csrf"] = csrf_input.search(page).group(1)  # type: ignore[union-attr]
        assert (await c.post("/login", data=form, allow_redirects=False)).status == 303
        page = await (await c.get("/kiosks")).text()
        return csrf_input.search(page).group(1)  # type: ignore[union-attr]

    async with TestClient(TestServer(app)) as c:
        resp = await c.get("/models/violence-net", allow_redirects=False)
        assert resp.status == 303 and resp.headers["Location"].startswith("/login")
        assert (await c.post(POST, json=ROWS)).status == 401
        resp = await c.post(POST, json=ROWS, headers=token)
        assert resp.status == 201
        await login(c, "sam", "staff-pass-1")
        assert (await c.get("/models/violence-net")).status == 403
    async with TestClient(TestServer(app)) as c:
        csrf = await login(c, "lea", "lead-pass-1")
        resp = await c.get("/models/violence-net")
        assert resp.status == 200 and "<svg" in await resp.text()
        assert STYLE_CSP in resp.headers["Content-Security-Policy"]  # ours, not the default
        assert (await c.post(POST, json=ROWS)).status == 403  # a session POST needs CSRF
        resp = await c.post(POST, json=ROWS, headers={"X-CSRF-Token": csrf})
        assert resp.status == 200 and (await resp.json())["already_imported"]
    store.close()
