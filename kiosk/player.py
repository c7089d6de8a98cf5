"""Playback through python-mpv (libmpv). `NullPlayer` is the in-process fake for screen tests."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol


class Player(Protocol):
    description: str

    def play(self, path: Path) -> None: ...
    def replay(self) -> None: ...
    def toggle_pause(self) -> None: ...
    def seek(self, seconds: float) -> None: ...
    def set_speed(self, speed: float) -> None: ...
    def frame_step(self) -> None: ...
    def position(self) -> float: ...
    def duration(self) -> float: ...
    def set_filters(self, greyscale: bool, blur: bool) -> None: ...
    def close(self) -> None: ...


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class MpvPlayer:
    """One mpv instance for the whole shift; `vo='null'` where there is no display."""

    def __init__(self, vo: str | None = None, muted: bool = True) -> None:
        import mpv

        self.vo = vo or ("gpu" if has_display() else "null")
        self._mpv = mpv.MPV(
            vo=self.vo,
            ao="null" if muted else "auto",
            mute=muted,
            keep_open="yes",
            idle="yes",
            osc=False,
            input_default_bindings=False,
            input_vo_keyboard=False,
            terminal=False,
            hr_seek="yes",
        )
        self.description = f"mpv ({'no display: vo=null' if self.vo == 'null' else self.vo})"
        self._path: Path | None = None
        self._filters = ""

    @property
    def mpv(self):  # noqa: ANN201 - the python-mpv object, for renderers and tests
        return self._mpv

    def play(self, path: Path) -> None:
        self._path = path
        self._mpv.loadfile(str(path))
        self._mpv.pause = False

    def replay(self) -> None:
        if self._path is not None:
            self._mpv.seek(0, "absolute")
            self._mpv.pause = False

    def toggle_pause(self) -> None:
        self._mpv.pause = not self._mpv.pause

    def seek(self, seconds: float) -> None:
        try:
            self._mpv.seek(seconds, "relative")
        except SystemError:
            pass

    def set_speed(self, speed: float) -> None:
        self._mpv.speed = speed

    def frame_step(self) -> None:
        self._mpv.frame_step()

    def position(self) -> float:
        return float(self._mpv.time_pos or 0.0)

    def duration(self) -> float:
        return float(self._mpv.duration or 0.0)

    def set_filters(self, greyscale: bool, blur: bool) -> None:
        parts = []
        if greyscale:
            parts.append("format=gray")
        if blur:
            parts.append("boxblur=10:1")
        vf = f"lavfi=[{','.join(parts)}]" if parts else ""
        if vf != self._filters:
            self._filters = vf
            self._mpv.vf = vf

    def close(self) -> None:
        self._mpv.terminate()


class NullPlayer:
    """Records calls; plays nothing. For fast screen tests."""

    description = "test player"

    def __init__(self) -> None:
        self.played: list[Path] = []
        self.paused = False
        self.speed = 1.0
        self.pos = 0.0
        self.length = 4.0
        self.filters = (False, False)

    def play(self, path: Path) -> None:
        self.played.append(path)
        self.pos = 0.0

    def replay(self) -> None:
        self.pos = 0.0

    def toggle_pause(self) -> None:
        self.paused = not self.paused

    def seek(self, seconds: float) -> None:
        self.pos = max(0.0, self.pos + seconds)

    def set_speed(self, speed: float) -> None:
        self.speed = speed

    def frame_step(self) -> None:
        self.pos += 0.04

    def position(self) -> float:
        return self.pos

    def duration(self) -> float:
        return self.length

    def set_filters(self, greyscale: bool, blur: bool) -> None:
        self.filters = (greyscale, blur)

    def close(self) -> None:
        pass
