"""Fixtures of the end-to-end tests: one private X server for the whole session, a headless
Chromium per test (screenshots go to ARTIFACTS), and a hub process per module for tests that
speak the wire protocol as kiosks."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright import async_api as playwright

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, HubProc, make_hub
from tests.xserver import Xvfb, missing_tools

ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture(scope="session")
def xserver() -> Iterator[Xvfb]:
    missing = missing_tools()
    if missing:
        pytest.fail(f"{', '.join(missing)} not installed: run `make setup`, which installs them")
    server = Xvfb(1280, 800)
    yield server
    server.stop()


@pytest.fixture
async def browser() -> AsyncIterator:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run `make test`, which installs it")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with playwright.async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        await b.close()


@pytest.fixture(scope="module")
def wire_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProc]:
    """A hub process that pairs any kiosk key (open pairing) and stays off zeroconf: the
    module's tests connect to it as CurveZMQ DEALERs of their own."""
    proc = make_hub(tmp_path_factory.mktemp("wire"))
    proc.extra = ["--open-pairing", "--no-zeroconf"]
    proc.start()
    yield proc
    proc.kill(signal.SIGTERM)
