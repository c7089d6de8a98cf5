"""A hub database of either kind, opened by its location, for moving and migrating it.

`open_database("hub.db")` (a SQLite file, or a hub data folder holding `hub.db`) or
`open_database("postgresql://…")` gives a `Database`: its schema version, what this code can
bring it to, its tables and columns read from its own catalog, and rows read and written in
one transaction. `hub.store.copy` moves a site between two of them; `migrate_database` is
`straat-hub db migrate`.

Schema versions count SQLite migrations (`hub.store.schema.MIGRATIONS`) on both kinds: a
PostgreSQL database at version N has the tables of SQLite migration N
(`hub.store.pg.schema.SQLITE_VERSION`), so the two compare directly.

Columns the database fills itself are never read or written: PostgreSQL's transaction ids
(`xid`, `xid8`: meaningless in another database) and generated columns. SQLite's hidden
`rowid` (in a table without an INTEGER PRIMARY KEY) is offered as the pseudo-column `ROWID`:
it is the labels' arrival order, which PostgreSQL keeps in an identity column.
"""

from __future__ import annotations

import os
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .base import connect_postgres, connect_sqlite
from .location import SQLITE_FILE, checked_location, is_postgres
from .records import DatabaseUnavailable, StoreError
from .schema import MIGRATIONS, SchemaError, apply_migrations, schema_version
from .schema import migrate as migrate_sqlite

if TYPE_CHECKING:
    import psycopg

#: The pseudo-column for SQLite's hidden rowid.
ROWID = "rowid"
#: Rows fetched per round trip when reading.
FETCH = 10_000
#: Seconds a copy waits for a lock on the target before it gives up.
LOCK_TIMEOUT = 30
#: Tables that hold a backend's own bookkeeping, not the hub's data: never copied.
BOOKKEEPING = frozenset({"schema_version"})


class DatabaseError(StoreError):
    """A database that cannot be used as asked; the message says which and why (a
    PostgreSQL password never appears in it)."""


@dataclass(frozen=True)
class Column:
    name: str
    #: "int", "float", "text", "bytes", "bool" or "other"
    kind: str
    #: a PostgreSQL identity column (it keeps a sequence to set after a copy)
    identity: bool = False
    #: NOT NULL without a default: a row cannot be written without it
    required: bool = False
    #: part of the primary key
    primary: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    #: the columns a copy reads and writes, in the catalog's order (ROWID last, if offered)
    columns: tuple[Column, ...]
    #: SQLite: a rowid table whose rowid no column names (ROWID is in `columns`)
    hidden_rowid: bool = False

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def key(self) -> str | None:
        """The column that only numbers the rows in arrival order, outside the primary key:
        SQLite's hidden rowid, or PostgreSQL's one identity column not in the primary key
        (labels: `rowid` in SQLite, `seq` in PostgreSQL). A copy carries it across; the
        content checksum leaves it out, so that it is the same in either kind of database."""
        if self.hidden_rowid:
            return ROWID
        ids = [c for c in self.columns if c.identity]
        return ids[0].name if len(ids) == 1 and not ids[0].primary else None

    @property
    def content(self) -> list[str]:
        """The columns the content checksum reads, in name order (the same in both kinds)."""
        return sorted(c.name for c in self.columns if c.name != self.key)


def open_database(
    location: str, *, readonly: bool = False, create: bool = False, what: str = "the database"
) -> Database:
    """The database at `location` (a `postgresql://` URL, a SQLite file or a hub's data
    folder; `what` names it in messages). `readonly`: opened so that nothing can change it
    (a copy's source). `create`: a SQLite file that does not exist yet is made (0600)."""
    location = checked_location(location, what)
    if is_postgres(location):
        return PgDatabase(location, readonly=readonly)
    return SqliteDatabase(sqlite_path(location), readonly=readonly, create=create)


def sqlite_path(location: str) -> Path:
    """`location` as a SQLite file: a folder means its hub.db."""
    path = Path(location)
    return path / SQLITE_FILE if path.is_dir() else path


class Database(ABC):
    """One hub database. Reads run in one snapshot transaction (`begin`), writes in one
    transaction that `commit` ends (`rollback` or `close` without it: nothing changed)."""

    kind: str
    where: str  # for messages: the path, or the URL without its password
    #: what makes two locations the same database (a resolved path; host, port and name)
    identity: tuple[str | None, ...]
    #: the version this code's migrations bring this kind of database to
    code_version: int

    @abstractmethod
    def begin(self) -> None: ...

    @abstractmethod
    def version(self) -> int:
        """The schema version in the database (0: no hub schema)."""

    @abstractmethod
    def has_tables(self) -> bool: ...

    @abstractmethod
    def create_schema(self, version: int) -> None:
        """In the open transaction: the hub's tables at `version` in an empty database."""

    def migrate(self) -> tuple[int, int]:
        """Bring the database to `code_version` (its own transaction); (from, to). A
        database newer than this code, or one holding other tables, is refused unchanged."""
        before = self.version()
        if before == 0 and self.has_tables():
            raise DatabaseError(f"{self.where} holds tables but no hub schema: not a hub database")
        try:
            return before, self._migrate()
        except SchemaError as exc:
            raise DatabaseError(f"{self.where}: {exc}; nothing was changed") from None

    @abstractmethod
    def _migrate(self) -> int: ...

    @abstractmethod
    def tables(self) -> dict[str, Table]: ...

    @abstractmethod
    def has_rows(self, table: str) -> bool: ...

    @abstractmethod
    def read(self, table: str, columns: list[str]) -> Iterator[tuple[Any, ...]]: ...

    @abstractmethod
    def write(self, table: str, columns: list[str], rows: Iterable[tuple[Any, ...]]) -> None: ...

    @abstractmethod
    def clear(self, tables: Iterable[str]) -> None: ...

    @abstractmethod
    def after_write(self, tables: Iterable[Table]) -> None:
        """Counters the database keeps beside the rows (identity sequences) moved past the
        rows written."""

    @abstractmethod
    def commit(self) -> None: ...

    @abstractmethod
    def rollback(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    def describe(self) -> str:
        return f"{self.where} ({self.kind})"


# ---- SQLite ---------------------------------------------------------------------------------


def _quote(name: str) -> str:
    return ROWID if name == ROWID else '"' + name.replace('"', '""') + '"'


def _sqlite_kind(declared: str) -> str:
    """SQLite's affinity rules (datatype3.html §3.1), as the kind of value read back."""
    t = declared.upper()
    if "INT" in t:
        return "int"
    if any(s in t for s in ("CHAR", "CLOB", "TEXT")):
        return "text"
    if not t or "BLOB" in t:
        return "bytes"
    if any(s in t for s in ("REAL", "FLOA", "DOUB")):
        return "float"
    return "other"


class SqliteDatabase(Database):
    kind = "SQLite"
    code_version = len(MIGRATIONS)

    def __init__(self, path: Path, *, readonly: bool, create: bool) -> None:
        self.path = path
        self.where = str(path)
        self.readonly = readonly
        self.identity = ("sqlite", str(path.resolve()))
        self.made = False
        if path.is_dir():
            raise DatabaseError(f"{path} is a folder without a hub database ({SQLITE_FILE})")
        if not path.exists():
            if readonly or not create:
                raise DatabaseError(f"no database at {path}")
            if not path.parent.is_dir():
                raise DatabaseError(f"no folder {path.parent} for the database {path.name}")
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            self.made = True  # removed again by close() unless a commit filled it
        try:
            # the hub's page cache: a million index entries are written without spilling
            # pages to the file mid-transaction; the copy waits longer for a live hub's lock
            self.conn = connect_sqlite(path, read_only=readonly, busy_ms=LOCK_TIMEOUT * 1000)
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(f"{path} is not a usable SQLite database: {exc}") from None

    def begin(self) -> None:
        # a reader's snapshot starts at its first read; a writer takes the write lock now
        self.conn.execute("BEGIN" if self.readonly else "BEGIN IMMEDIATE")
        self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()

    def version(self) -> int:
        return schema_version(self.conn)

    def has_tables(self) -> bool:
        row = self.conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchone()
        return bool(row[0])

    def create_schema(self, version: int) -> None:
        if not 1 <= version <= len(MIGRATIONS):
            raise DatabaseError(f"this code has no SQLite schema version {version}")
        apply_migrations(self.conn, 0, version)

    def _migrate(self) -> int:
        return migrate_sqlite(self.conn)

    def tables(self) -> dict[str, Table]:
        out: dict[str, Table] = {}
        listed = self.conn.execute("PRAGMA main.table_list").fetchall()
        for _schema, name, type_, _ncol, without_rowid, _strict in listed:
            if type_ != "table" or name.startswith("sqlite_") or name in BOOKKEEPING:
                continue
            info = self.conn.execute(f"PRAGMA main.table_xinfo({_quote(name)})").fetchall()
            columns: list[Column] = []
            pks = [r for r in info if r[5]]
            for _cid, col, declared, notnull, default, pk, hidden in info:
                if hidden:  # generated (or a virtual table's hidden column)
                    continue
                required = bool(notnull) and default is None
                columns.append(
                    Column(col, _sqlite_kind(declared), required=required, primary=pk > 0)
                )
            aliased = len(pks) == 1 and pks[0][2].upper() == "INTEGER"
            hidden_rowid = not without_rowid and not aliased
            if hidden_rowid:
                columns.append(Column(ROWID, "int"))
            out[name] = Table(name, tuple(columns), hidden_rowid)
        return out

    def has_rows(self, table: str) -> bool:
        sql = f"SELECT EXISTS (SELECT 1 FROM {_quote(table)})"
        return bool(self.conn.execute(sql).fetchone()[0])

    def read(self, table: str, columns: list[str]) -> Iterator[tuple[Any, ...]]:
        cur = self.conn.execute(f"SELECT {', '.join(map(_quote, columns))} FROM {_quote(table)}")
        while batch := cur.fetchmany(FETCH):
            yield from batch

    def write(self, table: str, columns: list[str], rows: Iterable[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" * len(columns))
        names = ", ".join(map(_quote, columns))
        self.conn.executemany(f"INSERT INTO {_quote(table)} ({names}) VALUES ({marks})", rows)

    def clear(self, tables: Iterable[str]) -> None:
        for table in tables:
            self.conn.execute(f"DELETE FROM {_quote(table)}")

    def after_write(self, tables: Iterable[Table]) -> None:
        """Nothing: SQLite numbers a new row after the highest rowid by itself."""

    def commit(self) -> None:
        self.conn.execute("COMMIT")
        self.made = False
        # what the hub runs its database in (Store sets it too); outside the copy's transaction
        self.conn.execute("PRAGMA journal_mode=WAL")

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def close(self) -> None:
        self.rollback()
        self.conn.close()
        if self.made and self.path.exists() and self.path.stat().st_size == 0:
            self.path.unlink()  # a target this copy made and never filled: as it was


# ---- PostgreSQL -----------------------------------------------------------------------------

_PG_KINDS = {
    "int2": "int",
    "int4": "int",
    "int8": "int",
    "float4": "float",
    "float8": "float",
    "text": "text",
    "varchar": "text",
    "bpchar": "text",
    "bytea": "bytes",
    "bool": "bool",
}
#: Types whose values only mean something in the database that made them.
_PG_OWN_TYPES = ("xid", "xid8", "cid", "tid")


class PgDatabase(Database):
    kind = "PostgreSQL"

    def __init__(self, url: str, *, readonly: bool) -> None:
        try:
            import psycopg
            from psycopg.conninfo import conninfo_to_dict

            from .pg.connect import describe
            from .pg.schema import SQLITE_VERSION
        except ImportError:
            raise DatabaseError(
                "PostgreSQL needs psycopg: install the hub with its `postgres` extra "
                "(pip install 'annotatiestraat[postgres]')"
            ) from None
        self.where = describe(url)
        self.code_version = SQLITE_VERSION
        self.readonly = readonly
        try:  # a clear message for a wrong URL or a server that is down
            self.conn: psycopg.Connection[Any] = connect_postgres(url)
        except DatabaseUnavailable as exc:
            raise DatabaseError(str(exc)) from None
        params = conninfo_to_dict(url)
        self.identity = ("postgresql", *(str(params.get(k)) for k in ("host", "port", "dbname")))
        self._psycopg = psycopg

    def begin(self) -> None:
        from .pg.schema import LOCK_KEY

        if self.readonly:
            self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        else:
            self.conn.execute("BEGIN")
            # a table held by someone else (a hub still running on it) is an error, not a wait
            self.conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}s'")
            # one copy or schema change at a time (apply_schema takes the same lock)
            self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))

    def version(self) -> int:
        from .pg.schema import schema_version

        return schema_version(self.conn)

    def has_tables(self) -> bool:
        row = self.conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
        ).fetchone()
        return bool(row and row[0])

    def create_schema(self, version: int) -> None:
        from .pg.schema import apply_schema

        if version != self.code_version:
            raise DatabaseError(
                f"this code makes PostgreSQL schema version {self.code_version} only, the "
                f"source is at {version}: copy with a hub version whose PostgreSQL schema "
                f"matches, or bring both to the same version first"
            )
        apply_schema(self.conn)  # inside our transaction: a savepoint

    def _migrate(self) -> int:
        from .pg.schema import apply_schema

        with self.conn.transaction():
            return apply_schema(self.conn)

    def tables(self) -> dict[str, Table]:
        rows = self.conn.execute(
            "SELECT c.relname, a.attname, t.typname, a.attidentity <> '', "
            "a.attnotnull AND NOT a.atthasdef AND a.attidentity = '', a.attgenerated <> '', "
            "EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary "
            "AND a.attnum = ANY (i.indkey)) "
            "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_type t ON t.oid = a.atttypid "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
            "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum"
        ).fetchall()
        columns: dict[str, list[Column]] = {}
        for table, name, typname, identity, required, generated, primary in rows:
            if table in BOOKKEEPING:
                continue
            cols = columns.setdefault(table, [])
            if generated or typname in _PG_OWN_TYPES:
                continue
            kind = _PG_KINDS.get(typname, "other")
            cols.append(Column(name, kind, identity, required, primary))
        return {t: Table(t, tuple(cols)) for t, cols in columns.items()}

    def _ident(self, name: str) -> Any:
        return self._psycopg.sql.Identifier(name)

    def has_rows(self, table: str) -> bool:
        sql = self._psycopg.sql
        query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(self._ident(table))
        row = self.conn.execute(query).fetchone()
        return bool(row and row[0])

    def read(self, table: str, columns: list[str]) -> Iterator[tuple[Any, ...]]:
        sql = self._psycopg.sql
        query = sql.SQL("SELECT {} FROM {}").format(
            sql.SQL(", ").join(map(self._ident, columns)), self._ident(table)
        )
        # a server-side cursor: rows come FETCH at a time, not all into memory
        with self.conn.cursor(name=f"read_{table}") as cur:
            cur.itersize = FETCH
            cur.execute(query)
            yield from cur

    def write(self, table: str, columns: list[str], rows: Iterable[tuple[Any, ...]]) -> None:
        sql = self._psycopg.sql
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            self._ident(table), sql.SQL(", ").join(map(self._ident, columns))
        )
        with self.conn.cursor() as cur, cur.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)

    def clear(self, tables: Iterable[str]) -> None:
        names = list(tables)
        if names:
            sql = self._psycopg.sql
            self.conn.execute(
                sql.SQL("TRUNCATE {} RESTART IDENTITY").format(
                    sql.SQL(", ").join(map(self._ident, names))
                )
            )

    def after_write(self, tables: Iterable[Table]) -> None:
        sql = self._psycopg.sql
        for table in tables:
            for col in table.columns:
                if not col.identity:
                    continue
                # the next value handed out follows the highest copied one
                self.conn.execute(
                    sql.SQL(
                        "SELECT setval(pg_get_serial_sequence(%s, %s), max({c}), true) "
                        "FROM {t} HAVING max({c}) IS NOT NULL"
                    ).format(c=self._ident(col.name), t=self._ident(table.name)),
                    (self._psycopg.sql.Identifier(table.name).as_string(self.conn), col.name),
                )

    def commit(self) -> None:
        self.conn.execute("COMMIT")
        # planner statistics for the rows just copied: without them the first queries plan
        # for empty tables (a full scan per work request) until autovacuum gets round to it
        self.conn.execute("ANALYZE")

    def rollback(self) -> None:
        if self.conn.info.transaction_status != self._psycopg.pq.TransactionStatus.IDLE:
            self.conn.execute("ROLLBACK")

    def close(self) -> None:
        try:
            if not self.conn.closed:
                self.rollback()
        except self._psycopg.Error:
            pass
        self.conn.close()


def migrate_database(location: str) -> tuple[str, int, int]:
    """`straat-hub db migrate`: (where, version before, version after). A database newer
    than this code is refused, unchanged (DatabaseError)."""
    db = open_database(location)
    try:
        before, after = db.migrate()
        return db.describe(), before, after
    finally:
        db.close()
