"""The throwaway PostgreSQL server of tests/pg.py: real initdb, real server, real socket."""

from __future__ import annotations

import subprocess
from pathlib import Path

import psycopg
import pytest

from tests.pg import PgServer, running_server


def test_connect_create_table(pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL)")
        conn.execute("INSERT INTO t VALUES (1, 'een'), (2, 'twee')")
        conn.commit()
        assert conn.execute("SELECT v FROM t ORDER BY id").fetchall() == [("een",), ("twee",)]
        # only a Unix socket: nothing listens on TCP
        assert conn.execute("SHOW listen_addresses").fetchone() == ("",)
        assert conn.info.host.startswith("/tmp/straat-pg-")


def test_databases_are_separate(pg_server: PgServer) -> None:
    a, b = pg_server.create_database(), pg_server.create_database()
    assert a != b
    with psycopg.connect(a) as conn:
        conn.execute("CREATE TABLE only_in_a (x int)")
    with psycopg.connect(b) as conn:
        found = conn.execute("SELECT to_regclass('only_in_a')").fetchone()
    assert found == (None,)


def test_restart_immediate_keeps_committed_rows(pg_server: PgServer, pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE TABLE kept (id int PRIMARY KEY)")
        conn.execute("INSERT INTO kept SELECT generate_series(1, 1000)")
        conn.commit()
        conn.execute("INSERT INTO kept VALUES (5000)")  # never committed
        pid = conn.info.backend_pid
        pg_server.restart()  # pg_ctl stop -m immediate, then start
        with pytest.raises(psycopg.OperationalError):
            conn.execute("SELECT 1")  # the old connection died with the server
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*), max(id) FROM kept").fetchone() == (1000, 1000)
        assert conn.info.backend_pid != pid


def test_stopped_and_deleted_also_on_failure() -> None:
    with pytest.raises(RuntimeError, match="test body failed"):
        with running_server() as server:
            root: Path = server.root
            url = server.url()
            with psycopg.connect(url) as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
            raise RuntimeError("test body failed")
    assert not root.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)


def test_server_in_a_namespace_over_a_link_that_can_be_cut() -> None:
    """A server on a test host's address (tests/netns.py): another host reaches it over TCP
    until the link is cut, and again after it is mended; the test reaches it on its socket
    all along."""
    from tests.netns import Lan, netns_available

    if (reason := netns_available()) is not None:
        pytest.skip(reason)
    with Lan() as lan:
        db_host = lan.add_host("db", 5)
        site = lan.add_host("site", 6)
        with running_server(listen=db_host.ip, netns=db_host.ns) as server:
            url = server.create_database(tcp=True)
            assert url.startswith(f"postgresql://straat@{db_host.ip}:")
            query = [*site.exec_prefix(), "psql", "-XAtq", "-c", "SELECT 1", url]
            probe = subprocess.run(query, capture_output=True, text=True, timeout=30)
            assert probe.stdout.strip() == "1", probe.stderr
            lan.cut("site")
            cut = subprocess.run(
                [*query[:-1], url + "?connect_timeout=2"],
                capture_output=True,
                text=True,
                timeout=30,
            )
            assert cut.returncode != 0
            with psycopg.connect(server.url()) as conn:  # the socket still answers
                assert conn.execute("SELECT 1").fetchone() == (1,)
            lan.mend("site")
            again = subprocess.run(query, capture_output=True, text=True, timeout=30)
            assert again.stdout.strip() == "1", again.stderr
