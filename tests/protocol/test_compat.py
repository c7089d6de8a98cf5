"""The compatibility rule (protocol/messages.py) against frames kept from the previous
release (`frames_v1/`, made by `make_frames.py` from its tree) and its own Structs
(`previous_v1.py`, as an older peer decodes)."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from protocol import codec
from protocol import messages as m
from protocol.constants import CAP_KIOSK_VERIFIER, CAP_LOGOUT_AT, CAP_RESUME, PROTOCOL_VERSION
from protocol.errors import ErrorCode, ProtocolError
from protocol.pins import hash_pin, kiosk_verifier

from . import previous_v1 as old

FRAMES = Path(__file__).parent / "frames_v1"
NAMES = sorted(p.stem for p in FRAMES.glob("*.msgpack"))
TO_HUB = {
    "hello", "hello_pair", "heartbeat", "login", "logout", "request_work", "fetch", "label",
    "labels", "retract", "alert", "break",
}  # fmt: skip


def _old_decode(frame: bytes, direction: object) -> object:
    """Decode as the previous release did: `[version, message]`, its Structs."""
    version, raw = msgspec.msgpack.decode(frame, type=tuple[int, msgspec.Raw])
    assert version == 1
    return msgspec.msgpack.decode(raw, type=direction)


def test_there_are_frames_of_every_message_type() -> None:
    kept = {json.loads((FRAMES / f"{n}.json").read_text())["type"] for n in NAMES}
    old_types = {
        t.__struct_config__.tag for t in (*old.KioskToHub.__args__, *old.HubToKiosk.__args__)
    }
    assert old_types <= kept


@pytest.mark.parametrize("name", NAMES)
def test_this_release_decodes_the_previous_releases_frames(name: str) -> None:
    frame = (FRAMES / f"{name}.msgpack").read_bytes()
    direction = m.KioskToHub if name in TO_HUB else m.HubToKiosk
    msg = codec.decode(frame, direction)
    want = json.loads((FRAMES / f"{name}.json").read_text())
    got = json.loads(msgspec.json.encode(msg))
    # what the previous release sent reads back the same; fields added since take defaults
    assert {k: got[k] for k in want} == want


def test_a_newer_peers_extra_fields_are_ignored() -> None:
    """A kiosk of a later release adds a field to Fetch: this hub still serves it."""
    newer = {"type": "fetch", "sha256": "ab" * 32, "offset": 0, "credit": 2, "resume_hint": 7}
    msg = codec.decode(msgspec.msgpack.encode((PROTOCOL_VERSION, newer)), m.KioskToHub)
    assert isinstance(msg, m.Fetch) and msg.credit == 2
    nested = {
        "type": "assign", "operator": "op1", "lease_id": "l", "expires_at": 1.0,
        "clips": [{"clip_id": "c", "sha256": "c", "size": 1, "thumbnail": "x.png"}],
    }  # fmt: skip
    msg = codec.decode(msgspec.msgpack.encode((PROTOCOL_VERSION, nested)), m.HubToKiosk)
    assert msg.clips[0].size == 1


def test_a_new_major_version_is_refused_clearly() -> None:
    frame = msgspec.msgpack.encode((PROTOCOL_VERSION + 1, {"type": "heartbeat"}))
    with pytest.raises(ProtocolError) as e:
        codec.decode(frame, m.KioskToHub)
    assert e.value.code == ErrorCode.BAD_VERSION


def _hub_frames_to(capabilities: list[str]) -> list[bytes]:
    """What this release's hub sends a kiosk that said `capabilities` in Hello."""
    stored = hash_pin("2468", n=2**10)
    roster = (
        [m.RosterEntry(operator="op1", name="One", pin_hash=kiosk_verifier(stored, "k1"))]
        if CAP_KIOSK_VERIFIER in capabilities
        else []
    )
    schema = m.ProjectSchema(
        name="p", version=1, labels=[m.LabelDef(value="a", nl="a", en="a", key="1")]
    )
    caps = [c for c in (CAP_RESUME, CAP_LOGOUT_AT) if c in capabilities]
    msgs = [
        m.Welcome(
            hub_id="hub-1", project=schema, roster=roster, server_time=1.0, capabilities=caps
        ),
        m.LoginResult(operator="op1", ok=False, reason="locked"),
        m.Assign(operator="op1", lease_id="l", expires_at=1.0, clips=[]),
        m.Ack(uuids=["u"]),
        m.Error(code=ErrorCode.NOT_LOGGED_IN.value, detail="d", ref="u"),
        m.Error(code=ErrorCode.RATE_LIMITED.value, detail="d"),
        m.Heartbeat(own=True),
        m.Chunk(sha256="ab" * 32, offset=0, size=1, data=b"x"),
    ]
    return [codec.encode(x) for x in msgs]


def test_a_kiosk_of_the_previous_release_decodes_everything_this_hub_sends_it() -> None:
    old_kiosk_caps = json.loads((FRAMES / "hello.json").read_text())["capabilities"]
    for frame in _hub_frames_to(old_kiosk_caps):
        assert isinstance(_old_decode(frame, old.HubToKiosk), msgspec.Struct)


def test_a_hub_of_the_previous_release_decodes_what_this_kiosk_sends_it() -> None:
    """Everything but OfflineLogin, which this kiosk sends only to hubs that gave it
    verifiers (a hub of the previous release sends plain hashes)."""
    label = m.Label(
        uuid="u", operator="op1", clip="c", schema_version=1, values=["a"], created_at=1.0
    )
    sent = [
        m.Hello(kiosk_id="k1", version="0.2", capabilities=["labels", "fetch", CAP_KIOSK_VERIFIER]),
        m.Heartbeat(outbox=1, operator="op1"),
        m.LabelBatch(labels=[label]),
        m.Retract(uuid="u", operator="op1"),
        m.Fetch(sha256="ab" * 32, credit=2, chunk_size=65536),
    ]
    for msg in sent:
        assert isinstance(_old_decode(codec.encode(msg), old.KioskToHub), msgspec.Struct)
    offline = m.OfflineLogin(uuid="u", operator="op1", at=1.0, proof="00")
    with pytest.raises(msgspec.ValidationError):
        _old_decode(codec.encode(offline), old.KioskToHub)


def test_resume_goes_only_between_peers_that_both_list_it() -> None:
    """A hub of the previous release cannot read `Resume` (the kiosk sends it only after a
    Welcome listing CAP_RESUME, which that hub never sends: its Welcome has no such field);
    a kiosk of the previous release gets a Welcome without the field."""
    with pytest.raises(msgspec.ValidationError):
        _old_decode(codec.encode(m.Resume(operator="op1")), old.KioskToHub)
    old_welcome = codec.decode((FRAMES / "welcome.msgpack").read_bytes(), m.HubToKiosk)
    assert isinstance(old_welcome, m.Welcome) and CAP_RESUME not in old_welcome.capabilities
    old_kiosk_caps = json.loads((FRAMES / "hello.json").read_text())["capabilities"]
    assert CAP_RESUME not in old_kiosk_caps
    (welcome, *_) = _hub_frames_to(old_kiosk_caps)
    assert "capabilities" not in msgspec.msgpack.decode(welcome)[1]
    (welcome, *_) = _hub_frames_to([CAP_RESUME])
    assert codec.decode(welcome, m.HubToKiosk).capabilities == [CAP_RESUME]


def test_a_logout_with_its_time_goes_only_to_a_hub_that_lists_it() -> None:
    """The plain Logout (what this kiosk sends a hub that does not list CAP_LOGOUT_AT, and
    what a kiosk of the previous release sends) decodes at a hub of the previous release
    and here; the one with `uuid` and `at` does not decode there (it forbade unknown
    fields): the kiosk sends it only after a Welcome that lists CAP_LOGOUT_AT, which this
    hub sends only to a kiosk that named it."""
    plain = codec.encode(m.Logout(operator="op1"))
    assert isinstance(_old_decode(plain, old.KioskToHub), old.Logout)
    old_frame = (FRAMES / "logout.msgpack").read_bytes()
    assert codec.decode(old_frame, m.KioskToHub) == m.Logout(operator="op1")
    timed = codec.encode(m.Logout(operator="op1", uuid="u", at=1.0))
    with pytest.raises(msgspec.ValidationError):
        _old_decode(timed, old.KioskToHub)
    assert codec.decode(timed, m.KioskToHub) == m.Logout(operator="op1", uuid="u", at=1.0)
    (welcome, *_) = _hub_frames_to([CAP_RESUME])
    assert codec.decode(welcome, m.HubToKiosk).capabilities == [CAP_RESUME]
    (welcome, *_) = _hub_frames_to([CAP_RESUME, CAP_LOGOUT_AT])
    assert codec.decode(welcome, m.HubToKiosk).capabilities == [CAP_RESUME, CAP_LOGOUT_AT]
