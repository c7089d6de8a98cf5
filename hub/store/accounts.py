"""Web accounts (staff, lead), API tokens and browser sessions. Secrets stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from protocol.pins import hash_pin, verify_pin

from .store import Store, StoreError

ROLES = ("staff", "lead")
SESSION_SECONDS = 12 * 3600


@dataclass(frozen=True)
class Principal:
    name: str
    role: str
    csrf: str = ""  # for browser sessions

    def can(self, role: str) -> bool:
        """lead may do what staff may; staff may not do lead-only things."""
        return self.role == role or self.role == "lead"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def add_user(store: Store, username: str, role: str, password: str) -> None:
    if role not in ROLES:
        raise StoreError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise StoreError("a password has at least 8 characters")
    with store.transaction():
        store.conn.execute(
            "INSERT INTO users VALUES (?, ?, ?, ?) ON CONFLICT(username) DO UPDATE SET "
            "role = excluded.role, password_hash = excluded.password_hash",
            (username, role, hash_pin(password), time.time()),
        )


def check_password(store: Store, username: str, password: str) -> Principal | None:
    row = store.conn.execute(
        "SELECT role, password_hash FROM users WHERE username = ?", (username,)
    ).fetchone()
    if row is None:
        hash_pin(password)  # same cost whether or not the user exists
        return None
    return Principal(username, row[0]) if verify_pin(password, row[1]) else None


def create_token(store: Store, role: str, name: str = "") -> str:
    if role not in ROLES:
        raise StoreError(f"role must be one of {', '.join(ROLES)}")
    token = "st_" + secrets.token_urlsafe(32)
    with store.transaction():
        store.conn.execute(
            "INSERT INTO api_tokens VALUES (?, ?, ?, ?, 0)",
            (_digest(token), role, name or role, time.time()),
        )
    return token


def check_token(store: Store, token: str) -> Principal | None:
    row = store.conn.execute(
        "SELECT role, name FROM api_tokens WHERE token_hash = ? AND revoked = 0",
        (_digest(token),),
    ).fetchone()
    return None if row is None else Principal(f"token:{row[1]}", row[0])


def create_session(store: Store, principal: Principal) -> tuple[str, str]:
    """(session id for the cookie, CSRF token for forms)."""
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    now = time.time()
    with store.transaction():
        store.conn.execute(
            "INSERT INTO web_sessions VALUES (?, ?, ?, ?, ?, ?)",
            (_digest(sid), principal.name, principal.role, csrf, now, now + SESSION_SECONDS),
        )
    return sid, csrf


def get_session(store: Store, sid: str) -> Principal | None:
    row = store.conn.execute(
        "SELECT username, role, csrf FROM web_sessions WHERE id_hash = ? AND expires_at > ?",
        (_digest(sid), time.time()),
    ).fetchone()
    return None if row is None else Principal(row[0], row[1], row[2])


def end_session(store: Store, sid: str) -> None:
    with store.transaction():
        store.conn.execute("DELETE FROM web_sessions WHERE id_hash = ?", (_digest(sid),))
