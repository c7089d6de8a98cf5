"""A database of its own per test, with the hub's schema, and helpers to fill it."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator

import psycopg
import pytest

from hub.store import NewLabel, Store
from hub.store.dialect import POSTGRES, PgConnection
from hub.store.pg.schema import apply_schema


@pytest.fixture
def pg_hub(pg_url: str) -> Iterator[str]:
    """The URL of a new database with the hub's schema applied."""
    with psycopg.connect(pg_url) as conn:
        apply_schema(conn)
    yield pg_url


def sha(i: int | str) -> str:
    return hashlib.sha256(f"clip-{i}".encode()).hexdigest()


def add_clips(url: str, n: int, want: int, start: int = 0) -> list[str]:
    shas = [sha(i) for i in range(start, start + n)]
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO clips (sha256, size, duration, name, want, added_at) "
            "SELECT s, 100, 1.0, 'c', %s, %s FROM unnest(%s::text[]) AS s",
            (want, time.time(), shas),
        )
    return shas


def holders(conn: psycopg.Connection) -> list[tuple[str, int, int, int, int]]:
    """Per clip: (sha256, want, labels, open assignments on live leases, n_open counter)."""
    return conn.execute(
        "SELECT c.sha256, c.want, "
        "(SELECT count(*) FROM labels l WHERE l.clip = c.sha256 AND l.retracted = 0), "
        "(SELECT count(*) FROM assignments a WHERE a.clip = c.sha256 AND a.state = 'open'), "
        "c.n_open FROM clips c ORDER BY c.seq"
    ).fetchall()


def store_on(conn: psycopg.Connection) -> Store:
    """A `Store` on this psycopg connection as the test holds it (its autocommit setting and
    any transaction it has open stay: the store's calls become savepoints in it)."""
    store = object.__new__(Store)
    store.conn = PgConnection(conn, autocommit=False)
    store.dialect = POSTGRES
    store.location, store.path, store.readonly = "", None, False
    store._site = "north"  # named: no hub id to make inside the test's open transactions
    store._init_state()
    return store


def assign_work(
    conn: psycopg.Connection,
    operator_id: str,
    kiosk_id: str,
    count: int,
    lease_seconds: float,
    exclude: tuple[str, ...] | list[str] = (),
) -> tuple[str, float, list[dict]]:
    """`Store.assign` of work on this connection."""
    return store_on(conn).assign(operator_id, kiosk_id, count, lease_seconds, exclude)


def insert_labels(
    conn: psycopg.Connection, kiosk: str, labels: list[NewLabel], now: float | None = None
) -> tuple[list[str], list[float]]:
    """`Store.add_labels` on this connection: (status, received_at) per label."""
    outcome = store_on(conn).add_labels(kiosk, labels, now=now)
    return outcome.status, outcome.received_at
