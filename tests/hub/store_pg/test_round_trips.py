"""Round trips on PostgreSQL: BEGIN, SAVEPOINT and RELEASE travel with the next statement
(one psycopg pipeline), a savepoint or transaction in which nothing ran is never sent, and
rolling back still undoes exactly what it did before."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest

from hub.store import Store
from tests.hub.store_contract.helpers import add_clips, add_operators, label


class Counting:
    """A psycopg connection that counts round trips: each `execute` outside a pipeline, and
    each pipeline (one sync at its end)."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self._conn = conn
        self.trips = 0
        self._piped = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        if not self._piped:
            self.trips += 1
        return self._conn.execute(*args, **kwargs)

    @contextmanager
    def pipeline(self) -> Iterator[Any]:
        self._piped = True
        try:
            with self._conn.pipeline() as p:
                yield p
        finally:
            self._piped = False
            self.trips += 1


@pytest.fixture
def store(pg_url: str) -> Iterator[Store]:
    store = Store(pg_url)
    yield store
    store.close()


def counting(store: Store) -> Counting:
    assert store.site  # looked up once per handle (the hub id), before counting
    counter = Counting(store.conn._raw)
    store.conn._raw = counter
    return counter


class Boom(Exception):
    pass


def test_a_message_of_one_statement_is_two_round_trips(store: Store) -> None:
    store.pair_kiosk("k1")
    trips = counting(store)
    with store.transaction():  # the router's slice
        with store.transaction():  # one message
            store.log_session("op1", "k1", "login")  # its own transaction inside
    assert trips.trips == 2  # the INSERT (with BEGIN, SAVEPOINT), the COMMIT (with RELEASE)


def test_heartbeats_of_a_slice_go_with_its_commit(store: Store) -> None:
    """Kiosk reports in a slice are one UPDATE sent with the COMMIT: one round trip for the
    slice; a column a report leaves out keeps its value; a slice rolled back writes none."""
    for k in ("k1", "k2"):
        store.pair_kiosk(k)
    store.kiosk_seen("k1", version="1.0", outbox=9)  # outside a transaction: written at once
    trips = counting(store)
    with store.transaction():
        for k, outbox in (("k1", 3), ("k2", 4), ("k1", 5)):
            with store.transaction():
                store.kiosk_seen(k, outbox=outbox)
        assert store.kiosk("k1")["outbox"] == 9  # type: ignore[index]  # not yet
    assert trips.trips == 2  # the read above, the COMMIT with the UPDATE
    k1, k2 = store.kiosk("k1"), store.kiosk("k2")
    assert (k1["outbox"], k1["version"], k2["outbox"]) == (5, "1.0", 4)  # type: ignore[index]
    assert k2["last_seen"] is not None  # type: ignore[index]
    with pytest.raises(Boom):
        with store.transaction():
            store.kiosk_seen("k2", outbox=7)
            raise Boom
    with store.transaction():
        store.kiosk_seen("k1", operator="op1")
    assert store.kiosk("k2")["outbox"] == 4  # type: ignore[index]
    assert store.kiosk("k1")["operator"] == "op1"  # type: ignore[index]


def test_nothing_sent_for_a_slice_that_ran_no_statement(store: Store) -> None:
    trips = counting(store)
    with store.transaction():
        for _ in range(3):
            with store.transaction():
                with store.transaction():
                    pass
    assert trips.trips == 0
    assert not store.conn.in_transaction
    store.pair_kiosk("k1")  # the connection is in a clean state after it
    assert store.is_paired("k1")


def test_one_label_batch_round_trips(store: Store) -> None:
    clips = add_clips(store, 1)
    add_operators(store, 1)
    trips = counting(store)
    with store.transaction():
        with store.transaction():
            store.add_labels("k", [label("op1", clips[0])])
    # clips + INSERT + assignment states, counters + assignments, COMMIT
    assert trips.trips == 3
    assert store.clip(clips[0])["n_labels"] == 1  # type: ignore[index]


def test_inner_savepoint_shared_with_its_parent_rolls_back_alone(store: Store) -> None:
    """The message's savepoint and the store call's (begun together) are one; rolling back
    the inner undoes its statements, and the message goes on and commits."""
    clips = add_clips(store, 2)
    add_operators(store, 1)
    with store.transaction():
        with store.transaction():  # a message
            with pytest.raises(Boom):
                with store.transaction():  # begun right after: shares the savepoint
                    store.add_labels("k", [label("op1", clips[0])])
                    raise Boom
            store.add_labels("k", [label("op1", clips[1])])
    assert [row["clip"] for row in store.labels()] == [clips[1]]
    assert store.clip(clips[0])["n_labels"] == 0  # type: ignore[index]


def test_a_failed_statement_rolls_back_to_its_savepoint(store: Store) -> None:
    """A statement the server refuses inside a held savepoint: that savepoint is undone, the
    transaction goes on (the ROLLBACK TO travels with the next statement)."""
    clips = add_clips(store, 2)
    add_operators(store, 1)
    with store.transaction():
        store.add_labels("k", [label("op1", clips[0])])
        with pytest.raises(psycopg.errors.UniqueViolation):
            with store.transaction():
                store.conn.execute("INSERT INTO kiosks (id, paired_at) VALUES ('x', 0)")
                store.conn.execute("INSERT INTO kiosks (id, paired_at) VALUES ('x', 0)")
        store.add_labels("k", [label("op1", clips[1])])
    assert sorted(row["clip"] for row in store.labels()) == sorted(clips)
    assert store.kiosk("x") is None
