"""The wire format: round trips and every way a frame can be wrong gives a typed error."""

from __future__ import annotations

import msgspec
import pytest

from protocol import PROTOCOL_VERSION, ErrorCode, ProtocolError, decode, encode
from protocol import messages as m
from protocol.constants import MAX_FRAME

SAMPLES: list[msgspec.Struct] = [
    m.Hello(kiosk_id="k1", version="0.1", capabilities=["fetch"], pair_code="123456"),
    m.Heartbeat(outbox=3, cache_bytes=10, operator="op1"),
    m.Login(operator="op1", pin="1234"),
    m.Logout(operator="op1"),
    m.RequestWork(operator="op1", count=5, exclude=["a" * 64]),
    m.Fetch(sha256="a" * 64, offset=10, credit=4),
    m.Label(
        uuid="u1",
        operator="op1",
        clip="a" * 64,
        schema_version=2,
        values=["x"],
        segments=[m.Segment(1.0, 2.5, "fighting")],
        telemetry={"replays": 1, "speed": 1.5},
        created_at=1.5,
        lease_id="l1",
    ),
    m.Retract(uuid="u1", operator="op1"),
    m.Alert(uuid="u2", operator="op1", clip="a" * 64, created_at=3.0),
    m.Welcome(
        hub_id="h",
        project=m.ProjectSchema(
            name="p", version=1, labels=[m.LabelDef(value="v", nl="n", en="e", key="1")]
        ),
        roster=[m.RosterEntry(operator="o", name="O", pin_hash="scrypt$...")],
    ),
    m.LoginResult(operator="op1", ok=False, reason="bad_pin"),
    m.Assign(
        operator="op1",
        lease_id="l",
        expires_at=9.0,
        clips=[m.ClipRef(clip_id="c", sha256="a" * 64, size=3)],
    ),
    m.Chunk(sha256="a" * 64, offset=0, size=3, data=b"\x00\x01\x02"),
    m.Ack(uuids=["u1", "u2"]),
    m.Error(code="malformed", detail="x"),
    m.BreakTaken(
        uuid="u3", operator="op1", started_at=4.0, seconds=600.0, enforced=True, kind="enforced"
    ),
]


@pytest.mark.parametrize("msg", SAMPLES, ids=lambda x: type(x).__name__)
def test_round_trip(msg: msgspec.Struct) -> None:
    assert decode(encode(msg)) == msg


def test_label_batch_round_trip() -> None:
    batch = m.LabelBatch(labels=[SAMPLES[6], SAMPLES[6]])
    assert decode(encode(batch), m.KioskToHub) == batch


def test_every_frame_carries_the_version() -> None:
    raw = msgspec.msgpack.decode(encode(m.Ack(uuids=[])))
    assert raw[0] == PROTOCOL_VERSION


def _code(frame: bytes, direction=m.Message) -> ErrorCode:
    with pytest.raises(ProtocolError) as info:
        decode(frame, direction)
    return info.value.code


def test_unknown_tag() -> None:
    frame = msgspec.msgpack.encode([PROTOCOL_VERSION, {"type": "launch_missiles"}])
    assert _code(frame) is ErrorCode.UNKNOWN_TYPE


def test_wrong_version() -> None:
    frame = msgspec.msgpack.encode([PROTOCOL_VERSION + 1, {"type": "ack", "uuids": []}])
    assert _code(frame) is ErrorCode.BAD_VERSION


def test_truncated_frame() -> None:
    assert _code(encode(SAMPLES[6])[:-5]) is ErrorCode.MALFORMED


@pytest.mark.parametrize("garbage", [b"", b"\xff\xfe", b"hello world", b"\x93\x01\x02\x03"])
def test_garbage(garbage: bytes) -> None:
    assert _code(garbage) is ErrorCode.MALFORMED


def test_wrong_types_are_malformed_and_unknown_fields_ignored() -> None:
    bad_type = msgspec.msgpack.encode(
        [PROTOCOL_VERSION, {"type": "login", "operator": 5, "pin": "1"}]
    )
    assert _code(bad_type) is ErrorCode.MALFORMED
    # a newer peer's field: ignored (the compatibility rule in protocol/messages.py)
    extra = msgspec.msgpack.encode(
        [PROTOCOL_VERSION, {"type": "logout", "operator": "o", "later": True}]
    )
    assert decode(extra) == m.Logout(operator="o")


def test_oversized_frame() -> None:
    assert _code(b"\x00" * (MAX_FRAME + 1)) is ErrorCode.TOO_LARGE


def test_direction_is_enforced() -> None:
    """A kiosk cannot send hub-only messages (e.g. an Assign) to the hub."""
    frame = encode(SAMPLES[11])
    assert _code(frame, m.KioskToHub) is ErrorCode.UNKNOWN_TYPE
