"""Connections: the store's pool across a server restart, a transaction lost whole, and clear
errors for a wrong connection string or a server that is down."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from hub.store.pg.connect import DatabaseUnavailable, check_reachable, describe
from hub.store.pg.pools import acquire, figures, release
from tests.pg import PgServer

from .conftest import add_clips, assign_work, holders


def test_pool_hands_out_a_fresh_connection_after_a_restart_and_a_lost_transaction_changes_nothing(
    pg_server: PgServer, pg_hub: str
) -> None:
    """The store's own pool: a broken connection given back is discarded and a new one made."""
    add_clips(pg_hub, 5, want=1)
    shared = acquire(pg_hub)
    try:
        conn = shared.take()
        with pytest.raises(psycopg.OperationalError):
            with conn.transaction():
                got = assign_work(conn, "op1", "k", 3, 60.0)[2]
                assert len(got) == 3
                pg_server.restart()  # pg_ctl stop -m immediate + start, before the commit
        assert conn.closed
        shared.give_back(conn, broken=True)
        assert shared.pool.get_stats()["returns_bad"] == 1  # the pool saw it broken
        conn = shared.take()  # a fresh connection, made by the pool's background
        try:
            assert conn.execute("SELECT count(*) FROM leases").fetchone() == (0,)
            assert all(h[3] == 0 and h[4] == 0 for h in holders(conn))  # nothing half-done
            assert len(assign_work(conn, "op1", "k", 3, 60.0)[2]) == 3
        finally:
            shared.give_back(conn)
    finally:
        release(shared)
    assert not any(db == shared.database for db, _, _ in figures())  # the last user closed it


def test_wrong_connection_string_and_server_down(tmp_path: Path, pg_server: PgServer) -> None:
    with pytest.raises(DatabaseUnavailable, match="not a PostgreSQL connection string"):
        check_reachable("just some words")
    with pytest.raises(DatabaseUnavailable, match="does not exist"):
        check_reachable(pg_server.url("no_such_database"))
    down = f"postgresql://straat:s3cret@/x?host={tmp_path}&port=5432"  # no server there
    with pytest.raises(DatabaseUnavailable) as err:
        acquire(down)  # reported at once, not as a pool timeout
    assert "cannot use the database" in str(err.value)
    assert "No such file or directory" in str(err.value)  # libpq's reason, kept
    assert "s3cret" not in str(err.value) and "***" in str(err.value)
    assert "s3cret" not in describe(down)


def test_an_unreadable_connection_string_is_refused_without_its_password() -> None:
    """libpq quotes a URI it cannot read in its error: the password must not come along."""
    for url in (
        "postgresql://straat:s3cret@[::1:5432/x",  # an unclosed IPv6 bracket
        "postgresql://straat:s3cret@host/x?bogus=1",
        "host=x password=s3cret bogus",
    ):
        with pytest.raises(DatabaseUnavailable, match="not a PostgreSQL connection string") as err:
            check_reachable(url)
        assert "s3cret" not in str(err.value), str(err.value)
        assert "s3cret" not in describe(url)


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


def _pools_of(url: str) -> dict[str, dict[str, int]]:
    """This process's pools on the database of `url`: settings -> `get_stats()`."""
    from psycopg.conninfo import conninfo_to_dict

    name = conninfo_to_dict(url)["dbname"]
    return {settings: stats for db, settings, stats in figures() if db.endswith(f"/{name}")}


def test_store_handles_share_the_pool_and_take_fresh_connections_from_it(
    pg_server: PgServer, pg_url: str
) -> None:
    """Handles on one database share a pool per session settings; after the server restarted,
    a harmless statement runs on a fresh connection from the pool, a statement inside an open
    transaction is refused, and the settings (a reader's read-only default, the link
    settings) are on the new connection too; a server that is down is said at once."""
    from hub.store import DatabaseUnavailable as Lost
    from hub.store import Store

    store = Store(pg_url)
    other = store.reopen(readonly=False)
    reader = store.reader()
    try:
        pools = _pools_of(pg_url)
        assert set(pools) == {"", "SET default_transaction_read_only = on"}
        assert pools[""]["pool_size"] == 2  # the writer and the other handle: one pool
        store.set_meta("before", "1")
        held, reader_held = store.conn.raw, reader.conn.raw

        other.conn.execute("BEGIN")
        other.set_meta("inside", "1")
        pg_server.restart()  # pg_ctl stop -m immediate + start
        with pytest.raises(Lost):
            other.set_meta("more", "1")  # the transaction is gone with the connection
        with pytest.raises(Lost):
            other.conn.execute("COMMIT")  # nothing of it may be taken for done

        assert store.meta("before") == "1"  # found its connection dead, ran again
        assert store.conn.raw is not held and held.closed
        assert other.meta("inside") is None  # and the other handle got a fresh one too
        stats = _pools_of(pg_url)[""]
        assert stats["returns_bad"] >= 2  # both broken connections given back, discarded

        assert reader.meta("before") == "1"
        assert reader.conn.raw is not reader_held
        assert reader.conn.raw.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
        assert reader.conn.raw.execute("SHOW idle_in_transaction_session_timeout").fetchone() == (
            "5s",
        )
        assert reader.conn.raw.info.get_parameters()["tcp_user_timeout"] == "4000"
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            reader.set_meta("where", "reader")

        pg_server.halt()
        try:
            with pytest.raises(Lost, match="cannot use the database") as err:
                store.meta("before")  # the reason in words, not a pool timeout
            assert "No such file or directory" in str(err.value)
        finally:
            pg_server.start()
        assert store.meta("before") == "1"  # back: the pool connects again
    finally:
        for handle in (store, other, reader):
            handle.close()
    assert _pools_of(pg_url) == {}  # the last handle closed each pool


def test_idle_connections_killed_by_a_restart_are_replaced_by_the_pool(
    pg_server: PgServer, pg_url: str
) -> None:
    """Connections idle in the pool die with the server too; the first handle that finds its
    own dead has the pool replace the idle ones (`ConnectionPool.drain`), so a handle opened
    after the restart still loses nothing and is never handed a dead connection."""
    from hub.store import Store

    store = Store(pg_url)
    try:
        others = [store.reopen() for _ in range(3)]
        for other in others:
            assert other.meta("x") is None  # each holds a connection of the pool
        for other in others:
            other.close()  # given back: three idle connections
        assert _pools_of(pg_url)[""]["pool_available"] == 3
        pg_server.restart()
        assert store.meta("x") is None  # finds its own dead, runs again on a fresh one
        assert _pools_of(pg_url)[""]["returns_bad"] == 1
        late = [store.reopen() for _ in range(3)]
        try:
            assert all(handle.meta("x") is None for handle in late)
        finally:
            for handle in late:
                handle.close()
        assert _pools_of(pg_url)[""]["returns_bad"] == 1  # none of them got a dead one
    finally:
        store.close()


def test_handles_opened_at_once_by_threads_share_one_pool(pg_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from hub.store import Store

    Store(pg_url).close()  # the schema

    def read(_: int) -> Store:
        store = Store(pg_url, readonly=True)
        assert store.meta("x") is None
        return store

    with ThreadPoolExecutor(8) as pool:
        stores = list(pool.map(read, range(8)))
    try:
        pools = _pools_of(pg_url)
        assert list(pools) == [""] and pools[""]["pool_size"] >= 8  # one pool, all of them
    finally:
        for store in stores:
            store.close()
    assert _pools_of(pg_url) == {}
