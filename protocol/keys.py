"""CurveZMQ key fingerprints, for people to compare (pure: no files, no sockets)."""

from __future__ import annotations

import hashlib


def fingerprint(public_key: str | bytes) -> str:
    """A short, readable fingerprint of a Z85 public key, e.g. `3f2a-9c41-07be-d512`."""
    raw = public_key.encode() if isinstance(public_key, str) else public_key
    digest = hashlib.sha256(raw).hexdigest()[:16]
    return "-".join(digest[i : i + 4] for i in range(0, 16, 4))
