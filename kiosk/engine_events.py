"""What the kiosk engine tells its listeners, one frozen dataclass per kind of event.

The engine runs without a screen (the headless kiosk, benchmarks), so these are plain data
with no UI library; the Textual app turns each into its own message (`kiosk.messages`).
`name` is the event's name in the headless kiosk's JSON lines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class StatusChanged:
    """Online/offline/syncing or the outbox count may have changed."""

    name: ClassVar[str] = "status"
    status: str
    outbox: int


@dataclass(frozen=True)
class Welcomed:
    """The hub welcomed this kiosk (project, roster and schema are stored)."""

    name: ClassVar[str] = "welcome"
    hub_id: str


@dataclass(frozen=True)
class QueueGrew:
    """The hub assigned `added` more clips to the operator."""

    name: ClassVar[str] = "queue"
    added: int


@dataclass(frozen=True)
class HubProblem:
    """The hub refused this kiosk: unpaired, a key that is not the pinned one, no hub key."""

    name: ClassVar[str] = "hub_problem"
    code: str
    detail: str


@dataclass(frozen=True)
class Paired:
    """Pairing done; `fingerprint` is the hub key's, for staff to compare."""

    name: ClassVar[str] = "paired"
    fingerprint: str


@dataclass(frozen=True)
class LoggedIn:
    name: ClassVar[str] = "login"
    operator: str
    operator_name: str


@dataclass(frozen=True)
class LoggedOut:
    name: ClassVar[str] = "logout"


@dataclass(frozen=True)
class FetchStarted:
    """A clip's download (re)starts at `offset`."""

    name: ClassVar[str] = "fetch"
    sha256: str
    offset: int


@dataclass(frozen=True)
class ClipReady:
    """A clip is in the cache, verified."""

    name: ClassVar[str] = "ready"
    sha256: str


@dataclass(frozen=True)
class Labelled:
    """A label is stored in the outbox."""

    name: ClassVar[str] = "labelled"
    uuid: str
    outbox: int


@dataclass(frozen=True)
class TrainingFeedback:
    """A training clip was labelled: the right answer, and whether the label matched it."""

    name: ClassVar[str] = "training_feedback"
    answer: str
    correct: bool


EngineEvent = (
    StatusChanged
    | Welcomed
    | QueueGrew
    | HubProblem
    | Paired
    | LoggedIn
    | LoggedOut
    | FetchStarted
    | ClipReady
    | Labelled
    | TrainingFeedback
)
Listener = Callable[[EngineEvent], None]
