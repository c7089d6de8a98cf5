"""Fuzz frames for the wire decoder and a running hub: generated and mutated msgpack frames,
and the client that fires them at a hub (`fuzz_socket`, `FuzzClient`).

Used by tests/protocol/test_fuzz_decoder.py (with hypothesis), tests/e2e/test_fuzz_hub.py and
benchmarks/fuzz.py (with a seeded `random.Random`, so a run is reproducible from its seed).

Kinds of frame (`KINDS`):
- `bytes`: a real encoded frame with bit flips, truncation, insertion, deletion, duplication,
  overwrites with msgpack-significant bytes, or spliced with another frame;
- `typed`: a real message with a field given a wrong type, an unknown field, a missing field,
  an unknown or foreign tag, a huge int, a long string, deep nesting or invalid UTF-8;
- `random`: a random msgpack structure in a well-formed or malformed envelope;
- `raw`: hand-made nasties the encoder cannot make (deep nesting, lying length headers,
  invalid UTF-8, reserved opcodes, ext types);
- `noise`: random bytes;
- `valid`: unmodified real frames (so decoders and the hub see good input among the bad).

No real operator, PIN or clip appears in the seeds: a fuzz frame must not be able to log in,
label or lock out the people at the kiosks under test.
"""

from __future__ import annotations

import random
import struct
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec
import zmq

from protocol import codec
from protocol import messages as m
from protocol.constants import MAX_FRAME, PROTOCOL_VERSION
from protocol.errors import ErrorCode, ProtocolError

SHA = "f" * 64
OPERATOR = "fz-operator"

#: One or more real messages of every type, both directions.
SEED_MESSAGES: list[msgspec.Struct] = [
    m.Hello(kiosk_id="fz-kiosk", version="0.1", capabilities=["fetch"], pair_code="000000"),
    m.Hello(kiosk_id="fz-kiosk", version="0.1"),
    m.Heartbeat(outbox=3, cache_bytes=10, operator=OPERATOR),
    m.Heartbeat(),
    m.Login(operator=OPERATOR, pin="00000000"),
    m.Logout(operator=OPERATOR),
    m.RequestWork(operator=OPERATOR, count=5, exclude=[SHA]),
    m.Fetch(sha256=SHA, offset=10, credit=4),
    m.Label(
        uuid="fz-uuid-1",
        operator=OPERATOR,
        clip=SHA,
        schema_version=2,
        values=["gewelddadig"],
        segments=[m.Segment(1.0, 2.5, "fighting")],
        telemetry={"replays": 1, "speed": 1.5, "headless": True},
        created_at=1.5,
        lease_id="fz-lease",
    ),
    m.LabelBatch(
        labels=[
            m.Label(
                uuid=f"fz-uuid-b{i}",
                operator=OPERATOR,
                clip=SHA,
                schema_version=1,
                values=["niet_gewelddadig"],
                created_at=2.0,
            )
            for i in range(2)
        ]
    ),
    m.Retract(uuid="fz-uuid-1", operator=OPERATOR),
    m.Alert(uuid="fz-alert", operator=OPERATOR, clip=SHA, created_at=3.0),
    m.Welcome(
        hub_id="fz-hub",
        project=m.ProjectSchema(
            name="p",
            version=1,
            labels=[m.LabelDef(value="v", nl="n", en="e", key="1")],
        ),
        roster=[m.RosterEntry(operator=OPERATOR, name="F", pin_hash="scrypt$16384$8$1$00$00")],
        server_time=5.0,
    ),
    m.LoginResult(operator=OPERATOR, ok=False, reason="bad_pin"),
    m.Assign(
        operator=OPERATOR,
        lease_id="fz-lease",
        expires_at=9.0,
        clips=[m.ClipRef(clip_id=SHA, sha256=SHA, size=3, name="c", duration=1.0)],
    ),
    m.Chunk(sha256=SHA, offset=0, size=3, data=b"\x00\x01\x02"),
    m.Ack(uuids=["fz-uuid-1", "fz-uuid-2"]),
    m.Error(code="malformed", detail="x", ref="y"),
]

SEED_FRAMES: list[bytes] = [codec.encode(msg) for msg in SEED_MESSAGES]

TAGS = sorted({msgspec.to_builtins(msg)["type"] for msg in SEED_MESSAGES})
FIELDS = sorted({key for msg in SEED_MESSAGES for key in msgspec.to_builtins(msg) if key != "type"})

#: Integers at the edges of msgpack's and SQLite's ranges.
EDGE_INTS = [
    0,
    -1,
    1,
    127,
    128,
    255,
    256,
    65535,
    65536,
    2**31 - 1,
    2**31,
    -(2**31),
    2**32,
    2**53 + 1,
    2**63 - 1,
    -(2**63),
    2**63,
    2**64 - 1,
]
EDGE_FLOATS = [0.0, -0.0, 1e308, -1e308, 5e-324, float("inf"), float("-inf"), float("nan")]
#: Bytes with a meaning in msgpack: headers of every family, nil/false/true, the reserved 0xc1.
SIGNIFICANT = [
    0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6,
    0xC7, 0xC8, 0xC9, 0xCA, 0xCB, 0xCC, 0xCD, 0xCE, 0xCF, 0xD0, 0xD3, 0xD4, 0xD8, 0xD9, 0xDA,
    0xDB, 0xDC, 0xDD, 0xDE, 0xDF, 0xE0, 0xFF,
]  # fmt: skip

_encoder = msgspec.msgpack.Encoder()


# ---- raw msgpack pieces the encoder will not make -------------------------------------------


def raw_str(data: bytes) -> bytes:
    """A msgpack str header for `data` (which need not be UTF-8)."""
    n = len(data)
    if n < 32:
        return bytes([0xA0 | n]) + data
    if n < 256:
        return b"\xd9" + bytes([n]) + data
    if n < 65536:
        return b"\xda" + struct.pack(">H", n) + data
    return b"\xdb" + struct.pack(">I", n) + data


def raw_deep(depth: int, leaf: bytes = b"\x01", kind: str = "array") -> bytes:
    """`depth` nested one-element arrays (or maps under key "a") around `leaf`."""
    opener = b"\x91" if kind == "array" else b"\x81\xa1a"
    return opener * depth + leaf


def raw_lying_length(rng: random.Random) -> bytes:
    """A container or string header that claims far more than follows."""
    header = rng.choice(
        [b"\xdd", b"\xdf", b"\xdb", b"\xc6", b"\xdc", b"\xde", b"\xda", b"\xc5", b"\xc9"]
    )
    size = 4 if header in (b"\xdd", b"\xdf", b"\xdb", b"\xc6", b"\xc9") else 2
    claim = rng.choice([2 ** (8 * size) - 1, 2 ** (8 * size - 1), rng.randrange(2 ** (8 * size))])
    body = header + claim.to_bytes(size, "big")
    if header == b"\xc9":
        body += bytes([rng.randrange(256)])  # ext type code
    return body + rng.randbytes(rng.randrange(0, 16))


INVALID_UTF8 = [b"\xff\xfe", b"\xc3\x28", b"\xa0\xa1", b"\xe2\x28\xa1", b"\xed\xa0\x80", b"\x80"]


def splice_raw(obj: Any, path_setter: Callable[[Any], None], raw: bytes) -> bytes:
    """Encode `obj` after `path_setter` put a sentinel in; swap the sentinel for `raw`."""
    sentinel = "\x00fz-sentinel\x00"
    path_setter(sentinel)
    data = _encoder.encode([PROTOCOL_VERSION, obj])
    return data.replace(_encoder.encode(sentinel), raw, 1)


# ---- random values ---------------------------------------------------------------------------


def random_scalar(rng: random.Random) -> Any:
    kind = rng.randrange(9)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:  # may leave msgpack's range: callers clamp (`_clamp_int`)
        if rng.random() < 0.7:
            return rng.choice(EDGE_INTS) * rng.choice([1, 1, 1, -1])
        return rng.randrange(-(2**63), 2**64)
    if kind == 3:
        return rng.choice(EDGE_FLOATS) if rng.random() < 0.6 else rng.uniform(-1e9, 1e9)
    if kind == 4:
        return random_text(rng)
    if kind == 5:
        return rng.randbytes(rng.choice([0, 1, 8, 64, 300]))
    if kind == 6:
        return msgspec.msgpack.Ext(rng.randrange(-128, 128), rng.randbytes(rng.choice([1, 4, 8])))
    if kind == 7:
        return rng.choice(TAGS + FIELDS)
    return rng.choice(["", "a" * 70_000, "0" * 64, "\u202e\u0000\ufeff", "💥" * 100])


def _clamp_int(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return max(-(2**63), min(2**64 - 1, value))
    return value


def random_text(rng: random.Random) -> str:
    n = rng.choice([0, 1, 3, 10, 64, 300])
    alphabet = rng.choice(
        [
            "abcdefghijklmnopqrstuvwxyz0123456789-_",
            "\x00\x01\x1b\x7f\n\r\t ",
            "éøßĳ中文😀\u202e\u200b\ufffd",
        ]
    )
    return "".join(rng.choice(alphabet) for _ in range(n))


def random_value(rng: random.Random, depth: int = 0) -> Any:
    """A random msgpack-encodable structure (what `msgspec.msgpack.encode` accepts)."""
    roll = rng.random()
    if depth >= 4 or roll < 0.55:
        return _clamp_int(random_scalar(rng))
    if roll < 0.75:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(0, 5))]
    if roll < 0.95:
        keys = [rng.choice(FIELDS + ["type", random_text(rng)]) for _ in range(rng.randrange(6))]
        out: dict[Any, Any] = {k: random_value(rng, depth + 1) for k in keys}
        if rng.random() < 0.5:
            out["type"] = rng.choice(TAGS) if rng.random() < 0.8 else _clamp_int(random_scalar(rng))
        return out
    # maps with non-string keys
    key = rng.choice([1, -(2**63), 2**64 - 1, 1.5, b"\x00", None, True, ""])
    return {key: random_value(rng, depth + 1)}


# ---- frame generators ------------------------------------------------------------------------


def mutate_bytes(frame: bytes, rng: random.Random) -> bytes:
    """One to eight byte-level mutations of `frame`."""
    data = bytearray(frame)
    for _ in range(rng.choice([1, 1, 1, 2, 3, 8])):
        op = rng.randrange(8)
        n = len(data)
        if op == 0 and n:  # bit flips
            for _ in range(rng.randrange(1, 4)):
                i = rng.randrange(n)
                data[i] ^= 1 << rng.randrange(8)
        elif op == 1 and n:  # truncate
            del data[rng.randrange(n) :]
        elif op == 2:  # insert random bytes
            i = rng.randrange(n + 1)
            data[i:i] = rng.randbytes(rng.choice([1, 2, 4, 9, 33]))
        elif op == 3 and n:  # delete a range
            i = rng.randrange(n)
            del data[i : i + rng.randrange(1, 9)]
        elif op == 4 and n:  # duplicate a range
            i = rng.randrange(n)
            j = min(n, i + rng.randrange(1, 32))
            data[j:j] = data[i:j] * rng.randrange(1, 4)
        elif op == 5 and n:  # overwrite with a msgpack-significant byte
            data[rng.randrange(n)] = rng.choice(SIGNIFICANT)
        elif op == 6:  # splice with another frame
            other = rng.choice(SEED_FRAMES)
            data = data[: rng.randrange(n + 1)] + other[rng.randrange(len(other) + 1) :]
        elif op == 7 and n:  # overwrite a run with one byte value
            i = rng.randrange(n)
            k = rng.randrange(1, 6)
            data[i : i + k] = bytes([rng.choice([0, 0xFF, 0x7F, 0x80])]) * k
    return bytes(data)


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, (*prefix, i))
    return out


def _setter(obj: Any, path: tuple[Any, ...]) -> Callable[[Any], None]:
    parent = obj
    for key in path[:-1]:
        parent = parent[key]

    def put(value: Any) -> None:
        parent[path[-1]] = value

    return put


def mutate_typed(msg: msgspec.Struct, rng: random.Random) -> bytes:
    """A real message with its structure made wrong in one or two ways."""
    obj: Any = msgspec.to_builtins(msg, builtin_types=(bytes,))
    for _ in range(rng.choice([1, 1, 2])):
        paths = _paths(obj)
        op = rng.randrange(10)
        if op == 0 and paths:  # wrong type anywhere
            _setter(obj, rng.choice(paths))(random_value(rng, 2))
        elif op == 1:  # unknown field (top level or nested dict)
            dicts = [obj] + [_get(obj, p) for p in paths if isinstance(_get(obj, p), dict)]
            rng.choice(dicts)[rng.choice([random_text(rng) or "x", "extra", "pin_hash"])] = (
                random_value(rng, 2)
            )
        elif op == 2:  # drop a field
            keys = [k for k in obj if k != "type"]
            if keys:
                del obj[rng.choice(keys)]
        elif op == 3:  # tag: unknown, another message's, wrong type, or gone
            obj["type"] = rng.choice(
                [rng.choice(TAGS), random_text(rng), 7, None, ["hello"], "HELLO"]
            )
            if rng.random() < 0.1:
                del obj["type"]
        elif op == 4 and paths:  # huge or edge int
            _setter(obj, rng.choice(paths))(_clamp_int(rng.choice(EDGE_INTS) * rng.choice([1, -1])))
        elif op == 5 and paths:  # edge float
            _setter(obj, rng.choice(paths))(rng.choice(EDGE_FLOATS))
        elif op == 6 and paths:  # long string or long list
            big: Any = "x" * rng.choice([1000, 65_536, 200_000])
            if rng.random() < 0.5:
                big = ["y"] * rng.choice([1000, 20_000])
            _setter(obj, rng.choice(paths))(big)
        elif op == 7 and paths:  # deep nesting spliced in raw
            depth = rng.choice([10, 100, 500, 1000, 5000, 100_000])
            raw = raw_deep(depth, kind=rng.choice(["array", "map"]))
            return splice_raw(obj, _setter(obj, rng.choice(paths)), raw)
        elif op == 8:  # invalid UTF-8 in a string, a key or the tag
            target = rng.choice(paths + [("type",)]) if paths else ("type",)
            raw = raw_str(rng.choice(INVALID_UTF8) + random_text(rng).encode()[:8])
            return splice_raw(obj, _setter(obj, target), raw)
        elif op == 9:  # an object where the message should be
            obj = rng.choice([[obj], [], "hello", None, {"type": obj.get("type")}])
            break
    return _encoder.encode([PROTOCOL_VERSION, obj])


def _get(obj: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        obj = obj[key]
    return obj


def random_envelope(rng: random.Random) -> bytes:
    """A random structure, in a good envelope or a broken one."""
    body = random_value(rng)
    shape = rng.randrange(8)
    if shape < 4:
        return _encoder.encode([PROTOCOL_VERSION, body])
    version = rng.choice([0, 2, -1, 2**64 - 1, -(2**63), "1", 1.0, None, [1], True])
    if shape == 4:
        return _encoder.encode([version, body])
    if shape == 5:
        return _encoder.encode([PROTOCOL_VERSION])
    if shape == 6:
        return _encoder.encode([PROTOCOL_VERSION, body, random_value(rng)])
    return _encoder.encode(rng.choice([body, {"v": PROTOCOL_VERSION, "m": body}]))


def raw_nasty(rng: random.Random) -> bytes:
    v = _encoder.encode(PROTOCOL_VERSION)
    kind = rng.randrange(7)
    if kind == 0:
        return b"\x92" + v + raw_deep(rng.choice([100, 1000, 10_000, 200_000]))
    if kind == 1:
        return raw_deep(rng.choice([1000, 100_000]), kind=rng.choice(["array", "map"]))
    if kind == 2:
        return b"\x92" + v + raw_lying_length(rng)
    if kind == 3:
        return rng.choice([b"", b"\x92", b"\x92" + v, b"\xc1", b"\x92\xc1\xc1", b"\x90", b"\x80"])
    if kind == 4:  # invalid UTF-8 as the tag or as a value
        bad = raw_str(rng.choice(INVALID_UTF8))
        tag = rng.choice([raw_str(b"type"), bad])
        value = rng.choice([bad, raw_str(rng.choice(TAGS).encode())])
        return b"\x92" + v + b"\x81" + tag + value
    if kind == 5:  # ext and timestamp types where a message should be
        return b"\x92" + v + rng.choice([b"\xd6\xff\x00\x00\x00\x01", b"\xc7\x05\x01abcde"])
    # the right size prefix, then garbage
    return b"\x92" + v + b"\x82" + raw_str(b"type") + raw_str(b"hello") + rng.randbytes(20)


def noise(rng: random.Random) -> bytes:
    return rng.randbytes(rng.choice([0, 1, 2, 7, 64, 512, 4096]))


KINDS: dict[str, tuple[float, Callable[[random.Random], bytes]]] = {
    "bytes": (0.34, lambda rng: mutate_bytes(rng.choice(SEED_FRAMES), rng)),
    "typed": (0.30, lambda rng: mutate_typed(rng.choice(SEED_MESSAGES), rng)),
    "random": (0.14, random_envelope),
    "raw": (0.10, raw_nasty),
    "noise": (0.07, noise),
    "valid": (0.05, lambda rng: rng.choice(SEED_FRAMES)),
}


def frame(rng: random.Random, kind: str | None = None) -> tuple[str, bytes]:
    """(kind, frame) drawn at the weights in `KINDS`."""
    if kind is None:
        r = rng.random()
        for kind, (weight, _) in KINDS.items():  # noqa: B007
            r -= weight
            if r < 0:
                break
    return kind, KINDS[kind][1](rng)


def frames(n: int, seed: int = 0) -> Iterator[tuple[str, bytes]]:
    rng = random.Random(seed)
    for _ in range(n):
        yield frame(rng)


def oversize(rng: random.Random, size: int) -> bytes:
    """A frame of `size` bytes that starts like a real one (so only its size is wrong)."""
    head = rng.choice(SEED_FRAMES)
    return (head + rng.randbytes(1024) * (size // 1024 + 1))[:size]


#: Sizes above the protocol's limit (a `too_large` reply) — and, in the hub test, above the
#: socket's hard limit (libzmq drops the connection instead).
OVERSIZE = [MAX_FRAME + 1, 1024 * 1024, 4 * 1024 * 1024]


# ---- the client that fires frames at a running hub -------------------------------------------


def fuzz_socket(ctx: zmq.Context, hub: Any, identity: bytes = b"fuzz") -> zmq.Socket:
    """A DEALER connected to `hub`'s kiosk socket (`hub`: a tests.conftest.HubProc).

    The one place that knows how a client gets in. A hub that prints a CurveZMQ public key is
    reached over CurveZMQ with a throwaway client key (the hub runs with --open-pairing, whose
    ZAP handler admits any key); a hub without keys over plain TCP.
    """
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.ROUTING_ID, identity)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SNDHWM, 0)
    sock.setsockopt(zmq.RCVHWM, 0)
    server_key = getattr(hub, "public_key", "") or ""
    if server_key:
        public, secret = zmq.curve_keypair()
        sock.curve_serverkey = server_key.encode()
        sock.curve_publickey = public
        sock.curve_secretkey = secret
    sock.connect(hub.endpoint)
    return sock


def expected_code(frame: bytes) -> str | None:
    """The error code the hub must answer `frame` with; None for a frame that decodes."""
    try:
        codec.decode(frame, m.KioskToHub)
    except ProtocolError as e:
        return e.code.value
    except Exception:  # the local decoder is broken for this frame: the hub must still cope
        return ErrorCode.MALFORMED.value
    return None


KNOWN_CODES = {c.value for c in ErrorCode}


@dataclass
class Tally:
    sent: int = 0
    sent_valid: int = 0
    sent_bytes: int = 0
    replies: int = 0
    codes: Counter[str] = field(default_factory=Counter)
    replies_to_valid: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        if len(self.problems) < 50:
            self.problems.append(text)


class HubGone(Exception):
    pass


class FuzzClient:
    """Sends frames in windows and checks every reply.

    Frames that do not decode go out on one socket: each must get exactly one `Error`, in
    order, with the code the local decoder predicts (or `rate_limited`). Frames that decode
    (mutations can make good messages) go out on a second socket, because a good message may
    get no reply or several; their replies must decode and errors must have known codes. No
    reply at all may be `internal`: that is a hub bug, whatever the frame.
    """

    def __init__(
        self,
        ctx: zmq.Context,
        hub: Any,
        *,
        window: int = 200,
        timeout: float = 15.0,
        alive: Callable[[], bool] = lambda: True,
    ) -> None:
        self.ctx, self.hub, self.window, self.timeout, self.alive = ctx, hub, window, timeout, alive
        self.bad = fuzz_socket(ctx, hub, b"fuzz-invalid")
        self.good = fuzz_socket(ctx, hub, b"fuzz-valid")
        self.tally = Tally()

    def close(self) -> None:
        self.bad.close(0)
        self.good.close(0)

    # -- sending ---------------------------------------------------------------------------

    def run(self, frames: Iterable[tuple[str, bytes]]) -> Tally:
        batch: list[tuple[str, bytes]] = []
        for item in frames:
            batch.append(item)
            if len(batch) >= self.window:
                self._window(batch)
                batch = []
        if batch:
            self._window(batch)
        return self.tally

    def _window(self, batch: list[tuple[str, bytes]]) -> None:
        expected: list[tuple[str, str]] = []
        for kind, frame in batch:
            self.tally.kinds[kind] += 1
            self.tally.sent += 1
            self.tally.sent_bytes += len(frame)
            code = expected_code(frame)
            if code is None:
                self.tally.sent_valid += 1
                self.good.send(frame, copy=False)
            else:
                self.bad.send(frame, copy=False)
                expected.append((kind, code))
        self._collect(expected)
        self._drain_good(0)

    def send_parts(self, parts: list[bytes], code: str, kind: str = "parts") -> None:
        """One message of several (or empty) parts; it must get `code`."""
        self.tally.kinds[kind] += 1
        self.tally.sent += 1
        self.tally.sent_bytes += sum(len(p) for p in parts)
        self.bad.send_multipart(parts, copy=False)
        self._collect([(kind, code)])

    # -- receiving -------------------------------------------------------------------------

    def _recv(self, sock: zmq.Socket, timeout: float) -> bytes | None:
        end = time.monotonic() + timeout
        while True:
            if sock.poll(min(200, max(1, int((end - time.monotonic()) * 1000)))):
                return sock.recv()
            if not self.alive():
                raise HubGone("the hub process exited")
            if time.monotonic() >= end:
                return None

    def _collect(self, expected: list[tuple[str, str]]) -> None:
        for kind, code in expected:
            data = self._recv(self.bad, self.timeout)
            if data is None:
                self.tally.problem(f"no reply to a {kind} frame (expected {code})")
                continue
            got = self._check_reply(data, self.tally.codes)
            if got is not None and got not in (code, ErrorCode.RATE_LIMITED.value):
                self.tally.problem(f"{kind} frame: expected {code}, got {got}")

    def _drain_good(self, timeout: float) -> None:
        while (data := self._recv(self.good, timeout)) is not None:
            self._check_reply(data, self.tally.replies_to_valid)

    def finish(self, quiet: float = 1.0) -> Tally:
        """Wait for the last replies to good frames (until `quiet` seconds pass without one)."""
        self._drain_good(quiet)
        return self.tally

    def _check_reply(self, data: bytes, into: Counter[str]) -> str | None:
        self.tally.replies += 1
        try:
            reply = codec.decode(data, m.HubToKiosk)
        except ProtocolError as e:
            self.tally.problem(f"undecodable reply {data[:60]!r}: {e}")
            return None
        if not isinstance(reply, m.Error):
            into[type(reply).__name__] += 1
            return type(reply).__name__
        into[reply.code] += 1
        if reply.code not in KNOWN_CODES:
            self.tally.problem(f"unknown error code {reply.code!r}")
        if reply.code == ErrorCode.INTERNAL.value:
            self.tally.problem(f"internal error: {reply.detail}")
        return reply.code


def probe(ctx: zmq.Context, hub: Any, timeout: float = 10.0) -> m.Error | None:
    """A fresh client sends one bad frame; the hub's answer (None: no answer)."""
    sock = fuzz_socket(ctx, hub, b"fuzz-probe-" + str(time.monotonic_ns()).encode())
    try:
        sock.send(b"\xc1")
        if not sock.poll(int(timeout * 1000)):
            return None
        reply = codec.decode(sock.recv(), m.HubToKiosk)
        return reply if isinstance(reply, m.Error) else None
    finally:
        sock.close(0)


def rss_mib(pid: int) -> float:
    """Resident set size of a process, MiB (Linux)."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")
