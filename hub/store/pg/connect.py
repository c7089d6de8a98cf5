"""Connections to the hub's PostgreSQL database: a checked pool, and clear errors.

`open_pool` makes a psycopg-pool `ConnectionPool` that checks each connection as it is
handed out (`ConnectionPool.check_connection`: one round trip), so that after the server
restarted, or a link came back, the caller gets a fresh connection instead of a dead one.
A transaction that was open when the server went away fails as a whole (its commit raises
`psycopg.OperationalError`) and changed nothing: the caller retries the request.

`open_pool` first tries one connection itself, with a short timeout, so that a wrong
connection string or a server that is down is reported at once, in words, with the password
left out, instead of as a pool timeout half a minute later.
"""

from __future__ import annotations

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool

from ..records import DatabaseUnavailable

__all__ = ["CONNECT_TIMEOUT", "DatabaseUnavailable", "check_reachable", "describe", "open_pool"]

#: Seconds to wait for the first connection (a server on the LAN answers in milliseconds).
CONNECT_TIMEOUT = 5


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
        raise DatabaseUnavailable(f"not a PostgreSQL connection string: {exc}") from None
    try:
        with psycopg.connect(url, connect_timeout=timeout) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        reason = "; ".join(lines) or type(exc).__name__
        raise DatabaseUnavailable(f"cannot use the database {describe(url)}: {reason}") from None


def open_pool(url: str, min_size: int = 1, max_size: int = 4) -> ConnectionPool:
    """A started pool of checked connections to `url` (DatabaseUnavailable if the server
    cannot be reached now)."""
    check_reachable(url)
    pool = ConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        open=False,
        check=ConnectionPool.check_connection,
        kwargs={"connect_timeout": CONNECT_TIMEOUT},
        name="hub-store",
    )
    pool.open(wait=True, timeout=CONNECT_TIMEOUT * 2)
    return pool
