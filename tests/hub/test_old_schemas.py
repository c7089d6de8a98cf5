"""Hubs of every earlier schema version (databases kept in tests/hub/old_schemas/, made by its
make.py from the schema as each version first shipped) open with today's Store: migrated to
the newest version, with the same tables and indexes as a new hub, nothing lost, and work goes
on (assign, label, the CLI)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.cli import main
from hub.store import Store
from hub.store.schema import MIGRATIONS

FIXTURES = Path(__file__).parent / "old_schemas"
OLD = sorted(FIXTURES.glob("hub-v*.db"), key=lambda p: int(p.stem.split("v")[1]))


def schema_of(path: Path) -> set[tuple[str, str, str]]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        ).fetchall()
    finally:
        conn.close()
    return {(t, n, " ".join((sql or "").split())) for t, n, sql in rows}


def version_of(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def test_every_earlier_version_has_a_fixture() -> None:
    assert [version_of(p) for p in OLD] == list(range(1, len(MIGRATIONS)))


@pytest.mark.parametrize("old", OLD, ids=[p.stem for p in OLD])
def test_an_old_hub_opens_migrated_with_its_data(old: Path, tmp_path: Path) -> None:
    data = tmp_path / "hub"
    data.mkdir()
    db = data / "hub.db"
    shutil.copy(old, db)
    fresh = tmp_path / "fresh.db"
    Store(fresh).close()

    store = Store(db)
    try:
        assert version_of(db) == len(MIGRATIONS)
        assert schema_of(db) == schema_of(fresh)
        assert store.hub_id() == f"hub-old{version_of(old):04d}"
        assert [o["id"] for o in store.operators()] == ["op1", "op2"]
        assert store.count_labels() == 4
        assert store.kiosk("k1")["version"] == "0.1.0"
        # what was stored before sites existed belongs to the one site, named by its hub id
        assert {x["site"] for x in store.labels()} == {store.hub_id()} == {store.site}
        assert store.kiosk("k1")["site"] == store.hub_id()
        # work goes on: an assignment from the clips still wanting votes, and a label
        _, _, clips = store.assign("op2", "k1", 5, lease_seconds=600)
        assert clips and all(c["name"] in ("clip-0", "clip-1", "clip-2") for c in clips)
    finally:
        store.close()
    listed = CliRunner().invoke(main, ["operator", "list", "--data", str(data)])
    assert listed.exit_code == 0 and "op1\tOperator 1\tactive" in listed.output
