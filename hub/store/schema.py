"""Hub schema as numbered migrations, applied in order and recorded in `PRAGMA user_version`."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from .records import StoreError


class SchemaError(StoreError):
    """The database's schema is newer than this code (or not the hub's): nothing changed."""


MIGRATIONS: list[str] = [
    # 1: the project, its videos and clips, operators, kiosks and pairing, leases, labels,
    # alerts and the login log
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE project_versions (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, toml TEXT NOT NULL,
        schema_json TEXT NOT NULL, created_at REAL NOT NULL);
    CREATE TABLE sources (
        sha256 TEXT PRIMARY KEY, name TEXT NOT NULL, path TEXT NOT NULL,
        duration REAL NOT NULL, size INTEGER NOT NULL, ingested_at REAL NOT NULL);
    CREATE TABLE clips (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        sha256 TEXT NOT NULL UNIQUE, size INTEGER NOT NULL, duration REAL NOT NULL,
        name TEXT NOT NULL, source_sha256 TEXT, source_name TEXT,
        start REAL NOT NULL DEFAULT 0, "end" REAL NOT NULL DEFAULT 0,
        gold TEXT, want INTEGER NOT NULL, n_labels INTEGER NOT NULL DEFAULT 0,
        n_open INTEGER NOT NULL DEFAULT 0, added_at REAL NOT NULL);
    CREATE INDEX clips_need ON clips(seq) WHERE n_labels + n_open < want;
    CREATE TABLE operators (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, pin_hash TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1, created_at REAL NOT NULL,
        failed INTEGER NOT NULL DEFAULT 0, locked_until REAL NOT NULL DEFAULT 0);
    CREATE TABLE kiosks (
        id TEXT PRIMARY KEY, paired_at REAL NOT NULL, public_key TEXT,
        last_seen REAL, version TEXT, operator TEXT, outbox INTEGER DEFAULT 0,
        cache_bytes INTEGER DEFAULT 0, active INTEGER NOT NULL DEFAULT 1);
    CREATE TABLE pair_codes (
        code TEXT PRIMARY KEY, created_at REAL NOT NULL, expires_at REAL NOT NULL,
        used_by TEXT, used_at REAL);
    CREATE TABLE leases (
        id TEXT PRIMARY KEY, operator TEXT NOT NULL, kiosk TEXT NOT NULL,
        created_at REAL NOT NULL, expires_at REAL NOT NULL);
    CREATE INDEX leases_expiry ON leases(expires_at);
    CREATE TABLE assignments (
        operator TEXT NOT NULL, clip TEXT NOT NULL, lease_id TEXT NOT NULL,
        assigned_at REAL NOT NULL, state TEXT NOT NULL DEFAULT 'open',
        PRIMARY KEY (operator, clip)) WITHOUT ROWID;
    CREATE INDEX assignments_lease ON assignments(lease_id);
    CREATE TABLE labels (
        uuid TEXT PRIMARY KEY, operator TEXT NOT NULL, clip TEXT NOT NULL,
        kiosk TEXT NOT NULL, lease_id TEXT, schema_version INTEGER NOT NULL,
        "values" TEXT NOT NULL, segments TEXT NOT NULL, telemetry TEXT NOT NULL,
        created_at REAL NOT NULL, received_at REAL NOT NULL,
        retracted INTEGER NOT NULL DEFAULT 0, review INTEGER NOT NULL DEFAULT 0);
    CREATE INDEX labels_clip ON labels(clip);
    CREATE INDEX labels_operator ON labels(operator, created_at);
    CREATE TABLE alerts (
        uuid TEXT PRIMARY KEY, operator TEXT NOT NULL, clip TEXT NOT NULL,
        kiosk TEXT NOT NULL, created_at REAL NOT NULL, acknowledged_at REAL);
    CREATE TABLE sessions_log (
        id INTEGER PRIMARY KEY, operator TEXT NOT NULL, kiosk TEXT NOT NULL,
        kind TEXT NOT NULL, at REAL NOT NULL);
    """,
    # 2: web accounts, API tokens, sessions
    """
    CREATE TABLE users (
        username TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL,
        created_at REAL NOT NULL);
    CREATE TABLE api_tokens (
        token_hash TEXT PRIMARY KEY, role TEXT NOT NULL, name TEXT NOT NULL,
        created_at REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE web_sessions (
        id_hash TEXT PRIMARY KEY, username TEXT NOT NULL, role TEXT NOT NULL,
        csrf TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL);
    """,
    # 3: adaptive overlap and training: consensus per clip, operators' training state
    """
    ALTER TABLE clips ADD COLUMN confidence REAL NOT NULL DEFAULT 0;
    ALTER TABLE clips ADD COLUMN consensus TEXT;
    ALTER TABLE operators ADD COLUMN passed_training REAL NOT NULL DEFAULT 0;  -- when (0 = not yet)
    CREATE INDEX clips_gold ON clips(seq) WHERE gold IS NOT NULL;
    """,
    # model predictions: per model and version, the import log (idempotent
    # re-imports), and a priority per clip for the assignment order (higher = sooner)
    """
    CREATE TABLE model_versions (
        model TEXT NOT NULL, version INTEGER NOT NULL, created_at REAL NOT NULL,
        PRIMARY KEY (model, version)) WITHOUT ROWID;
    CREATE TABLE predictions (
        model TEXT NOT NULL, version INTEGER NOT NULL, clip TEXT NOT NULL,
        label TEXT NOT NULL, scores TEXT NOT NULL, created_at REAL NOT NULL,
        PRIMARY KEY (model, version, clip)) WITHOUT ROWID;
    CREATE INDEX predictions_clip ON predictions(clip, model, version);
    CREATE TABLE prediction_imports (
        model TEXT NOT NULL, version INTEGER NOT NULL, fingerprint TEXT NOT NULL,
        source TEXT NOT NULL, rows INTEGER NOT NULL, clips INTEGER NOT NULL,
        imported_at REAL NOT NULL, PRIMARY KEY (model, version, fingerprint)) WITHOUT ROWID;
    ALTER TABLE clips ADD COLUMN priority REAL NOT NULL DEFAULT 0;
    CREATE INDEX clips_priority ON clips(priority DESC, seq) WHERE n_labels + n_open < want;
    """,
    # indexes the load and growth benchmarks showed missing (benchmarks/RESULTS-load.md):
    # assignments_open: expire_leases() scanned every assignment ever made, now only the open
    # ones. clips_free: SQLite cannot use a partial index whose WHERE compares an expression
    # with a column (clips_need, clips_priority: "no query solution" even with INDEXED BY),
    # so Store.assign() scans the whole clips table; with its WHERE written as
    # `n_labels + n_open - want < 0` it walks this index instead.
    """
    CREATE INDEX assignments_open ON assignments(lease_id) WHERE state = 'open';
    CREATE INDEX clips_free ON clips(seq) WHERE n_labels + n_open - want < 0;
    """,
    # 6: the work order by model priority, on an index the planner can use (see 5)
    """
    CREATE INDEX clips_free_priority ON clips(priority DESC, seq)
        WHERE n_labels + n_open - want < 0;
    """,
    # 7: breaks the kiosks report (BreakTaken; the uuid makes a resend harmless)
    """
    CREATE TABLE breaks (
        uuid TEXT PRIMARY KEY, operator TEXT NOT NULL, kiosk TEXT NOT NULL,
        started_at REAL NOT NULL, seconds REAL NOT NULL, enforced INTEGER NOT NULL,
        kind TEXT NOT NULL DEFAULT '', received_at REAL NOT NULL);
    CREATE INDEX breaks_operator ON breaks(operator, started_at);
    """,
    # 8: indexes no query uses, each one more write per label or lease (checked
    # with EXPLAIN QUERY PLAN of every statement, benchmarks/growth.py): clips_need and
    # clips_priority (partial indexes the planner cannot match, see 5), clips_free (assign
    # orders by priority and walks clips_free_priority), assignments_lease (lease expiry
    # walks assignments_open)
    """
    DROP INDEX IF EXISTS clips_need;
    DROP INDEX IF EXISTS clips_priority;
    DROP INDEX IF EXISTS clips_free;
    DROP INDEX IF EXISTS assignments_lease;
    """,
    # 9: a pairing code may be for re-pairing one kiosk id (staff ask for it); web sessions
    # carry the password version they were made with (a new password or role ends them);
    # refused kiosk messages counted per kiosk and reason, for staff; failed web logins per
    # user name and source address (lock-outs staff can lift); the last login of each
    # operator at each kiosk the hub has seen (its labels are accepted from there)
    """
    ALTER TABLE pair_codes ADD COLUMN kiosk TEXT;
    ALTER TABLE users ADD COLUMN pw_version INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE web_sessions ADD COLUMN pw_version INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE refusals (
        kiosk TEXT NOT NULL, reason TEXT NOT NULL, n INTEGER NOT NULL,
        last_at REAL NOT NULL, last_detail TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (kiosk, reason)) WITHOUT ROWID;
    CREATE TABLE web_login_failures (
        username TEXT NOT NULL, source TEXT NOT NULL, at REAL NOT NULL);
    CREATE INDEX web_login_failures_key ON web_login_failures(username, source, at);
    CREATE INDEX web_login_failures_source ON web_login_failures(source, at);
    CREATE TABLE kiosk_logins (
        kiosk TEXT NOT NULL, operator TEXT NOT NULL, at REAL NOT NULL,
        PRIMARY KEY (kiosk, operator)) WITHOUT ROWID;
    -- logins the hub logged before this table: labels still queued at kiosks stay covered
    INSERT INTO kiosk_logins (kiosk, operator, at)
        SELECT kiosk, operator, max(at) FROM sessions_log WHERE kind = 'login'
        GROUP BY kiosk, operator;
    """,
    # 10: one program, several sites on one database: the site that stored each label, the
    # site each kiosk was last seen at, the site a pairing code was made at (it pairs there
    # only). What was stored before belongs to the one site there was, named by its hub id.
    """
    ALTER TABLE labels ADD COLUMN site TEXT NOT NULL DEFAULT '';
    ALTER TABLE kiosks ADD COLUMN site TEXT NOT NULL DEFAULT '';
    ALTER TABLE pair_codes ADD COLUMN site TEXT;
    UPDATE labels SET site = coalesce((SELECT value FROM meta WHERE key = 'hub_id'), '');
    UPDATE kiosks SET site = coalesce((SELECT value FROM meta WHERE key = 'hub_id'), '');
    """,
]


def schema_version(conn: sqlite3.Connection) -> int:
    """The hub schema version recorded in the database (0: no hub schema there)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def script_statements(script: str) -> Iterator[str]:
    """The statements of a migration script one by one, so that they run inside a
    transaction the caller holds (`executescript` would commit it first)."""
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            yield buf
            buf = ""


def apply_migrations(conn: sqlite3.Connection, start: int, stop: int) -> None:
    """Run migrations `start + 1` … `stop` and record `stop`, in the caller's transaction."""
    for script in MIGRATIONS[start:stop]:
        for statement in script_statements(script):
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {int(stop)}")


def migrate(conn: sqlite3.Connection, upto: int | None = None) -> int:
    """Bring `conn` (autocommit: `isolation_level = None`) to the newest schema, or to
    version `upto`, one transaction per migration; returns the version reached. A database
    at a newer version than this code knows is refused unchanged (SchemaError)."""
    current = schema_version(conn)
    if current > len(MIGRATIONS):
        raise SchemaError(
            f"the database has hub schema version {current}, newer than this code's "
            f"{len(MIGRATIONS)}: upgrade the hub before using this database"
        )
    target = len(MIGRATIONS) if upto is None else upto
    for number in range(current + 1, target + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            apply_migrations(conn, number - 1, number)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return max(current, target)
