"""`make demo` in a real terminal (tmux): the kiosk's login screen shows the dashboard's address
and the demo's staff and lead accounts, and both log in to the dashboard in Chromium."""

from __future__ import annotations

import os
import re
import shlex
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright import async_api as playwright

from scripts.demo import DEMO_USERS
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_dashboard_browser import log_in
from tests.kiosk.test_tmux_kiosk import Tmux

from ..conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, needs

pytestmark = [pytest.mark.slow, needs("tmux")]

URL = re.compile(r"dashboard (http://127\.0\.0\.1:\d+/)")


def start_demo(data: Path) -> Tmux:
    """`python -m scripts.demo` in a terminal of its own (a private tmux server)."""
    pane = Tmux(f"straat-demo-test-{os.getpid()}")
    # the test process may hold COLUMNS/LINES (80x24) from a library: the demo sizes itself
    # to the terminal, as it does for a person
    command = (
        f"cd {shlex.quote(str(ROOT))} && exec env -u COLUMNS -u LINES "
        f"{shlex.quote(sys.executable)} -m scripts.demo "
        f"--data {shlex.quote(str(data))} --clips 2 --lang en --web-port 0"
    )
    pane.start(command, width=120, height=48)
    return pane


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Tmux]:
    pane = start_demo(tmp_path / "demo")
    yield pane
    pane.keys("C-q")
    end = time.monotonic() + 20  # the demo stops its hub on the way out
    while time.monotonic() < end and "demo stopped" not in pane.text():
        time.sleep(0.1)
    pane.kill()


def kiosk_screen_with(pane: Tmux, needle: str, timeout: float = 120.0) -> str:
    """The pane once the kiosk app has replaced the demo's start-up lines and shows `needle`."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        text = pane.text()
        if needle in text and "hub running" not in text:
            return text
        time.sleep(0.2)
    raise AssertionError(f"{needle!r} not on the screen in {timeout} s:\n{pane.text()}")


async def test_demo_shows_working_dashboard_accounts(demo: Tmux) -> None:
    screen = kiosk_screen_with(
        demo, DEMO_USERS[-1][2]
    )  # the last password: the whole hint is drawn
    print(screen)
    assert "PIN 1234" in screen
    for name, role, password in DEMO_USERS:
        assert f"{role}: {name} / {password}" in screen
    found = URL.search(screen)
    assert found, screen
    base = found.group(1).rstrip("/")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with playwright.async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            for name, role, password in DEMO_USERS:
                context = await browser.new_context()
                page = await context.new_page()
                await log_in(page, base, (name, password))
                # the page may still be loading its live parts: wait for the text, not the DOM
                body = page.locator("body")
                await playwright.expect(body).to_contain_text(re.compile(role, re.IGNORECASE))
                # the demo's own kiosk is listed (it looked for this hub, not the first one)
                await page.wait_for_selector("text=demo-kiosk", timeout=30_000)
                await page.screenshot(path=str(ARTIFACTS / f"demo-{role}.png"), full_page=True)
                await context.close()
        finally:
            await browser.close()


def _processes_with(needle: str) -> list[int]:
    """Live processes (not zombies) whose command line holds `needle`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in cmdline and state not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def test_closing_the_demos_terminal_stops_its_hub(tmp_path: Path) -> None:
    """The terminal of a running demo is closed (its tmux server killed: SIGHUP, no clean-up
    in the demo): the demo's hub, and its consensus fit process, end too instead of staying
    on zeroconf and their ports."""
    data = tmp_path / "demo"
    pane = start_demo(data)
    try:
        kiosk_screen_with(pane, "PIN 1234")
        hub = _processes_with(f"--data {data / 'hub'}")
        assert hub, "the demo's hub is not running"
    finally:
        pane.kill()
    end = time.monotonic() + 20
    while time.monotonic() < end and _processes_with(f"--data {data / 'hub'}"):
        time.sleep(0.1)
    assert _processes_with(f"--data {data / 'hub'}") == [], "the demo's hub outlived it"
