"""Every message that crosses the kiosk↔hub link, as one tagged union of msgspec Structs.

Compatibility rule (sites update kiosks one at a time; `tests/protocol/test_compat.py` holds
it against frames kept from the previous release):

- Within one PROTOCOL_VERSION, changes are additive: a new field always has a default, a
  new message type is new. A decoder ignores fields it does not know (no Struct here forbids
  unknown fields), so an older peer reads a newer peer's frames.
- A side sends a new message type, or something an older peer would misread, only when the
  peer said it understands it: the kiosk lists capabilities in `Hello`, and the hub answers
  accordingly (e.g. roster verifiers and `OfflineLogin` need `CAP_KIOSK_VERIFIER`). The
  previous release still forbade unknown fields, so to its kiosks the hub sends no field
  they do not know.
- A change an older peer cannot ignore (a field removed or its meaning changed, a message a
  peer must understand) bumps PROTOCOL_VERSION; a frame of another version gets `Error
  bad_version` and the connection stays up.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

#: Integers that fit SQLite's INTEGER (a signed 64-bit int); msgpack carries up to 2**64 - 1.
Int = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
#: Counts, sizes and offsets.
Count = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]


class _Msg(msgspec.Struct, tag_field="type", kw_only=True):
    pass


# ---- shared parts -------------------------------------------------------------------------


class LabelDef(msgspec.Struct, kw_only=True):
    value: str
    nl: str
    en: str
    key: str


class ProjectSchema(msgspec.Struct, kw_only=True):
    name: str
    version: Int
    kind: str = "single"  # single | multi | segments
    labels: list[LabelDef]
    redundancy: Count = 3
    watch_fraction: float = 0.0
    muted: bool = True
    greyscale: bool = False
    blur: bool = False
    break_every_min: float = 50.0
    break_min: float = 10.0
    exposure_budget_min: float = 120.0
    review_mode: bool = False
    #: after a disturbing clip, show a clip known to be calm next (when one is queued)
    interleave_neutral: bool = False
    #: label values that mean "calm"; any other value marks a clip as disturbing
    neutral_labels: list[str] = []


class RosterEntry(msgspec.Struct, kw_only=True):
    """An operator as a kiosk may cache it: a scrypt hash, never the PIN."""

    operator: str
    name: str
    pin_hash: str


class ClipRef(msgspec.Struct, kw_only=True, omit_defaults=True):
    clip_id: str
    sha256: str
    size: Count
    name: str = ""
    duration: float = 0.0
    gold: bool = False
    answer: str | None = None  # only sent in training mode, after the label
    suggestion: str | None = None  # review mode only: the model's label
    #: what the hub knows of the clip's content (gold answer or consensus), for interleaving
    #: neutral clips: "neutral" | "disturbing" | "" (not known yet)
    tone: str = ""


class Segment(msgspec.Struct, array_like=True):
    start: float
    end: float
    label: str = ""


# ---- kiosk → hub --------------------------------------------------------------------------


class Hello(_Msg, tag="hello", kw_only=True):
    kiosk_id: str
    version: str
    capabilities: list[str] = []
    pair_code: str | None = None


class Heartbeat(_Msg, tag="hb", kw_only=True):
    outbox: Count = 0
    cache_bytes: Count = 0
    operator: str | None = None
    #: set by the hub on a beat of its own (not a reply): the kiosk hears the hub even
    #: while its own beats wait behind a slow upload
    own: bool = False


class Login(_Msg, tag="login", kw_only=True):
    operator: str
    pin: str


class Logout(_Msg, tag="logout", kw_only=True, omit_defaults=True):
    """The operator logged out at this kiosk. With `uuid` and `at` (only to a hub that lists
    CAP_LOGOUT_AT; kiosks of the previous release and hubs that do not list it leave both
    out): sent from the kiosk's outbox, also after being made offline, and acknowledged by
    the hub (`Ack` of the uuid); `at` is when it happened, on the kiosk's clock. Without
    them it takes effect when the hub hears it and is not acknowledged."""

    operator: str
    uuid: str = ""
    at: float = 0.0


class Resume(_Msg, tag="resume", kw_only=True):
    """After a reconnect: carry on the session of `operator`, who logged in at this kiosk
    before (at any process of the site), without a PIN. Sent only to a hub that lists
    CAP_RESUME in `Welcome.capabilities`. The hub answers with a `LoginResult`: ok, or not ok
    (the kiosk then logs the operator in with the PIN as before). The kiosk is known by its
    paired CURVE key; what it may resume is what the hub's store says: this operator's login
    at this kiosk, recent, not ended by a logout or another operator's login since."""

    operator: str


class RequestWork(_Msg, tag="request_work", kw_only=True):
    operator: str
    count: Count = 1
    exclude: list[str] = []  # clips the kiosk already holds for this operator


class Fetch(_Msg, tag="fetch", kw_only=True):
    sha256: str
    offset: Count = 0
    credit: Count = 1
    #: 0: chunks of CHUNK_SIZE with the bytes inside the msgpack (`Chunk.data`); > 0: chunks
    #: of this many bytes (the hub bounds it to MIN_CHUNK..MAX_CHUNK), each sent as two
    #: frames: the `Chunk` header (`length` set, `data` empty) and the bytes, not copied
    chunk_size: Count = 0


class Label(_Msg, tag="label", kw_only=True):
    uuid: str
    operator: str
    clip: str
    schema_version: Int
    values: list[str]
    segments: list[Segment] = []
    telemetry: dict[str, Any] = {}
    created_at: float
    lease_id: str | None = None
    review: bool = False


class LabelBatch(_Msg, tag="labels", kw_only=True):
    labels: list[Label]


def retract_id(uuid: str) -> str:
    """The id under which a `Retract` of label `uuid` is queued and acknowledged."""
    return f"retract:{uuid}"


class Retract(_Msg, tag="retract", kw_only=True):
    """Undo of a label the hub may already hold (kiosk Backspace). Acked as `retract_id(uuid)`."""

    uuid: str
    operator: str


class OfflineLogin(_Msg, tag="offline_login", kw_only=True):
    """A login the kiosk checked itself while the hub was away, queued in the outbox before
    the labels it covers. `proof` (protocol.pins.login_proof) shows the PIN was right."""

    uuid: str
    operator: str
    at: float
    proof: str


class Alert(_Msg, tag="alert", kw_only=True):
    """'This affected me': the operator wants staff to know."""

    uuid: str
    operator: str
    clip: str
    created_at: float


class BreakTaken(_Msg, tag="break", kw_only=True):
    """A break an operator took at a kiosk, for the staff dashboard and the statements.
    Queued like a label (durable outbox), acked by uuid; the hub keeps it once."""

    uuid: str
    operator: str
    started_at: float  # wall clock, when the break began
    seconds: float  # how long it lasted
    enforced: bool = False  # the schedule made it (every N minutes of work)
    kind: str = ""  # enforced | voluntary | offered (after "this affected me")


# ---- hub → kiosk --------------------------------------------------------------------------


class Welcome(_Msg, tag="welcome", kw_only=True, omit_defaults=True):
    hub_id: str
    project: ProjectSchema
    roster: list[RosterEntry] = []
    server_time: float = 0.0
    #: what this hub takes beyond the previous release (e.g. CAP_RESUME), listed only to a
    #: kiosk that named the same in its Hello; empty, the field is not sent at all (kiosks of
    #: the previous release refuse unknown fields)
    capabilities: list[str] = []


class LoginResult(_Msg, tag="login_result", kw_only=True):
    operator: str
    ok: bool
    name: str = ""
    reason: str = ""
    training: bool = False
    exposure_min: float = 0.0  # minutes of clips this operator watched today, at any kiosk


class Assign(_Msg, tag="assign", kw_only=True):
    operator: str
    lease_id: str
    expires_at: float
    clips: list[ClipRef]


class Chunk(_Msg, tag="chunk", kw_only=True):
    sha256: str
    offset: Count
    size: Count  # whole file size
    #: the bytes, inline; empty when they travel in a frame of their own (`length` > 0).
    #: `codec.decode_frames` puts that frame here (a memoryview, not copied).
    data: bytes = b""
    #: > 0: the bytes follow in the next frame of the same message, exactly this many
    length: Count = 0


class Ack(_Msg, tag="ack", kw_only=True):
    uuids: list[str]


class Error(_Msg, tag="error", kw_only=True):
    code: str
    detail: str = ""
    ref: str | None = None  # the uuid / sha256 / operator the error is about


KioskToHub = (
    Hello
    | Heartbeat
    | Login
    | Logout
    | Resume
    | RequestWork
    | Fetch
    | Label
    | LabelBatch
    | Retract
    | Alert
    | BreakTaken
    | OfflineLogin
)
HubToKiosk = Welcome | LoginResult | Assign | Chunk | Ack | Error | Heartbeat
Message = KioskToHub | Welcome | LoginResult | Assign | Chunk | Ack | Error
