"""Snapshots of each screen (pytest-textual-snapshot) at 100×30: Dutch, English, large text.

Update with `pytest tests/kiosk/test_snapshots.py --snapshot-update` and look at the SVGs in
tests/kiosk/__snapshots__/ before committing them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from kiosk.screens.break_screen import BreakScreen
from kiosk.screens.label import LabelScreen
from kiosk.widgets.video import VideoView
from tests.kiosk.conftest import Kiosk, login, make_kiosk, schema

SIZE = (100, 30)
LOOKS = {
    "nl": {"language": "nl"},
    "en": {"language": "en"},
    "large": {"language": "nl", "large_text": True},
}


def kiosk_for(tmp_path: Path, look: str, project=None) -> Kiosk:  # noqa: ANN001
    return make_kiosk(tmp_path, project or schema("multi"), frames=True, **LOOKS[look])


async def steady(pilot) -> None:  # noqa: ANN001
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    await pilot.pause()


async def on_label_screen(pilot, kiosk: Kiosk) -> None:  # noqa: ANN001
    await login(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, LabelScreen)
    video = screen.query_one(VideoView)
    for _ in range(200):
        if video.frames_drawn:
            break
        await pilot.pause(0.01)
    screen.poll()
    kiosk.player.pos = 0.8  # steady viewing, polled here as well as by the screen's timer
    screen.poll()
    await pilot.press("a")
    kiosk.player.pos = 1.6
    screen.poll()
    await pilot.press("b", "2", "3")
    await pilot.pause()


@pytest.mark.parametrize("look", LOOKS)
def test_login_screen(snap_compare, tmp_path: Path, look: str) -> None:
    kiosk = kiosk_for(tmp_path, look)

    async def before(pilot) -> None:  # noqa: ANN001
        await pilot.click("#operator")
        await pilot.press(*"op1")
        await steady(pilot)

    assert snap_compare(kiosk.app, terminal_size=SIZE, run_before=before)


@pytest.mark.parametrize("look", LOOKS)
def test_labelling_screen(snap_compare, tmp_path: Path, look: str) -> None:
    kiosk = kiosk_for(tmp_path, look)

    async def before(pilot) -> None:  # noqa: ANN001
        await on_label_screen(pilot, kiosk)

    assert snap_compare(kiosk.app, terminal_size=SIZE, run_before=before)


@pytest.mark.parametrize("look", LOOKS)
def test_break_screen(snap_compare, tmp_path: Path, look: str) -> None:
    kiosk = kiosk_for(tmp_path, look, schema("single", break_every_min=1.0, break_min=5.0))

    async def before(pilot) -> None:  # noqa: ANN001
        await login(pilot)
        kiosk.clock.advance(61)
        await pilot.press("1")
        assert isinstance(pilot.app.screen, BreakScreen)
        kiosk.clock.advance(75)
        pilot.app.screen.tick()
        await pilot.pause()

    assert snap_compare(kiosk.app, terminal_size=SIZE, run_before=before)


@pytest.mark.parametrize("look", LOOKS)
def test_summary_screen(snap_compare, tmp_path: Path, look: str) -> None:
    kiosk = kiosk_for(tmp_path, look, schema("single"))

    async def before(pilot) -> None:  # noqa: ANN001
        await login(pilot)
        kiosk.clock.advance(200)
        await pilot.press("1", "2", "s", "p")
        kiosk.clock.advance(300)
        await pilot.press("enter")
        kiosk.clock.advance(100)
        await pilot.press("1", "q")
        await pilot.pause()

    assert snap_compare(kiosk.app, terminal_size=SIZE, run_before=before)
