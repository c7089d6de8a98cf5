"""Operator PINs as scrypt hashes. Shared: the hub stores them, kiosks verify offline."""

from __future__ import annotations

import hashlib
import hmac
import secrets

# Interactive-login strength; N=2**14 costs ~30 ms here. Tests may lower N.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1


def hash_pin(pin: str, salt: bytes | None = None, n: int | None = None) -> str:
    """`scrypt$N$r$p$salt$hash` (hex). A new random salt unless one is given."""
    salt = secrets.token_bytes(16) if salt is None else salt
    n = SCRYPT_N if n is None else n
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${n}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(
            pin.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)
