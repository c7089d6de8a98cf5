"""Choosing the video output (pure logic), window keys to Textual keys, window options, and
the screens' side of display mode (with the NullPlayer)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import ConfigError, load_config
from kiosk.display import (
    GPU_WAYLAND,
    GPU_X11,
    TERMINAL,
    X11,
    VideoOutput,
    choose_output,
    output_chain,
    textual_key,
    window_options,
)
from kiosk.screens.break_screen import BreakScreen
from kiosk.screens.label import LabelScreen
from kiosk.widgets.status import StatusLine
from tests.kiosk.conftest import login

SIZE = (120, 36)


def test_each_environment_gets_its_own_chain_and_never_mpvs_automatic_gl_context() -> None:
    assert output_chain({"DISPLAY": ":0"}) == [GPU_X11, X11, TERMINAL]
    assert output_chain({"WAYLAND_DISPLAY": "wayland-0"}) == [GPU_WAYLAND, TERMINAL]
    both = {"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}
    assert output_chain(both) == [GPU_WAYLAND, GPU_X11, X11, TERMINAL]
    assert output_chain({}) == [TERMINAL]
    assert output_chain({"DISPLAY": ":0"}, "x11") == [X11, TERMINAL]
    assert output_chain({"DISPLAY": ":0"}, "gpu") == [GPU_X11, X11, TERMINAL]
    assert output_chain({"DISPLAY": ":0"}, "libmpv") == [TERMINAL]
    assert output_chain({"DISPLAY": ":0"}, "null")[0].vo == "null"
    assert output_chain({"DISPLAY": ":0"}, "xv")[0] == VideoOutput("xv", "xv")
    for chain in (output_chain({"DISPLAY": ":0"}), output_chain({"WAYLAND_DISPLAY": "w"})):
        assert all(o.options.get("gpu_context") for o in chain if o.vo == "gpu")


def test_the_chain_falls_back_with_the_reasons_and_ends_in_the_terminal() -> None:
    tried: list[str] = []

    def probe(output: VideoOutput) -> str | None:
        tried.append(output.name)
        return {"gpu-x11egl": "no GL", "x11": None}.get(output.name, "?")

    choice = choose_output(output_chain({"DISPLAY": ":0"}), probe)
    assert choice.output == X11 and tried == ["gpu-x11egl", "x11"]
    assert choice.fell_back and choice.reason() == "gpu-x11egl: no GL"

    choice = choose_output(output_chain({"DISPLAY": ":0"}), lambda o: "broken")
    assert choice.output == TERMINAL
    assert choice.reason() == "gpu-x11egl: broken; x11: broken"

    calls: list[VideoOutput] = []
    choice = choose_output(output_chain({}), lambda o: calls.append(o) or None)
    assert choice.output == TERMINAL and not choice.fell_back and calls == []  # not probed


@pytest.mark.parametrize(
    ("mpv", "textual"),
    [
        ("1", ("1", "1")),
        ("KP1", ("1", "1")),
        ("q", ("q", "q")),
        ("SPACE", ("space", " ")),
        ("BS", ("backspace", "\x7f")),
        ("ENTER", ("enter", "\r")),
        ("ESC", ("escape", "\x1b")),
        ("LEFT", ("left", None)),
        ("[", ("left_square_bracket", "[")),
        ("*", ("asterisk", "*")),
        (".", ("full_stop", ".")),
        ("KP_DEC", ("full_stop", ".")),
        ("DEL", ("delete", None)),
        ("F2", ("f2", None)),
        ("Ctrl+c", ("ctrl+c", None)),
        ("MOUSE_MOVE", None),
        ("MBTN_LEFT", None),
        ("CLOSE_WIN", None),
        ("WHEEL_UP", None),
        ("Ctrl+MBTN_LEFT", None),
    ],
)
def test_keys_pressed_in_the_video_window_become_the_terminals_keys(mpv, textual) -> None:
    assert textual_key(mpv) == textual


def test_the_window_has_no_border_no_dragging_no_mpv_bindings_and_a_layout() -> None:
    side = window_options("side", 60, "video")
    assert side["border"] is False and side["window_dragging"] is False
    assert side["input_default_bindings"] is False and side["input_vo_keyboard"] is True
    assert side["geometry"] == "60%x100%-0+0" and "fullscreen" not in side
    assert window_options("fullscreen", 60, "video")["fullscreen"] is True
    with pytest.raises(ValueError, match="layout"):
        window_options("tiles", 60, "video")
    with pytest.raises(ValueError, match="video_percent"):
        window_options("side", 5, "video")


def test_side_layout_geometry_and_the_off_screen_place_of_the_next_clip() -> None:
    from kiosk.display import offscreen_geometry, side_geometry, side_position

    assert side_geometry(window_options("side", 60, "v")["geometry"]) == 60
    assert side_geometry("50%x100%+0+0") is None and side_geometry(None) is None
    assert offscreen_geometry(60) == "60%x100%+20000+0"
    assert side_position(1280, 60) == (512, 0) and side_position(1920, 60) == (768, 0)


def test_layout_in_the_kiosk_config(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text('window_layout = "fullscreen"\nvideo_percent = 70\n')
    config = load_config(path)
    assert (config.window_layout, config.video_percent) == ("fullscreen", 70)
    path.write_text('window_layout = "tiles"\n')
    with pytest.raises(ConfigError, match="window_layout"):
        load_config(path)
    path.write_text("video_percent = 101\n")
    with pytest.raises(ConfigError, match="video_percent"):
        load_config(path)


async def test_a_fallback_is_on_the_status_line_in_the_operators_language(kiosk_factory) -> None:
    from kiosk.display import OutputChoice

    kiosk = kiosk_factory()
    kiosk.app.video_choice = OutputChoice(TERMINAL, [(GPU_X11, "no GL"), (X11, "no X")])
    async with kiosk.app.run_test(size=SIZE) as pilot:
        status = str(kiosk.app.screen.query_one(StatusLine).render())
        assert "beeld: terminal (noodoplossing)" in status
        await pilot.press("f2")
        kiosk.app.screen.query_one(StatusLine).refresh_status()
        assert "video: terminal (fallback)" in str(kiosk.app.screen.query_one(StatusLine).render())
        await login(pilot)
        placeholder = str(kiosk.app.screen.query_one("#video").render())
        assert "Video through the terminal" in placeholder
        assert "gpu-x11egl: no GL; x11: no X" in placeholder


async def test_window_keys_act_as_terminal_keys_and_breaks_hide_the_window(kiosk_factory) -> None:
    from kiosk.messages import WindowKey

    kiosk = kiosk_factory()
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        screen = kiosk.app.screen
        assert isinstance(screen, LabelScreen) and not kiosk.player.hidden
        first = screen.session.clip
        kiosk.app.post_message(WindowKey("g"))
        await pilot.pause()
        assert kiosk.player.filters == (True, False)
        kiosk.app.post_message(WindowKey("CLOSE_WIN"))  # closing the window does nothing
        kiosk.app.post_message(WindowKey("KP1"))
        await pilot.pause()
        assert kiosk.engine.store.outbox_count() == 1 and screen.session.clip != first
        kiosk.app.post_message(WindowKey("p"))
        await pilot.pause()
        assert isinstance(kiosk.app.screen, BreakScreen) and kiosk.player.hidden
        await pilot.press("enter")
        await pilot.pause()
        assert kiosk.app.screen is screen and not kiosk.player.hidden


async def test_fullscreen_layout_draws_the_label_keys_over_the_video(kiosk_factory) -> None:
    kiosk = kiosk_factory()
    kiosk.app.window_layout = "fullscreen"
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        assert kiosk.player.overlay.startswith("[1] gewelddadig   [2] niet gewelddadig")
        await pilot.press("f2")
        assert kiosk.player.overlay.startswith("[1] violent   [2] not violent")
        assert kiosk.player.overlay_look == (False, False)
        await pilot.press("f3", "f4")
        assert kiosk.player.overlay_look == (True, True)


async def test_with_a_video_window_the_label_panel_takes_the_whole_terminal(kiosk_factory) -> None:
    kiosk = kiosk_factory()
    kiosk.player.windowed = True  # as MpvPlayer with vo=gpu or x11
    async with kiosk.app.run_test(size=SIZE) as pilot:
        await login(pilot)
        side = kiosk.app.screen.query_one("#side")
        assert side.outer_size.width == SIZE[0]
        assert "eigen venster" in str(kiosk.app.screen.query_one("#video").render())
