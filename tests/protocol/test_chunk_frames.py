"""Chunks whose bytes travel as a frame of their own: header + data frame, both validated."""

from __future__ import annotations

import msgspec
import pytest

from protocol import ErrorCode, ProtocolError, codec, encode
from protocol import messages as m
from protocol.constants import MAX_CHUNK, PROTOCOL_VERSION

SHA = "a" * 64


def frames(offset: int = 0, size: int = 10, data: bytes = b"0123") -> list[codec.Buffer]:
    head = m.Chunk(sha256=SHA, offset=offset, size=size, length=len(data))
    return codec.encode_frames(codec.ChunkFrames(head, data))


def test_header_and_data_frame_round_trip_without_a_copy() -> None:
    head, data = frames(offset=4, data=b"4567")
    assert data == b"4567"
    buf = bytearray(data)  # as a zmq frame's buffer: the decoded chunk must share it
    msg = codec.decode_frames([head, memoryview(buf)], m.HubToKiosk)
    assert isinstance(msg, m.Chunk)
    assert (msg.sha256, msg.offset, msg.size, msg.length) == (SHA, 4, 10, 4)
    assert bytes(msg.data) == b"4567"
    buf[0] = ord("X")
    assert bytes(msg.data) == b"X567"


def test_one_frame_messages_and_inline_chunks_still_decode() -> None:
    inline = m.Chunk(sha256=SHA, offset=0, size=3, data=b"abc")
    assert codec.decode_frames(codec.encode_frames(inline), m.HubToKiosk) == inline
    ack = m.Ack(uuids=["u"])
    assert codec.decode_frames([encode(ack)]) == ack


def _code(parts: list[codec.Buffer]) -> ErrorCode:
    with pytest.raises(ProtocolError) as info:
        codec.decode_frames(parts, m.HubToKiosk)
    return info.value.code


def _head(**fields: object) -> bytes:
    base: dict[str, object] = {"type": "chunk", "sha256": SHA, "offset": 0, "size": 10}
    return msgspec.msgpack.encode([PROTOCOL_VERSION, {**base, **fields}])


@pytest.mark.parametrize(
    ("parts", "code"),
    [
        ([], ErrorCode.MALFORMED),  # no frame at all
        ([*frames(), b"extra"], ErrorCode.MALFORMED),  # three frames
        ([encode(m.Ack(uuids=[])), b"data"], ErrorCode.MALFORMED),  # data after a non-chunk
        ([_head(length=5), b"1234"], ErrorCode.MALFORMED),  # header says more than the frame
        ([_head(length=3), b"1234"], ErrorCode.MALFORMED),  # header says less
        ([_head(length=0), b""], ErrorCode.MALFORMED),  # an empty data frame
        ([_head(length=4, data=b"1234"), b"1234"], ErrorCode.MALFORMED),  # inline and frame
        ([_head(length=4)], ErrorCode.MALFORMED),  # the data frame is missing
        ([_head(offset=8, length=4), b"1234"], ErrorCode.MALFORMED),  # beyond the file's end
        ([_head(offset=8, data=b"1234")], ErrorCode.MALFORMED),  # inline, beyond the end
        ([_head(length=-1), b"1234"], ErrorCode.MALFORMED),  # negative length
        ([_head(offset=2**64 - 1, length=4), b"1234"], ErrorCode.MALFORMED),  # huge offset
        ([b"\x00garbage", b"1234"], ErrorCode.MALFORMED),  # a header that is no frame
        (
            [_head(size=2 * MAX_CHUNK, length=MAX_CHUNK + 1), bytes(MAX_CHUNK + 1)],
            ErrorCode.TOO_LARGE,
        ),
    ],
    ids=[
        "none",
        "three",
        "data-after-ack",
        "long-header",
        "short-header",
        "empty",
        "both",
        "missing",
        "beyond-end",
        "inline-beyond-end",
        "negative",
        "huge-offset",
        "garbage",
        "too-large",
    ],
)
def test_malformed_chunk_frames_are_refused(parts: list[codec.Buffer], code: ErrorCode) -> None:
    assert _code(parts) is code


def test_encode_frames_refuses_a_header_that_does_not_match_its_data() -> None:
    head = m.Chunk(sha256=SHA, offset=0, size=10, length=3)
    with pytest.raises(ValueError):
        codec.encode_frames(codec.ChunkFrames(head, b"1234"))


def test_fetch_chunk_size_round_trips_and_defaults_to_inline() -> None:
    fetch = m.Fetch(sha256=SHA, offset=5, credit=3, chunk_size=65536)
    assert codec.decode(encode(fetch), m.KioskToHub) == fetch
    old = msgspec.msgpack.encode([PROTOCOL_VERSION, {"type": "fetch", "sha256": SHA}])
    assert codec.decode(old, m.KioskToHub).chunk_size == 0
