"""Frames: msgpack of `[version, message]`. Decoding failures raise `ProtocolError`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from . import constants
from .errors import ErrorCode, ProtocolError
from .messages import Chunk, HubToKiosk, KioskToHub, Message

#: Anything `bytes(...)`-able without a copy of its own: bytes, memoryview, a zmq.Frame's buffer.
Buffer = bytes | bytearray | memoryview


class _Envelope(msgspec.Struct, array_like=True):
    v: int
    m: msgspec.Raw


_encoder = msgspec.msgpack.Encoder()
_envelope = msgspec.msgpack.Decoder(_Envelope)
_decoders: dict[Any, msgspec.msgpack.Decoder[Any]] = {
    KioskToHub: msgspec.msgpack.Decoder(KioskToHub),
    HubToKiosk: msgspec.msgpack.Decoder(HubToKiosk),
    Message: msgspec.msgpack.Decoder(Message),
}


def encode(msg: msgspec.Struct) -> bytes:
    """One frame for `msg`, stamped with this side's protocol version."""
    return _encoder.encode((constants.PROTOCOL_VERSION, msg))


def decode(frame: Buffer, direction: Any = Message, max_size: int | None = None) -> Any:
    """Decode a frame into a message of `direction` (KioskToHub, HubToKiosk or Message)."""
    limit = constants.MAX_FRAME if max_size is None else max_size
    if len(frame) > limit:
        raise ProtocolError(ErrorCode.TOO_LARGE, f"frame of {len(frame)} bytes > {limit}")
    try:
        env = _envelope.decode(frame)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as e:
        # msgspec raises UnicodeDecodeError for invalid UTF-8 in a str and RecursionError
        # past ~1000 levels of nesting: both are malformed input, not bugs of ours
        raise ProtocolError(ErrorCode.MALFORMED, f"not a frame: {e}") from None
    if env.v != constants.PROTOCOL_VERSION:
        raise ProtocolError(
            ErrorCode.BAD_VERSION,
            f"protocol version {env.v}, this side speaks {constants.PROTOCOL_VERSION}",
        )
    try:
        return _decoders[direction].decode(env.m)
    except msgspec.ValidationError as e:
        text = str(e)
        if "Invalid value" in text and "`$.type`" in text:
            raise ProtocolError(ErrorCode.UNKNOWN_TYPE, text) from None
        raise ProtocolError(ErrorCode.MALFORMED, text) from None
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as e:
        raise ProtocolError(ErrorCode.MALFORMED, str(e)) from None


@dataclass(frozen=True, slots=True)
class ChunkFrames:
    """A `Chunk` whose bytes go as a frame of their own after the header frame (no copy into
    msgpack; `header.length == len(data)` and `header.data` is empty)."""

    header: Chunk
    data: Buffer


def encode_frames(msg: msgspec.Struct | ChunkFrames) -> list[Buffer]:
    """The frames of one message: `[header, data]` for `ChunkFrames`, else one frame."""
    if isinstance(msg, ChunkFrames):
        if msg.header.length != len(msg.data) or msg.header.data:
            raise ValueError("ChunkFrames: header.length must be len(data), header.data empty")
        return [encode(msg.header), msg.data]
    return [encode(msg)]


def decode_frames(
    frames: Sequence[Buffer], direction: Any = Message, max_chunk: int | None = None
) -> Any:
    """Decode one message of one or two frames. Two frames are only a `Chunk` header whose
    `length` is exactly the size of the second (data) frame; that frame (not copied) becomes
    the chunk's `data`. Every chunk must lie within its file: offset + bytes <= size."""
    if not 1 <= len(frames) <= 2:
        raise ProtocolError(ErrorCode.MALFORMED, f"{len(frames)} frames in one message")
    msg = decode(frames[0], direction)
    if not isinstance(msg, Chunk):
        if len(frames) == 2:
            raise ProtocolError(ErrorCode.MALFORMED, f"a data frame after {type(msg).__name__}")
        return msg
    if len(frames) == 2:
        data = frames[1]
        limit = constants.MAX_CHUNK if max_chunk is None else max_chunk
        if len(data) > limit:
            raise ProtocolError(ErrorCode.TOO_LARGE, f"data frame of {len(data)} bytes > {limit}")
        if msg.data:
            raise ProtocolError(ErrorCode.MALFORMED, "chunk with inline data and a data frame")
        if msg.length != len(data) or not msg.length:
            raise ProtocolError(
                ErrorCode.MALFORMED,
                f"chunk header says {msg.length} bytes, its data frame has {len(data)}",
            )
        # not copied: a view of the frame stands in for `bytes` (len, slices, os.pwrite)
        msg.data = data if isinstance(data, bytes) else memoryview(data)  # type: ignore[assignment]
    elif msg.length:
        raise ProtocolError(ErrorCode.MALFORMED, f"chunk of {msg.length} bytes without its data")
    if msg.offset + len(msg.data) > msg.size:
        raise ProtocolError(
            ErrorCode.MALFORMED,
            f"chunk {msg.offset}+{len(msg.data)} beyond the file's {msg.size} bytes",
        )
    return msg
