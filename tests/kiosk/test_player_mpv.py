"""The real player's frame sources (libmpv): software render (`vo=libmpv`) and screenshots
(`vo=null`). This is the one place besides the tmux test where mpv draws pictures."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kiosk.player import MpvPlayer
from kiosk.render import Frame


def frames(source, count: int, timeout: float = 5.0) -> list[Frame]:  # noqa: ANN001
    got: list[Frame] = []
    last = 0
    end = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < end:
        frame = source.wait(last, 0.25)
        if frame is not None:
            got.append(frame)
            last = frame.seq
    return got


def grey(frame: Frame) -> bool:
    data = frame.data
    return all(data[i] == data[i + 1] == data[i + 2] for i in range(0, len(data), 4 * 97))


@pytest.fixture
def clip(sample_clips: Path) -> Path:
    return sorted(sample_clips.glob("*.mp4"))[0]


def test_sw_render_frames_at_the_asked_size_and_moving(clip: Path) -> None:
    player = MpvPlayer(vo="libmpv")
    try:
        source = player.frame_source()
        source.set_size(64, 36)
        player.play(clip)
        got = frames(source, 8)
        assert len(got) == 8
        assert {(f.width, f.height) for f in got[2:]} == {(64, 36)}
        assert len({f.data for f in got}) > 4  # the picture moves
        assert [f.seq for f in got] == sorted(f.seq for f in got)
        player.set_filters(greyscale=True, blur=False)
        time.sleep(0.3)
        assert grey(frames(source, 1)[0])
        assert player.position() > 0
    finally:
        player.close()
    player.close()  # twice is harmless


def test_screenshot_frames_with_vo_null(clip: Path) -> None:
    player = MpvPlayer(vo="null")
    try:
        source = player.frame_source()
        player.play(clip)
        source.set_size(48, 40)
        time.sleep(0.3)
        got = frames(source, 4)
        assert len(got) == 4
        assert got[-1].width <= 48 and got[-1].height <= 40
        assert len({f.data for f in got}) == 4
        player.pause(True)
        time.sleep(0.1)
        frames(source, 1, timeout=0.3)
        assert frames(source, 1, timeout=0.5) == []  # paused: nothing new to draw
    finally:
        player.close()


def test_the_mmap_threshold_is_fixed_on_glibc() -> None:
    """glibc's dynamic mmap threshold kept ≈ 11-26 MB of freed buffers resident in the kiosk
    (benchmarks/RESULTS.md); the player fixes it before mpv starts."""
    import platform

    from kiosk.player import fix_mmap_threshold

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt is glibc's")
    assert fix_mmap_threshold() is True
