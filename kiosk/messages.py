"""Custom Textual messages of the kiosk (all in one place)."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class EngineEvent(Message):
    """Something happened in the engine (status, queue, ready, labelled, …)."""

    def __init__(self, event: str, data: dict[str, Any]) -> None:
        super().__init__()
        self.event = event
        self.data = data


class LoggedIn(Message):
    def __init__(self, operator: str, name: str) -> None:
        super().__init__()
        self.operator = operator
        self.name = name


class FrameReady(Message):
    """The video worker has a new picture for `VideoView` (posted from its thread)."""


class BreakOver(Message):
    """A break screen has ended; `seconds` is how long the break really lasted."""

    def __init__(self, kind: str, seconds: float) -> None:
        super().__init__()
        self.kind = kind
        self.seconds = seconds


class WindowKey(Message):
    """A key pressed in mpv's video window (posted from mpv's event thread), by mpv's name."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
