"""Connecting to the hub's PostgreSQL database: the link settings, and clear errors.

`check_reachable` tries one connection itself, with a short timeout, so that a wrong
connection string or a server that is down is reported at once, in words, with the password
left out (`describe`), instead of as a pool timeout later. The store's connections come from
psycopg-pool (`hub.store.pg.pools`), each made with `LINK_SETTINGS`.
"""

from __future__ import annotations

import re
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ..records import DatabaseUnavailable

__all__ = [
    "CONNECT_TIMEOUT",
    "LINK_SETTINGS",
    "DatabaseUnavailable",
    "check_reachable",
    "describe",
    "masked",
]

#: Seconds to wait for the first connection (a server on the LAN answers in milliseconds).
CONNECT_TIMEOUT = 5
#: Connection settings that find a lost link in seconds, not after TCP's quarter of an hour.
#: The hub's side: a statement whose bytes the server has not acknowledged within
#: `tcp_user_timeout` ms fails (the hub's loop waits that long once, then knows), and an
#: idle connection is probed by keepalives. The server's side, set for this session: its
#: keepalives, and `idle_in_transaction_session_timeout`, so that a transaction whose hub
#: vanished mid-way (its link cut) is rolled back and its row locks freed within seconds,
#: instead of holding up the other sites' hubs (a hub's transaction does milliseconds of
#: work between statements).
LINK_SETTINGS: dict[str, Any] = {
    "tcp_user_timeout": 4000,
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 2,
    "options": (
        "-c idle_in_transaction_session_timeout=5000 -c tcp_keepalives_idle=5 "
        "-c tcp_keepalives_interval=2 -c tcp_keepalives_count=2"
    ),
}


#: A password in a URI's user part, or as a `password=` parameter (keyword form or query).
_PASSWORDS = (
    (re.compile(r"(postgres(?:ql)?://[^:/@\s\"]*:)[^@\s\"]*@"), r"\1***@"),
    (re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&\"]+)"), r"\1***"),
)


def masked(text: str) -> str:
    """`text` (a libpq message, which may quote the connection string) without passwords."""
    for pattern, replacement in _PASSWORDS:
        text = pattern.sub(replacement, text)
    return text


def describe(url: str) -> str:
    """`url` without its password, for messages and logs (`***` in its place)."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "(an unreadable connection string)"
    if "password" in params:
        params["password"] = "***"
    return make_conninfo(**{k: str(v) for k, v in params.items()})


def check_reachable(url: str, timeout: int = CONNECT_TIMEOUT) -> None:
    """Connect once and run `SELECT 1`; DatabaseUnavailable with the reason otherwise."""
    try:
        conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        reason = masked(str(exc).strip())
        raise DatabaseUnavailable(f"not a PostgreSQL connection string: {reason}") from None
    try:
        with psycopg.connect(url, connect_timeout=timeout, **LINK_SETTINGS) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        reason = masked("; ".join(lines)) or type(exc).__name__
        raise DatabaseUnavailable(f"cannot use the database {describe(url)}: {reason}") from None
