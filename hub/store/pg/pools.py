"""The store's PostgreSQL connections come from psycopg-pool, one pool per database and set of
session settings in a process, shared by all its `Store` handles.

A handle (`hub.store.dialect.PgConnection`) takes one connection at its first statement and
keeps it (no round trip per transaction to check it); when that connection turns out broken, the
handle gives it back, the pool discards it and makes a new one in its background (with
backoff while the server stays away), and `drain()` replaces the other idle connections the same
outage killed. Session settings (`SET …`, e.g. a reader's read-only default) belong to the
pool: its `configure` applies them to every connection it makes, so a handle that wants a
setting moves to the pool that has it (`acquire(url, settings)`).

The first handle on a database makes its pool, after `check_reachable` (a wrong connection
string or a server that is down: `DatabaseUnavailable` at once, in words, the password left
out); the last handle closed closes it. `figures()` gives each pool's `get_stats()` for the
hub's metrics.
"""

from __future__ import annotations

import threading
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from ..records import DatabaseUnavailable
from .connect import CONNECT_TIMEOUT, LINK_SETTINGS, check_reachable, describe

#: Connections a pool keeps open at least (a hub holds one for its writer all the time).
MIN_SIZE = 1
#: Connections a pool opens at most: a handle that finds them all taken waits for one.
MAX_SIZE = 20
#: Seconds the pool's background keeps trying (1 s, then 2 s later, …) to replace a lost
#: connection before it gives up; a handle asking for one later starts it again at once.
#: Short, so that a handle never waits long for the backoff's next try once the server is
#: back (at most the gap between the tries at 1 s and 3 s), and a long outage costs nothing.
RECONNECT_SECONDS = 4.0
#: Threads of a pool that connect in the background.
WORKERS = 2


class SharedPool:
    """A started `ConnectionPool` on `url` whose connections all have `settings`, and the
    number of handles using it."""

    def __init__(self, url: str, settings: tuple[str, ...]) -> None:
        self.url = url
        self.settings = settings
        self.where = describe(url)
        self.users = 0
        params = conninfo_to_dict(url)
        #: what the hub's metrics name this pool by
        self.database = "{}:{}/{}".format(
            params.get("host") or "localhost", params.get("port") or 5432, params.get("dbname")
        )
        self.pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            url,
            min_size=MIN_SIZE,
            max_size=MAX_SIZE,
            open=False,
            configure=self._configure,
            # autocommit: the store opens and ends its transactions itself
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT, **LINK_SETTINGS},
            reconnect_timeout=RECONNECT_SECONDS,
            num_workers=WORKERS,
            name=f"{self.database}" + (f" ({'; '.join(settings)})" if settings else ""),
        )

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        for sql in self.settings:
            conn.execute(sql)

    def open(self) -> None:
        try:
            self.pool.open(wait=True, timeout=CONNECT_TIMEOUT * 2)
        except PoolTimeout:
            self.pool.close(timeout=1.0)
            check_reachable(self.url)
            raise DatabaseUnavailable(
                f"cannot use the database {self.where}: no connection within "
                f"{CONNECT_TIMEOUT * 2} s"
            ) from None

    def take(self) -> psycopg.Connection[Any]:
        """A connection of the pool (DatabaseUnavailable, with the reason, when none comes).
        With none idle the pool has to connect: whether the server is there is asked first,
        so that a server that is down is said at once (and the pool's backoff is not started
        by a handle waiting in vain), not after a wait for the pool."""
        if not self.pool.get_stats().get("pool_available"):
            check_reachable(self.url)
        try:
            return self.pool.getconn(timeout=CONNECT_TIMEOUT)
        except PoolTimeout:
            stats = self.pool.get_stats()
            raise DatabaseUnavailable(
                f"cannot use the database {self.where}: no connection from the pool within "
                f"{CONNECT_TIMEOUT} s ({stats.get('pool_size', 0)} of {MAX_SIZE} open, "
                f"{stats.get('pool_available', 0)} free)"
            ) from None

    def give_back(self, conn: psycopg.Connection[Any], *, broken: bool = False) -> None:
        """`conn` back to the pool (a broken one is discarded and replaced by the pool).
        `broken`: the outage that broke it has likely broken the idle ones too: the pool
        drops them and makes new ones in its background (`drain`). Not `check()`, which
        would try each in this thread: over a cut link, seconds per connection."""
        self.pool.putconn(conn)
        if broken:
            self.pool.drain()


_POOLS: dict[tuple[str, tuple[str, ...]], SharedPool] = {}
_LOCK = threading.Lock()


def acquire(url: str, settings: tuple[str, ...] = ()) -> SharedPool:
    """The process's pool for `url` with `settings` (made and opened if none is open), counted
    as used by one more handle until `release`. A new pool connects outside the lock: other
    threads' handles on open pools (and the metrics) never wait for it."""
    key = (url, settings)
    with _LOCK:
        shared = _POOLS.get(key)
        if shared is not None:
            shared.users += 1
            return shared
    check_reachable(url)  # a wrong URL or a server that is down: in words, not a pool timeout
    made = SharedPool(url, settings)
    made.open()
    with _LOCK:
        shared = _POOLS.setdefault(key, made)
        shared.users += 1
    if shared is not made:  # another thread opened one meanwhile: use that one
        made.pool.close(timeout=1.0)
    return shared


def release(shared: SharedPool) -> None:
    """One handle less on `shared`; the last one closes the pool."""
    with _LOCK:
        shared.users -= 1
        if shared.users > 0:
            return
        if _POOLS.get((shared.url, shared.settings)) is shared:
            del _POOLS[(shared.url, shared.settings)]
    shared.pool.close(timeout=1.0)


def figures() -> list[tuple[str, str, dict[str, int]]]:
    """(database, settings, `get_stats()`) of each open pool of this process."""
    with _LOCK:
        pools = list(_POOLS.values())
    return [(p.database, "; ".join(p.settings), p.pool.get_stats()) for p in pools]
