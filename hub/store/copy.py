"""Moving a site's database between SQLite and PostgreSQL (either way, or to its own kind),
without losing or changing a row: `straat-hub db copy`.

The copy reads the tables and columns from both databases' catalogs, so a later migration
changes nothing here: a table is copied column by column under the names both have (SQLite's
hidden rowid goes to the PostgreSQL identity column that stands for it, and back). It
refuses, changing nothing, when the target lacks a table or column the source has rows in,
when the schema versions differ, when either is newer than this code, and when the target
holds rows (unless `force`: then they are replaced).

One snapshot transaction reads the source (a live hub's SQLite file can be the source: the
hub goes on writing, the copy sees one moment); the source is opened read-only. One
transaction writes the target (PostgreSQL: `COPY`), creates its schema there if it has none,
and is committed only after the target's rows were read back and found equal to the
source's: per table the row count and a content checksum. A copy that stops half-way (an
error, a kill -9, a lost link) leaves the target as it was.

The checksum of a table is the sum, modulo 2**256, of SHA-256 over each row's canonical
text (`repr` of the tuple of its values, columns in name order, with PostgreSQL booleans as
0/1, the integers SQLite stores them as). Both drivers give int, float (the same IEEE
double, whose `repr` round-trips exactly), str, bytes and None, so equal rows give equal
bytes on either side. A sum needs no order: no sort of a million rows, and no dependence on
how either database collates text (SQLite compares bytes, PostgreSQL by the database's
locale). Any lost, added or changed row changes it. The row key (`Table.key`: SQLite's
hidden rowid, PostgreSQL's `labels.seq`) is left out of the printed checksum, so that the
same data gives the same checksum in either kind of database (`straat-hub db checksum` of the
source, of the target, of a backup restored elsewhere, and what the copy printed); the copy
also compares a second sum, of each row's hash times (its key + 1), before it commits.
"""

from __future__ import annotations

import hashlib
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .databases import Database, DatabaseError, Table, open_database

MODULUS = 2**256


class CopyError(DatabaseError):
    """The copy is refused or failed; the target is as it was."""


@dataclass
class TableDigest:
    rows: int = 0
    total: int = 0  # sum of the rows' SHA-256 values, modulo 2**256

    def add(self, row: tuple[Any, ...]) -> int:
        """Count `row` in; returns its SHA-256 as an integer."""
        self.rows += 1
        digest = hashlib.sha256(repr(row).encode("utf-8", "surrogatepass")).digest()
        value = int.from_bytes(digest, "big")
        self.total = (self.total + value) % MODULUS
        return value

    def add_keyed(self, value: int, key: Any) -> None:
        """Count in a row whose content hashed to `value` under the row key `key`: the sum of
        value × (key + 1) changes when a key moves to another row, without a second hash."""
        self.rows += 1
        if not isinstance(key, int):
            key = int.from_bytes(hashlib.sha256(repr(key).encode()).digest(), "big")
        self.total = (self.total + value * (key + 1)) % MODULUS

    @property
    def hex(self) -> str:
        return f"{self.total:064x}"


def combined(digests: dict[str, TableDigest]) -> str:
    """One checksum for a database: SHA-256 over the tables' names, counts and checksums."""
    text = "".join(f"{t}\t{d.rows}\t{d.hex}\n" for t, d in sorted(digests.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def _normaliser(table: Table, columns: list[str]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """Rows as the checksum sees them: booleans as 0/1, bytes-likes as bytes."""
    fix = [
        i
        for i, name in enumerate(columns)
        if (c := table.column(name)) is not None and c.kind in ("bool", "bytes", "other")
    ]
    if not fix:
        return lambda row: row

    def normal(row: tuple[Any, ...]) -> tuple[Any, ...]:
        out = list(row)
        for i in fix:
            v = out[i]
            if isinstance(v, bool):
                out[i] = int(v)
            elif isinstance(v, memoryview | bytearray):
                out[i] = bytes(v)
        return tuple(out)

    return normal


@dataclass
class TablePlan:
    source: Table
    target: Table
    #: (source column, target column) of the content, in the target's content order
    pairs: list[tuple[str, str]]
    #: (source, target) of the row key both keep (SQLite's rowid, an identity column)
    key: tuple[str, str] | None

    @property
    def source_columns(self) -> list[str]:
        return [s for s, _ in self.pairs] + ([self.key[0]] if self.key else [])

    @property
    def target_columns(self) -> list[str]:
        return [t for _, t in self.pairs] + ([self.key[1]] if self.key else [])


def plan_table(source: Table, target: Table, source_has_rows: bool) -> TablePlan:
    """Which source column fills which target column. Refuses (CopyError) a source column
    with rows behind it that the target lacks, and a required target column nothing fills."""
    src_names = {c.name for c in source.columns}
    key = (source.key, target.key) if source.key and target.key else None
    pairs: list[tuple[str, str]] = []
    for name in target.content:
        if name in src_names and name != source.key:
            pairs.append((name, name))
        elif (col := target.column(name)) is not None and col.required:
            raise CopyError(
                f"the target's column {target.name}.{name} must have a value and the "
                "source has no such column: the two schemas differ"
            )
    used = {s for s, _ in pairs}
    missing = [n for n in source.content if n not in used]
    if missing and source_has_rows:
        raise CopyError(
            f"the target has no column {', '.join(f'{source.name}.{m}' for m in missing)} "
            "and the source has rows there: nothing was copied"
        )
    return TablePlan(source, target, pairs, key)


@dataclass
class CopyReport:
    source: str
    target: str
    version: int
    created_schema: bool
    replaced: bool
    seconds: float
    #: per table: (rows, checksum) read from the source = read back from the target
    tables: dict[str, TableDigest] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # empty source tables the target lacks

    @property
    def rows(self) -> int:
        return sum(d.rows for d in self.tables.values())

    @property
    def checksum(self) -> str:
        return combined(self.tables)

    def lines(self) -> list[str]:
        width = max([len(t) for t in self.tables] + [5])
        out = [f"{'table':<{width}}  {'rows':>12}  checksum (source = target)"]
        for name, d in sorted(self.tables.items()):
            out.append(f"{name:<{width}}  {d.rows:>12,}  {d.hex[:16]}")
        for name in self.skipped:
            out.append(f"{name:<{width}}  {0:>12,}  (empty, not in the target)")
        rate = self.rows / self.seconds if self.seconds else 0.0
        out.append(
            f"copied {self.rows:,} rows from {self.source} to {self.target} at schema "
            f"version {self.version} in {self.seconds:.1f} s ({rate:,.0f} rows/s)"
        )
        out.append(f"checksum {self.checksum} (source and target agree)")
        return out


def _hashed(
    rows: Iterable[tuple[Any, ...]],
    content: TableDigest,
    keyed: TableDigest,
    plan: TablePlan,
    normal: Callable[..., tuple[Any, ...]],
) -> Iterator[tuple[Any, ...]]:
    """`rows` as they are, adding each to the content digest (without the row key) and,
    when there is a key, its content hash with its key to the keyed digest."""
    n = len(plan.pairs)
    if plan.key:
        for row in rows:
            canon = normal(row)
            keyed.add_keyed(content.add(canon[:n]), canon[n])
            yield row
    else:
        for row in rows:
            content.add(normal(row))
            yield row


def _digests(
    db: Database, table: Table, plan: TablePlan, columns: list[str]
) -> tuple[TableDigest, TableDigest]:
    content, keyed = TableDigest(), TableDigest()
    normal = _normaliser(table, columns)
    for _ in _hashed(db.read(table.name, columns), content, keyed, plan, normal):
        pass
    return content, keyed


def _database_error(exc: Exception) -> bool:
    """An error either driver raised (a refused value, a lost connection, a full disk)."""
    psycopg = sys.modules.get("psycopg")
    return isinstance(exc, sqlite3.Error) or (
        psycopg is not None and isinstance(exc, psycopg.Error)
    )


def copy_database(
    source_location: str,
    target_location: str,
    *,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> CopyReport:
    """Copy every hub table of the source into the target (see the module's docstring)."""
    say = progress or (lambda _line: None)
    started = time.monotonic()
    source = open_database(source_location, readonly=True, what="the source")
    try:
        target = open_database(target_location, create=True, what="the target")
    except BaseException:
        source.close()
        raise
    try:
        return _copy(source, target, force, say, started)
    except DatabaseError:
        raise
    except Exception as exc:
        if not _database_error(exc):
            raise
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise CopyError(f"the copy failed, the target is as it was: {reason}") from exc
    finally:
        target.close()
        source.close()


def _copy(
    source: Database, target: Database, force: bool, say: Callable[[str], None], started: float
) -> CopyReport:
    if source.identity == target.identity:
        raise CopyError(f"the source and the target are the same database ({target.describe()})")
    source.begin()
    version = source.version()
    if version == 0:
        raise CopyError(f"{source.describe()} holds no hub schema: not a hub database")
    if version > source.code_version:
        raise CopyError(
            f"{source.describe()} has schema version {version}, newer than this code's "
            f"{source.code_version}: copy it with the hub version that wrote it"
        )
    target.begin()
    target_version = target.version()
    created = False
    if target_version == 0:
        if target.has_tables():
            raise CopyError(
                f"{target.describe()} holds tables but no hub schema: not a hub database"
            )
        target.create_schema(version)
        created = True
    elif target_version > target.code_version:
        raise CopyError(
            f"{target.describe()} has schema version {target_version}, newer than this code's "
            f"{target.code_version}"
        )
    elif target_version != version:
        raise CopyError(
            f"schema versions differ: the source is at {version}, the target at "
            f"{target_version}: bring both to the same version (straat-hub db migrate) first"
        )
    src_tables, dst_tables = source.tables(), target.tables()
    held = [name for name in dst_tables if target.has_rows(name)]
    if held and not force:
        raise CopyError(
            f"{target.describe()} is not empty (rows in {', '.join(sorted(held))}): give "
            "--force to replace its rows with the source's; nothing was copied"
        )
    plans: list[TablePlan] = []
    skipped: list[str] = []
    for name, table in sorted(src_tables.items()):
        has_rows = source.has_rows(name)
        if name not in dst_tables:
            if has_rows:
                raise CopyError(
                    f"the target has no table {name} and the source has rows in it: "
                    "nothing was copied"
                )
            skipped.append(name)
            continue
        plans.append(plan_table(table, dst_tables[name], has_rows))
    if held:
        target.clear(held)
    report = CopyReport(
        source.describe(),
        target.describe(),
        version,
        created,
        bool(held),
        0.0,
        skipped=skipped,
    )
    keyed: dict[str, TableDigest] = {}
    for plan in plans:
        digest = report.tables.setdefault(plan.target.name, TableDigest())
        whole = keyed.setdefault(plan.target.name, TableDigest())
        normal = _normaliser(plan.source, plan.source_columns)
        rows = source.read(plan.source.name, plan.source_columns)
        target.write(
            plan.target.name, plan.target_columns, _hashed(rows, digest, whole, plan, normal)
        )
        say(f"{plan.target.name}: {digest.rows:,} rows")
    target.after_write([p.target for p in plans])
    say("reading the target back to compare")
    differ = []
    for plan in plans:
        back, back_keyed = _digests(target, plan.target, plan, plan.target_columns)
        want = report.tables[plan.target.name]
        want_keyed = keyed[plan.target.name]
        if (back.rows, back.total, back_keyed.total) != (want.rows, want.total, want_keyed.total):
            differ.append(
                f"{plan.target.name} (source {want.rows:,} rows {want.hex[:16]}, "
                f"target {back.rows:,} rows {back.hex[:16]})"
            )
    if differ:
        raise CopyError(
            "the target's rows differ from the source's, nothing was kept: " + "; ".join(differ)
        )
    target.commit()
    report.seconds = time.monotonic() - started
    return report


def table_digest(db: Database, table: Table) -> TableDigest:
    """Rows and content checksum of one table (its content columns, without the row key)."""
    digest = TableDigest()
    columns = table.content
    normal = _normaliser(table, columns)
    for row in db.read(table.name, columns):
        digest.add(normal(row))
    return digest


def checksums(location: str) -> tuple[str, int, dict[str, TableDigest]]:
    """(where, schema version, per table: rows and checksum) of one database, read in one
    snapshot: `straat-hub db checksum`. Equal to what `copy_database` printed for a database
    it wrote (and for a backup of it restored elsewhere)."""
    db = open_database(location, readonly=True, what="--db")
    try:
        db.begin()
        version = db.version()
        out = {name: table_digest(db, table) for name, table in sorted(db.tables().items())}
        return db.describe(), version, out
    finally:
        db.close()
