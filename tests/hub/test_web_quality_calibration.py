"""The calibration figure on the /quality page: a real aiohttp server with a store of
simulated labels and gold clips, read over HTTP and looked at in headless Chromium."""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hub.project import load_project, to_schema
from hub.service import HubService
from hub.store import Store
from hub.store.accounts import add_user
from hub.web.app import create_app
from hub.web.state import WebSettings
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, PROJECTS, ROOT

sys.path.insert(0, str(Path(__file__).parent / "consensus"))
from consensus_testdata import simulate  # noqa: E402

from tests.labelling import add_label

LEAD = ("lea", "lead-pass-1")
CSRF_INPUT = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def service(tmp_path: Path) -> Iterator[HubService]:
    project, _ = load_project(PROJECTS / "geweld.toml")
    values = [x.value for x in project.labels]
    store = Store(tmp_path / "hub.db")
    add_user(store, LEAD[0], "lead", LEAD[1])
    tasks, workers, labels, truth, _, _ = simulate(300, 10, 2, 3, 11)
    gold = set(sorted(truth)[:60])
    for t in sorted(truth):
        answer = values[int(truth[t][1:])]
        store.add_clip(
            f"{int(t[1:]):064x}", 100, 2.0, t, want=3, gold=answer if t in gold else None
        )
    for i, (t, w, y) in enumerate(zip(tasks, workers, labels, strict=True)):
        add_label(
            store,
            uuid=str(uuid.UUID(int=i + 1)),
            operator=w,
            clip=f"{int(t[1:]):064x}",
            kiosk="kiosk-1",
            schema_version=1,
            values=[values[int(y[1:])]],
            segments=[],
            telemetry={},
            created_at=1_700_000_000.0 + i,
        )
    yield HubService(store, tmp_path / "media", project, to_schema(project, 1))
    store.close()


@pytest.fixture
async def client(service: HubService) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(create_app(service, WebSettings(secure_cookies=False)))) as c:
        yield c


async def test_quality_page_shows_how_far_to_trust_the_confidence(client: TestClient) -> None:
    page = await (await client.get("/login")).text()
    token = CSRF_INPUT.search(page).group(1)  # type: ignore[union-attr]
    r = await client.post(
        "/login",
        data={"username": LEAD[0], "password": LEAD[1], "csrf": token, "next": "/quality"},
        allow_redirects=False,
    )
    assert r.status == 303
    html = await (await client.get("/quality?lang=en")).text()
    part = html[html.index("How far to trust the confidence") :]
    part = part[: part.index("</section>")]
    assert part.count("<svg") == 2
    assert "Gold clips, fitted without their answers" in part
    assert "Expected: simulated from the model" in part
    eces = re.findall(r"ECE ([0-9.]+) over ([0-9,. ]+) clips", part)
    assert [n.replace(",", "").replace(".", "").strip() for _, n in eces] == ["60", "240"]
    assert all(0 <= float(e) < 0.2 for e, _ in eces)

    playwright = pytest.importorskip("playwright.async_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run `make test`, which installs it")
    base = str(client.make_url("/"))
    async with playwright.async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        await page.goto(f"{base}login?next=/quality")
        await page.fill('input[name="username"]', LEAD[0])
        await page.fill('input[name="password"]', LEAD[1])
        await page.click('button[type="submit"].primary')
        await page.goto(f"{base}quality?lang=en")
        figures = page.locator("section:has(h2:text('How far to trust')) svg")
        assert await figures.count() == 2
        box = await figures.first.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 200
        artifacts = ROOT / "tests" / "artifacts"
        artifacts.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(artifacts / "quality-calibration.png"), full_page=True)
        await browser.close()


def test_quality_command_writes_the_calibration_figure(service: HubService, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from hub.cli import main

    out = tmp_path / "q"
    result = CliRunner().invoke(main, ["quality", "--data", str(tmp_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Calibration, held out: gold clips: ECE" in result.output
    html = (out / "quality.html").read_text()
    part = html[html.index("How far to trust the confidence") :]
    assert part.count("<svg") >= 2 and "over 60 clips" in part and "over 240 clips" in part
