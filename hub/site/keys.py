"""The hub's long-term CurveZMQ key pair: made on first start, kept with 0600 permissions."""

from __future__ import annotations

import os
from pathlib import Path

import zmq


class KeyError_(Exception):
    pass


def load_or_create(path: Path) -> tuple[bytes, bytes]:
    """(public, secret) as Z85 bytes; the file holds both, one per line, readable by owner only."""
    if path.exists():
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise KeyError_(f"{path}: key file must not be readable by others (mode {mode:o})")
        public, secret = path.read_bytes().split()[:2]
        return public, secret
    public, secret = zmq.curve_keypair()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(public + b"\n" + secret + b"\n")
    return public, secret
