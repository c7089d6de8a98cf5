"""The real `straat-kiosk` in a real terminal (tmux) against a real hub process: the video is
drawn in the terminal and moves, and a key press stores a label in the hub's database."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests import waiting
from tests.conftest import PIN, HubProc, make_hub, needs

pytestmark = needs("tmux")

STRAAT_KIOSK = Path(sys.executable).with_name("straat-kiosk")
#: how tmux writes a truecolour cell: foreground, maybe background, then the glyph
TRUECOLOUR_HALF_BLOCK = re.compile(r"\x1b\[38;2;\d+;\d+;\d+m(?:\x1b\[48;2;\d+;\d+;\d+m)?▀")


#: The environment of the private tmux server and so of its panes: without pytest's own
#: COLUMNS and LINES (80 × 24 under a runner without a terminal), or Textual would draw at
#: that size in a bigger pane.
PANE_ENV = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}


class Tmux:
    """A private tmux server (its own socket), so nothing else on the machine is touched."""

    def __init__(self, name: str) -> None:
        self.socket = name

    def run(self, *args: str) -> str:
        proc = subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            check=False,
            env=PANE_ENV,
        )
        return proc.stdout

    def start(self, command: str, width: int = 120, height: int = 36) -> None:
        """`command` (a shell command line) in a `width` × `height` pane."""
        self.run(
            "new-session", "-d", "-s", "kiosk", "-x", str(width), "-y", str(height),
            "-e", "COLORTERM=truecolor", command,
        )  # fmt: skip

    def text(self) -> str:
        return self.run("capture-pane", "-p", "-t", "kiosk")

    def escapes(self) -> str:
        return self.run("capture-pane", "-p", "-e", "-t", "kiosk")

    def cursor_row(self) -> int:
        """The terminal cursor's row: Textual puts the cursor in the focused input."""
        return int(self.run("display-message", "-p", "-t", "kiosk", "#{cursor_y}"))

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "kiosk", *keys)

    def kill(self) -> None:
        self.run("kill-server")


def wait_until(predicate: Callable[[], object], timeout: float, what: str, pane: Tmux) -> None:
    waiting.wait_until(predicate, timeout, what, pane.text)


def video_lines(screen: str) -> list[str]:
    return [line for line in screen.splitlines() if len(TRUECOLOUR_HALF_BLOCK.findall(line)) > 8]


def picture(pane: Tmux) -> str:
    """The video part of the screen, with its colours."""
    return "\n".join(video_lines(pane.escapes()))


@pytest.fixture
def hub(tmp_path: Path, sample_clips: Path) -> Iterator[HubProc]:
    proc = make_hub(tmp_path).start(clips=sample_clips)
    yield proc
    proc.kill(signal.SIGTERM)


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    pane = Tmux(f"straat-kiosk-test-{os.getpid()}")
    yield pane
    pane.kill()


def test_kiosk_in_tmux_draws_moving_video_and_a_key_stores_a_label(
    hub: HubProc, tmux: Tmux, tmp_path: Path
) -> None:
    store = hub.store()
    code = store.create_pair_code()
    store.close()
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'kiosk_id = "tmux-kiosk"\ndata = "{tmp_path / "kiosk"}"\nhub_id = "{hub.hub_id}"\n'
        f'pair_code = "{code}"\ninterfaces = ["127.0.0.1"]\nlanguage = "nl"\n'
    )
    tmux.start(f"{STRAAT_KIOSK} --config {config}")
    wait_until(lambda: "Je nummer" in tmux.text(), 30, "the login screen", tmux)
    wait_until(lambda: "verbonden" in tmux.text(), 30, "a connection to the hub", tmux)
    tmux.keys("op1")
    wait_until(lambda: "op1" in tmux.text(), 10, "the operator number typed", tmux)
    operator_row = tmux.cursor_row()
    tmux.keys("Enter")  # the focus moves down to the PIN field by a posted message
    wait_until(lambda: tmux.cursor_row() > operator_row, 10, "the focus in the PIN field", tmux)
    tmux.keys(PIN, "Enter")
    wait_until(lambda: "Clip:" in tmux.text(), 30, "the first clip", tmux)
    wait_until(lambda: len(video_lines(tmux.escapes())) > 10, 15, "video in the terminal", tmux)

    tmux.keys("r")  # the test clips last 2 s: play this one again and watch it move
    pictures: list[str] = []

    def moved() -> bool:
        pictures.append(picture(tmux))
        return len(set(pictures)) >= 3

    wait_until(moved, 5, "three different pictures of the clip", tmux)
    clip_name = re.compile(r"Clip: (\S+)")
    first_clip = clip_name.findall(tmux.text())
    assert first_clip

    tmux.keys("1")
    # the next clip (preloaded while the first played) is on screen at once and drawn: never
    # the first clip's picture again (the next may be a still sample, e.g. SMPTE bars)
    wait_until(
        lambda: clip_name.findall(tmux.text()) not in ([], first_clip), 5, "the next clip", tmux
    )
    moving: list[str] = []

    def watched_next_clip() -> bool:  # six looks, every one the next clip's picture
        moving.append(picture(tmux))
        assert moving[-1] and moving[-1] not in pictures, "the next clip is not drawn"
        return len(moving) >= 6

    wait_until(watched_next_clip, 5, "six looks at the next clip", tmux)

    def stored() -> bool:
        hub_store = hub.store()
        try:
            return hub_store.count_labels() == 1
        finally:
            hub_store.close()

    wait_until(stored, 20, "the label in the hub's database", tmux)
    hub_store = hub.store()
    [label] = hub_store.labels()
    hub_store.close()
    assert label["operator"] == "op1" and label["kiosk"] == "tmux-kiosk"
    assert label["values"] == ["gewelddadig"]
    assert label["telemetry"]["time_to_label_s"] > 0
