"""Connections: a checked pool across a server restart, a transaction lost whole, and clear
errors for a wrong connection string or a server that is down."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from hub.store.pg.connect import DatabaseUnavailable, check_reachable, describe, open_pool
from tests.pg import PgServer

from .conftest import add_clips, assign_work, holders


def test_pool_survives_a_restart_and_a_lost_transaction_changes_nothing(
    pg_server: PgServer, pg_hub: str
) -> None:
    add_clips(pg_hub, 5, want=1)
    pool = open_pool(pg_hub, min_size=2, max_size=2)
    try:
        with pool.connection() as conn:
            conn.execute("SELECT 1")
        with pytest.raises(psycopg.OperationalError):
            with pool.connection() as conn, conn.transaction():
                got = assign_work(conn, "op1", "k", 3, 60.0)[2]
                assert len(got) == 3
                pg_server.restart()  # pg_ctl stop -m immediate + start, before the commit
        with pool.connection() as conn:  # a checked, fresh connection
            assert conn.execute("SELECT count(*) FROM leases").fetchone() == (0,)
            assert all(h[3] == 0 and h[4] == 0 for h in holders(conn))  # nothing half-done
            assert len(assign_work(conn, "op1", "k", 3, 60.0)[2]) == 3
    finally:
        pool.close()


def test_wrong_connection_string_and_server_down(tmp_path: Path, pg_server: PgServer) -> None:
    with pytest.raises(DatabaseUnavailable, match="not a PostgreSQL connection string"):
        check_reachable("just some words")
    with pytest.raises(DatabaseUnavailable, match="does not exist"):
        check_reachable(pg_server.url("no_such_database"))
    down = f"postgresql://straat:s3cret@/x?host={tmp_path}&port=5432"  # no server there
    with pytest.raises(DatabaseUnavailable) as err:
        open_pool(down)
    assert "cannot use the database" in str(err.value)
    assert "No such file or directory" in str(err.value)  # libpq's reason, kept
    assert "s3cret" not in str(err.value) and "***" in str(err.value)
    assert "s3cret" not in describe(down)


def test_store_after_a_restart_loses_the_open_transaction_then_reconnects(
    pg_server: PgServer, pg_url: str
) -> None:
    from hub.store import DatabaseUnavailable as Lost
    from hub.store import Store

    store = Store(pg_url)
    try:
        store.set_meta("before", "1")
        with pytest.raises(Lost):
            with store.transaction():
                store.set_meta("inside", "1")
                pg_server.restart()  # the server rolls the open transaction back
                store.set_meta("after_restart", "1")  # refused: the transaction is gone
        assert store.meta("before") == "1"  # a new connection, made for this read
        assert store.meta("inside") is None and store.meta("after_restart") is None
        # outside a transaction, a statement that changes nothing by itself (a read, a BEGIN)
        # runs again on a new connection when it finds the old one dead
        pg_server.restart()
        assert store.meta("before") == "1"
        pg_server.restart()
        store.set_meta("after", "1")  # (its BEGIN finds it out)
        assert store.meta("after") == "1"
        # one that does change something is not run twice: it may have run before the loss
        pg_server.restart()
        with pytest.raises(Lost):
            store.conn.execute("UPDATE meta SET value = '2' WHERE key = 'before'")
        assert store.meta("before") == "1"  # and the next one connects again
    finally:
        store.close()


def test_reads_go_to_the_read_replica(pg_server: PgServer) -> None:
    """`reader()` (dashboard, background reads) opens the read location, writes stay on the
    primary; a second database stands in for a replica here."""
    from hub.store import open_store

    primary, replica = pg_server.create_database(), pg_server.create_database()
    open_store(replica).close()  # the replica has the schema (as streaming replication gives it)
    store = open_store(primary, read_location=replica)
    try:
        store.set_meta("where", "primary")
        reader = store.reader()
        try:
            assert reader.location == replica and reader.meta("where") is None
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                reader.set_meta("where", "replica")  # a reader never writes
            pg_server.restart()
            # a read outside a transaction finds the connection gone and runs again on a
            # new one
            assert reader.meta("where") is None
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                reader.set_meta("where", "replica")  # connected again: still read-only
        finally:
            reader.close()
        assert store.reopen().meta("where") == "primary"
    finally:
        store.close()
