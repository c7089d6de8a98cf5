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


# ---- what a kiosk keeps for offline logins ----------------------------------------------
#
# A kiosk gets, per operator, `kv1$N$r$p$salt$tag` with tag = HMAC-SHA256(D, "kiosk\n" + id),
# where D is the scrypt digest the hub stores. To check a PIN offline the kiosk computes D
# from the PIN (scrypt with the same salt) and compares tags; then it proves the login to the
# hub with HMAC-SHA256(D, kiosk id, operator, uuid, time), which only D (so only the PIN)
# can make. The tag is useless at another kiosk and cannot forge a proof; it still lets
# someone holding the kiosk's database try every PIN (one scrypt each), as any offline check
# must: short PINs are guessed that way in minutes, which is why a stolen kiosk is unpaired.

VERIFIER_SCHEME = "kv1"


def _digest(pin: str, n: str, r: str, p: str, salt: str) -> bytes:
    return hashlib.scrypt(
        pin.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
    )


def _tag(digest: bytes, kiosk_id: str) -> str:
    return hmac.new(digest, b"kiosk\n" + kiosk_id.encode(), "sha256").hexdigest()


def kiosk_verifier(stored: str, kiosk_id: str) -> str:
    """What kiosk `kiosk_id` may keep of an operator's stored hash; '' for a bad hash."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return ""
        tag = _tag(bytes.fromhex(digest), kiosk_id)
    except ValueError:
        return ""
    return f"{VERIFIER_SCHEME}${n}${r}${p}${salt}${tag}"


def check_verifier(pin: str, verifier: str, kiosk_id: str) -> bytes | None:
    """The scrypt digest of `pin` when it matches the kiosk's verifier, else None."""
    try:
        scheme, n, r, p, salt, tag = verifier.split("$")
        if scheme != VERIFIER_SCHEME:
            return None
        digest = _digest(pin, n, r, p, salt)
    except (ValueError, TypeError):
        return None
    return digest if hmac.compare_digest(_tag(digest, kiosk_id), tag) else None


def _proof_message(kiosk_id: str, operator: str, uuid: str, at: float) -> bytes:
    return "\n".join(("login", kiosk_id, operator, uuid, repr(float(at)))).encode()


def login_proof(digest: bytes, kiosk_id: str, operator: str, uuid: str, at: float) -> str:
    """Proof that `operator` logged in at `kiosk_id` with the right PIN (offline)."""
    return hmac.new(digest, _proof_message(kiosk_id, operator, uuid, at), "sha256").hexdigest()


def verify_login_proof(
    stored: str, proof: str, kiosk_id: str, operator: str, uuid: str, at: float
) -> bool:
    """The hub's check of an offline login's proof against the operator's stored hash."""
    try:
        scheme, _n, _r, _p, _salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        want = login_proof(bytes.fromhex(digest), kiosk_id, operator, uuid, at)
    except ValueError:
        return False
    return hmac.compare_digest(want, proof)
