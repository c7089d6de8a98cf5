"""Fuzzing the wire decoder: whatever bytes arrive, `protocol.codec.decode` either returns a
message of the asked direction or raises `ProtocolError` with a known code — never another
exception, never a hang. Both directions (a rogue kiosk, a rogue hub) and the union.

Frames come from tests/fuzzframes.py (shared with the hub fuzz test and benchmarks/fuzz.py)
and from hypothesis strategies below: 1 500 mutated real frames, 800 random msgpack
structures and 500 × 20 frames from the shared generators (12 300 frames through hypothesis),
plus a fixed corpus of 20 000; each decoded in three directions.
"""

from __future__ import annotations

import math
import random
import time
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol import codec
from protocol import messages as m
from protocol.constants import MAX_FRAME, PROTOCOL_VERSION
from protocol.errors import ErrorCode, ProtocolError
from tests import fuzzframes as ff

DIRECTIONS: list[Any] = [m.KioskToHub, m.HubToKiosk, m.Message]
#: Slowest acceptable decode of one frame (a guard against super-linear behaviour).
SLOW = 0.5

FUZZ = settings(
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def check_decode(frame: bytes) -> list[str]:
    """Decode `frame` in every direction; the outcomes (type name or error code)."""
    outcomes = []
    for direction in DIRECTIONS:
        try:
            msg = codec.decode(frame, direction)
        except ProtocolError as e:
            assert isinstance(e.code, ErrorCode), e
            assert e.code.value in {c.value for c in ErrorCode}
            outcomes.append(e.code.value)
            continue
        assert isinstance(msg, direction), (direction, msg)
        # what decodes re-encodes to a frame that decodes to the same thing
        again = codec.encode(msg)
        assert codec.encode(codec.decode(again, direction)) == again
        outcomes.append(type(msg).__name__)
    return outcomes


# ---- known nasties (each was a crash once) ---------------------------------------------------

V = msgspec.msgpack.encode(PROTOCOL_VERSION)
LABEL: dict[str, Any] = msgspec.to_builtins(ff.SEED_MESSAGES[8])
DEEP = ff.raw_deep(5000)
NASTIES = {
    "deep-array": b"\x92" + V + ff.raw_deep(100_000),
    "deep-map": b"\x92" + V + ff.raw_deep(100_000, kind="map"),
    "deep-envelope": ff.raw_deep(100_000),
    "deep-telemetry": ff.splice_raw(LABEL, lambda s: LABEL["telemetry"].update(a=s), DEEP),
    "bad-utf8-tag": b"\x92" + V + b"\x81\xa4type" + ff.raw_str(b"\xff\xfe"),
    "bad-utf8-value": b"\x92" + V + b"\x82\xa4type\xa5hello\xa8kiosk_id" + ff.raw_str(b"\xc3\x28"),
    "bad-utf8-key": b"\x92" + V + b"\x82\xa4type\xa5hello" + ff.raw_str(b"\xed\xa0\x80") + b"\x01",
    "lying-array": b"\x92" + V + b"\xdd\xff\xff\xff\xff",
    "lying-str": b"\x92" + V + b"\xdb\xff\xff\xff\xff",
    "lying-bin": b"\x92" + V + b"\xc6\xff\xff\xff\xff",
    "ext": b"\x92" + V + b"\xc7\x05\x01abcde",
    "timestamp": b"\x92" + V + b"\xd6\xff\x00\x00\x00\x01",
    "reserved-c1": b"\xc1",
    "empty": b"",
    "version-u64": b"\x92\xcf" + b"\xff" * 8 + b"\x80",
    "oversize": b"\x92" + V + ff.raw_str(b"a" * MAX_FRAME),
}  # fmt: skip


@pytest.mark.parametrize("frame", NASTIES.values(), ids=NASTIES.keys())
def test_known_nasty_frames_raise_protocol_error(frame: bytes) -> None:
    for direction in DIRECTIONS:
        with pytest.raises(ProtocolError):
            codec.decode(frame, direction)


# ---- a fixed corpus from the shared generators -----------------------------------------------


@pytest.mark.timeout(60)
def test_generated_corpus_of_20000_frames() -> None:
    seen: dict[str, int] = {}
    worst = 0.0
    for _kind, frame in ff.frames(20_000, seed=20240611):
        t = time.perf_counter()
        for outcome in check_decode(frame):
            seen[outcome] = seen.get(outcome, 0) + 1
        took = time.perf_counter() - t
        if took >= SLOW:  # the frame, or a stall of a busy machine: a second decode tells
            t = time.perf_counter()
            check_decode(frame)
            took = min(took, time.perf_counter() - t)
        worst = max(worst, took)
    assert worst < SLOW, f"one frame took {worst:.3f} s to decode"
    # the corpus reaches past the envelope: wrong tags, wrong fields and good messages
    assert {"malformed", "unknown_type", "bad_version"} <= set(seen), seen
    assert any(k[0].isupper() for k in seen), "no frame decoded: the generators are too wild"


# ---- hypothesis ------------------------------------------------------------------------------

MUTATION = st.tuples(
    st.integers(0, 7),  # which mutation
    st.floats(0, 1, allow_nan=False),  # where
    st.binary(min_size=1, max_size=12),  # with what
)


def apply(frame: bytes, mutations: list[tuple[int, float, bytes]]) -> bytes:
    data = bytearray(frame)
    for op, where, what in mutations:
        i = min(int(where * len(data)), max(len(data) - 1, 0))
        if op == 0 and data:
            data[i] ^= 1 << (what[0] % 8)
        elif op == 1:
            del data[i:]
        elif op == 2:
            data[i:i] = what
        elif op == 3:
            del data[i : i + len(what)]
        elif op == 4:
            data[i : i + len(what)] = what
        elif op == 5 and data:
            data[i] = ff.SIGNIFICANT[what[0] % len(ff.SIGNIFICANT)]
        elif op == 6:
            data[i:i] = data[i : i + what[0] % 32] * 2
        elif op == 7:
            other = ff.SEED_FRAMES[what[0] % len(ff.SEED_FRAMES)]
            data = data[:i] + other[int(where * len(other)) :]
    return bytes(data)


@settings(FUZZ, max_examples=1500)
@given(st.sampled_from(ff.SEED_FRAMES), st.lists(MUTATION, min_size=1, max_size=6))
def test_mutated_real_frames(frame: bytes, mutations: list[tuple[int, float, bytes]]) -> None:
    check_decode(apply(frame, mutations))


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.sampled_from(ff.EDGE_INTS)
    | st.floats()
    | st.text(max_size=40)
    | st.binary(max_size=40)
    | st.sampled_from(ff.TAGS + ff.FIELDS)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(ff.FIELDS) | st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
MESSAGE_LIKE = st.builds(
    lambda tag, fields: {"type": tag, **fields},
    st.sampled_from(ff.TAGS) | SCALARS,
    st.dictionaries(st.sampled_from(ff.FIELDS), VALUES, max_size=6),
)


@settings(FUZZ, max_examples=800)
@given(
    st.one_of(st.just(PROTOCOL_VERSION), st.integers(-(2**63), 2**64 - 1), SCALARS),
    MESSAGE_LIKE | VALUES,
)
def test_random_msgpack_structures(version: Any, body: Any) -> None:
    try:
        frame = msgspec.msgpack.encode([version, body])
    except (OverflowError, TypeError):  # not representable in msgpack: nothing to send
        return
    check_decode(frame)


@settings(FUZZ, max_examples=500)
@given(st.integers(0, 2**64 - 1))
def test_shared_generators(seed: int) -> None:
    """Twenty frames per example from the generators the hub test sends."""
    rng = random.Random(seed)
    for _ in range(20):
        _, frame = ff.frame(rng)
        check_decode(frame)


def test_floats_survive_the_round_trip() -> None:
    """NaN and infinities are legal floats on the wire (e.g. in telemetry) and stay so."""
    label = ff.SEED_MESSAGES[8]
    assert isinstance(label, m.Label)
    odd = msgspec.structs.replace(
        label, telemetry={"nan": math.nan, "inf": math.inf}, created_at=-math.inf
    )
    back = codec.decode(codec.encode(odd), m.KioskToHub)
    assert math.isnan(back.telemetry["nan"]) and back.created_at == -math.inf
