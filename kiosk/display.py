"""Which video output the kiosk uses where, the fallback chain, and mpv's window keys.

Pure logic, no mpv: the choice is made from the environment and a `probe` (a callable that
tries one output and says why it failed, `kiosk.probe.probe_output` in the kiosk).

* X11 (`DISPLAY`): `vo=gpu` with `gpu-context=x11egl` (works with Mesa's software GL too),
  then `vo=x11` (plain X11, no GL), then the video inside the terminal. Never `vo=gpu` with
  the automatic context: without a working GL it falls through to mpv's DRM context, which
  closes file descriptor 0, the terminal the kiosk reads its keys from.
* Wayland (`WAYLAND_DISPLAY`): `vo=gpu` with `gpu-context=wayland`, then X11 through
  XWayland if `DISPLAY` is set too, then the terminal.
* No display: the video inside the terminal (`vo=libmpv`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

LAYOUTS = ("side", "fullscreen")


@dataclass(frozen=True)
class VideoOutput:
    """One way to show the video: mpv's `vo` and the options that go with it."""

    name: str
    vo: str
    options: Mapping[str, str] = field(default_factory=dict)

    @property
    def windowed(self) -> bool:
        """True when mpv opens a window of its own (else: drawn in the terminal, or none)."""
        return self.vo not in ("libmpv", "null")


GPU_X11 = VideoOutput("gpu-x11egl", "gpu", {"gpu_context": "x11egl"})
GPU_WAYLAND = VideoOutput("gpu-wayland", "gpu", {"gpu_context": "wayland"})
X11 = VideoOutput("x11", "x11")
TERMINAL = VideoOutput("terminal", "libmpv")
NULL = VideoOutput("null", "null")


def environment(env: Mapping[str, str]) -> str:
    """`wayland`, `x11` or `none`: the kind of display this process can open windows on."""
    if env.get("WAYLAND_DISPLAY"):
        return "wayland"
    if env.get("DISPLAY"):
        return "x11"
    return "none"


def output_chain(env: Mapping[str, str], configured: str | None = None) -> list[VideoOutput]:
    """The outputs to try, best first; the last one (the terminal) needs no probe.

    `configured` is the kiosk config's `vo`: `libmpv`/`terminal` and `null` are taken as
    they are; `gpu` gets this environment's GL context; another mpv output is tried first
    and falls back to the terminal."""
    kind = environment(env)
    if configured in ("libmpv", "terminal"):
        return [TERMINAL]
    if configured == "null":
        return [NULL]
    chain: list[VideoOutput] = []
    if kind == "wayland":
        chain.append(GPU_WAYLAND)
        if env.get("DISPLAY"):
            chain += [GPU_X11, X11]
    elif kind == "x11":
        chain += [GPU_X11, X11]
    if configured not in (None, "", "gpu") and configured not in (o.vo for o in chain):
        chain.insert(0, VideoOutput(configured, configured))
    elif configured == "x11":
        chain = [o for o in chain if o.vo == "x11"]
    return [*chain, TERMINAL]


@dataclass
class OutputChoice:
    """The output chosen, and each one tried before it with the reason it was passed over."""

    output: VideoOutput
    rejected: list[tuple[VideoOutput, str]] = field(default_factory=list)

    @property
    def fell_back(self) -> bool:
        return bool(self.rejected)

    def reason(self) -> str:
        """One line for the log and the status line: what failed, and why."""
        return "; ".join(f"{o.name}: {why}" for o, why in self.rejected)


def choose_output(
    chain: list[VideoOutput], probe: Callable[[VideoOutput], str | None]
) -> OutputChoice:
    """The first output of `chain` whose probe passes (returns None); the terminal and
    `null` are not probed (they open nothing)."""
    rejected: list[tuple[VideoOutput, str]] = []
    for output in chain:
        if not output.windowed:
            return OutputChoice(output, rejected)
        reason = probe(output)
        if reason is None:
            return OutputChoice(output, rejected)
        rejected.append((output, reason))
    return OutputChoice(TERMINAL, rejected)


def window_options(layout: str, video_percent: int, title: str) -> dict[str, object]:
    """mpv options for the video window: no border to grab, not draggable, keys to us.

    `side`: the video fills the right `video_percent` % of the screen (the terminal with the
    label panel goes on the left); `fullscreen`: the video covers the screen and the label
    keys are drawn over it (OSD)."""
    if layout not in LAYOUTS:
        raise ValueError(f"window layout must be one of {LAYOUTS}, not {layout!r}")
    if not 20 <= video_percent <= 100:
        raise ValueError(f"video_percent must be 20..100, not {video_percent}")
    options: dict[str, object] = {
        "border": False,
        "window_dragging": False,
        "input_default_bindings": False,
        "input_vo_keyboard": True,  # key presses in the window reach our key bindings
        "input_cursor": False,  # no mouse actions (clicks, wheel) in the window
        "cursor_autohide": "always",
        "force_window": "no",  # no file (stopped, hidden): no window
        "keepaspect_window": False,  # the window keeps its area; the video is letterboxed
        "title": title,
        "osd_level": 1,
    }
    if layout == "fullscreen":
        options["fullscreen"] = True
    else:
        options["geometry"] = f"{video_percent}%x100%-0+0"
    return options


#: mpv key names (input.conf) → Textual key names, for keys that are not one character
_NAMED_KEYS = {
    "SPACE": ("space", " "),
    "ENTER": ("enter", "\r"),
    "KP_ENTER": ("enter", "\r"),
    "ESC": ("escape", "\x1b"),
    "BS": ("backspace", "\x7f"),
    "TAB": ("tab", "\t"),
    "DEL": ("delete", None),
    "KP_DEL": ("delete", None),
    "INS": ("insert", None),
    "KP_INS": ("insert", None),
    "LEFT": ("left", None),
    "RIGHT": ("right", None),
    "UP": ("up", None),
    "DOWN": ("down", None),
    "HOME": ("home", None),
    "END": ("end", None),
    "PGUP": ("pageup", None),
    "PGDWN": ("pagedown", None),
    "KP_DEC": ("full_stop", "."),
    "SHARP": ("number_sign", "#"),
    "PLUS": ("plus", "+"),
}


def _character_key(char: str) -> str:
    """Textual's key name for one printable character: itself for letters and digits, else
    its Unicode name in lower case with underscores (`[` → `left_square_bracket`)."""
    if char.isalnum():
        return char
    try:
        return unicodedata.name(char).lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return char


def textual_key(mpv_name: str) -> tuple[str, str | None] | None:
    """(Textual key, character) for a key pressed in mpv's window; None for what is not a
    key press for the kiosk (mouse, window close, wheel)."""
    modifiers: list[str] = []
    name = mpv_name
    while "+" in name[:-1]:
        modifier, name = name.split("+", 1)
        if modifier.lower() not in ("ctrl", "alt", "shift", "meta"):
            return None
        modifiers.append(modifier.lower())
    if name.startswith(("MOUSE_", "MBTN", "AXIS_", "WHEEL_")) or name in ("CLOSE_WIN", "UNMAPPED"):
        return None
    if name in _NAMED_KEYS:
        key, char = _NAMED_KEYS[name]
    elif len(name) == 1:
        key, char = _character_key(name), name
    elif len(name) == 3 and name.startswith("KP") and name[2].isdigit():
        key, char = name[2], name[2]
    elif name[0] == "F" and name[1:].isdigit():
        key, char = name.lower(), None
    else:
        return None
    if modifiers:
        return "+".join([*modifiers, key]), None
    return key, char


#: where the preloaded clip's window waits: off the screen (X11 coordinates are 16-bit)
OFFSCREEN_X = 20000


def side_geometry(geometry: object) -> int | None:
    """The video's share of the screen width (%) if `geometry` is the `side` layout's."""
    text = str(geometry or "")
    if text.endswith("%x100%-0+0") and text[: -len("%x100%-0+0")].isdigit():
        return int(text[: -len("%x100%-0+0")])
    return None


def offscreen_geometry(percent: int) -> str:
    return f"{percent}%x100%+{OFFSCREEN_X}+0"


def side_position(screen_width: int, percent: int) -> tuple[int, int]:
    """Top-left corner of the `side` layout's video window (right edge, top)."""
    return screen_width - screen_width * percent // 100, 0
