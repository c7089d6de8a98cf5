"""Fixtures of the end-to-end tests: one private X server for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.xserver import Xvfb, missing_tools


@pytest.fixture(scope="session")
def xserver() -> Iterator[Xvfb]:
    missing = missing_tools()
    if missing:
        pytest.fail(f"{', '.join(missing)} not installed: run `make setup`, which installs them")
    server = Xvfb(1280, 800)
    yield server
    server.stop()
