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


def is_postgres_url(location: object) -> bool:
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


class PgConnection:
    """A psycopg connection with the sqlite3 calls the store makes. Autocommit: the store
    opens and ends its transactions itself with BEGIN/COMMIT/SAVEPOINT, as on SQLite."""

    def __init__(self, conn: psycopg.Connection, *, autocommit: bool = True) -> None:
        if autocommit:
            conn.autocommit = True
        self.raw = conn

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> psycopg.Cursor:
        return self.raw.execute(to_psycopg(sql), params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> psycopg.Cursor:
        cur = self.raw.cursor()
        cur.executemany(to_psycopg(sql), rows)
        return cur

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def close(self) -> None:
        self.raw.close()
