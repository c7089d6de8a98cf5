"""The two SQL dialects the store speaks, and PostgreSQL's connection in sqlite3's shape.

The store's statements are written once, in the SQL both engines understand (`?`
placeholders, `INSERT … ON CONFLICT … DO NOTHING/UPDATE`, `RETURNING`, `CASE`), and run on
either connection: `PgConnection` gives a psycopg connection the few sqlite3 calls the store
makes (`execute`, `executemany`, `in_transaction`, `close`) and turns `?` into psycopg's
`%s` once per statement text. Where the engines really differ (JSON functions, the label
append order, scalar max/min, the start of a write transaction) a statement takes its
fragment from the connection's `Dialect`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

    from .pg.pools import SharedPool


@dataclass(frozen=True)
class Dialect:
    name: str
    #: starts a write transaction (SQLite: take the write lock at once, not at first write)
    begin: str
    #: scalar maximum / minimum of two values
    greatest: str
    least: str
    #: the labels' append order (SQLite's rowid; PostgreSQL's identity column `seq`)
    label_order: str
    #: `{}` is a JSON text column holding a list: a table of its elements, column `value`
    json_elements: str
    #: `{0}` a JSON text column, `{1}` a key: the number stored there (NULL when absent)
    json_number: str
    #: `{0}` an expression, `{1}` a separator: the values of a group joined into one text
    group_concat: str
    #: `{}` a non-negative number: its whole part as an integer (PostgreSQL's CAST rounds)
    integer_part: str

    def elements(self, column: str) -> str:
        return self.json_elements.format(column)

    def number(self, column: str, key: str) -> str:
        return self.json_number.format(column, key)

    def concat(self, expr: str, sep: str) -> str:
        return self.group_concat.format(expr, sep)

    def to_int(self, expr: str) -> str:
        return self.integer_part.format(expr)


SQLITE = Dialect(
    name="sqlite",
    begin="BEGIN IMMEDIATE",
    greatest="max",
    least="min",
    label_order="rowid",
    json_elements="json_each({})",
    json_number="json_extract({0}, '$.{1}')",
    group_concat="group_concat({0}, '{1}')",
    integer_part="CAST({} AS INTEGER)",
)
POSTGRES = Dialect(
    name="postgresql",
    begin="BEGIN",
    greatest="greatest",
    least="least",
    label_order="seq",
    json_elements="json_array_elements_text(({})::json)",
    json_number="(({0})::json ->> '{1}')::double precision",
    group_concat="string_agg({0}, '{1}')",
    integer_part="CAST(floor({}) AS bigint)",
)

_PLACEHOLDER = re.compile(r"\?")


@lru_cache(maxsize=4096)
def to_psycopg(sql: str) -> str:
    """`sql` with sqlite3's `?` placeholders as psycopg's `%s` (and a literal `%` doubled).
    No statement of the store has a `?` inside a string literal."""
    return _PLACEHOLDER.sub("%s", sql.replace("%", "%%"))


#: How a PostgreSQL connection URL starts (anything else is a SQLite file).
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(location: object) -> bool:
    """`location` is a PostgreSQL URL (not a SQLite file's path)."""
    return isinstance(location, str) and location.startswith(POSTGRES_SCHEMES)


#: Statements that change nothing outside a transaction: run again on a new connection when
#: the old one turns out to have died while idle.
_HARMLESS = ("BEGIN", "SELECT", "SET ", "SHOW ")


class PgConnection:
    """A psycopg connection with the sqlite3 calls the store makes. Autocommit: the store
    opens and ends its transactions itself with BEGIN/COMMIT/SAVEPOINT, as on SQLite.

    With a `pool` (`hub.store.pg.pools`, psycopg-pool), the handle takes one connection and
    keeps it until it breaks (no round trip per transaction to check it); then it gives it
    back, the pool discards it and hands out a fresh one, made with the pool's session
    settings. A lost connection (the server restarted, the link dropped) raises
    `DatabaseUnavailable` for the statement that found it out, and for every statement after
    it until the store's transaction has ended (what it did is gone with the server's
    rollback: nothing of it may be taken for done). Outside a transaction the next statement
    takes a fresh connection from the pool. Without a pool (a connection a caller holds):
    no new connection, the loss is final."""

    def __init__(
        self,
        conn: psycopg.Connection | None = None,
        *,
        autocommit: bool = True,
        pool: SharedPool | None = None,
    ) -> None:
        self._pool = pool
        if conn is None and pool is None:
            raise ValueError("a PgConnection needs a connection or a pool")
        if conn is not None and autocommit:
            conn.autocommit = True
        self._raw: psycopg.Connection | None = conn
        self._in_txn = False  # a BEGIN of the store's own is open

    @classmethod
    def pooled(cls, url: str) -> PgConnection:
        """A handle on the process's pool for `url` (DatabaseUnavailable, in words and
        without the password, when a new pool cannot reach the server); it takes its
        connection at its first statement (a reader moves to its own pool before that)."""
        from .pg.pools import acquire

        return cls(pool=acquire(url))

    @property
    def settings(self) -> tuple[str, ...]:
        """The session settings every connection of this handle has."""
        return self._pool.settings if self._pool is not None else ()

    def setting(self, sql: str) -> None:
        """Run `sql` (a SET) now and on every connection this handle uses later: the handle
        moves to the pool whose `configure` applies it (outside a transaction only)."""
        if self._pool is None:
            self.execute(sql)
            return
        if self.in_transaction:
            raise RuntimeError("a session setting is changed outside a transaction only")
        from .pg.pools import acquire, release

        old = self._pool
        new = acquire(old.url, (*old.settings, sql))
        self._drop()  # the next statement takes a connection of the new pool
        self._pool = new
        release(old)

    @property
    def raw(self) -> psycopg.Connection:
        """The psycopg connection for statements the store runs on it directly (a fresh one
        from the pool outside a transaction when the held one broke)."""
        return self._conn()

    def _drop(self) -> None:
        """Give the held connection back to the pool (a broken one: the pool replaces it)."""
        conn, self._raw = self._raw, None
        if conn is None:
            return
        if self._pool is None:
            conn.close()
        else:
            self._pool.give_back(conn, broken=conn.closed)

    def _conn(self) -> psycopg.Connection:
        raw = self._raw
        if raw is not None and not raw.closed:
            return raw
        from .records import DatabaseUnavailable

        if self._in_txn or self._pool is None:
            raise DatabaseUnavailable("the database connection was lost; nothing uncommitted kept")
        self._drop()
        self._raw = self._pool.take()
        return self._raw

    def _lost(self) -> bool:
        return self._raw is None or self._raw.closed

    def _run(self, fn: Any, *args: Any) -> Any:
        import psycopg

        from .records import DatabaseUnavailable

        try:
            return fn(*args)
        except psycopg.OperationalError as exc:
            if not self._lost():
                raise  # the statement failed, the connection is fine (e.g. a deadlock)
            raise DatabaseUnavailable(f"the database connection was lost: {exc}") from None

    def execute(
        self,
        sql: str,
        params: Sequence[Any] | dict[str, Any] = (),
        *,
        prepare: bool | None = None,
    ) -> psycopg.Cursor:
        """`prepare=False`: planned anew at each call (psycopg prepares a statement after five
        runs, and a generic plan made while a table was nearly empty can stay a full scan)."""
        word = sql[:11].upper()
        if word.startswith(("COMMIT", "ROLLBACK")) and not word.startswith("ROLLBACK TO"):
            ending, self._in_txn = self._in_txn, False
            if self._lost() and (ending or word.startswith("ROLLBACK")):
                from .records import DatabaseUnavailable

                raise DatabaseUnavailable(  # (a ROLLBACK: the server has rolled it back)
                    "the database connection was lost before the transaction ended"
                )
        conn = self._conn()  # (none to be had: DatabaseUnavailable, the reason in words)
        try:
            cursor = self._run(
                functools.partial(conn.execute, prepare=prepare), to_psycopg(sql), params
            )
        except Exception as exc:
            from .records import DatabaseUnavailable

            # a connection that died while idle is only found out by the next statement: when
            # that one changes nothing by itself (outside a transaction), run it once more on
            # a fresh connection from the pool, so that one outage is one loss, not one per
            # connection
            if not isinstance(exc, DatabaseUnavailable) or self._in_txn or self._pool is None:
                raise
            if not word.startswith(_HARMLESS):
                raise
            cursor = self._run(
                functools.partial(self._conn().execute, prepare=prepare), to_psycopg(sql), params
            )
        if word.startswith("BEGIN"):
            self._in_txn = True
        return cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> psycopg.Cursor:
        cur = self._conn().cursor()
        self._run(cur.executemany, to_psycopg(sql), rows)
        return cur

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        if self._in_txn:
            return True
        if self._raw is None:
            return False
        status = self._raw.info.transaction_status
        return status in (TransactionStatus.INTRANS, TransactionStatus.INERROR)

    def close(self) -> None:
        """Give the connection back (or close it, without a pool); the pool is released."""
        self._drop()
        pool, self._pool = self._pool, None
        if pool is not None:
            from .pg.pools import release

            release(pool)
