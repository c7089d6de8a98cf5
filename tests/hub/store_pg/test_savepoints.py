"""Savepoint commands that wait for the next statement (hub/store/pg/savepoints.py): the
held sequence (pure), and on a real server through the Store: a failed statement in a
savepoint rolls back alone also when COMMIT comes right after it, a savepoint whose work
ran on the store's psycopg connection (`conn.raw`) is rolled back with it, and a LabelBatch
sends no empty savepoint."""

from __future__ import annotations

import psycopg
import pytest

from hub.store import Store
from hub.store.pg.savepoints import Deferred
from hub.store.pg.work import pick_work


def test_empty_savepoints_vanish_and_the_rest_keeps_its_order() -> None:
    d = Deferred()
    assert d.hold("SAVEPOINT sp1") and d.hold("SAVEPOINT sp2")
    assert d.hold("RELEASE sp2")  # nothing ran inside sp2
    assert d.take() == ["SAVEPOINT sp1"]  # a statement comes: sp1 goes ahead of it
    assert d.hold("RELEASE sp1") and d.hold("SAVEPOINT sp1")
    assert d.take() == ["RELEASE sp1", "SAVEPOINT sp1"]
    assert not d.hold("SELECT 1") and not d.hold("COMMIT")


def test_rollback_to_a_savepoint_not_sent_yet_keeps_only_the_savepoint() -> None:
    d = Deferred()
    d.hold("SAVEPOINT sp1")
    d.hold("SAVEPOINT sp2")
    d.hold("ROLLBACK TO sp1")
    assert d.pending == ["SAVEPOINT sp1"]
    d.hold("RELEASE sp1")
    assert d.take() == []


def test_a_rollback_to_is_sent_before_commit_and_dropped_before_rollback() -> None:
    d = Deferred()
    d.hold("ROLLBACK TO sp1")  # sp1 reached the server with a statement that failed
    d.hold("RELEASE sp1")
    assert d.ending(commit=True) == ["ROLLBACK TO sp1", "RELEASE sp1"]
    d.hold("RELEASE sp1")
    assert d.ending(commit=True) == []  # COMMIT releases it anyway
    d.hold("ROLLBACK TO sp1")
    assert d.ending(commit=False) == []  # the whole transaction goes


@pytest.fixture
def store(pg_url: str):  # noqa: ANN201
    s = Store(pg_url)
    s.conn.execute("CREATE TABLE t (x integer PRIMARY KEY)")
    yield s
    s.close()


def rows(store: Store) -> list[int]:
    return [x for (x,) in store.conn.execute("SELECT x FROM t ORDER BY x").fetchall()]


def test_failed_statement_in_a_savepoint_then_commit_keeps_the_rest(store: Store) -> None:
    with store.transaction():
        store.conn.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(psycopg.errors.UniqueViolation):
            with store.transaction():
                store.conn.execute("INSERT INTO t VALUES (2)")
                store.conn.execute("INSERT INTO t VALUES (1)")  # fails: aborted until rollback
        # nothing else runs before COMMIT: the held ROLLBACK TO must still go first
    assert rows(store) == [1]


def test_work_done_on_the_raw_connection_is_inside_its_savepoint(store: Store) -> None:
    store.conn.execute(
        "INSERT INTO clips (sha256, size, duration, name, want, added_at) "
        "VALUES ('c1', 1, 1.0, 'c', 1, 0)"
    )

    class Boom(Exception):
        pass

    with store.transaction():
        store.conn.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(Boom):
            with store.transaction():
                assert [r["sha256"] for r in pick_work(store.conn.raw, "op1", 1)] == ["c1"]
                raise Boom
    assert rows(store) == [1]
    (n_open,) = store.conn.execute("SELECT n_open FROM clips").fetchone()
    assert n_open == 0  # the slot taken inside the savepoint went with it


def test_empty_savepoints_are_never_sent_and_the_rest_go_with_a_statement(store: Store) -> None:
    sent: list[str] = []
    raw = store.conn.raw
    original = raw.execute

    def counting(query, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        sent.append(" ".join(str(query).split()[:2]))
        return original(query, *args, **kwargs)

    raw.execute = counting  # type: ignore[method-assign]
    try:
        with store.transaction():
            for i in range(3):
                with store.transaction(), store.transaction():
                    store.conn.execute("INSERT INTO t VALUES (%s)" % (i + 1))
                with store.transaction():
                    pass
    finally:
        raw.execute = original  # type: ignore[method-assign]
    assert rows(store) == [1, 2, 3]
    # sent to the server: BEGIN, per row the two savepoints with it and the two releases
    # with the next row (or dropped at COMMIT); the empty savepoint never
    assert sent.count("BEGIN") == 1 and sent.count("COMMIT") == 1
    assert len(sent) == 2 + 3 + 3 * 2 + 2 * 2
    assert raw.pgconn.transaction_status == psycopg.pq.TransactionStatus.IDLE
