"""Frames: msgpack of `[version, message]`. Decoding failures raise `ProtocolError`."""

from __future__ import annotations

from typing import Any

import msgspec

from . import constants
from .errors import ErrorCode, ProtocolError
from .messages import HubToKiosk, KioskToHub, Message


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


def decode(frame: bytes, direction: Any = Message, max_size: int | None = None) -> Any:
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
