# ruff: noqa: F811 (the browser fixture comes from test_dashboard_browser)
"""What staff see of an attack, and the login redirect, in Chromium against a real hub
process: codes guessed from many addresses, a paired kiosk sending labels for an operator
who never logged in there, then staff open the Kiosks page."""

from __future__ import annotations

import signal
import time
import uuid as uuidlib
from pathlib import Path

import pytest
import zmq
from playwright import async_api as playwright

from hub.store import Store
from hub.store.accounts import add_user
from protocol import codec
from protocol import messages as m
from tests.conftest import make_hub
from tests.e2e.test_dashboard_browser import STAFF, shot
from tests.e2e.test_pairing_guard import _ask, _pair_socket
from tests.faults import seed_clips

pytestmark = pytest.mark.slow


@pytest.fixture
def attacked_hub(tmp_path: Path):
    hub = make_hub(tmp_path, operators=2)
    shas = seed_clips(hub.data, 3, 1000)
    store = Store(hub.db)
    add_user(store, STAFF[0], "staff", STAFF[1])
    store.close()
    hub.extra = ["--no-zeroconf"]
    hub.start()
    store = hub.store()
    code = store.create_pair_code()
    public, secret = zmq.curve_keypair()
    store.pair_kiosk("k-stolen", public.decode())
    store.close()
    ctx = zmq.Context()
    try:
        for i in range(25):  # wrong codes from 25 addresses: the open code is withdrawn
            sock, _ = _pair_socket(ctx, hub, f"x{i}", source=f"127.0.6.{i + 1}")
            _ask(sock, f"x{i}", f"{(int(code) + 1 + i) % 10**6:06d}")
            sock.close()
        sock = ctx.socket(zmq.DEALER)
        sock.curve_publickey, sock.curve_secretkey = public, secret
        sock.curve_serverkey = hub.public_key.encode()
        sock.setsockopt(zmq.ROUTING_ID, b"k-stolen")
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(hub.endpoint)
        sock.send(codec.encode(m.Hello(kiosk_id="k-stolen", version="t")))
        label = m.Label(
            uuid=str(uuidlib.uuid4()), operator="op2", clip=shas[0], schema_version=1,
            values=["gewelddadig"], created_at=time.time(),
        )  # fmt: skip
        sock.send(codec.encode(m.LabelBatch(labels=[label])))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # until the refusal comes back
            if sock.poll(500) and codec.decode(sock.recv(), m.HubToKiosk).__class__ is m.Error:
                break
        sock.close()
    finally:
        ctx.destroy(linger=0)
    yield hub
    hub.kill(signal.SIGTERM)


async def test_staff_see_the_attack_and_login_stays_on_site(attacked_hub, browser) -> None:
    expect = playwright.expect
    base = f"http://127.0.0.1:{attacked_hub.web_port}"
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    # a link that tries to send staff elsewhere after login (tab in the path)
    await page.goto(f"{base}/login?next=/%09/evil.example")
    await page.fill('input[name="username"]', STAFF[0])
    await page.fill('input[name="password"]', STAFF[1])
    await page.click('button[type="submit"].primary')
    await page.wait_for_load_state()
    assert page.url.startswith(base), page.url
    await page.goto(f"{base}/kiosks?lang=en")
    alarms = page.locator("[data-alarm]")
    await expect(alarms.first).to_contain_text("Pairing: ")
    await expect(alarms.first).to_contain_text("withdrawn 1 times")
    await expect(page.locator("[data-alarm]", has_text="k-stolen")).to_contain_text("not_logged_in")
    await shot(page, "kiosks-security-alarms")
    # staff ask for a code that re-pairs this kiosk id (and nothing else)
    await page.click('form[action="/kiosks/k-stolen/repair"] button')
    await expect(page.locator(".flash.ok")).to_contain_text("re-pairs kiosk k-stolen only")
    store = attacked_hub.store()
    try:
        rows = store.conn.execute("SELECT kiosk FROM pair_codes WHERE used_by IS NULL").fetchall()
    finally:
        store.close()
    assert ("k-stolen",) in rows
    await shot(page, "kiosks-repair-code")
