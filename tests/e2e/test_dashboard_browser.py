"""The dashboard in Debian's Chromium (Playwright) against a real hub process and a real kiosk.

Staff log in, pair a kiosk with the code the page shows, add an operator, watch the kiosk come
online, see labels raise the counts live (no reload), see the kiosk go offline when it stops,
print a work-experience statement to PDF; a lead downloads an export. Screenshots of every
page go to tests/artifacts/.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
from pathlib import Path

import pytest
from playwright import async_api as playwright

from hub.store import Store
from hub.store.accounts import add_user
from kiosk.app import KioskApp
from kiosk.config import KioskConfig
from kiosk.player import MpvPlayer
from kiosk.runtime import build
from kiosk.screens.label import LabelScreen

from ..conftest import HubProc, make_hub
from .conftest import ARTIFACTS

STAFF = ("sam", "staff-pass-1")
LEAD = ("lea", "lead-pass-1")
NAME = "<script>alert('x')</script> Yara"
PIN = "1357"

pytestmark = pytest.mark.slow


async def wait_for(predicate, timeout: float = 20.0, step: float = 0.05) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(step)


@pytest.fixture
def web_hub(tmp_path: Path, sample_clips: Path):
    hub = make_hub(tmp_path, operators=0)
    store = Store(hub.db)
    add_user(store, STAFF[0], "staff", STAFF[1])
    add_user(store, LEAD[0], "lead", LEAD[1])
    store.close()
    hub.start(clips=sample_clips)
    yield hub
    hub.kill(signal.SIGTERM)


async def log_in(page, base: str, user: tuple[str, str]) -> None:
    await page.goto(f"{base}/kiosks")
    assert "/login" in page.url
    await page.fill('input[name="username"]', user[0])
    await page.fill('input[name="password"]', user[1])
    await page.click('button[type="submit"].primary')
    await page.wait_for_url(f"{base}/kiosks")


async def shot(page, name: str) -> None:
    """Screenshot, after checking that the page needs no sideways scrolling at this width."""
    wide = await page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth,"
        " Math.max(0, ...[...document.querySelectorAll('.scroll')]"
        ".map(e => e.scrollWidth - e.clientWidth))]"
    )
    assert wide[0] <= wide[1] and wide[2] <= 1, (name, wide)
    await page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)


async def test_staff_and_lead_in_chromium(web_hub: HubProc, browser, tmp_path: Path) -> None:
    expect = playwright.expect
    base = f"http://127.0.0.1:{web_hub.web_port}"
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    outside: list[str] = []
    context.on("request", lambda r: None if r.url.startswith(base) else outside.append(r.url))
    page = await context.new_page()

    # ---- staff log in; the login page first
    await page.goto(f"{base}/login")
    await shot(page, "login")
    await log_in(page, base, STAFF)
    await expect(page.locator("h1")).to_have_text("Kiosks")
    await expect(page.locator("#live-state")).to_have_class("live-state on")

    # ---- a pairing code for the new kiosk
    await page.click("#pair")
    code = await page.locator("[data-pair-code]").first.get_attribute("data-pair-code")
    assert code and code.isdigit() and len(code) == 6
    # staff see the hub's key fingerprint, the one the kiosk shows after pairing
    from protocol.keys import fingerprint

    await expect(page.locator("#hub-fingerprint")).to_have_text(fingerprint(web_hub.public_key))
    await shot(page, "kiosks-pair-code")

    # ---- add an operator with a hostile name; it shows as text
    await page.goto(f"{base}/operators")
    await page.fill('#add-operator input[name="id"]', "op9")
    await page.fill('#add-operator input[name="name"]', NAME)
    await page.fill('#add-operator input[name="pin"]', PIN)
    await page.click('#add-operator button[type="submit"]')
    await expect(page.locator(".flash.ok")).to_contain_text("op9")
    await expect(page.locator('tr[data-operator="op9"] .name')).to_have_text(NAME)

    # a staff member cannot open the lead's quality page
    response = await page.goto(f"{base}/quality")
    assert response is not None and response.status == 403

    # ---- a real kiosk pairs with the code and comes online
    await page.goto(f"{base}/kiosks")
    # found by zeroconf on loopback, as a kiosk on the site LAN finds its hub (this hub: other
    # tests on this machine may advertise theirs on loopback too)
    config = KioskConfig(
        kiosk_id="kiosk-1",
        data=str(tmp_path / "kiosk"),
        pair_code=code,
        interfaces=["127.0.0.1"],
        hub_id=web_hub.hub_id,
    )
    engine, link, _ = build(config)
    app = KioskApp(engine, MpvPlayer(vo="null"), link)
    row = page.locator('tr[data-kiosk="kiosk-1"]')
    async with app.run_test(size=(100, 30)) as pilot:
        try:
            await wait_for(lambda: app.engine.online, 30)
        except AssertionError:
            raise AssertionError(
                f"kiosk not online: {app.engine.hub_error!r} {link.last_error!r} {config}\n"
                + "".join(web_hub.log[-30:])
            ) from None
        # the page reloads itself when a kiosk is paired, then follows it live
        await expect(row).to_have_attribute("data-status", "online", timeout=10_000)
        await expect(page.locator("[data-pair-code]")).to_have_count(0)

        await pilot.click("#operator")
        await pilot.press(*"op9", "enter", *PIN, "enter")
        await wait_for(lambda: isinstance(app.screen, LabelScreen))
        await expect(row.locator('[data-live="kiosk:kiosk-1:operator"]')).to_have_text("op9")
        await shot(page, "kiosks-online")

        # ---- labels raise the counts on the progress page, without a reload
        await page.goto(f"{base}/progress")
        labels = page.locator('[data-live="counts.labels"]')
        await expect(labels).to_have_text("0")
        await page.evaluate("window.__still_here = true")
        screen = app.screen
        for key in ["1", "2", "1"]:
            await wait_for(lambda: screen.current is not None)
            await wait_for(lambda: app.player.position() > 0, 10)  # mpv really plays it
            await pilot.press(key)
        try:
            await wait_for(lambda: app.engine.store.outbox_count() == 0)
        except AssertionError:
            raise AssertionError(
                f"outbox {app.engine.store.outbox_count()} {app.engine.hub_error!r} "
                f"{link.last_error!r} online={app.engine.online}\n" + "".join(web_hub.log[-30:])
            ) from None
        await expect(labels).to_have_text("3", timeout=10_000)
        await expect(page.locator('[data-live="dist:gewelddadig"]')).to_have_text("2")
        assert await page.evaluate("window.__still_here === true")
        await page.reload()  # the plots are drawn by the server
        await shot(page, "progress")

        await page.goto(f"{base}/kiosks")
        await expect(row).to_have_attribute("data-status", "online")
    # ---- the kiosk has stopped: offline within a few seconds, without a reload
    await page.evaluate("window.__still_here = true")
    await expect(row).to_have_attribute("data-status", "offline", timeout=10_000)
    await expect(row.locator(".badge")).to_have_text("offline")
    assert await page.evaluate("window.__still_here === true")
    await shot(page, "kiosks-offline")

    # ---- operators: clips counted; then the statement, printed to PDF
    await page.goto(f"{base}/operators")
    await expect(page.locator('[data-live="op:op9:clips_total"]')).to_have_text("3")
    await shot(page, "operators")
    await page.click('tr[data-operator="op9"] a[href$="/statement"]')
    await expect(page.locator("article.statement h1")).to_have_text("Werkervaringsverklaring")
    await expect(page.locator("article.statement")).to_contain_text(NAME)
    await shot(page, "statement-nl")
    pdf = await page.pdf(path=str(ARTIFACTS / "statement-nl.pdf"), format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 5_000
    await page.goto(page.url + "?lang=en")
    await expect(page.locator("article.statement h1")).to_have_text("Work experience statement")
    pdf = await page.pdf(path=str(ARTIFACTS / "statement-en.pdf"), format="A4")
    assert pdf.startswith(b"%PDF")
    await shot(page, "statement-en")

    # ---- tablet width, English
    await page.set_viewport_size({"width": 768, "height": 1024})
    await page.goto(f"{base}/operators")
    await expect(page.locator("h1")).to_have_text("Operators")
    await shot(page, "operators-tablet-en")
    await page.goto(f"{base}/kiosks")
    await shot(page, "kiosks-tablet-en")
    await page.set_viewport_size({"width": 1280, "height": 800})

    # ---- the lead: quality page and an export download
    await page.click("header form button")  # log out
    await page.wait_for_url(f"{base}/login**")
    await log_in(page, base, LEAD)
    await page.goto(f"{base}/quality?lang=nl")
    await expect(page.locator("h1")).to_have_text("Kwaliteit")
    await shot(page, "quality")
    async with page.expect_download() as info:
        await page.click('a[href="/api/v1/export/clips.csv"]')
    download = await info.value
    saved = tmp_path / "clips.csv"
    await download.save_as(saved)
    lines = saved.read_text().splitlines()
    assert lines[0].startswith("clip_id,") and len(lines) == 1 + 6
    shutil.copy(saved, ARTIFACTS / "export-clips.csv")

    assert outside == []  # nothing fetched from outside the hub
    await context.close()
