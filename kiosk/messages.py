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
