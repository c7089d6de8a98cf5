"""The real `straat-kiosk` on a workstation with a screen: a real X server (Xvfb, no GPU),
the kiosk in a real terminal (tmux) with `DISPLAY` set, mpv's own window, a real hub.

The kiosk must not lose its terminal (mpv's automatic GL context ends in its DRM context,
which closes fd 0), keys pressed in the video window must act as in the terminal, and the
window shows the video, turns grey with greyscale and goes away during a break."""

from __future__ import annotations

import os
import re
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from benchmarks.kiosk_latency import make_clips
from tests import waiting
from tests.conftest import PIN, HubProc, make_hub
from tests.kiosk.test_tmux_kiosk import Tmux
from tests.xserver import Image, Xvfb, request_close

STRAAT_KIOSK = Path(sys.executable).with_name("straat-kiosk")
TITLE = "Annotatiestraat video"
T = TypeVar("T")


@pytest.fixture(scope="module")
def moving_clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Colourful clips with a running timer (testsrc2): every frame differs."""
    out = tmp_path_factory.mktemp("moving")
    make_clips(out, 4, seconds=4.0)
    return out


@pytest.fixture
def hub(tmp_path: Path, moving_clips: Path) -> Iterator[HubProc]:
    proc = make_hub(tmp_path).start(clips=moving_clips)
    yield proc
    proc.kill(signal.SIGTERM)


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    pane = Tmux(f"straat-display-test-{os.getpid()}")
    yield pane
    pane.kill()


def wait_until(predicate: Callable[[], T], timeout: float, what: str, pane: Tmux) -> T:
    """The first true value of `predicate()`, else an AssertionError with the screen."""
    return waiting.wait_until(predicate, timeout, what, pane.text)


def login(tmux: Tmux) -> None:
    """Operator and PIN. The focus moves to the PIN field a moment after Enter, which shows in
    the field's border colour: the PIN is typed once the border has changed."""

    def pin_border() -> str:
        lines = tmux.escapes().splitlines()
        row = next(i for i, line in enumerate(lines) if "Pincode" in line)
        return lines[row + 1]

    before = pin_border()
    tmux.keys("op1", "Enter")
    wait_until(lambda: pin_border() != before, 5, "the focus on the PIN field", tmux)
    tmux.keys(PIN, "Enter")


def press(xserver: Xvfb, tmux: Tmux, key: str) -> None:
    """A key pressed in the video window (whichever window mpv shows now)."""
    wait_until(
        lambda: (found := xserver.windows(TITLE)) and xserver.key(found[0], key),
        5, f"key {key} in the video window", tmux,
    )  # fmt: skip


def clip_name(tmux: Tmux) -> str:
    found = re.findall(r"Clip: (\S+)", tmux.text())
    return found[0] if found else ""


def labels(hub: HubProc) -> list[str]:
    store = hub.store()
    try:
        return [label["values"][0] for label in store.labels()]
    finally:
        store.close()


def video_area(xserver: Xvfb) -> Image:
    """The inside of the video window on the screen now (the key that starts the next clip
    moves the preloaded clip's window in and the old one out); an empty picture if there is
    none at this moment."""
    for window in xserver.windows(TITLE):
        try:
            x, y, width, height = xserver.geometry(window)
        except KeyError:  # closed meanwhile
            continue
        inset = 40  # inside the window: no edge of the letterbox
        return xserver.screenshot().crop(
            x + inset, y + inset, width - 2 * inset, height - 2 * inset
        )
    return Image(0, 0, b"")


def test_kiosk_with_a_display_keeps_its_terminal_and_takes_keys_from_the_video_window(
    hub: HubProc, tmux: Tmux, xserver: Xvfb, tmp_path: Path
) -> None:
    store = hub.store()
    code = store.create_pair_code()
    store.close()
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'kiosk_id = "screen-kiosk"\ndata = "{tmp_path / "kiosk"}"\nhub_id = "{hub.hub_id}"\n'
        f'pair_code = "{code}"\ninterfaces = ["127.0.0.1"]\nlanguage = "nl"\n'
    )
    # no `vo` in the config: the kiosk picks the output for a display itself, as on a workstation
    tmux.run(
        "new-session", "-d", "-s", "kiosk", "-x", "120", "-y", "36",
        "-e", f"DISPLAY={xserver.display}", f"{STRAAT_KIOSK} --config {config}",
        ";", "set-option", "remain-on-exit", "on",  # a kiosk that dies leaves its traceback
    )  # fmt: skip
    wait_until(lambda: "Je nummer" in tmux.text(), 30, "the login screen", tmux)
    wait_until(lambda: "verbonden" in tmux.text(), 30, "a connection to the hub", tmux)
    login(tmux)
    wait_until(lambda: "Clip:" in tmux.text(), 30, "the first clip", tmux)
    window = wait_until(lambda: xserver.windows(TITLE), 10, "the video window", tmux)[0]
    # Xvfb has software GL only: the kiosk took vo=x11, and says so
    assert "beeld: x11 (noodoplossing)" in tmux.text()

    # the side layout: the video on the right 60 % of the screen, the full height
    x, y, width, height = xserver.geometry(window)
    assert (x, y, width, height) == (512, 0, 768, 800)

    # the video is drawn and moves
    first = wait_until(lambda: (a := video_area(xserver)).lit() > 0.5 and a, 10,
                       "the video's pixels", tmux)  # fmt: skip
    wait_until(lambda: video_area(xserver).rgb != first.rgb, 5, "a moving picture", tmux)
    assert first.colourful() > 0.3

    # a label key pressed in the video window is the kiosk's label (mpv's bindings are off)
    first_clip = clip_name(tmux)
    press(xserver, tmux, "1")
    wait_until(lambda: labels(hub) == ["gewelddadig"], 20, "the label at the hub", tmux)
    # the next clip (preloaded in a window off the screen) is drawn where the first one was
    wait_until(lambda: clip_name(tmux) not in ("", first_clip), 5, "the next clip", tmux)
    wait_until(lambda: video_area(xserver).lit() > 0.5, 5, "the next clip's picture", tmux)

    # greyscale from the window, colour back from the terminal
    press(xserver, tmux, "g")
    wait_until(lambda: video_area(xserver).colourful() < 0.01, 5, "a grey picture", tmux)
    tmux.keys("g")
    wait_until(lambda: video_area(xserver).colourful() > 0.3, 5, "colour again", tmux)

    # blur from the window: the picture loses its edges; off again from the terminal
    sharp = video_area(xserver).edges()
    press(xserver, tmux, "v")
    wait_until(lambda: video_area(xserver).edges() < sharp / 2, 5, "a blurred picture", tmux)
    tmux.keys("v")
    wait_until(lambda: video_area(xserver).edges() > sharp / 2, 5, "sharp again", tmux)

    # mpv's own `q` (quit) and space (pause) do nothing of their own: space is the kiosk's pause
    press(xserver, tmux, "space")
    wait_until(lambda: "❚❚" in tmux.text(), 5, "the kiosk's pause", tmux)
    press(xserver, tmux, "space")
    wait_until(lambda: "▶" in tmux.text(), 5, "playing again", tmux)

    # the close request a window manager sends (close button, Alt+F4) closes nothing
    request_close(xserver.display, xserver.windows(TITLE)[0])
    press(xserver, tmux, "space")
    wait_until(lambda: "❚❚" in tmux.text(), 5, "the kiosk's pause after a close request", tmux)
    assert xserver.windows(TITLE)
    press(xserver, tmux, "space")

    # a break from the window: the window goes, the screen under it is bare
    press(xserver, tmux, "p")
    wait_until(lambda: "Pauze" in tmux.text(), 5, "the break screen", tmux)
    wait_until(lambda: not xserver.windows(TITLE), 5, "the window hidden", tmux)
    assert xserver.screenshot().crop(x, y, width, height).lit() < 0.01
    tmux.keys("Enter")
    wait_until(lambda: xserver.windows(TITLE), 5, "the window back", tmux)
    wait_until(lambda: video_area(xserver).lit() > 0.5, 5, "the video back", tmux)

    # and the terminal still takes keys: a label from there
    tmux.keys("2")
    wait_until(lambda: len(labels(hub)) == 2, 20, "the second label at the hub", tmux)
    assert labels(hub) == ["gewelddadig", "niet_gewelddadig"]
    assert "Bad file descriptor" not in tmux.text()
