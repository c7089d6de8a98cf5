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
#: Web login lock-out: `USER_SOURCE_FAILURES` wrong passwords for one user name from one
#: source address within `FAILURE_WINDOW` lock that pair (not the name everywhere: a visitor
#: cannot keep staff out); `SOURCE_FAILURES` from one source, any names, lock the source.
#: A lock lasts `LOCK_SECONDS` after the last failure; staff lift it (`user unlock`).
USER_SOURCE_FAILURES = 5
SOURCE_FAILURES = 20
FAILURE_WINDOW = 300.0
LOCK_SECONDS = 60.0


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
            "pw_version = users.pw_version + 1",
            (username, role, hash_pin(password), time.time()),
        )


def check_password(store: Store, username: str, password: str) -> Principal | None:
    row = password_row(store, username)
    ok = verify_password(row, password)  # hashes even for an unknown name: same time
    return Principal(username, row[0]) if ok and row is not None else None


def password_row(store: Store, username: str) -> tuple[str, str] | None:
    """(role, password hash) of a user, None for no such user (a quick read)."""
    row = store.conn.execute(
        "SELECT role, password_hash FROM users WHERE username = ?", (username,)
    ).fetchone()
    return None if row is None else (row[0], row[1])


def verify_password(row: tuple[str, str] | None, password: str) -> bool:
    """The slow part (scrypt), with no store access: safe to run in a worker thread."""
    if row is None:
        hash_pin(password)  # same cost whether or not the user exists
        return False
    return verify_pin(password, row[1])


def login_locked(store: Store, username: str, source: str, now: float | None = None) -> bool:
    now = time.time() if now is None else now
    since = now - FAILURE_WINDOW
    n, last = store.conn.execute(
        "SELECT count(*), max(at) FROM web_login_failures "
        "WHERE username = ? AND source = ? AND at > ?",
        (username, source, since),
    ).fetchone()
    if n >= USER_SOURCE_FAILURES and now - last < LOCK_SECONDS:
        return True
    n, last = store.conn.execute(
        "SELECT count(*), max(at) FROM web_login_failures WHERE source = ? AND at > ?",
        (source, since),
    ).fetchone()
    return n >= SOURCE_FAILURES and now - last < LOCK_SECONDS


def login_failed(store: Store, username: str, source: str, now: float | None = None) -> None:
    now = time.time() if now is None else now
    with store.transaction():
        store.conn.execute(
            "INSERT INTO web_login_failures (username, source, at) VALUES (?, ?, ?)",
            (username[:200], source, now),
        )
        store.conn.execute("DELETE FROM web_login_failures WHERE at < ?", (now - FAILURE_WINDOW,))


def login_succeeded(store: Store, username: str, source: str) -> None:
    with store.transaction():
        store.conn.execute(
            "DELETE FROM web_login_failures WHERE username = ? AND source = ?",
            (username, source),
        )


def lockouts(store: Store, now: float | None = None) -> list[dict[str, object]]:
    """User names and sources with recent failed logins (locked or on their way)."""
    now = time.time() if now is None else now
    return [
        {"username": u, "source": s, "failures": n, "last_at": last}
        for u, s, n, last in store.conn.execute(
            "SELECT username, source, count(*), max(at) FROM web_login_failures WHERE at > ? "
            "GROUP BY username, source ORDER BY max(at) DESC",
            (now - FAILURE_WINDOW,),
        )
    ]


def lift_lockouts(store: Store, username: str | None = None, source: str | None = None) -> int:
    """Forget failed logins (of one user name and/or source; all when neither is given)."""
    with store.transaction():
        cur = store.conn.execute(
            "DELETE FROM web_login_failures WHERE (CAST(? AS TEXT) IS NULL OR username = ?) "
            "AND (CAST(? AS TEXT) IS NULL OR source = ?)",
            (username, username, source, source),
        )
    return cur.rowcount


def create_token(store: Store, role: str, name: str = "") -> str:
    if role not in ROLES:
        raise StoreError(f"role must be one of {', '.join(ROLES)}")
    token = "st_" + secrets.token_urlsafe(32)
    with store.transaction():
        store.conn.execute(
            "INSERT INTO api_tokens (token_hash, role, name, created_at, revoked) "
            "VALUES (?, ?, ?, ?, 0)",
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
