"""`--db`, `STRAAT_DB` and the site file `<data>/hub.toml` choose the hub's database: SQLite
`<data>/hub.db` by default, PostgreSQL when a URL is given. A database that cannot be used
is a one-line error (password masked) that changes nothing."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import psycopg
from click.testing import CliRunner, Result

from hub.cli import main
from hub.store import Store
from tests.conftest import ROOT

PASSWORD = "correct horse battery"


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env={"STRAAT_DB": None, **(env or {})})


def add_user(data: Path, *more: str, env: dict[str, str] | None = None) -> Result:
    return run(
        "user", "add", "anna", "--role", "staff", "--password", PASSWORD,
        "--data", str(data), *more, env=env,
    )  # fmt: skip


def users(url: str) -> list[tuple[str]]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT username FROM users").fetchall()


def test_db_url_puts_the_hub_in_postgresql(tmp_path: Path, pg_url: str) -> None:
    data = tmp_path / "site"
    result = add_user(data, "--init", "--db", pg_url)
    assert result.exit_code == 0, result.output
    assert users(pg_url) == [("anna",)]
    assert not (data / "hub.db").exists()  # the folder holds key, media and exports only
    listed = run(
        "token", "create", "--role", "lead", "--data", str(data), env={"STRAAT_DB": pg_url}
    )
    assert listed.exit_code == 0, listed.output
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM api_tokens").fetchone() == (1,)


def test_site_file_names_the_database(tmp_path: Path, pg_url: str) -> None:
    data = tmp_path / "site"
    data.mkdir()
    (data / "hub.toml").write_text(f'db = "{pg_url}"\n')
    assert add_user(data).exit_code == 0
    assert users(pg_url) == [("anna",)]
    (data / "hub.toml").write_text('dbb = "x"\n')
    result = add_user(data)
    assert result.exit_code == 1 and "dbb" in result.output and "hub.toml" in result.output


def test_site_file_with_a_password_must_be_private(tmp_path: Path, pg_url: str) -> None:
    data = tmp_path / "site"
    data.mkdir()
    site = data / "hub.toml"
    site.write_text('db = "postgresql://straat:s3cret@127.0.0.1:1/hub"\n')
    os.chmod(site, 0o644)
    result = add_user(data)
    assert result.exit_code == 1
    assert "holds a database password and others may read it (mode 0644)" in result.output
    assert "chmod 600" in result.output and "s3cret" not in result.output
    assert sorted(p.name for p in data.iterdir()) == ["hub.toml"]


def test_wrong_connection_string_and_server_down(tmp_path: Path) -> None:
    data = tmp_path / "site"
    data.mkdir()
    for db, words in (
        ("postgresql://straat:s3cret@127.0.0.1:1/hub", "cannot use the database"),
        ("postgresql://straat@/hub?host=/nonexistent-socket-dir&port=5", "cannot use the database"),
        ("postgresql://straat@/hub?sslmode=sometimes", "cannot use the database"),
        ("mysql://hub", "unknown database kind 'mysql'"),
        ("host=localhost dbname=hub password=s3cret", "write the connection as a URL"),
    ):
        result = add_user(data, "--db", db)
        assert result.exit_code == 1, (db, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and words in lines[0], (db, result.output)
        assert "s3cret" not in result.output
    assert list(data.iterdir()) == []  # nothing made


def test_newer_schema_refused_unchanged(tmp_path: Path, pg_url: str) -> None:
    data = tmp_path / "site"
    assert add_user(data, "--init", "--db", pg_url).exit_code == 0
    with psycopg.connect(pg_url) as conn:
        conn.execute("INSERT INTO schema_version (version) VALUES (99)")
    result = add_user(data, "--db", pg_url)
    assert result.exit_code == 1
    assert "hub schema version 99, newer than this code's" in result.output
    assert users(pg_url) == [("anna",)]
    sqlite_hub = tmp_path / "old"
    assert add_user(sqlite_hub, "--init").exit_code == 0
    with sqlite3.connect(sqlite_hub / "hub.db") as conn:
        conn.execute("PRAGMA user_version = 99")
    before = (sqlite_hub / "hub.db").read_bytes()
    result = add_user(sqlite_hub)
    assert result.exit_code == 1 and "newer than this code's" in result.output
    assert (sqlite_hub / "hub.db").read_bytes() == before


def test_default_stays_sqlite_and_backup_refuses_postgresql(tmp_path: Path, pg_url: str) -> None:
    data = tmp_path / "site"
    assert add_user(data, "--init").exit_code == 0
    store = Store(data / "hub.db")
    assert [u for (u,) in store.conn.execute("SELECT username FROM users")] == ["anna"]
    store.close()
    result = run("backup", str(tmp_path / "b.db"), "--data", str(data), env={"STRAAT_DB": pg_url})
    assert result.exit_code == 1 and "pg_dump" in result.output
    assert not (tmp_path / "b.db").exists()


def test_read_replica_is_for_postgresql_only(tmp_path: Path) -> None:
    data = tmp_path / "site"
    assert add_user(data, "--init").exit_code == 0
    result = run(
        "serve", "--project", str(ROOT / "projects" / "geweld.toml"), "--data", str(data),
        "--read-db", "postgresql://straat@/replica",
    )  # fmt: skip
    assert result.exit_code == 1 and "for a PostgreSQL database only" in result.output


def test_serve_with_the_server_down_says_so_in_one_line(tmp_path: Path) -> None:
    data = tmp_path / "site"
    data.mkdir()
    result = run(
        "serve", "--project", str(ROOT / "projects" / "geweld.toml"), "--data", str(data),
        "--db", "postgresql://straat:s3cret@127.0.0.1:1/hub", "--no-zeroconf",
        "--bind", "tcp://127.0.0.1:0", "--web-port", "0",
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "cannot use the database" in lines[0], result.output
    assert "password=***" in lines[0]
    assert "s3cret" not in result.output
    assert sorted(p.name for p in data.iterdir()) == []  # no key, no media made
