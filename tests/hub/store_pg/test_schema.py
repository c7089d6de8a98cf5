"""The PostgreSQL schema: applies once, has SQLite's tables and columns, refuses a newer one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from hub.store.pg.schema import SQLITE_VERSION, STEPS, SchemaError, apply_schema, schema_version
from hub.store.schema import MIGRATIONS


def sqlite_columns(path: Path) -> dict[str, set[str]]:
    """Tables and columns of a SQLite hub database at migration SQLITE_VERSION."""
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:SQLITE_VERSION]:
        conn.executescript(script)
    tables = [
        t
        for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if not t.startswith("sqlite_")
    ]
    out = {t: {c[1] for c in conn.execute(f"PRAGMA table_info({t})")} for t in tables}
    conn.close()
    return out


def test_same_tables_and_columns_as_sqlite(pg_url: str, tmp_path: Path) -> None:
    with psycopg.connect(pg_url) as conn:
        assert apply_schema(conn) == SQLITE_VERSION
        rows = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public'"
        ).fetchall()
    pg: dict[str, set[str]] = {}
    for table, column in rows:
        pg.setdefault(table, set()).add(column)
    assert pg.pop("schema_version") == {"version", "applied_at"}
    assert pg["labels"] - sqlite_columns(tmp_path / "a.db")["labels"] == {"seq", "txid"}
    pg["labels"] -= {"seq", "txid"}
    assert pg == sqlite_columns(tmp_path / "b.db")


def test_applies_once_and_indexes(pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        apply_schema(conn)
        apply_schema(conn)  # again: nothing to do, no error
        assert schema_version(conn) == SQLITE_VERSION
        assert conn.execute("SELECT count(*) FROM schema_version").fetchone() == (1 + len(STEPS),)
        indexes = {
            name
            for (name,) in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
            )
        }
    assert {
        "clips_free_priority",
        "clips_gold",
        "leases_expiry",
        "assignments_open",
        "labels_clip",
        "labels_operator",
        "labels_txid",
        "predictions_clip",
        "breaks_operator",
    } <= indexes


def test_newer_database_refused_unchanged(pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        apply_schema(conn)
        conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (SQLITE_VERSION + 1,))
        conn.execute("INSERT INTO meta VALUES ('k', 'v')")
        conn.commit()
        with pytest.raises(SchemaError, match="newer than this code"):
            apply_schema(conn)
        assert conn.execute("SELECT value FROM meta").fetchall() == [("v",)]
        assert schema_version(conn) == SQLITE_VERSION + 1


def test_free_clips_use_the_partial_index(pg_hub: str) -> None:
    """The assign query's scan can walk clips_free_priority (checked with the planner's
    sequential scans turned off: on a small table it would rightly prefer one)."""
    from hub.store.pg.work import PICK

    with psycopg.connect(pg_hub) as conn:
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(
            r[0]
            for r in conn.execute(
                "EXPLAIN " + PICK,
                {
                    "operator": "op",
                    "kiosk": "k",
                    "exclude": [],
                    "count": 5,
                    "golds": [],
                    "golds_alone": False,
                    "lease": "l",
                    "now": 1.0,
                    "expires": 2.0,
                },
            )
        )
    assert "clips_free_priority" in plan


def test_every_sqlite_migration_has_a_postgresql_translation() -> None:
    assert SQLITE_VERSION == len(MIGRATIONS)
