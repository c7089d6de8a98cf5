"""The store's connection: opening SQLite or PostgreSQL, transactions, small query helpers.

`StoreBase` is what every concern's module (meta, media, work, labels, consensus, operators,
kiosks) builds on: `self.conn` (a sqlite3 connection, or `PgConnection` in its shape),
`self.dialect` for the fragments where the engines differ, `transaction()`, `_one` and
`_rows`.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .dialect import POSTGRES, SQLITE, Dialect, PgConnection, is_postgres_url
from .schema import SchemaError, migrate

if TYPE_CHECKING:
    import psycopg

#: Size the WAL file is cut back to when it restarts (with `defer_checkpoints`).
WAL_KEEP_BYTES = 64 * 2**20
#: Milliseconds a connection waits for another's write lock before it gives up.
BUSY_TIMEOUT_MS = 5000
#: Most parameters in one `IN (…)` list.
IN_CHUNK = 500


def private_folder(folder: Path) -> None:
    """Make `folder` (and its parents) if needed, readable by the owner only (0700), whatever
    the umask; the hub's database and key in it are 0600 (`Store`, `hub.site.keys`)."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)


def _private_file(path: Path) -> None:
    """`path` (and SQLite's -wal and -shm beside it) readable by the owner only."""
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if p.exists() and p.stat().st_mode & 0o077:
            os.chmod(p, 0o600)


def chunks(items: list[Any], size: int = IN_CHUNK) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def marks(n: int) -> str:
    """`?, ?, …` for an `IN (…)` list of `n`."""
    return ",".join("?" * n)


def connect_sqlite(
    path: Path, *, read_only: bool = False, busy_ms: int = BUSY_TIMEOUT_MS
) -> sqlite3.Connection:
    """A connection to the SQLite file `path` with the settings every hub connection has:
    BEGIN and COMMIT are the caller's (autocommit), a busy timeout, foreign keys, a large
    page cache and memory-mapped reads. `read_only`: the file is opened read-only, so that no
    statement can change it (a copy's source). sqlite3.DatabaseError for a file that is not
    a database."""
    if read_only:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    else:
        conn = sqlite3.connect(str(path))
    try:
        conn.isolation_level = None  # we issue BEGIN/COMMIT ourselves
        conn.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA cache_size=-262144")  # 256 MiB of pages (default: 2 MB)
        conn.execute("PRAGMA mmap_size=4294967296")  # reads straight from the page cache
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # a database at all?
    except BaseException:
        conn.close()
        raise
    return conn


def connect_postgres(url: str) -> psycopg.Connection[Any]:
    """An autocommit connection of its own to the PostgreSQL database `url` (BEGIN and COMMIT
    are the caller's), outside the store's pool: a copy or a migration, whose long
    transaction may sit idle while it checks what it read. DatabaseUnavailable, in words and
    without the password, for a wrong connection string or a server that cannot be reached."""
    import psycopg

    from .pg.connect import CONNECT_TIMEOUT, check_reachable

    check_reachable(url)
    return psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)


def _migrated(conn: Any, where: str, bring: Callable[[Any], int]) -> None:
    """`bring(conn)` brings the schema up to date; on an error the connection is closed, and
    a newer schema (SchemaError) is said with `where` it is."""
    try:
        bring(conn)
    except SchemaError as exc:
        conn.close()
        raise SchemaError(f"{where}: {exc}") from None
    except BaseException:
        conn.close()
        raise


def _open_sqlite(path: Path, readonly: bool) -> sqlite3.Connection:
    if not readonly:  # it holds PIN hashes and open pairing codes: owner only
        _private_file(path)
    conn = connect_sqlite(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    if not readonly:
        _migrated(conn, str(path), migrate)
    return conn


def _open_postgres(url: str, readonly: bool) -> PgConnection:
    """A handle on a connection from the process's pool for `url` (psycopg-pool), the schema
    brought up to date first unless `readonly`."""
    from .pg.connect import describe
    from .pg.schema import apply_schema

    conn = PgConnection.pooled(url)
    if not readonly:
        _migrated(conn, describe(url), lambda c: apply_schema(c.raw))
    return conn


class StoreBase:
    """One connection to the hub's database, SQLite (a file path) or PostgreSQL (a
    `postgresql://` URL). `readonly`: a second handle on a database the hub has opened (no
    migration, no file mode change; `reads_only` makes it refuse writes)."""

    conn: Any  # sqlite3.Connection or PgConnection: the same calls on both
    dialect: Dialect
    _site: str | None = None

    def __init__(
        self,
        location: Path | str,
        *,
        readonly: bool = False,
        read_location: str | None = None,
        site: str | None = None,
    ) -> None:
        if is_postgres_url(location):
            self.location: str = str(location)
            self.path: Path | None = None
            self.conn = _open_postgres(str(location), readonly)
            self.dialect = POSTGRES
        else:
            self.path = Path(location)
            self.location = str(self.path)
            self.conn = _open_sqlite(self.path, readonly)
            self.dialect = SQLITE
        self.readonly = readonly
        #: where reads that need not be the newest may go (a PostgreSQL read replica)
        self.read_location = read_location or self.location
        #: the site this handle writes for (labels, kiosks, pairing codes); None: the
        #: database's one site, named by its hub id (`Meta.site`)
        self._site = site
        self._init_state()

    def _init_state(self) -> None:
        self._depth = 0
        #: expire_leases() has handled every lease expiring at or before this (None: not
        #: known, e.g. after a rollback: the next sweep walks all open assignments)
        self._swept_to: float | None = None
        #: per operator, the gold `seq` to look from next (see `Work._unseen_gold`; in memory,
        #: a restart looks from the start once)
        self._gold_from: dict[str, int] = {}
        #: operator ids this handle has found (operators are never deleted: `known_operators`)
        self._operators_seen: set[str] = set()
        #: PostgreSQL: kiosk reports of the open transaction, written with its COMMIT
        #: (`Kiosks.kiosk_seen`, `hub.store.pg.kiosks`)
        self._seen: dict[str, dict[str, Any]] = {}
        #: a transaction of `transaction()`'s own is open (not a caller's, nor a snapshot)
        self._writing = False

    def hub_id(self) -> str:
        """The database's id (`Meta.hub_id`)."""
        raise NotImplementedError

    @property
    def site(self) -> str:
        """The site this handle stores labels, kiosks and pairing codes for: the name it was
        opened with, else the database's hub id (one site, the default)."""
        if not self._site:
            self._site = self.hub_id()
        return self._site

    @property
    def postgres(self) -> bool:
        return self.dialect is POSTGRES

    def probe(self, timeout: int = 2) -> None:
        """Whether the database answers now, on a connection of its own (safe from another
        thread): DatabaseUnavailable with the reason otherwise. A SQLite file always does."""
        if self.postgres:
            from .pg.connect import check_reachable

            check_reachable(self.location, timeout)

    def reopen(self, *, readonly: bool = True) -> StoreBase:
        """Another handle on the same database (another connection: worker threads, readers)."""
        return type(self)(self.location, readonly=readonly, site=self._site)

    def close(self) -> None:
        self.conn.close()

    def reads_only(self, cache_mib: int = 64) -> None:
        """This handle refuses writes from now on (a reader beside the hub's writer; SQLite:
        with its own page cache of `cache_mib`)."""
        if self.postgres:
            self.conn.setting("SET default_transaction_read_only = on")
            return
        self.conn.execute("PRAGMA query_only=1")
        self.conn.execute(f"PRAGMA cache_size={-1024 * int(cache_mib)}")

    def defer_checkpoints(self) -> None:
        """Commits on this connection never run a WAL checkpoint (they would pay for copying
        pages and an fsync); someone must call `checkpoint` instead (the hub: a thread with
        its own connection, every CHECKPOINT_SECONDS). The WAL file is cut back to
        `WAL_KEEP_BYTES` when it restarts. PostgreSQL checkpoints itself: nothing to do."""
        if self.postgres:
            return
        self.conn.execute("PRAGMA wal_autocheckpoint=0")
        self.conn.execute(f"PRAGMA journal_size_limit={WAL_KEEP_BYTES}")

    def checkpoint(self, mode: str = "PASSIVE") -> tuple[int, int, int]:
        """Copy committed WAL pages into the database: PASSIVE never waits for (nor blocks)
        the writer; TRUNCATE (at shutdown) also empties the WAL file. Returns SQLite's
        (busy, frames in the WAL, frames checkpointed); (0, 0, 0) on PostgreSQL."""
        if mode not in ("PASSIVE", "FULL", "RESTART", "TRUNCATE"):
            raise ValueError(mode)
        if self.postgres:
            return 0, 0, 0
        busy, log, done = self.conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        return int(busy), int(log), int(done)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group several calls into one commit (group commit: ack only after this exits).

        Nested use becomes a savepoint, so one failed message in a batch rolls back alone.
        """
        if self.conn.in_transaction and self.postgres:
            # held and sent with the next statement (PgConnection): no round trip of its own
            self._depth += 1
            name, own = self.conn.savepoint(f"sp{self._depth}")
            try:
                yield
            except BaseException:
                self._swept_to = None  # the rollback may undo a lease sweep
                self.conn.rollback_to(name, own)
                raise
            finally:
                self._depth -= 1
            self.conn.release(name, own)
            return
        if self.conn.in_transaction:
            self._depth += 1
            name = f"sp{self._depth}"
            self.conn.execute(f"SAVEPOINT {name}")
            try:
                yield
            except BaseException:
                self._swept_to = None  # the rollback may undo a lease sweep
                self.conn.execute(f"ROLLBACK TO {name}")
                self.conn.execute(f"RELEASE {name}")
                raise
            finally:
                self._depth -= 1
            self.conn.execute(f"RELEASE {name}")
            return
        self.conn.execute(self.dialect.begin)
        self._writing = True
        try:
            yield
        except BaseException:
            self._swept_to = None  # the rollback may undo a lease sweep
            self._writing = False
            self._seen.clear()
            self._rollback()
            raise
        self._writing = False
        try:
            if self._seen:
                from .pg.kiosks import SEEN, seen_params

                self.conn.hold(SEEN, seen_params(self.site, self._seen))  # sent with the COMMIT
                self._seen.clear()
            self.conn.execute("COMMIT")
        except BaseException:
            self._swept_to = None
            if self.conn.in_transaction:
                self._rollback()
            raise

    def _rollback(self) -> None:
        try:
            self.conn.execute("ROLLBACK")
        except Exception:
            if not self.postgres:  # a PostgreSQL connection that broke has nothing to undo
                raise

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside see one state of the database (a read transaction; writers go on)."""
        if self.conn.in_transaction:
            yield
            return
        self.conn.execute(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" if self.postgres else "BEGIN"
        )
        try:
            yield
        finally:
            self.conn.execute("COMMIT")

    def _one(self, sql: str, params: Iterable[Any] = ()) -> Any:
        row = self.conn.execute(sql, tuple(params)).fetchone()
        return None if row is None else row[0]

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        """Rows as dicts by column name."""
        cursor = self.conn.execute(sql, tuple(params))
        cols = [d[0] for d in cursor.description]
        return [dict(zip(cols, row, strict=True)) for row in cursor]
