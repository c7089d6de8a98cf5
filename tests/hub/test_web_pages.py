"""Dashboard pages, forms, API and live events, in-process (aiohttp TestServer)."""

from __future__ import annotations

import asyncio
import json
import re
import time

import pytest
from aiohttp.test_utils import TestClient

from hub.service import HubService
from hub.store.accounts import create_token
from hub.store.dashboard import day_start
from hub.web import events
from hub.web.routes import ROUTES
from protocol.constants import CAP_KIOSK_VERIFIER
from protocol.pins import verify_pin
from tests.labelling import add_label

from .test_web_auth import LEAD, STAFF, client, login, service

__all__ = ["client", "service"]  # fixtures


async def test_add_operator_then_reset_pin_then_deactivate(
    client: TestClient, service: HubService
) -> None:
    csrf = await login(client, STAFF)
    r = await client.post(
        "/operators",
        data={"csrf": csrf, "id": "op7", "name": "Zeven", "pin": "2580"},
        allow_redirects=False,
    )
    assert r.status == 303 and "ok=operator_added" in r.headers["Location"]
    page = await (await client.get(r.headers["Location"])).text()
    assert "Operator op7 toegevoegd." in page and 'data-operator="op7"' in page
    assert verify_pin("2580", service.store.operator("op7")["pin_hash"])

    r = await client.post("/operators/op7/pin", data={"csrf": csrf, "pin": "9753"})
    assert r.status == 200
    assert verify_pin("9753", service.store.operator("op7")["pin_hash"])

    r = await client.post("/operators/op7/deactivate", data={"csrf": csrf})
    assert r.status == 200 and "op7 gedeactiveerd." in await r.text()
    assert not service.store.operator("op7")["active"]
    assert "op7" not in [e.operator for e in service.roster("k1", [CAP_KIOSK_VERIFIER])]
    await client.post("/operators/op7/activate", data={"csrf": csrf})
    assert service.store.operator("op7")["active"]


@pytest.mark.parametrize(
    "form,status,message",
    [
        ({"id": "op 1", "name": "A", "pin": "1234"}, 400, "Een id is 1 tot 64 tekens"),
        ({"id": "op1", "name": "", "pin": "1234"}, 400, "Een naam is 1 tot 100 tekens"),
        ({"id": "op1", "name": "A", "pin": "12"}, 400, "Een PIN is 4 tot 8 cijfers"),
        ({"id": "op1", "name": "A", "pin": "12ab"}, 400, "Een PIN is 4 tot 8 cijfers"),
        ({"id": "taken", "name": "A", "pin": "1234"}, 409, "Operator taken bestaat al"),
    ],
)
async def test_bad_operator_forms_say_why_and_change_nothing(
    client: TestClient, service: HubService, form: dict, status: int, message: str
) -> None:
    service.store.add_operator("taken", "Taken", "h")
    before = service.store.operators()
    csrf = await login(client, STAFF)
    r = await client.post("/operators", data={"csrf": csrf, **form})
    assert r.status == status
    assert message in await r.text()
    assert service.store.operators() == before


async def test_pair_and_unpair(client: TestClient, service: HubService) -> None:
    csrf = await login(client, STAFF)
    await client.post("/kiosks/pair", data={"csrf": csrf})
    (code,) = [c for (c,) in service.store.conn.execute("SELECT code FROM pair_codes")]
    assert service.store.use_pair_code(code, "k-new")
    page = await (await client.get("/kiosks")).text()
    assert 'data-kiosk="k-new"' in page and f'data-pair-code="{code}"' not in page
    r = await client.post("/kiosks/k-new/unpair", data={"csrf": csrf})
    assert r.status == 200 and not service.store.is_paired("k-new")
    r = await client.post("/kiosks/k-new/unpair", data={"csrf": csrf})
    assert r.status == 404


async def test_alert_acknowledge(client: TestClient, service: HubService) -> None:
    service.store.add_operator("op1", "One", "h")
    service.store.add_alert("al-1", "op1", f"{0:064x}", "k1", time.time())
    csrf = await login(client, STAFF)
    page = await (await client.get("/operators")).text()
    assert 'action="/alerts/al-1/ack"' in page
    r = await client.post("/alerts/al-1/ack", data={"csrf": csrf})
    assert r.status == 200 and "Melding afgehandeld." in await r.text()
    assert service.store.alerts()[0]["acknowledged_at"] is not None
    assert (await client.post("/alerts/none/ack", data={"csrf": csrf})).status == 404


async def test_language_by_query_then_cookie(client: TestClient) -> None:
    await login(client, STAFF)
    page = await (await client.get("/progress")).text()
    assert '<html lang="nl">' in page and "Voortgang" in page
    page = await (await client.get("/progress?lang=en")).text()
    assert '<html lang="en">' in page and "Labels per hour" in page
    page = await (await client.get("/operators")).text()  # remembered
    assert "Add an operator" in page
    page = await (await client.get("/operators?lang=xx")).text()
    assert "Add an operator" in page


async def test_statement_in_both_languages(client: TestClient, service: HubService) -> None:
    service.store.add_operator("op1", "Ada Lovelace", "h")
    service.store.log_session("op1", "k1", "login")
    add_label(
        service.store,
        uuid="u1",
        operator="op1",
        clip=f"{0:064x}",
        kiosk="k1",
        schema_version=1,
        values=["gewelddadig"],
        segments=[],
        telemetry={"time_to_label_s": 3},
        created_at=time.time(),
    )
    # today's break, also in the first quarter hour after midnight
    began = max(time.time() - 900, day_start(time.time()))
    service.store.add_break("b1", "op1", "k1", began, 600.0, True, "enforced")
    await login(client, STAFF)
    nl = await (await client.get("/operators/op1/statement")).text()
    assert "Werkervaringsverklaring" in nl and "Ada Lovelace (op1)" in nl
    assert "<dd>1 · 10 min</dd>" in nl and "volgens schema" in nl  # breaks, listed
    assert "1 · 10 min" in await (await client.get("/operators")).text()
    assert "gewelddadig, niet gewelddadig" in nl  # the tasks name the project's labels
    en = await (await client.get("/operators/op1/statement?lang=en")).text()
    assert "Work experience statement" in en and "violent, not violent" in en
    assert (await client.get("/operators/nobody/statement")).status == 404
    r = await client.get("/operators/op1/statement?from=2025-13-01")
    assert r.status == 400 and "YYYY-MM-DD" in await r.text()  # English: the cookie
    r = await client.get("/api/v1/operators/op1/statement?from=2020-01-01&to=2020-01-31")
    data = await r.json()
    assert data["clips"] == 0 and data["from"] == "2020-01-01"


async def test_api_mirrors_the_pages(client: TestClient, service: HubService) -> None:
    token = create_token(service.store, "staff")
    auth = {"Authorization": f"Bearer {token}"}
    service.store.pair_kiosk("k1")
    service.store.kiosk_seen("k1", version="1.2", outbox=4)
    r = await client.post("/api/v1/operators", json={"id": "op1", "pin": "1234"}, headers=auth)
    assert r.status == 201
    r = await client.post("/api/v1/operators", json={"id": "op1", "pin": "1234"}, headers=auth)
    assert r.status == 409
    r = await client.post("/api/v1/operators", json={"id": "op2", "pin": "x"}, headers=auth)
    assert r.status == 400 and (await r.json())["field"] == "pin"
    r = await client.post("/api/v1/operators", data="not json", headers=auth)
    assert r.status == 400
    r = await client.post("/api/v1/operators/op1/active", json={"active": "no"}, headers=auth)
    assert r.status == 400
    r = await client.post("/api/v1/operators/op1/active", json={"active": False}, headers=auth)
    assert r.status == 200 and not service.store.operator("op1")["active"]
    kiosks = await (await client.get("/api/v1/kiosks", headers=auth)).json()
    (k1,) = kiosks["kiosks"]
    assert k1["online"] and k1["outbox"] == 4 and k1["version"] == "1.2"
    ops = (await (await client.get("/api/v1/operators", headers=auth)).json())["operators"]
    assert ops[0]["id"] == "op1" and ops[0]["active"] is False
    progress = await (await client.get("/api/v1/progress", headers=auth)).json()
    assert progress["counts"]["clips"] == 3 and len(progress["throughput"]) == 24
    assert (await client.get("/api/v1/status", headers=auth)).status == 200
    r = await client.post("/api/v1/kiosks/k1/unpair", headers=auth)
    assert r.status == 200 and not service.store.is_paired("k1")
    assert (await client.get("/api/v1/nothing", headers=auth)).status == 404


async def test_openapi_documents_every_api_route(client: TestClient) -> None:
    doc = await (await client.get("/api/v1/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}

    def plain(path: str) -> str:  # `{path:.+}` as OpenAPI writes it: `{path}`
        return re.sub(r"\{(\w+)(:[^}]*)?\}", r"{\1}", path)

    routed = {
        (route.method, plain(route.resource.canonical))
        for route in client.server.app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/")
        and route.method != "HEAD"
    }
    assert {(m, plain(p)) for m, p, _ in ROUTES if p.startswith("/api/")} <= routed
    assert routed == documented


async def test_events_stream_snapshots_and_counts_move(
    client: TestClient, service: HubService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "TICK", 0.05)
    service.store.pair_kiosk("k1")
    service.store.kiosk_seen("k1")
    service.store.add_operator("op1", "One", "h")
    await login(client, STAFF)
    r = await client.get("/events")
    assert r.headers["Content-Type"].startswith("text/event-stream")

    async def next_snapshot() -> dict:
        while True:
            line = await asyncio.wait_for(r.content.readline(), 5)
            if line.startswith(b"data: "):
                return json.loads(line[6:])

    first = await next_snapshot()
    assert first["values"]["counts.labels"] == "0"
    assert first["states"]["kiosk:k1"] == "online" and first["kiosk_ids"] == ["k1"]
    add_label(
        service.store,
        uuid="u1",
        operator="op1",
        clip=f"{0:064x}",
        kiosk="k1",
        schema_version=1,
        values=["gewelddadig"],
        segments=[],
        telemetry={},
        created_at=time.time(),
    )
    for _ in range(50):
        snap = await next_snapshot()
        if snap["values"]["counts.labels"] == "1":
            break
    assert snap["values"]["op:op1:clips_today"] == "1"
    assert snap["values"]["dist:gewelddadig"] == "1"
    r.close()


async def test_pages_mark_the_live_fields(client: TestClient, service: HubService) -> None:
    """Every data-live key on the pages is one the event stream fills (same names)."""
    service.store.pair_kiosk("k1")
    service.store.kiosk_seen("k1")
    service.store.add_operator("op1", "One", "h")
    add_label(
        service.store,
        uuid="u1",
        operator="op1",
        clip=f"{0:064x}",
        kiosk="k1",
        schema_version=1,
        values=["gewelddadig"],
        segments=[],
        telemetry={},
        created_at=time.time(),
    )
    await login(client, LEAD)
    from hub.web.templates import Ctx

    keys: set[str] = set()
    for path in ["/kiosks", "/operators", "/progress"]:
        page = await (await client.get(path)).text()
        assert 'data-live-page="1"' in page
        keys |= set(re.findall(r'data-live="([^"]+)"', page))

    class Req(dict):
        app = client.server.app
        rel_url = client.make_url("/").relative()

    ctx = Ctx.of(Req())  # type: ignore[arg-type]
    sent = events.render(events.take(service.store), ctx)["values"]
    missing = keys - set(sent) - {"dist:niet_gewelddadig", "distshare:niet_gewelddadig"}
    assert not missing


async def test_an_open_event_stream_does_not_hold_up_shutdown(service: HubService) -> None:
    from aiohttp.test_utils import TestServer

    from hub.web.app import create_app
    from hub.web.state import WebSettings

    client = TestClient(TestServer(create_app(service, WebSettings(secure_cookies=False))))
    await client.start_server()
    await login(client, STAFF)
    r = await client.get("/events")
    await asyncio.wait_for(r.content.readline(), 5)
    began = time.monotonic()
    await asyncio.wait_for(client.server.close(), 20)  # the browser still listens
    assert time.monotonic() - began < 5
    await client.close()


def test_every_text_has_both_languages_with_the_same_placeholders() -> None:
    from string import Formatter

    from hub.web.i18n import TEXTS

    for key, (nl, en) in TEXTS.items():
        assert nl and en, key
        fields = [{f for _, f, _, _ in Formatter().parse(text) if f} for text in (nl, en)]
        assert fields[0] == fields[1], key
