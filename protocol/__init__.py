"""What crosses the kiosk↔hub wire. Pure: no sockets, no files, imports neither hub nor kiosk."""

from .codec import decode, encode
from .constants import PROTOCOL_VERSION, SERVICE_TYPE
from .errors import ErrorCode, ProtocolError
from .messages import *  # noqa: F403
from .pins import hash_pin, verify_pin

__all__ = [
    "PROTOCOL_VERSION",
    "SERVICE_TYPE",
    "ErrorCode",
    "ProtocolError",
    "decode",
    "encode",
    "hash_pin",
    "verify_pin",
]
