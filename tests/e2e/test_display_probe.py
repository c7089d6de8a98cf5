"""The video output probe and the stdin guard against a real X server (Xvfb, no GPU) and a
real mpv: mpv's automatic GL context closes fd 0 here, the kiosk's choices do not."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kiosk.config import KioskConfig
from kiosk.display import GPU_X11, TERMINAL, X11, VideoOutput
from kiosk.probe import probe_output
from kiosk.video_setup import choose
from tests.xserver import Xvfb, wait_for

AUTOMATIC_GL = VideoOutput("gpu-auto", "gpu", {"gpu_context": "auto"})


def test_the_probe_passes_the_kiosks_outputs_and_catches_the_one_that_closes_fd_0(
    xserver: Xvfb, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPLAY", xserver.display)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert probe_output(GPU_X11, software_gl=True) is None
    # Xvfb has Mesa's software GL only: passed over for vo=x11 unless asked for
    assert (probe_output(GPU_X11) or "").startswith("software GL only (llvmpipe")
    assert probe_output(X11) is None
    assert probe_output(AUTOMATIC_GL) == "mpv closed file descriptor 0 (the terminal)"
    assert "not found" in (probe_output(VideoOutput("bogus", "no-such-output")) or "")


def test_with_software_gl_only_the_kiosk_takes_vo_x11_and_says_why(
    xserver: Xvfb, tmp_path: Path
) -> None:
    choice = choose(KioskConfig(data=str(tmp_path)), env=xserver.env())
    assert choice.output == X11
    assert choice.reason().startswith("gpu-x11egl: software GL only (llvmpipe")
    asked = choose(KioskConfig(data=str(tmp_path), vo="gpu"), env=xserver.env())
    assert asked.output == GPU_X11 and not asked.fell_back


def test_without_a_working_display_the_kiosk_falls_back_to_the_terminal_and_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = KioskConfig(data=str(tmp_path))
    choice = choose(config, env={**os.environ, "DISPLAY": ":4242"})  # no X server there
    assert choice.output == TERMINAL
    assert [o for o, _ in choice.rejected] == [GPU_X11, X11]
    assert "couldn't open the X11 display (:4242)" in choice.reason()
    assert "video output x11 does not work here" in caplog.text


GUARDED_CHILD = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    if sys.argv[2] == "guard":
        from kiosk.stdin_guard import shield_stdin
        shield_stdin()
    from kiosk.player import MpvPlayer
    player = MpvPlayer(vo="gpu", options={"gpu_context": "auto"})  # ends in mpv's DRM context
    player.play(Path(sys.argv[1]))
    end = time.monotonic() + 10
    while time.monotonic() < end:  # mpv tries its GL contexts, then DRM, which closes fd 0
        try:
            os.fstat(0)
        except OSError:
            print("fd 0 closed", flush=True)
            break
        time.sleep(0.02)
    else:
        print("fd 0 open", flush=True)
    print("ready", flush=True)
    try:
        print("read:", sys.stdin.readline().strip(), flush=True)
    except OSError as exc:
        print("read failed:", exc, flush=True)
    player.close()
    """
)


@pytest.mark.parametrize("mode", ["guard", "bare"])
def test_the_terminal_survives_mpv_closing_fd_0(
    xserver: Xvfb, sample_clips: Path, mode: str
) -> None:
    clip = sorted(sample_clips.glob("*.mp4"))[0]
    proc = subprocess.Popen(
        [sys.executable, "-c", GUARDED_CHILD, str(clip), mode],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True, env=xserver.env(),
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    assert proc.stdout.readline().strip() == "fd 0 closed"  # mpv did close it
    assert proc.stdout.readline().strip() == "ready"
    try:
        proc.stdin.write("keys from the terminal\n")
        proc.stdin.flush()
    except BrokenPipeError:  # nobody reads the pipe any more: its only reader was fd 0
        pass
    answer = proc.stdout.readline().strip()
    proc.wait(10)
    if mode == "guard":
        assert answer == "read: keys from the terminal"
    else:  # without the guard, what the kiosk reads its keys from is gone
        assert answer != "read: keys from the terminal"


def test_with_a_window_the_next_clip_waits_off_screen_and_the_key_moves_it_in(
    xserver: Xvfb, sample_clips: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiosk.display import window_options
    from kiosk.player import MpvPlayer

    monkeypatch.setenv("DISPLAY", xserver.display)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    first, second = sorted(sample_clips.glob("*.mp4"))[:2]
    player = MpvPlayer(vo="x11", options=window_options("side", 60, "preload test"))
    try:
        assert len(player.handles()) == 2
        player.play(first)
        one = wait_for(lambda: xserver.windows("preload test 1"), 10, "the first window")
        assert xserver.geometry(one[0])[:2] == (512, 0)
        player.preload(second)
        wait_for(lambda: xserver.run("xdotool", "search", "--name", "preload test 2"), 10,
                 "the preloaded clip's window")  # fmt: skip
        assert xserver.windows("preload test 2") == []  # mapped, but off the screen
        assert player.preloaded() == second
        player.play(second)  # a swap: the preloaded window moves in, the other one goes
        two = wait_for(lambda: xserver.windows("preload test 2"), 5, "the second window")
        assert xserver.geometry(two[0])[:2] == (512, 0)
        wait_for(lambda: not xserver.windows("preload test 1"), 5, "the first window gone")
        assert player.playing == second
        player.set_hidden(True)
        wait_for(lambda: not xserver.windows("preload test"), 5, "no window in a break")
        player.set_hidden(False)
        back = wait_for(lambda: xserver.windows("preload test"), 5, "the window back")
        assert [xserver.geometry(w)[:2] for w in back] == [(512, 0)]
    finally:
        player.close()
