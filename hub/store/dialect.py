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

    A lost connection (the server restarted, the link dropped) raises `DatabaseUnavailable`
    for the statement that found it out, and for every statement after it until the store's
    transaction has ended (what it did is gone with the server's rollback: nothing of it may
    be taken for done). The next statement outside a transaction connects again (`url`)."""

    def __init__(
        self, conn: psycopg.Connection, *, autocommit: bool = True, url: str | None = None
    ) -> None:
        if autocommit:
            conn.autocommit = True
        self.raw = conn
        self.url = url
        self._in_txn = False  # a BEGIN of the store's own is open
        #: session settings, applied again on a new connection
        self.settings: list[str] = []

    def setting(self, sql: str) -> None:
        """Run `sql` (a SET) now and on every connection made again later."""
        self.execute(sql)
        self.settings.append(sql)

    def _conn(self) -> psycopg.Connection:
        if not self.raw.closed:
            return self.raw
        from .records import DatabaseUnavailable

        if self._in_txn or self.url is None:
            raise DatabaseUnavailable("the database connection was lost; nothing uncommitted kept")
        import psycopg

        from .pg.connect import CONNECT_TIMEOUT, LINK_SETTINGS, describe

        try:
            self.raw = psycopg.connect(
                self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT, **LINK_SETTINGS
            )
            for sql in self.settings:
                self.raw.execute(sql)
        except psycopg.OperationalError as exc:
            reason = "; ".join(x.strip() for x in str(exc).splitlines() if x.strip())
            raise DatabaseUnavailable(
                f"cannot use the database {describe(self.url)}: {reason}"
            ) from None
        return self.raw

    def _run(self, fn: Any, *args: Any) -> Any:
        import psycopg

        from .records import DatabaseUnavailable

        try:
            return fn(*args)
        except psycopg.OperationalError as exc:
            if not self.raw.closed:
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
            if self.raw.closed and (ending or word.startswith("ROLLBACK")):
                from .records import DatabaseUnavailable

                raise DatabaseUnavailable(  # (a ROLLBACK: the server has rolled it back)
                    "the database connection was lost before the transaction ended"
                )
        try:
            cursor = self._run(
                functools.partial(self._conn().execute, prepare=prepare), to_psycopg(sql), params
            )
        except Exception as exc:
            from .records import DatabaseUnavailable

            # a connection that died while idle is only found out by the next statement: when
            # that one changes nothing by itself (outside a transaction), connect again and
            # run it once more, so that one outage is one loss, not one per connection
            if not isinstance(exc, DatabaseUnavailable) or self._in_txn or self.url is None:
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
        status = self.raw.info.transaction_status
        return status in (TransactionStatus.INTRANS, TransactionStatus.INERROR)

    def close(self) -> None:
        self.raw.close()
