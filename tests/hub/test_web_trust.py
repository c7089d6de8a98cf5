# ruff: noqa: F811 (pytest fixtures imported from test_web_auth)
"""Sessions that end when they should, lock-outs a visitor cannot turn on staff, and the
smaller web findings: a real aiohttp server on loopback (TestServer) and real HTTP clients."""

from __future__ import annotations

import csv
import io
import os
import threading
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner

from hub.cli import main as cli
from hub.service import HubService
from hub.store.accounts import add_user, create_token
from hub.web.app import create_app
from hub.web.state import WebSettings
from tests.labelling import add_label

from .test_web_auth import CSRF_INPUT, LEAD, STAFF, client, login, service  # noqa: F401


def _sid(client: TestClient) -> str:
    return client.session.cookie_jar.filter_cookies(client.make_url("/"))["straat_session"].value


async def _with_cookie(client: TestClient, sid: str, path: str) -> int:
    r = await client.get(path, headers={"Cookie": f"straat_session={sid}"}, allow_redirects=False)
    return r.status


# ---- sessions bound to role and password; CLI commands -------------------------------------


async def test_demotion_and_new_password_end_sessions(client: TestClient, service) -> None:
    await login(client, LEAD)
    sid = _sid(client)
    assert await _with_cookie(client, sid, "/api/v1/export/clips.csv") == 200
    add_user(service.store, LEAD[0], "staff", LEAD[1])  # demoted
    assert await _with_cookie(client, sid, "/api/v1/export/clips.csv") == 401
    assert await _with_cookie(client, sid, "/api/v1/kiosks") == 401
    client.session.cookie_jar.clear()
    await login(client, STAFF)
    sid = _sid(client)
    assert await _with_cookie(client, sid, "/api/v1/kiosks") == 200
    add_user(service.store, STAFF[0], "staff", "a-new-password")  # reset
    assert await _with_cookie(client, sid, "/api/v1/kiosks") == 401


async def test_cli_removes_users_ends_sessions_and_revokes_tokens(
    client: TestClient, service: HubService
) -> None:
    data = service.store.path.parent
    runner = CliRunner()
    await login(client, STAFF)
    sid = _sid(client)
    r = runner.invoke(cli, ["user", "sessions", "sam", "--data", str(data)])
    assert r.exit_code == 0 and "sam\tstaff" in r.output, r.output
    r = runner.invoke(cli, ["user", "sessions", "sam", "--end", "--data", str(data)])
    assert r.exit_code == 0 and "1 sessions" in r.output, r.output
    assert await _with_cookie(client, sid, "/api/v1/kiosks") == 401

    client.session.cookie_jar.clear()
    await login(client, LEAD)
    sid = _sid(client)
    r = runner.invoke(cli, ["user", "remove", "lea", "--data", str(data)])
    assert r.exit_code == 0, r.output
    assert await _with_cookie(client, sid, "/api/v1/kiosks") == 401
    r = runner.invoke(cli, ["user", "remove", "lea", "--data", str(data)])
    assert r.exit_code != 0 and "no user" in r.output

    token = create_token(service.store, "staff", "ci")
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/kiosks", headers=bearer)).status == 200
    r = runner.invoke(cli, ["token", "revoke", "ci", "--data", str(data)])
    assert r.exit_code == 0 and "1 token" in r.output, r.output
    assert (await client.get("/api/v1/kiosks", headers=bearer)).status == 401
    r = runner.invoke(cli, ["token", "list", "--data", str(data)])
    assert "ci\tstaff\trevoked" in r.output and token not in r.output


# ---- login: hashing off the loop, lock-out per user and source -----------------------------


async def test_password_hashing_runs_off_the_event_loop(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hub.store.accounts as accounts

    threads: list[str] = []
    real = accounts.verify_pin

    def recording(pin: str, stored: str) -> bool:
        threads.append(threading.current_thread().name)
        return real(pin, stored)

    monkeypatch.setattr(accounts, "verify_pin", recording)
    await login(client, STAFF)
    assert threads and all(name != threading.main_thread().name for name in threads), threads


async def _post_login(session: aiohttp.ClientSession, base: str, user: str, password: str) -> int:
    page = await (await session.get(f"{base}/login")).text()
    token = CSRF_INPUT.search(page).group(1)  # type: ignore[union-attr]
    r = await session.post(
        f"{base}/login",
        data={"username": user, "password": password, "csrf": token},
        allow_redirects=False,
    )
    return r.status


async def test_a_visitor_cannot_lock_staff_out_and_staff_lift_lockouts(
    client: TestClient, service: HubService
) -> None:
    base = str(client.make_url("")).rstrip("/")
    # the visitor, from 127.0.0.2, guesses sam's password
    jar = aiohttp.CookieJar(unsafe=True)  # cookies from an IP address host
    conn = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with aiohttp.ClientSession(connector=conn, cookie_jar=jar) as visitor:
        statuses = [await _post_login(visitor, base, "sam", f"guess-{i:03d}") for i in range(6)]
    assert statuses == [401] * 5 + [429]
    # sam, from 127.0.0.1, logs in all the same
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as sam:
        assert await _post_login(sam, base, *STAFF) == 303
        page = await (await sam.get(f"{base}/kiosks?lang=en")).text()
        assert "5 wrong passwords for sam from 127.0.0.2" in page  # staff see it
    # staff see the lock-out and lift it
    token = create_token(service.store, "staff")
    bearer = {"Authorization": f"Bearer {token}"}
    listed = await (await client.get("/api/v1/lockouts", headers=bearer)).json()
    assert any(x["source"] == "127.0.0.2" and x["failures"] == 5 for x in listed["web_logins"])
    r = await client.post("/api/v1/lockouts/lift", json={"source": "127.0.0.2"}, headers=bearer)
    assert r.status == 200 and (await r.json())["web_logins"] == 5
    conn = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(connector=conn, cookie_jar=jar) as visitor:
        assert await _post_login(visitor, base, "sam", "guess-again") == 401


# ---- the smaller ones -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "target", ["/\t/evil.example", "/\\evil.example", "/ /evil.example", "/\n/evil.example"]
)
async def test_no_open_redirect_after_login(client: TestClient, target: str) -> None:
    page = await (await client.get("/login")).text()
    token = CSRF_INPUT.search(page).group(1)  # type: ignore[union-attr]
    r = await client.post(
        "/login",
        data={"username": STAFF[0], "password": STAFF[1], "csrf": token, "next": target},
        allow_redirects=False,
    )
    assert r.status == 303 and r.headers["Location"] == "/kiosks", r.headers["Location"]


async def test_statement_dates_at_the_ends_of_the_calendar(client: TestClient, service) -> None:
    service.store.add_operator("op1", "One", "scrypt$1024$8$1$00$00")
    token = create_token(service.store, "staff")
    bearer = {"Authorization": f"Bearer {token}"}
    for query in ("from=0001-01-01", "to=9999-12-31", "from=0001-01-01&to=9999-12-31"):
        r = await client.get(f"/api/v1/operators/op1/statement?{query}", headers=bearer)
        assert r.status == 200, (query, r.status, await r.text())
    r = await client.get("/api/v1/operators/op1/statement?from=2020-13-01", headers=bearer)
    assert r.status == 400 and r.content_type == "application/json"


async def test_deeply_nested_json_and_huge_csv_fields_are_clear_400s(service: HubService) -> None:
    app = create_app(service, WebSettings(secure_cookies=False))
    lead = create_token(service.store, "lead")
    bearer = {"Authorization": f"Bearer {lead}", "Content-Type": "application/json"}
    nested = "[" * 100_000 + "]" * 100_000
    big = "clip,label\n" + "a" * (200 * 1024) + ",x\n"
    async with TestClient(TestServer(app)) as client:
        r = await client.post("/api/v1/operators", data=nested, headers=bearer)
        assert r.status == 400 and r.content_type == "application/json", await r.text()
        assert (await r.json())["status"] == 400
        r = await client.post("/api/v1/exports", data=nested, headers=bearer)
        assert r.status == 400 and r.content_type == "application/json", await r.text()
        for fmt, body, kind in (("json", nested, "application/json"), ("csv", big, "text/csv")):
            r = await client.post(
                f"/api/v1/models/m/predictions?format={fmt}",
                data=body,
                headers={"Authorization": f"Bearer {lead}", "Content-Type": kind},
            )
            assert r.status == 400 and r.content_type == "application/json", await r.text()


async def test_a_symlinked_snapshot_folder_serves_nothing(service: HubService, tmp_path) -> None:
    data = service.store.path.parent
    (data / "hub.key").write_text("secret\n")
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "v3").symlink_to(data, target_is_directory=True)
    app = create_app(service, WebSettings(secure_cookies=False), export_root=exports)
    lead = create_token(service.store, "lead")
    async with TestClient(TestServer(app)) as c:
        for name in ("hub.db", "hub.key"):
            r = await c.get(
                f"/api/v1/exports/v3/{name}", headers={"Authorization": f"Bearer {lead}"}
            )
            assert r.status == 404, (name, r.status)


async def test_csv_exports_do_not_carry_formulas(client: TestClient, service) -> None:
    service.store.add_clip("f" * 64, 100, 2.0, '=HYPERLINK("http://evil.example")', want=2)
    lead = create_token(service.store, "lead")
    r = await client.get("/api/v1/export/clips.csv", headers={"Authorization": f"Bearer {lead}"})
    rows = list(csv.DictReader(io.StringIO(await r.text())))
    cells = [v for row in rows for v in row.values()]
    assert not any(v.startswith(("=", "+", "@")) for v in cells), cells
    assert any(v.startswith("'=HYPERLINK") for v in cells)


def test_snapshot_csv_does_not_carry_formulas(tmp_path: Path, service: HubService) -> None:
    from hub.export.snapshot import create_snapshot

    store = service.store
    sha = store.clips()[0]["sha256"]
    add_label(
        store,
        uuid="u1", operator="op1", clip=sha, kiosk="=cmd|' /C calc'!A0", schema_version=1,
        values=["gewelddadig"], segments=[], telemetry={}, created_at=1.0,
    )  # fmt: skip
    snap = create_snapshot(store, tmp_path / "exports", ["csv"])
    text = "".join(p.read_text() for p in (tmp_path / "exports").rglob("*.csv"))
    assert "'=cmd" in text and ",=cmd" not in text and "\n=cmd" not in text, snap


async def test_server_header_names_no_version(client: TestClient) -> None:
    r = await client.get("/healthz")
    server = r.headers.get("Server", "")
    assert "aiohttp" not in server.lower() and "python" not in server.lower(), server


async def test_405_says_what_is_allowed(client: TestClient, service) -> None:
    token = create_token(service.store, "staff")
    r = await client.get("/api/v1/kiosks/pair-code", headers={"Authorization": f"Bearer {token}"})
    assert r.status == 405 and r.headers.get("Allow") == "POST", dict(r.headers)


async def test_openapi_lists_every_api_route(service: HubService) -> None:
    app = create_app(service, WebSettings(secure_cookies=False))
    async with TestClient(TestServer(app)) as c:
        doc = await (await c.get("/api/v1/openapi.json")).json()
        routes = {
            r.resource.canonical
            for r in app.router.routes()
            if r.resource is not None and r.resource.canonical.startswith("/api/v1/")
        }
    assert routes - set(doc["paths"]) == set()


def test_hub_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    """A real hub process started under umask 022: its data folder 0700, database 0600."""
    import signal

    from tests.conftest import make_hub

    old = os.umask(0o022)
    try:
        hub = make_hub(tmp_path)  # the test makes hub.db first, under umask 022
        hub.extra = ["--no-zeroconf"]
        hub.start()
    finally:
        os.umask(old)
    try:
        assert hub.data.stat().st_mode & 0o777 == 0o700
        for name in ("hub.db", "hub.db-wal", "hub.key"):
            path = hub.data / name
            if path.exists():
                assert path.stat().st_mode & 0o777 == 0o600, (name, oct(path.stat().st_mode))
    finally:
        hub.kill(signal.SIGTERM)
