"""The real player's frame sources (libmpv): software render (`vo=libmpv`) and screenshots
(`vo=null`). This is the one place besides the tmux test where mpv draws pictures."""

from __future__ import annotations

import subprocess
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
        assert until(lambda: any(grey(f) for f in frames(source, 1, timeout=0.5)), 3.0)
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


def test_malloc_is_tuned_on_glibc() -> None:
    """glibc's dynamic mmap threshold kept ≈ 11-26 MB of freed buffers resident in the kiosk,
    and an arena per thread ≈ 2-3 MiB more (benchmarks/RESULTS.md); the kiosk sets both
    before its threads start (the player again, for other entry points)."""
    import platform

    from kiosk.player import fix_mmap_threshold, limit_malloc_arenas, tune_malloc

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt is glibc's")
    assert fix_mmap_threshold() is True
    assert limit_malloc_arenas() is True
    assert tune_malloc() is True


def test_freed_heap_pages_go_back_to_the_os() -> None:
    """`release_free_memory` returns the pages of free chunks inside the heap (which glibc's
    own trim, at the top of the heap only, leaves resident)."""
    import platform

    from kiosk.player import release_free_memory

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("malloc_trim is glibc's")
    release_free_memory()
    blocks = [bytearray(100_000) for _ in range(64)]  # under the mmap threshold: the heap
    del blocks[::2]  # 32 free holes of ~100 kB between live blocks: not at the heap's top
    assert release_free_memory() is True
    del blocks


def test_a_muted_player_does_not_decode_the_audio(clip: Path) -> None:
    """Muted (the default) means nothing to hear: the clip's audio track is not decoded."""
    player = MpvPlayer(vo="null")
    try:
        player.play(clip)
        handle = player.mpv
        end = time.monotonic() + 5
        while handle.video_codec is None and time.monotonic() < end:
            time.sleep(0.02)
        tracks = handle.track_list or []
        assert any(t.get("type") == "audio" for t in tracks), "the sample clip has sound"
        assert handle.video_codec is not None
        assert handle.audio_codec is None
        assert not any(t.get("type") == "audio" and t.get("selected") for t in tracks)
    finally:
        player.close()


def test_a_project_with_sound_unmutes_every_instance(clip: Path) -> None:
    """`set_muted(False)` (a project with `muted = false`): the clip on screen and the
    preloaded one decode their audio and play it to the output (here mpv's null output)."""
    player = MpvPlayer(vo="null", audio_out="null")
    try:
        player.set_muted(False)
        player.play(clip)
        player.preload(clip.with_name(sorted(p.name for p in clip.parent.glob("*.mp4"))[1]))
        end = time.monotonic() + 5
        while time.monotonic() < end and not all(h.audio_codec for h in player.handles()):
            time.sleep(0.02)
        for handle in player.handles():
            assert handle.mute is False
            assert handle.audio_codec is not None, "audio not decoded after unmuting"
        player.set_muted(True)
        assert all(h.mute is True and h.aid is False for h in player.handles())
    finally:
        player.close()


# ---- the next clip preloaded on the second mpv instance: the operator never waits ---------


def colour_clip(path: Path, colour: str) -> Path:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
         f"color=c={colour}:size=64x36:rate=25:duration=2", "-c:v", "libx264",
         "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def colours(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("colours")
    clips = {c: colour_clip(out / f"{c}.mp4", c) for c in ("red", "blue", "lime")}
    clips["broken"] = out / "broken.mp4"
    clips["broken"].write_bytes(b"not a video at all\n" * 100)
    return clips


def until(predicate, timeout: float = 5.0) -> bool:  # noqa: ANN001
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            return False
        time.sleep(0.01)
    return True


def ready(player: MpvPlayer, path: Path) -> bool:
    """The spare instance holds `path`, paused on its first frame."""
    spare = player.handles()[1]
    return spare.path == str(path) and spare.pause and spare.time_pos == 0


def playing(handle, path: Path) -> bool:  # noqa: ANN001
    return handle.path == str(path) and (handle.playback_time or 0) > 0


def test_the_preloaded_clip_is_what_plays_next(colours: dict[str, Path]) -> None:
    player = MpvPlayer(vo="null")
    try:
        player.play(colours["red"])
        player.preload(colours["blue"])
        assert until(lambda: ready(player, colours["blue"]))
        spare = player.handles()[1]
        player.play(colours["blue"])
        assert player.mpv is spare  # swapped to the instance that held it, no loadfile
        assert until(lambda: playing(player.mpv, colours["blue"]), 3.0)
        assert player.playing == colours["blue"] and not player.is_paused()
        assert until(lambda: player.handles()[1].path is None)  # red stopped, not left playing
        # a preloaded clip that is not the one asked for is never what plays
        player.preload(colours["lime"])
        assert until(lambda: ready(player, colours["lime"]))
        player.play(colours["red"])
        assert until(lambda: playing(player.mpv, colours["red"]))
        assert player.playing == colours["red"]
        assert all(h.path != str(colours["lime"]) or h.pause for h in player.handles())
    finally:
        player.close()


def test_a_broken_preloaded_file_is_a_clear_error_and_nothing_else_plays(
    colours: dict[str, Path],
) -> None:
    from kiosk.player import PlaybackError

    player = MpvPlayer(vo="null")
    try:
        player.play(colours["red"])
        player.preload(colours["broken"])
        assert until(lambda: player.preloaded() is None)  # mpv said it cannot open it
        on_screen = player.mpv
        with pytest.raises(PlaybackError, match=r"broken\.mp4: .*(format|fail)"):
            player.play(colours["broken"])
        assert player.mpv is on_screen and player.playing == colours["red"]
        assert all(h.path != str(colours["broken"]) for h in player.handles())
        # a broken file given straight to loadfile (not preloaded) is reported by failure()
        player.play(colours["broken"])
        assert until(lambda: player.failure() is not None)
        assert "broken.mp4" not in (player.mpv.path or "")
    finally:
        player.close()


def colour_of(frame: Frame) -> tuple[int, int, int]:
    """(r, g, b) of the middle pixel (bgr0)."""
    i = (frame.height // 2) * frame.stride + (frame.width // 2) * 4
    b, g, r = frame.data[i : i + 3]
    return r, g, b


def test_terminal_frames_after_the_switch_are_the_new_clip_with_its_filters(
    colours: dict[str, Path],
) -> None:
    """Never a frame of the old clip after the switch; greyscale set while the next clip
    waited preloaded applies to it."""
    player = MpvPlayer(vo="libmpv")
    try:
        board = player.frame_source()
        board.set_size(32, 18)
        player.play(colours["red"])
        assert until(lambda: playing(player.mpv, colours["red"]))
        time.sleep(0.1)
        red = frames(board, 3)
        assert red and all(colour_of(f)[0] > 200 and colour_of(f)[2] < 60 for f in red)
        player.preload(colours["blue"])
        assert until(lambda: ready(player, colours["blue"]))
        player.set_filters(greyscale=True, blur=False)  # after the preload, before the key
        time.sleep(0.2)
        player.play(colours["blue"])
        first = board.first_seq
        got = frames(board, 6, timeout=3)
        assert len(got) == 6 and got[0].seq >= first
        seen = [colour_of(frame) for frame in got]
        assert all(r == g == b and r < 100 for r, g, b in seen), seen  # grey; never red
        assert all(r > 10 for r, _g, _b in seen), seen  # blue in grey, not a black picture
        assert board.first_frame_at - board.switched_at < 1.0  # ≈ 0.03 s when quiet
        # the same without greyscale, and back on the first instance
        player.set_filters(greyscale=False, blur=False)
        player.preload(colours["red"])
        assert until(lambda: ready(player, colours["red"]))
        player.play(colours["red"])
        first = board.first_seq
        got = frames(board, 4, timeout=3)
        assert got and all(f.seq >= first and colour_of(f)[0] > 200 for f in got)
        # not preloaded (a loadfile over the red clip): not one red frame after the switch
        time.sleep(0.2)
        player.play(colours["lime"])
        first = board.first_seq
        got = frames(board, 4, timeout=3)
        assert len(got) == 4 and got[0].seq >= first
        assert all(colour_of(f)[1] > 200 and colour_of(f)[0] < 60 for f in got), [
            colour_of(f) for f in got
        ]
    finally:
        player.close()
