"""Custom Textual messages of the kiosk (all in one place).

Each event of the engine (`kiosk.engine_events`) has a message of the same name here that
carries it as `event`; the app posts it (`engine_message`) and handles it with the
`on_…` method Textual names after the class (`ClipReady` → `on_clip_ready`).
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from textual.message import Message

from . import engine_events as ev

E = TypeVar("E")


class EngineMessage(Message, Generic[E]):
    """An engine event on its way to the UI."""

    def __init__(self, event: E) -> None:
        super().__init__()
        self.event = event


class StatusChanged(EngineMessage[ev.StatusChanged]):
    pass


class Welcomed(EngineMessage[ev.Welcomed]):
    pass


class QueueGrew(EngineMessage[ev.QueueGrew]):
    pass


class HubProblem(EngineMessage[ev.HubProblem]):
    pass


class Paired(EngineMessage[ev.Paired]):
    pass


class LoggedIn(EngineMessage[ev.LoggedIn]):
    pass


class LoggedOut(EngineMessage[ev.LoggedOut]):
    pass


class FetchStarted(EngineMessage[ev.FetchStarted]):
    pass


class ClipReady(EngineMessage[ev.ClipReady]):
    pass


class Labelled(EngineMessage[ev.Labelled]):
    pass


class TrainingFeedback(EngineMessage[ev.TrainingFeedback]):
    pass


#: The message class of each engine event.
MESSAGES: dict[type[Any], type[EngineMessage[Any]]] = {
    ev.StatusChanged: StatusChanged,
    ev.Welcomed: Welcomed,
    ev.QueueGrew: QueueGrew,
    ev.HubProblem: HubProblem,
    ev.Paired: Paired,
    ev.LoggedIn: LoggedIn,
    ev.LoggedOut: LoggedOut,
    ev.FetchStarted: FetchStarted,
    ev.ClipReady: ClipReady,
    ev.Labelled: Labelled,
    ev.TrainingFeedback: TrainingFeedback,
}


def engine_message(event: ev.EngineEvent) -> EngineMessage[Any]:
    """The Textual message that carries `event`."""
    return MESSAGES[type(event)](event)


class FrameReady(Message):
    """The video worker has a new picture for `VideoView` (posted from its thread)."""


class WindowKey(Message):
    """A key pressed in mpv's video window (posted from mpv's event thread), by mpv's name."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
