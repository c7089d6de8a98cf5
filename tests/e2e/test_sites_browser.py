"""Two site hubs on one PostgreSQL database, seen in Debian's Chromium (Playwright): the
dashboard lists every site with its kiosks and labels and filters the kiosks by site; when
the database goes away the site hub's pages say since when (a 503 page that reloads itself,
never a 500) and come back by themselves when it returns. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright import async_api as playwright

from hub.store import Store
from hub.store.accounts import add_user
from tests.conftest import PROJECTS, HubProc
from tests.labelling import add_label
from tests.pg import PgServer, running_server

from .conftest import ARTIFACTS

STAFF = ("sam", "staff-pass-1")

pytestmark = pytest.mark.slow


@pytest.fixture
def own_server() -> Iterator[PgServer]:
    """A server of this test's own: it is stopped mid-test."""
    with running_server() as server:
        yield server


def site_hub(tmp_path: Path, url: str, site: str) -> HubProc:
    data = tmp_path / site
    data.mkdir()
    hub = HubProc(data=data, project=PROJECTS / "geweld.toml", db_url=url)
    hub.extra = ["--no-zeroconf", "--site", site]
    return hub.start()


def fill(url: str) -> None:
    """Kiosks seen at each site and labels stored by each (as the site hubs store them)."""
    for site, kiosks, labels in (("north", ["n1", "n2", "n3"], 7), ("south", ["s1", "s2"], 4)):
        store = Store(url, site=site)
        try:
            if site == "north":
                add_user(store, STAFF[0], "staff", STAFF[1])  # one account for every site
                for i in range(10):
                    store.add_clip(f"{i:064x}", 10, 1.0, f"clip {i}", want=3)
            for k in kiosks:
                store.pair_kiosk(k, f"key-{k}")
                store.kiosk_seen(k, version="0.1.0", outbox=0)
            for i in range(labels):
                add_label(store, uuid=f"{site}-{i}", operator=f"op-{site}", clip=f"{i:064x}",
                          kiosk=kiosks[i % len(kiosks)], schema_version=1,
                          values=["gewelddadig"], segments=[], telemetry={},
                          created_at=time.time())  # fmt: skip
        finally:
            store.close()


def healthz(base: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


async def test_every_site_on_the_dashboard_and_the_database_gone(
    own_server: PgServer, browser, tmp_path: Path
) -> None:
    expect = playwright.expect
    url = own_server.create_database()
    fill(url)
    north, south = site_hub(tmp_path, url, "north"), site_hub(tmp_path, url, "south")
    try:
        base = f"http://127.0.0.1:{north.web_port}"
        page = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
        await page.goto(f"{base}/kiosks?lang=en")
        await page.fill('input[name="username"]', STAFF[0])  # the account made at north…
        await page.fill('input[name="password"]', STAFF[1])
        await page.click('button[type="submit"].primary')
        await page.wait_for_url(f"{base}/kiosks?lang=en")

        # every site, its kiosks and labels; all kiosks listed, with their site
        sites = page.locator("table.sites tbody tr")
        await expect(sites).to_have_count(2)
        await expect(page.locator('tr[data-site-row="north"]')).to_contain_text("/ 3")
        await expect(page.locator('tr[data-site-row="north"]')).to_contain_text("this hub")
        await expect(page.locator('tr[data-site-row="south"] td').nth(1)).to_have_text("4")
        await expect(page.locator("tr[data-kiosk]")).to_have_count(5)
        await page.screenshot(path=str(ARTIFACTS / "sites-all.png"), full_page=True)

        await page.click('a[data-site-filter="south"]')  # the filter: one site's kiosks
        await page.wait_for_url(f"{base}/kiosks?site=south")
        await expect(page.locator("tr[data-kiosk]")).to_have_count(2)
        assert await page.locator("td[data-site]").all_inner_texts() == ["south", "south"]
        await expect(page.locator('a[data-site-filter="south"]')).to_have_attribute(
            "aria-current", "page"
        )
        await page.screenshot(path=str(ARTIFACTS / "sites-south.png"), full_page=True)

        # progress: the program's clips, one site's labels and throughput
        await page.goto(f"{base}/progress?site=south")
        cards = page.locator(".card")
        await expect(cards.nth(4).locator(".value")).to_have_text("4")  # labels at south
        await expect(cards.nth(0).locator(".value")).to_have_text("10")  # the program's clips
        await page.click('a[data-site-filter=""]')
        await expect(page.locator('[data-live="counts.labels"]')).to_have_text("11")
        await page.goto(f"{base}/progress?site=south")
        await page.screenshot(path=str(ARTIFACTS / "sites-progress-south.png"), full_page=True)

        # …logs in at the other site's dashboard too
        other = await (await browser.new_context()).new_page()
        south_base = f"http://127.0.0.1:{south.web_port}"
        await other.goto(f"{south_base}/kiosks?lang=en")
        await other.fill('input[name="username"]', STAFF[0])
        await other.fill('input[name="password"]', STAFF[1])
        await other.click('button[type="submit"].primary')
        await other.wait_for_url(f"{south_base}/kiosks?lang=en")
        await expect(other.locator('tr[data-site-row="south"]')).to_contain_text("this hub")

        # the database goes away: a clear page with since when, 503, reloading itself
        own_server.halt()
        response = await page.goto(f"{base}/kiosks?lang=en")
        assert response is not None and response.status == 503
        assert response.headers.get("refresh") == "5"
        await expect(page.locator("#db-down h1")).to_contain_text("Database unreachable since")
        await page.screenshot(path=str(ARTIFACTS / "sites-database-down.png"), full_page=True)
        status, body = healthz(base)
        assert status == 503 and body["problems"][0].startswith("database unreachable since")
        for _ in range(3):  # more requests: still one line in the log
            assert (await page.reload()).status == 503  # type: ignore[union-attr]

        # back: the page reloads itself into the dashboard, nothing to do for staff
        own_server.start()
        await expect(page.locator("table.sites")).to_be_visible(timeout=30_000)
        assert page.url.endswith("/kiosks?lang=en")
        assert healthz(base)[0] == 200
        logged = "".join(north.log)
        assert logged.count("database unreachable since") == 1, logged
        assert logged.count("database reachable again") == 1, logged
        assert "Traceback" not in logged and " 500 " not in logged, logged
    finally:
        for hub in (north, south):
            hub.kill(signal.SIGTERM)
    await asyncio.sleep(0)
