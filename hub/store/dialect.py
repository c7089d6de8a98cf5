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
from typing import TYPE_CHECKING, Any, Protocol

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

    Round trips: a command without a result the store needs (BEGIN, SAVEPOINT, RELEASE,
    ROLLBACK TO) is not sent on its own but held and sent with the next statement, in one
    psycopg pipeline (one round trip for all of them); a savepoint in which no statement ran
    is never sent, and a transaction that ran none is neither begun nor committed. A nested
    savepoint begun right after its parent's (nothing ran between) is the parent's: rolling
    back to it undoes the same statements. The statement's result, or its error, comes back
    as without the pipeline.

    Connections: with a `pool` (`hub.store.pg.pools`, psycopg-pool), the handle takes one
    connection at its first statement and keeps it until it breaks (no round trip per
    transaction to check it); then it gives it back, the pool discards it and hands out a
    fresh one, made with the pool's session settings. A lost connection (the server
    restarted, the link dropped) raises `DatabaseUnavailable` for the statement that found it
    out, and for every statement after it until the store's transaction has ended (what it
    did is gone with the server's rollback: nothing of it may be taken for done). Outside a
    transaction the next statement takes a fresh connection from the pool. Without a pool (a
    connection a caller holds): no new connection, the loss is final."""

    def __init__(
        self,
        conn: psycopg.Connection | None = None,
        *,
        autocommit: bool = True,
        pool: SharedPool | None = None,
    ) -> None:
        if conn is None and pool is None:
            raise ValueError("a PgConnection needs a connection or a pool")
        if conn is not None and autocommit:
            conn.autocommit = True
        self._pool = pool
        self._raw: psycopg.Connection | None = conn
        self._in_txn = False  # a BEGIN of the store's own is open (or held)
        #: commands held for the next statement's round trip (see the class's docstring)
        self._held: list[tuple[str, Any]] = []
        #: the connection for psycopg-format statements, held commands sent with them
        self.piped = Piped(self)

    @classmethod
    def pooled(cls, url: str) -> PgConnection:
        """A handle on the process's pool for `url` (DatabaseUnavailable, in words and
        without the password, when a new pool cannot reach the server); it takes its
        connection at its first statement (a reader moves to its own pool before that)."""
        from .pg.pools import acquire

        return cls(pool=acquire(url))

    @property
    def raw(self) -> psycopg.Connection:
        """The psycopg connection, every held command sent first (its own round trip); a
        fresh one from the pool outside a transaction when the held one broke."""
        if self._held:
            self._send("SELECT 1", ())
        return self._conn()

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

    def _drop(self) -> None:
        """Give the held connection back to the pool (a broken one: the pool replaces it)."""
        conn, self._raw = self._raw, None
        if conn is None:
            return
        if self._pool is None:
            conn.close()
        else:
            self._pool.give_back(conn, broken=conn.closed)

    def _lost(self) -> bool:
        return self._raw is None or self._raw.closed

    def _conn(self, unsent: bool = False) -> psycopg.Connection:
        """The live connection; a fresh one from the pool if it was lost outside a
        transaction, or inside one of which nothing reached the server yet (`unsent`: its
        BEGIN is still held). DatabaseUnavailable, the reason in words, when none comes."""
        raw = self._raw
        if raw is not None and not raw.closed:
            return raw
        from .records import DatabaseUnavailable

        if (self._in_txn and not unsent) or self._pool is None:
            raise DatabaseUnavailable("the database connection was lost; nothing uncommitted kept")
        self._drop()
        self._raw = self._pool.take()
        return self._raw

    def _run(self, fn: Any, *args: Any) -> Any:
        import psycopg

        from .records import DatabaseUnavailable

        try:
            return fn(*args)
        except psycopg.OperationalError as exc:
            if not self._lost():
                raise  # the statement failed, the connection is fine (e.g. a deadlock)
            raise DatabaseUnavailable(f"the database connection was lost: {exc}") from None

    def _unsent(self) -> bool:
        """Nothing of the current transaction has reached the server (its BEGIN is held)."""
        return bool(self._held) and self._held[0][0] == "BEGIN"

    def _send(
        self,
        sql: str,
        params: Sequence[Any] | dict[str, Any],
        many: bool = False,
        prepare: bool | None = None,
    ) -> Any:
        """Run `sql` (psycopg's format) after the held commands, in one round trip.
        `prepare=False`: planned anew each time (psycopg's `prepare`)."""
        return self._send_all([(sql, params, prepare)], many=many)[0]

    def _send_all(
        self, statements: list[tuple[str, Any, bool | None]], many: bool = False
    ) -> list[psycopg.Cursor]:
        """Run the held commands and these statements (psycopg's format; `prepare` as
        `_send`'s), in order, in one round trip; their cursors (the first error is raised).
        `many`: one statement, run for each row of its parameters.

        A connection that died while idle is only found out by the next statement: when
        nothing is lost by running them again (the first statements of a transaction, sent
        with its BEGIN, or a harmless one outside a transaction), they run once more on a
        new connection, so that one outage is one loss, not one per connection."""
        from .records import DatabaseUnavailable

        held = list(self._held)
        again = self._pool is not None and (
            self._unsent()
            or (not self._in_txn and statements[0][0][:7].upper().startswith(_HARMLESS))
        )
        self._conn(again)  # (none to be had from the pool: said now, not tried twice)
        try:
            return self._send_once(statements, many, again)
        except DatabaseUnavailable:
            if not again:
                raise
            self._held = held
            return self._send_once(statements, many, again)

    def _send_once(
        self, statements: list[tuple[str, Any, bool | None]], many: bool, unsent: bool
    ) -> list[psycopg.Cursor]:
        conn = self._conn(unsent)
        held, self._held = self._held, []
        if not held and not many and len(statements) == 1:
            sql, params, prepare = statements[0]
            return [self._run(functools.partial(conn.execute, prepare=prepare), sql, params)]

        def piped() -> list[psycopg.Cursor]:
            cursors = []
            with conn.pipeline():
                for command, args in held:
                    conn.execute(command, args)
                for sql, params, prepare in statements:
                    cur = conn.cursor()
                    if many:
                        cur.executemany(sql, params)
                    else:
                        cur.execute(sql, params, prepare=prepare)
                    cursors.append(cur)
            return cursors

        return self._run(piped)

    def execute(
        self,
        sql: str,
        params: Sequence[Any] | dict[str, Any] = (),
        *,
        prepare: bool | None = None,
    ) -> Any:
        """`prepare=False`: planned anew at each call (psycopg prepares a statement after five
        runs, and a generic plan made while a table was nearly empty can stay a full scan)."""
        word = sql[:11].upper()
        if word.startswith("BEGIN"):
            conn = self._conn()  # connected again here if it was lost
            self._in_txn = True
            self._held.append(("BEGIN", None))  # begun with the first statement
            return conn.cursor()
        if word.startswith(("COMMIT", "ROLLBACK")) and not word.startswith("ROLLBACK TO"):
            ending, self._in_txn = self._in_txn, False
            held, self._held = self._held, []
            if held and held[0][0] == "BEGIN" and all(args is None for _, args in held):
                return None  # no statement ran: nothing to end
            if word.startswith("ROLLBACK"):
                held = []  # undone anyway
            if self._lost() and (ending or word.startswith("ROLLBACK")):
                from .records import DatabaseUnavailable

                raise DatabaseUnavailable(  # (a ROLLBACK: the server has rolled it back)
                    "the database connection was lost before the transaction ended"
                )
            self._held = held
        return self._send(to_psycopg(sql), params, prepare=prepare)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> psycopg.Cursor:
        return self._send(to_psycopg(sql), list(rows), many=True)  # type: ignore[arg-type]

    # -- savepoints, held (see the class's docstring) -----------------------------------------

    def hold(self, sql: str, params: Sequence[Any] | dict[str, Any]) -> None:
        """Send `sql` (psycopg's format; no result wanted, and no error expected but a lost
        connection) with the next statement or the COMMIT, not on its own."""
        self._held.append((sql, params))

    def _held_savepoint(self) -> str | None:
        """The name of the held SAVEPOINT that is the last held command, if it is one."""
        if self._held and self._held[-1][1] is None:
            command = self._held[-1][0]
            if command.startswith("SAVEPOINT "):
                return command[len("SAVEPOINT ") :]
        return None

    def savepoint(self, name: str) -> tuple[str, bool]:
        """Begin a savepoint `name`: (the savepoint's name, whether it is its own) — a held
        one of its parent's, if nothing ran since that one began."""
        parent = self._held_savepoint()
        if parent is not None:
            return parent, False
        self._held.append((f"SAVEPOINT {name}", None))
        return name, True

    def release(self, name: str, own: bool) -> None:
        if not own:
            return
        if self._held_savepoint() == name:
            self._held.pop()  # no statement ran in it
        else:
            self._held.append((f"RELEASE {name}", None))

    def rollback_to(self, name: str, own: bool) -> None:
        if self._held_savepoint() == name:
            if own:
                self._held.pop()  # no statement ran in it: nothing to undo
            return
        self._held.append((f"ROLLBACK TO {name}", None))
        if own:
            self._held.append((f"RELEASE {name}", None))

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
        self._held = []
        self._drop()
        pool, self._pool = self._pool, None
        if pool is not None:
            from .pg.pools import release

            release(pool)


class Piped:
    """`execute` of psycopg-format statements on a `PgConnection`, its held commands sent in
    the same round trip (for hub.store.pg's statements)."""

    def __init__(self, conn: PgConnection) -> None:
        self._conn = conn

    def execute(
        self, sql: str, params: Sequence[Any] | dict[str, Any] = (), prepare: bool | None = None
    ) -> psycopg.Cursor:
        return self._conn._send(sql, params, prepare=prepare)

    def execute_all(
        self, statements: list[tuple[str, Sequence[Any]]], prepare: bool | None = None
    ) -> list[psycopg.Cursor]:
        """Run these statements in one round trip, in order: their cursors (the rows of
        each); the first error is raised."""
        return self.execute_each([(sql, params, prepare) for sql, params in statements])

    def execute_each(self, statements: list[tuple[str, Any, bool | None]]) -> list[psycopg.Cursor]:
        """`execute_all` of (sql, params, prepare) statements, each with its own `prepare`."""
        return self._conn._send_all(statements) if statements else []


class Executes(Protocol):
    """What hub.store.pg's statements run on: a psycopg connection or `PgConnection.piped`."""

    def execute(self, sql: Any, params: Any = ...) -> Any: ...
