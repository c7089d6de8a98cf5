"""`straat-hub db copy / migrate / checksum` (hub/store/copy.py, hub/store/databases.py)
against real SQLite files and a real throwaway PostgreSQL server (tests/pg.py).

The PostgreSQL schema this code makes is `hub.store.pg.schema.SQLITE_VERSION`; a copy needs
both sides at the same version, so the SQLite hubs copied to PostgreSQL here are made by the
hub's own migrations at that version (`old_hub`) and filled with values chosen to trip a
careless copy: floats that are not short decimals, text beyond ASCII, JSON with its own
spacing, NULLs, big integers, labels whose rowids have gaps, a table without a key.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from hub.cli import main
from hub.store.copy import CopyError, checksums, copy_database
from hub.store.databases import DatabaseError, SqliteDatabase, migrate_database
from hub.store.pg.schema import SQLITE_VERSION
from hub.store.schema import MIGRATIONS, migrate
from tests.conftest import ROOT
from tests.pg import PgServer
from tests.waiting import wait_until

PG_VERSION = SQLITE_VERSION


def old_hub(path: Path, labels: int = 50, version: int = PG_VERSION) -> Path:
    """A SQLite hub database at schema `version` with rows in most tables."""
    conn = sqlite3.connect(path)
    conn.isolation_level = None
    assert migrate(conn, upto=version) == version
    conn.execute("BEGIN")
    conn.execute("INSERT INTO meta (key, value) VALUES ('site', 'Zaal 2 — Utrecht')")
    clips = []
    for i in range(10):
        sha = hashlib.sha256(f"c{i}".encode()).hexdigest()
        clips.append(sha)
        conn.execute(
            'INSERT INTO clips (sha256, size, duration, name, source_sha256, start, "end", '
            "gold, want, n_labels, added_at, confidence, consensus, priority) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 3, ?, ?, ?, ?, ?)",
            (
                sha,
                2**40 + i,
                10.0 / 3 + i,
                f"clip {i} ✓",
                None if i % 2 else "src",
                0.1 * i,
                0.1 * i + 10.0 / 3,
                "gewelddadig" if i == 3 else None,
                i % 4,
                1.7e9 + i / 7,
                1 / 3 if i % 2 else 0.0,
                None if i % 3 else "niet_gewelddadig",
                1e-300 * i,
            ),
        )
    conn.execute(
        "INSERT INTO operators (id, name, pin_hash, active, created_at, failed, locked_until, "
        "passed_training) VALUES ('op1', 'Zoë', 'hash', 1, 1.5, 0, 0, 1700000000.25)"
    )
    conn.execute(
        "INSERT INTO kiosks (id, paired_at, public_key, last_seen, version, operator, outbox, "
        "cache_bytes, active) VALUES ('k1', 1.0, 'pk', NULL, '1.0', NULL, 3, 2, 1)"
    )
    conn.execute(
        "INSERT INTO users (username, role, password_hash, created_at) "
        "VALUES ('anna', 'staff', 'h', 2.0)"
    )
    conn.execute(
        "INSERT INTO web_sessions (id_hash, username, role, csrf, created_at, expires_at) "
        "VALUES ('id', 'anna', 'staff', 'c', 1.0, 2.0)"
    )
    conn.execute(
        "INSERT INTO sessions_log (id, operator, kiosk, kind, at) VALUES (7, 'op1', 'k1', 'login', 3.0)"
    )
    conn.execute(
        "INSERT INTO breaks (uuid, operator, kiosk, started_at, seconds, enforced, kind, "
        "received_at) VALUES ('b1', 'op1', 'k1', 4.0, 300.0, 1, '', 5.0)"
    )
    conn.execute(
        "INSERT INTO leases (id, operator, kiosk, created_at, expires_at) "
        "VALUES ('l1', 'op1', 'k1', 1.0, 61.0)"
    )
    conn.execute(
        "INSERT INTO assignments (operator, clip, lease_id, assigned_at, state) "
        "VALUES ('op1', ?, 'l1', 1.0, 'open')",
        (clips[0],),
    )
    if version >= 9:  # the tables and columns of migration 9
        conn.execute("UPDATE users SET pw_version = 3")
        conn.execute(
            "INSERT INTO pair_codes (code, created_at, expires_at, kiosk) "
            "VALUES ('123456', 1.0, 301.0, 'k1')"
        )
        conn.execute(
            "INSERT INTO refusals (kiosk, reason, n, last_at, last_detail) "
            "VALUES ('k1', 'stale', 2, 6.5, 'ë')"
        )
        conn.executemany(  # no key: SQLite's hidden rowid, PostgreSQL's identity column
            "INSERT INTO web_login_failures (username, source, at) VALUES (?, '10.0.0.9', ?)",
            [("anna", 7.0), ("anna", 7.0), ("bob", 1 / 3)],
        )
        conn.execute("INSERT INTO kiosk_logins (kiosk, operator, at) VALUES ('k1', 'op1', 3.0)")
    conn.executemany(
        'INSERT INTO labels (uuid, operator, clip, kiosk, lease_id, schema_version, "values", '
        "segments, telemetry, created_at, received_at, retracted, review) "
        "VALUES (?, ?, ?, 'k1', ?, 1, ?, ?, ?, ?, ?, ?, ?)",
        (
            (
                f"u{i:07d}",
                f"op{i % 5}",
                clips[i % 10],
                None if i % 2 else "l1",
                '["gewelddadig"]' if i % 3 else '[ "niet_gewelddadig" ]',
                "[]" if i % 4 else '[{"t": 1.25, "note": "ë\\u00eb"}]',
                f'{{"ms": {i},  "keys": ["space"]}}',
                1.7e9 + i * 0.001,
                1.7e9 + i * 0.001 + 1 / 7,
                int(i % 11 == 0),
                int(i % 13 == 0),
            )
            for i in range(labels)
        ),
    )
    conn.execute("DELETE FROM labels WHERE uuid IN ('u0000003', 'u0000004')")  # rowid gaps
    if version >= 10:  # labels and kiosks of two sites
        conn.execute("UPDATE labels SET site = CASE WHEN rowid % 2 THEN 'north' ELSE 'süd' END")
        conn.execute("UPDATE kiosks SET site = 'north'")
    conn.execute("COMMIT")
    conn.close()
    return path


def content(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of a SQLite file (labels with their rowid), sorted."""
    conn = sqlite3.connect(path)
    try:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        out = {}
        for name in names:
            extra = "rowid, " if name == "labels" else ""
            out[name] = sorted(conn.execute(f'SELECT {extra}* FROM "{name}"'), key=repr)
        return out
    finally:
        conn.close()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pg_rows(url: str, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def labels_copying(admin: psycopg.Connection[Any], dbname: str) -> bool:
    """A `db copy` into `dbname` is copying the labels (only they have 5,000 rows)."""
    row = admin.execute(
        "SELECT p.tuples_processed FROM pg_stat_progress_copy p "
        "JOIN pg_database d ON d.oid = p.datid WHERE d.datname = %s",
        (dbname,),
    ).fetchone()
    return bool(row and row[0] >= 5_000)


def test_sqlite_to_postgres_and_back_keeps_every_value(tmp_path: Path, pg_url: str) -> None:
    source = old_hub(tmp_path / "hub.db")
    before = sha256(source)
    report = copy_database(str(source), pg_url)
    assert sha256(source) == before  # opened read-only
    assert report.created_schema and not report.replaced
    assert report.tables["labels"].rows == 48 and report.tables["clips"].rows == 10
    assert pg_rows(pg_url, "SELECT max(version) FROM schema_version") == [(PG_VERSION,)]
    # planner statistics made for the copied rows (not left for autovacuum)
    analyzed = "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = %s"
    assert pg_rows(pg_url, analyzed, ["labels"]) == [(True,)]
    # labels keep their arrival order: SQLite's rowid is PostgreSQL's seq, gaps and all
    seqs = [r[0] for r in pg_rows(pg_url, "SELECT seq FROM labels ORDER BY seq")]
    assert seqs == [1, 2, 3] + list(range(6, 51))
    # identity sequences follow the copied rows: the next label gets seq 51
    with psycopg.connect(pg_url) as conn:
        conn.execute(
            'INSERT INTO labels (uuid, operator, clip, kiosk, schema_version, "values", '
            "segments, telemetry, created_at, received_at) "
            "VALUES ('new', 'op1', 'c', 'k1', 1, '[]', '[]', '{}', 1, 1)"
        )
        conn.execute(
            "INSERT INTO sessions_log (operator, kiosk, kind, at) VALUES ('op1', 'k1', 'x', 1)"
        )
        assert conn.execute("SELECT seq FROM labels WHERE uuid = 'new'").fetchone() == (51,)
        assert conn.execute("SELECT max(id) FROM sessions_log").fetchone() == (8,)
        conn.rollback()
    assert checksums(pg_url)[2] == checksums(str(source))[2]  # the same data, the same sums
    back = tmp_path / "back.db"
    report_back = copy_database(pg_url, str(back))
    assert report_back.checksum == report.checksum
    assert content(back) == content(source)  # every value, every labels rowid
    assert back.stat().st_mode & 0o777 == 0o600


def test_cli_copy_prints_counts_and_checksum_equal_to_db_checksum(
    tmp_path: Path, pg_url: str
) -> None:
    source = old_hub(tmp_path / "hub.db")
    done = CliRunner().invoke(main, ["db", "copy", "--from", str(tmp_path), "--to", pg_url])
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    assert any(line.split()[:2] == ["labels", "48"] for line in lines), done.stdout
    printed = lines[-1].split()[1]
    assert lines[-1] == f"checksum {printed} (source and target agree)"
    for db in (pg_url, str(source)):
        summed = CliRunner().invoke(main, ["db", "checksum", "--db", db])
        assert summed.exit_code == 0, summed.output
        assert summed.stdout.splitlines()[-1].endswith(f"checksum {printed}")
    # the password-free description of the target, never the URL's secrets
    assert "(PostgreSQL)" in done.stdout
    # the way back: --to given, --from from $STRAAT_DB (as the README's command has it)
    back = tmp_path / "back.db"
    done = CliRunner().invoke(main, ["db", "copy", "--to", str(back)], env={"STRAAT_DB": pg_url})
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines()[-1] == f"checksum {printed} (source and target agree)"
    assert content(back) == content(source)


def test_non_empty_target_refused_unless_force(tmp_path: Path, pg_url: str) -> None:
    source = old_hub(tmp_path / "hub.db")
    first = copy_database(str(source), pg_url)
    with psycopg.connect(pg_url) as conn:  # the target changes after the first copy
        conn.execute("DELETE FROM labels WHERE uuid = 'u0000010'")
        conn.execute(
            "INSERT INTO users (username, role, password_hash, created_at) "
            "VALUES ('extra', 'lead', 'h', 1.0)"
        )
    changed = checksums(pg_url)
    with pytest.raises(CopyError, match=r"not empty \(rows in .*labels.*--force"):
        copy_database(str(source), pg_url)
    assert checksums(pg_url) == changed  # refused: nothing changed
    again = copy_database(str(source), pg_url, force=True)
    assert again.replaced and again.checksum == first.checksum
    assert checksums(pg_url)[2] == checksums(str(source))[2]
    assert pg_rows(pg_url, "SELECT count(*) FROM users WHERE username = 'extra'") == [(0,)]


def test_kill_9_mid_copy_leaves_the_target_empty_and_a_rerun_succeeds(
    tmp_path: Path, pg_server: PgServer, pg_url: str
) -> None:
    source = old_hub(tmp_path / "hub.db", labels=100_000)
    dbname = pg_url.split("/")[-1].split("?")[0]
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "db", "copy", "--from", str(source), "--to", pg_url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    admin = psycopg.connect(pg_server.url(), autocommit=True)
    try:
        wait_until(
            lambda: labels_copying(admin, dbname), 60, "the copy of labels under way", poll=0.01
        )
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL

        def gone() -> bool:
            row = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (dbname,)
            ).fetchone()
            return row == (0,)

        wait_until(gone, 30, "the killed copy's server process gone")
    finally:
        admin.close()
        if proc.stdout:
            proc.stdout.close()
    # as it was: no table at all (the schema was made in the copy's transaction)
    assert pg_rows(pg_url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]
    report = copy_database(str(source), pg_url)
    assert report.tables["labels"].rows == 100_000 - 2
    assert checksums(pg_url)[2] == checksums(str(source))[2]


def test_newer_schemas_refused_and_nothing_changed(tmp_path: Path, pg_url: str) -> None:
    newer = old_hub(tmp_path / "newer.db")
    with sqlite3.connect(newer) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    before = sha256(newer)
    with pytest.raises(CopyError, match="newer than this code"):
        copy_database(str(newer), pg_url)
    with pytest.raises(CopyError, match="newer than this code"):
        copy_database(str(newer), str(tmp_path / "new.db"))
    assert not (tmp_path / "new.db").exists()  # the refused copy leaves no empty file behind
    with pytest.raises(DatabaseError, match="newer than this code's .*nothing was changed"):
        migrate_database(str(newer))
    assert sha256(newer) == before
    assert pg_rows(pg_url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]
    # a PostgreSQL target at a newer version
    copy_database(str(old_hub(tmp_path / "hub.db")), pg_url)
    with psycopg.connect(pg_url) as conn:
        conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (PG_VERSION + 1,))
    mark = checksums(pg_url)
    with pytest.raises(CopyError, match="newer than this code"):
        copy_database(str(tmp_path / "hub.db"), pg_url, force=True)
    done = CliRunner().invoke(main, ["db", "migrate", "--db", pg_url])
    assert done.exit_code == 1 and "newer than this code" in done.output
    assert checksums(pg_url) == mark


def test_versions_must_match_and_missing_columns_refused(tmp_path: Path, pg_url: str) -> None:
    # a source at the code's SQLite version when this code's PostgreSQL schema is older
    current = tmp_path / "current.db"
    conn = sqlite3.connect(current)
    migrate(conn)
    conn.close()
    if len(MIGRATIONS) > PG_VERSION:
        with pytest.raises(DatabaseError, match=f"PostgreSQL schema version {PG_VERSION} only"):
            copy_database(str(current), pg_url)
    # a column the target lacks, with rows behind it
    odd = old_hub(tmp_path / "odd.db")
    with sqlite3.connect(odd) as conn:
        conn.execute("ALTER TABLE labels ADD COLUMN mood TEXT")
        conn.execute("UPDATE labels SET mood = 'ok' WHERE uuid = 'u0000001'")
    with pytest.raises(CopyError, match=r"no column labels\.mood"):
        copy_database(str(odd), pg_url)
    # a table the target lacks, with rows
    with sqlite3.connect(odd) as conn:
        conn.execute("ALTER TABLE labels DROP COLUMN mood")
        conn.execute("CREATE TABLE notes (x TEXT)")
        conn.execute("INSERT INTO notes VALUES ('x')")
    with pytest.raises(CopyError, match="no table notes"):
        copy_database(str(odd), pg_url)
    assert pg_rows(pg_url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]
    # the same table empty: copied without it, and said so
    with sqlite3.connect(odd) as conn:
        conn.execute("DELETE FROM notes")
    assert copy_database(str(odd), pg_url).skipped == ["notes"]


def test_wrong_connection_string_and_server_down_one_line_password_masked(
    tmp_path: Path,
) -> None:
    source = old_hub(tmp_path / "hub.db")
    nowhere = tmp_path / "no-server"
    nowhere.mkdir()
    url = f"postgresql://straat:s3cret-pw@/hub?host={nowhere}"
    for target in (url, "postgresql://straat:s3cret-pw@/hub?sslmode=bogus"):
        done = subprocess.run(
            [sys.executable, "-m", "hub.cli", "db", "copy", "--from", str(source), "--to", target],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1
        said = done.stderr.strip()
        assert len(said.splitlines()) == 1 and said.startswith("Error: "), said
        assert "s3cret" not in said and "s3cret" not in done.stdout
    assert "***" in said or "sslmode" in said
    done = CliRunner().invoke(main, ["db", "copy", "--from", str(tmp_path / "x.db"), "--to", url])
    assert done.exit_code == 1 and "no database at" in done.output


def test_live_hub_source_is_read_in_one_snapshot(tmp_path: Path) -> None:
    """A hub keeps storing labels (the Store, WAL) while its file is copied SQLite to SQLite:
    the copy is one moment of it (every clip's counter matches its labels)."""
    from hub.store import NewLabel, Store

    data = tmp_path / "hub"
    data.mkdir()
    store = Store(data / "hub.db")
    shas = [hashlib.sha256(f"c{i}".encode()).hexdigest() for i in range(200)]
    for sha in shas:
        store.add_clip(sha, 1, 1.0, sha[:8], want=1000)
    stop = threading.Event()
    batches = 0

    def write() -> None:
        nonlocal batches
        writer = Store(data / "hub.db")
        n = 0
        while not stop.is_set():
            writer.add_labels(
                "k1",
                [
                    NewLabel(
                        f"w{n}-{j}", f"op{j}", shas[(n + j) % 200], 1, '["a"]', "[]", "{}", 1.0
                    )
                    for j in range(20)
                ],
            )
            n += 1
            batches = n
        writer.close()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        wait_until(lambda: batches >= 20, 30, "the writer under way")
        target = tmp_path / "copy.db"
        report = copy_database(str(data), str(target))
        wait_until(lambda: batches >= report.tables["labels"].rows // 20 + 5, 30, "more writes")
    finally:
        stop.set()
        thread.join(30)
    store.close()
    copied = sqlite3.connect(target)
    labelled = copied.execute("SELECT sum(n_labels) FROM clips").fetchone()[0]
    assert labelled == copied.execute("SELECT count(*) FROM labels").fetchone()[0]
    assert labelled == report.tables["labels"].rows > 0
    assert copied.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    copied.close()
    live = sqlite3.connect(data / "hub.db")
    assert live.execute("SELECT count(*) FROM labels").fetchone()[0] > labelled  # went on
    live.close()


def test_migrate_command_both_kinds(tmp_path: Path, pg_url: str) -> None:
    old = old_hub(tmp_path / "old.db", version=7)
    done = CliRunner().invoke(main, ["db", "migrate", "--db", str(old)])
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == f"{old} (SQLite): schema version 7 -> {len(MIGRATIONS)}"
    again = CliRunner().invoke(main, ["db", "migrate", "--data", str(tmp_path / "none")])
    assert again.exit_code == 1 and "no database at" in again.output
    done = CliRunner().invoke(main, ["db", "migrate"], env={"STRAAT_DB": pg_url})
    assert done.exit_code == 0, done.output
    assert done.stdout.strip().endswith(f"(PostgreSQL): schema version 0 -> {PG_VERSION}")
    done = CliRunner().invoke(main, ["db", "migrate", "--db", pg_url])
    assert done.stdout.strip().endswith(f"schema version {PG_VERSION}, already current")


def test_schema_made_inside_a_transaction_equals_migrate(tmp_path: Path) -> None:
    """The copy makes an empty SQLite target's schema statement by statement inside its
    transaction; it must be what `migrate` makes."""
    made = tmp_path / "made.db"
    db = SqliteDatabase(made, readonly=False, create=True)
    db.begin()
    db.create_schema(len(MIGRATIONS))
    db.commit()
    db.close()
    ref = tmp_path / "ref.db"
    conn = sqlite3.connect(ref)
    migrate(conn)
    conn.close()

    def schema(path: Path) -> list[tuple[Any, ...]]:
        with sqlite3.connect(path) as conn:
            rows = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name")
            return [*rows, conn.execute("PRAGMA user_version").fetchone()]

    assert schema(made) == schema(ref)


def test_sqlite_target_killed_mid_copy_is_left_empty(tmp_path: Path) -> None:
    source = old_hub(tmp_path / "hub.db", labels=100_000)
    target = tmp_path / "copy.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "db", "copy", "--from", str(source), "--to", str(target)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    journal = target.with_name("copy.db-journal")
    wait_until(
        lambda: journal.exists() and target.exists() and target.stat().st_size > 4 * 2**20,
        60,
        "the copy writing into the target",
        poll=0.01,
    )
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL  # killed, not finished
    with sqlite3.connect(target) as conn:  # the hot journal is rolled back on open
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)
    report = copy_database(str(source), str(target))
    assert checksums(str(target))[2] == checksums(str(source))[2]
    assert report.tables["labels"].rows == 100_000 - 2


@pytest.mark.parametrize(
    "change",
    ["NEW.created_at := NEW.created_at + 1e-6", "NEW.seq := NEW.seq + 1000"],
    ids=["a value", "a label's seq (its SQLite rowid)"],
)
def test_a_target_that_changes_a_value_is_caught_and_nothing_kept(
    tmp_path: Path, pg_url: str, change: str
) -> None:
    """The read-back comparison is what decides: a target whose trigger alters one value of
    one label, or only its row key, fails the copy, and the rolled-back target holds no
    rows."""
    from hub.store.pg.schema import apply_schema

    source = old_hub(tmp_path / "hub.db")
    with psycopg.connect(pg_url) as conn:
        apply_schema(conn)
        conn.execute(
            "CREATE FUNCTION nudge() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF NEW.uuid = 'u0000020' THEN {change}; END IF; "
            "RETURN NEW; END $$"
        )
        conn.execute(
            "CREATE TRIGGER nudge BEFORE INSERT ON labels FOR EACH ROW EXECUTE FUNCTION nudge()"
        )
    with pytest.raises(CopyError, match=r"differ.*labels \(source 48 rows"):
        copy_database(str(source), pg_url)
    assert pg_rows(
        pg_url, "SELECT (SELECT count(*) FROM labels), (SELECT count(*) FROM clips)"
    ) == [(0, 0)]


def test_same_database_refused_and_postgres_to_postgres(
    tmp_path: Path, pg_server: PgServer, pg_url: str
) -> None:
    source = old_hub(tmp_path / "hub.db")
    before = sha256(source)
    with pytest.raises(CopyError, match="the same database"):
        copy_database(str(tmp_path), str(source), force=True)  # its folder and the file
    assert sha256(source) == before
    copy_database(str(source), pg_url)
    with pytest.raises(CopyError, match="the same database"):
        copy_database(pg_url, pg_url, force=True)
    other = pg_server.create_database()
    report = copy_database(pg_url, other)
    assert report.tables["labels"].rows == 48
    assert checksums(other)[2] == checksums(pg_url)[2] == checksums(str(source))[2]
    seqs = "SELECT seq, uuid FROM labels ORDER BY seq"
    assert pg_rows(other, seqs) == pg_rows(pg_url, seqs)


def test_server_crash_mid_copy_is_one_line_and_a_rerun_succeeds(
    tmp_path: Path, pg_server: PgServer, pg_url: str
) -> None:
    """PostgreSQL stopped the hard way (`pg_ctl stop -m immediate`, then started) while the
    labels are being copied: the command says so in one line and exits 1, the target holds
    nothing, and the same command then succeeds."""
    source = old_hub(tmp_path / "hub.db", labels=100_000)
    dbname = pg_url.split("/")[-1].split("?")[0]
    command = [sys.executable, "-m", "hub.cli", "db", "copy", "--from", str(source), "--to", pg_url]
    proc = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )

    def copying() -> bool:  # a connection of its own each time: the server will restart
        with psycopg.connect(pg_server.url(), autocommit=True) as admin:
            return labels_copying(admin, dbname)

    wait_until(copying, 60, "the copy of labels under way", poll=0.01)
    pg_server.restart()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, out + err
    # stderr: the progress lines (`TABLE: N rows`) and one line saying what happened
    said = [line for line in err.splitlines() if not re.fullmatch(r"\w+: [\d,]+ rows", line)]
    assert len(said) == 1, err
    assert said[0].startswith("Error: the copy failed, the target is as it was: "), err
    assert pg_rows(pg_url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]
    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert checksums(pg_url)[2] == checksums(str(source))[2]


def test_a_hub_the_store_made_moves_to_postgresql_and_runs_there(
    tmp_path: Path, pg_url: str
) -> None:
    """A hub as the hub itself writes it today (Store: clips, an operator, a pairing, work
    handed out, labels, a web account and a failed login) copied to PostgreSQL: the same
    checksums, and a Store on the copy goes on where the SQLite hub stopped."""
    from hub.store import Store
    from hub.store.accounts import add_user, login_failed
    from tests.labelling import add_label

    data = tmp_path / "hub"
    data.mkdir()
    store = Store(data / "hub.db")
    hub_id = store.hub_id()
    store.project_version("geweld", "name = 'geweld'", '{"labels": []}')
    shas = [hashlib.sha256(f"clip{i}".encode()).hexdigest() for i in range(6)]
    for i, sha in enumerate(shas):
        store.add_clip(sha, 100 + i, 10.0 / 3, f"clip {i}", want=2)
    store.add_operator("anna", "Anna", "pin-hash")
    store.add_operator("bram", "Bram", "pin-hash")
    store.pair_kiosk("k1", "public-key")
    store.note_kiosk_login("k1", "anna", at=5.0)
    store.refuse("k1", "stale", "ë")
    add_user(store, "lead", "lead", "a long password")
    login_failed(store, "lead", "10.0.0.9", now=7.0)
    lease, _expiry, given = store.assign("anna", "k1", 3, 60.0)
    for n, clip in enumerate(given):
        add_label(
            store,
            uuid=f"l{n}",
            operator="anna",
            clip=clip["sha256"],
            kiosk="k1",
            schema_version=1,
            values=["gewelddadig"],
            segments=[],
            telemetry={"ms": n},
            created_at=10.0 + n / 7,
            lease_id=lease,
        )
    store.close()

    done = CliRunner().invoke(main, ["db", "copy", "--from", str(data), "--to", pg_url])
    assert done.exit_code == 0, done.output
    printed = done.stdout.splitlines()[-1].split()[1]
    for args in (["--data", str(data)], ["--db", pg_url]):
        summed = CliRunner().invoke(main, ["db", "checksum", *args])
        assert summed.exit_code == 0, summed.output
        assert summed.stdout.splitlines()[-1].endswith(f"checksum {printed}")

    copy = Store(pg_url)
    try:
        assert copy.count_labels() == 3 and copy.hub_id() == hub_id
        assert copy.is_paired("k1") and copy.kiosk_login_at("k1", "anna") == 5.0
        # bram gets the clips anna labelled (each wants 2) and the rest; never one twice
        _lease, _expiry, more = copy.assign("bram", "k1", 10, 60.0)
        assert sorted(c["sha256"] for c in more) == sorted(shas)
        add_label(
            copy,
            uuid="after",
            operator="bram",
            clip=more[0]["sha256"],
            kiosk="k1",
            schema_version=1,
            values=["niet_gewelddadig"],
            segments=[],
            telemetry={},
            created_at=20.0,
        )
        assert copy.count_labels() == 4
    finally:
        copy.close()
    assert pg_rows(pg_url, "SELECT uuid FROM labels ORDER BY seq DESC LIMIT 1") == [("after",)]


def test_db_commands_find_the_database_as_every_command_does(tmp_path: Path, pg_url: str) -> None:
    """`db migrate` and `db checksum` read the site file's `db`, as `serve` does; a libpq
    key=value string is refused with the hint to write a URL, by `db copy` as by `--db`."""
    data = tmp_path / "site"
    data.mkdir()
    (data / "hub.toml").write_text(f'db = "{pg_url}"\n')
    done = CliRunner().invoke(main, ["db", "migrate", "--data", str(data)])
    assert done.exit_code == 0, done.output
    assert done.stdout.strip().endswith(f"(PostgreSQL): schema version 0 -> {PG_VERSION}")
    done = CliRunner().invoke(main, ["db", "checksum", "--data", str(data)])
    assert done.exit_code == 0 and "(PostgreSQL): schema version" in done.stdout
    (data / "hub.toml").write_text('dbb = "x"\n')
    done = CliRunner().invoke(main, ["db", "checksum", "--data", str(data)])
    assert done.exit_code == 1 and "hub.toml" in done.output and "dbb" in done.output
    source = old_hub(tmp_path / "hub.db")
    libpq = "host=/tmp dbname=hub password=s3cret"
    for args in (["--from", str(source), "--to", libpq], ["--from", libpq, "--to", pg_url]):
        done = CliRunner().invoke(main, ["db", "copy", *args])
        assert done.exit_code == 1, done.output
        assert "write the connection as a URL" in done.output and "s3cret" not in done.output
    done = CliRunner().invoke(main, ["db", "checksum", "--db", libpq])
    assert done.exit_code == 1 and "write the connection as a URL" in done.output
    assert not Path(libpq).exists()
