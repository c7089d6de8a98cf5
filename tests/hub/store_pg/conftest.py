"""A database of its own per test, with the hub's schema, and helpers to fill it."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator

import psycopg
import pytest

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
