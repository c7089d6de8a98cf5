"""Error codes carried by `Error` replies, and the exception the codec raises."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    MALFORMED = "malformed"  # not msgpack, truncated, wrong types
    UNKNOWN_TYPE = "unknown_type"  # a tag this side does not know
    BAD_VERSION = "bad_version"  # protocol version differs
    TOO_LARGE = "too_large"  # frame above MAX_FRAME
    NOT_HELLO = "not_hello"  # a message before Hello
    UNPAIRED = "unpaired"  # kiosk not paired with this hub
    NOT_LOGGED_IN = "not_logged_in"  # operator not logged in at this kiosk
    BAD_PIN = "bad_pin"  # wrong operator id or PIN
    LOCKED = "locked"  # too many wrong PINs
    NOT_FOUND = "not_found"  # unknown clip or lease
    BAD_LABEL = "bad_label"  # value not in the project schema
    RATE_LIMITED = "rate_limited"
    INTERNAL = "internal"


class ProtocolError(Exception):
    """A frame that cannot be accepted. `code` says why; the peer gets an `Error` with it."""

    def __init__(self, code: ErrorCode, detail: str) -> None:
        super().__init__(f"{code.value}: {detail}")
        self.code = code
        self.detail = detail
