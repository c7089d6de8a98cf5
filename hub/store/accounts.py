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
        # a new password or role is a new version: sessions made with the old one end
        store.conn.execute(
            "INSERT INTO users (username, role, password_hash, created_at, pw_version) "
            "VALUES (?, ?, ?, ?, 1) ON CONFLICT(username) DO UPDATE SET "
            "role = excluded.role, password_hash = excluded.password_hash, "
            "pw_version = pw_version + 1",
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
            "INSERT INTO web_sessions (id_hash, username, role, csrf, created_at, expires_at, "
            "pw_version) SELECT ?, ?, ?, ?, ?, ?, coalesce("
            "(SELECT pw_version FROM users WHERE username = ?), 0)",
            (
                _digest(sid),
                principal.name,
                principal.role,
                csrf,
                now,
                now + SESSION_SECONDS,
                principal.name,
            ),
        )
    return sid, csrf


def get_session(store: Store, sid: str) -> Principal | None:
    """The session's user, while the user still exists with the role and password the
    session was made with (a demotion, a new password or removal ends it)."""
    row = store.conn.execute(
        "SELECT s.username, s.role, s.csrf FROM web_sessions s JOIN users u "
        "ON u.username = s.username AND u.role = s.role AND u.pw_version = s.pw_version "
        "WHERE s.id_hash = ? AND s.expires_at > ?",
        (_digest(sid), time.time()),
    ).fetchone()
    return None if row is None else Principal(row[0], row[1], row[2])


def end_sessions(store: Store, username: str) -> int:
    """End every browser session of `username`. Returns how many."""
    with store.transaction():
        cur = store.conn.execute("DELETE FROM web_sessions WHERE username = ?", (username,))
    return cur.rowcount


def sessions(store: Store, username: str | None = None) -> list[dict[str, object]]:
    """Open browser sessions (never their ids): user, role, made, ends."""
    where, params = ("AND username = ?", [username]) if username else ("", [])
    return [
        {"username": u, "role": r, "created_at": c, "expires_at": e}
        for u, r, c, e in store.conn.execute(
            "SELECT username, role, created_at, expires_at FROM web_sessions "
            f"WHERE expires_at > ? {where} ORDER BY username, created_at",
            [time.time(), *params],
        )
    ]


def remove_user(store: Store, username: str) -> bool:
    """Delete a web user and end their sessions. False when there is no such user."""
    with store.transaction():
        cur = store.conn.execute("DELETE FROM users WHERE username = ?", (username,))
        store.conn.execute("DELETE FROM web_sessions WHERE username = ?", (username,))
    return cur.rowcount == 1


def revoke_token(store: Store, name_or_prefix: str) -> int:
    """Revoke API tokens by name (as given at creation) or by the token itself. Returns how
    many were revoked."""
    with store.transaction():
        cur = store.conn.execute(
            "UPDATE api_tokens SET revoked = 1 WHERE revoked = 0 AND (name = ? OR token_hash = ?)",
            (name_or_prefix, _digest(name_or_prefix)),
        )
    return cur.rowcount


def tokens(store: Store) -> list[dict[str, object]]:
    return [
        {"name": n, "role": r, "created_at": c, "revoked": bool(v)}
        for n, r, c, v in store.conn.execute(
            "SELECT name, role, created_at, revoked FROM api_tokens ORDER BY created_at"
        )
    ]


def end_session(store: Store, sid: str) -> None:
    with store.transaction():
        store.conn.execute("DELETE FROM web_sessions WHERE id_hash = ?", (_digest(sid),))
