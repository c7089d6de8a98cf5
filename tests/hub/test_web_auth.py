"""Dashboard security, in-process (aiohttp TestServer): login, sessions, CSRF, roles, escaping."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL

from hub.service import HubService
from hub.store.accounts import add_user, create_token
from hub.web.app import create_app
from hub.web.routes import ROUTES
from hub.web.state import WebSettings
from tests.labelling import add_label

from .conftest import make_service, open_store

STAFF = ("sam", "staff-pass-1")
LEAD = ("lea", "lead-pass-1")
CSRF_INPUT = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def service(tmp_path: Path) -> HubService:
    store = open_store(tmp_path / "hub.db")
    add_user(store, *STAFF[:1], "staff", STAFF[1])
    add_user(store, *LEAD[:1], "lead", LEAD[1])
    for i in range(3):
        store.add_clip(f"{i:064x}", 100, 2.0, f"clip-{i}", want=2)
    return make_service(store, tmp_path / "media")


@pytest.fixture
async def client(service: HubService) -> AsyncIterator[TestClient]:
    app = create_app(service, WebSettings(secure_cookies=False))
    async with TestClient(TestServer(app)) as c:
        yield c


async def login(client: TestClient, user: tuple[str, str]) -> str:
    """Log in through the form; returns the session's CSRF token."""
    page = await (await client.get("/login")).text()
    token = CSRF_INPUT.search(page).group(1)  # type: ignore[union-attr]
    r = await client.post(
        "/login",
        data={"username": user[0], "password": user[1], "csrf": token, "next": "/kiosks"},
        allow_redirects=False,
    )
    assert r.status == 303, await r.text()
    page = await (await client.get("/kiosks")).text()
    return CSRF_INPUT.search(page).group(1)  # type: ignore[union-attr]


# ---- not logged in -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/kiosks", "/operators", "/progress", "/quality", "/operators/op1/statement"]
)
async def test_pages_redirect_to_login(client: TestClient, path: str) -> None:
    r = await client.get(path, allow_redirects=False)
    assert r.status == 303
    assert r.headers["Location"].startswith("/login?next=")


#: The routes anyone may call; every other route of the app needs a login or a token.
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/api/v1/openapi.json"),
}


def fill(path: str) -> str:
    """`path` with every `{name}` or `{name:regex}` placeholder filled in."""
    return re.sub(r"\{(\w+)(:[^}]*)?\}", r"x\1", path)


def test_the_table_is_every_route_of_the_app(service: HubService) -> None:
    """`create_app` registers ROUTES and nothing else, so a sweep of ROUTES is a sweep of the
    app: a route added beside the table would fail here."""
    app = create_app(service, WebSettings(secure_cookies=False))
    routed = {
        (route.method, fill(route.resource.canonical))
        for route in app.router.routes()
        if route.resource is not None
        and route.method != "HEAD"
        and not route.resource.canonical.startswith("/static")
    }
    assert routed == {(m, fill(p)) for m, p, _ in ROUTES}
    marked_public = {(m, p) for m, p, h in ROUTES if getattr(h, "__straat_role__", "") is None}
    assert marked_public == PUBLIC


@pytest.mark.parametrize("method,path", [(m, p) for m, p, _ in ROUTES if (m, p) not in PUBLIC])
async def test_every_route_refuses_without_credentials(
    client: TestClient, method: str, path: str
) -> None:
    r = await client.request(method, fill(path), allow_redirects=False)
    if path.startswith("/api/") or path == "/events":
        assert r.status == 401
        assert r.headers["WWW-Authenticate"] == "Bearer"
        assert (await r.json())["error"]
    else:
        assert r.status == 303
        assert r.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("method,path", sorted(PUBLIC))
async def test_public_routes_answer_without_credentials(
    client: TestClient, method: str, path: str
) -> None:
    r = await client.request(method, path, allow_redirects=False)
    assert r.status != 401 and not r.headers.get("Location", "").startswith("/login?next=")


async def test_events_need_a_login(client: TestClient) -> None:
    assert (await client.get("/events")).status == 401


async def test_healthz_and_static_are_public(client: TestClient) -> None:
    assert (await client.get("/healthz")).status == 200
    r = await client.get("/static/app.css")
    assert r.status == 200 and "text/css" in r.headers["Content-Type"]
    for sneaky in ("/static/..%2fstate.py", "/static/%2e%2e/state.py", "/static/..%5cstate.py"):
        r = await client.get(URL(sneaky, encoded=True), allow_redirects=False)
        assert r.status in (303, 403, 404), sneaky
        assert "RequestKey" not in await r.text()


async def test_a_bad_bearer_token_is_401(client: TestClient) -> None:
    r = await client.get("/api/v1/kiosks", headers={"Authorization": "Bearer st_nope"})
    assert r.status == 401
    r = await client.get("/kiosks", headers={"Authorization": "Basic abc"}, allow_redirects=False)
    assert r.status == 401


# ---- login, cookie, logout -----------------------------------------------------------------


async def test_login_sets_a_strict_httponly_session_cookie(client: TestClient) -> None:
    page = await (await client.get("/login")).text()
    token = CSRF_INPUT.search(page).group(1)  # type: ignore[union-attr]
    r = await client.post(
        "/login",
        data={"username": "sam", "password": "staff-pass-1", "csrf": token, "next": "/progress"},
        allow_redirects=False,
    )
    assert r.status == 303 and r.headers["Location"] == "/progress"
    cookie = next(c for c in r.headers.getall("Set-Cookie") if c.startswith("straat_session="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # WebSettings(secure_cookies=False): plain-HTTP LAN
    assert (await client.get("/progress")).status == 200


async def test_secure_flag_when_configured(service: HubService) -> None:
    app = create_app(service, WebSettings(secure_cookies=True))
    async with TestClient(TestServer(app)) as client:
        r = await client.get("/login")
        cookie = r.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie


async def test_wrong_password_gives_no_session(client: TestClient) -> None:
    page = await (await client.get("/login")).text()
    token = CSRF_INPUT.search(page).group(1)  # type: ignore[union-attr]
    r = await client.post(
        "/login", data={"username": "sam", "password": "wrong-pass", "csrf": token}
    )
    assert r.status == 401
    assert "klopt niet" in await r.text()
    assert "straat_session" not in client.session.cookie_jar.filter_cookies(client.make_url("/"))
    assert (await client.get("/kiosks", allow_redirects=False)).status == 303


async def test_login_form_without_its_token_is_refused(client: TestClient) -> None:
    r = await client.post("/login", data={"username": "sam", "password": "staff-pass-1"})
    assert r.status == 403


async def test_next_cannot_leave_the_site(client: TestClient) -> None:
    page = await (await client.get("/login")).text()
    token = CSRF_INPUT.search(page).group(1)  # type: ignore[union-attr]
    r = await client.post(
        "/login",
        data={
            "username": "sam",
            "password": "staff-pass-1",
            "csrf": token,
            "next": "//evil.example/x",
        },
        allow_redirects=False,
    )
    assert r.headers["Location"] == "/kiosks"


async def test_logout_ends_the_session(client: TestClient) -> None:
    csrf = await login(client, STAFF)
    sid = client.session.cookie_jar.filter_cookies(client.make_url("/"))["straat_session"].value
    r = await client.post("/logout", data={"csrf": csrf}, allow_redirects=False)
    assert r.status == 303 and r.headers["Location"].startswith("/login")
    # the old cookie is dead on the server too, not only deleted in this browser
    r = await client.get(
        "/api/v1/kiosks", headers={"Cookie": f"straat_session={sid}"}, allow_redirects=False
    )
    assert r.status == 401


# ---- CSRF ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/kiosks/pair", "/operators", "/logout", "/alerts/x/ack", "/operators/op1/deactivate"]
)
async def test_post_forms_without_the_csrf_token_are_403(client: TestClient, path: str) -> None:
    csrf = await login(client, STAFF)
    for data in ({}, {"csrf": "wrong"}, {"csrf": csrf[:-1]}):
        r = await client.post(path, data=data, allow_redirects=False)
        assert r.status == 403, (path, data)
    assert "straat_session" in client.session.cookie_jar.filter_cookies(client.make_url("/"))


async def test_csrf_failure_changes_nothing(client: TestClient, service: HubService) -> None:
    await login(client, STAFF)
    r = await client.post("/operators", data={"id": "x1", "name": "X", "pin": "1234"})
    assert r.status == 403
    assert service.store.operator("x1") is None
    r = await client.post("/kiosks/pair", data={"csrf": "nope"})
    assert r.status == 403
    assert service.store.conn.execute("SELECT count(*) FROM pair_codes").fetchone()[0] == 0


async def test_api_post_with_a_session_needs_the_csrf_header(client: TestClient) -> None:
    csrf = await login(client, STAFF)
    assert (await client.post("/api/v1/kiosks/pair-code")).status == 403
    r = await client.post("/api/v1/kiosks/pair-code", headers={"X-CSRF-Token": csrf})
    assert r.status == 201
    assert re.fullmatch(r"\d{6}", (await r.json())["code"])


async def test_bearer_tokens_need_no_csrf(client: TestClient, service: HubService) -> None:
    token = create_token(service.store, "staff", "script")
    r = await client.post(
        "/api/v1/operators",
        json={"id": "api1", "name": "Via API", "pin": "4321"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status == 201
    assert service.store.operator("api1")["name"] == "Via API"


async def test_form_post_with_csrf_works(client: TestClient, service: HubService) -> None:
    csrf = await login(client, STAFF)
    r = await client.post("/kiosks/pair", data={"csrf": csrf}, allow_redirects=False)
    assert r.status == 303
    (code,) = [c for (c,) in service.store.conn.execute("SELECT code FROM pair_codes")]
    page = await (await client.get(r.headers["Location"])).text()
    assert f'data-pair-code="{code}"' in page


# ---- roles ---------------------------------------------------------------------------------

LEAD_ONLY = [
    "/quality",
    "/api/v1/quality",
    "/api/v1/export/clips.jsonl",
    "/api/v1/export/clips.csv",
]


@pytest.mark.parametrize("path", LEAD_ONLY)
async def test_staff_cannot_reach_lead_pages(client: TestClient, path: str) -> None:
    await login(client, STAFF)
    r = await client.get(path)
    assert r.status == 403


@pytest.mark.parametrize("path", LEAD_ONLY)
async def test_staff_token_cannot_reach_lead_endpoints(
    client: TestClient, service: HubService, path: str
) -> None:
    token = create_token(service.store, "staff")
    r = await client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert r.status == 403
    lead = create_token(service.store, "lead")
    r = await client.get(path, headers={"Authorization": f"Bearer {lead}"})
    assert r.status == 200


async def test_lead_sees_everything_and_staff_has_no_quality_link(client: TestClient) -> None:
    csrf = await login(client, STAFF)
    assert 'href="/quality"' not in await (await client.get("/kiosks")).text()
    await client.post("/logout", data={"csrf": csrf})
    await login(client, LEAD)
    page = await (await client.get("/kiosks")).text()
    assert 'href="/quality"' in page
    for path in ["/kiosks", "/operators", "/progress", "/quality"]:
        assert (await client.get(path)).status == 200, path
    r = await client.get("/api/v1/export/clips.jsonl")
    assert r.status == 200
    assert 'filename="clips.jsonl"' in r.headers["Content-Disposition"]
    assert len((await r.text()).splitlines()) == 3


# ---- escaping and headers ------------------------------------------------------------------

NASTY = '<script>alert("x")</script>'


async def test_script_in_an_operator_name_is_shown_as_text(
    client: TestClient, service: HubService
) -> None:
    csrf = await login(client, STAFF)
    r = await client.post(
        "/operators", data={"csrf": csrf, "id": "op9", "name": NASTY, "pin": "1234"}
    )
    assert r.status == 200  # after the redirect
    service.store.add_alert("al-1", "op9", f"{0:064x}", "k1", time.time())
    for path in ["/operators", "/operators/op9/statement", "/operators/op9/statement?lang=en"]:
        page = await (await client.get(path)).text()
        assert "<script>alert" not in page, path
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page, path


async def test_hostile_kiosk_ids_and_label_values_are_escaped(
    client: TestClient, service: HubService
) -> None:
    kiosk = '"><img src=x onerror=alert(1)>'
    service.store.pair_kiosk(kiosk)
    service.store.kiosk_seen(kiosk, version="<b>1</b>")
    service.store.add_operator("op1", "One", "x")
    add_label(
        service.store,
        uuid="u1",
        operator="op1",
        clip=f"{0:064x}",
        kiosk=kiosk,
        schema_version=1,
        values=[NASTY],
        segments=[],
        telemetry={},
        created_at=time.time(),
    )
    await login(client, LEAD)
    for path in ["/kiosks", "/progress", "/quality"]:
        page = await (await client.get(path)).text()
        assert "<img src=x" not in page and "<script>alert" not in page and "<b>1" not in page
    assert (
        "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in await (await client.get("/kiosks")).text()
    )


async def test_pages_carry_a_strict_content_security_policy(client: TestClient) -> None:
    await login(client, STAFF)
    r = await client.get("/kiosks")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'self'" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    page = await r.text()
    assert "<script>" not in page and "http://" not in page.replace("http://www.w3.org", "")


async def test_password_guessing_is_slowed_down(client: TestClient) -> None:
    page = await (await client.get("/login")).text()
    token = CSRF_INPUT.search(page).group(1)  # type: ignore[union-attr]
    statuses = []
    for password in ["a1234567", "b1234567", "c1234567", "d1234567", "e1234567", STAFF[1]]:
        r = await client.post(
            "/login", data={"username": "sam", "password": password, "csrf": token}
        )
        statuses.append(r.status)
        token = CSRF_INPUT.search(await r.text()).group(1)  # type: ignore[union-attr]
    # five wrong, then even the right password waits out the lock
    assert statuses == [401] * 5 + [429]
    # another name is not locked
    r = await client.post(
        "/login",
        data={"username": "lea", "password": LEAD[1], "csrf": token},
        allow_redirects=False,
    )
    assert r.status == 303


async def test_snapshot_exports_are_for_lead_tokens(client: TestClient, service: HubService):
    """The export API (hub.web.export_routes) behind the dashboard's own checks."""
    assert (await client.get("/api/v1/exports")).status == 401
    staff = create_token(service.store, "staff")
    r = await client.get("/api/v1/exports", headers={"Authorization": f"Bearer {staff}"})
    assert r.status == 403
    lead = create_token(service.store, "lead")
    r = await client.get("/api/v1/exports", headers={"Authorization": f"Bearer {lead}"})
    assert r.status == 200 and (await r.json())["snapshots"] == []
    r = await client.get(
        "/api/v1/exports/v1/..%2fhub.db", headers={"Authorization": f"Bearer {lead}"}
    )
    assert r.status == 404
    csrf = await login(client, LEAD)
    # a browser session without the CSRF header cannot make one
    assert (await client.post("/api/v1/exports")).status == 403
    r = await client.post("/api/v1/exports", headers={"X-CSRF-Token": csrf})
    assert r.status == 401  # snapshots are made with tokens, not browser sessions
    await client.post("/logout", headers={"X-CSRF-Token": csrf})
    await login(client, STAFF)
    assert (await client.get("/api/v1/exports")).status == 403  # and not by staff
