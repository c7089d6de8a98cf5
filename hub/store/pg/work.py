"""Handing out work in PostgreSQL: several hub processes assign at once, none over-assigns.

`assign_work` picks the clips in one statement: the free work clips this operator never had,
most urgent first, `FOR UPDATE SKIP LOCKED`, and raises their `n_open` in the same statement.
Two transactions assigning at once never wait on each other: the second skips the rows the
first holds and takes the next free ones. A row another transaction changed and committed
meanwhile is checked again against `n_labels + n_open < want` when it is locked (READ
COMMITTED re-reads the newest row version for FOR UPDATE), so a clip filled meanwhile drops
out. A clip whose only free slot another transaction is holding is skipped for this request,
not waited for: the kiosk gets fewer clips now, never a clip too many.

The lease row and the (operator, clip) assignment rows go in the same transaction; the
primary key of `assignments` is the last guard against one operator getting a clip twice
(two of its requests at once would make the second transaction fail, not double up).
Gold clips and the spread of gold among work stay with the backend (SQLite: `Store.assign`).
"""

from __future__ import annotations

import time
import uuid as uuidlib
from collections.abc import Iterable
from typing import Any

import psycopg
from psycopg.rows import dict_row

PICK = """
WITH free AS (
    SELECT c.seq FROM clips c
    WHERE c.n_labels + c.n_open < c.want AND c.gold IS NULL
      AND NOT EXISTS (SELECT 1 FROM assignments a
                      WHERE a.operator = %(operator)s AND a.clip = c.sha256)
      AND c.sha256 <> ALL(%(exclude)s)
    ORDER BY c.priority DESC, c.seq
    LIMIT %(count)s
    FOR UPDATE OF c SKIP LOCKED
)
UPDATE clips c SET n_open = c.n_open + 1 FROM free WHERE c.seq = free.seq
RETURNING c.*
"""


def assign_work(
    conn: psycopg.Connection,
    operator_id: str,
    kiosk_id: str,
    count: int,
    lease_seconds: float,
    exclude: Iterable[str] = (),
    now: float | None = None,
) -> tuple[str, float, list[dict[str, Any]]]:
    """Lease up to `count` work clips to this operator, in one transaction (a savepoint if
    the caller has one open). Returns (lease, expiry, clips most urgent first)."""
    now = time.time() if now is None else now
    lease_id = str(uuidlib.uuid4())
    expires = now + lease_seconds
    if count <= 0:
        return lease_id, expires, []
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        cur.execute(PICK, {"operator": operator_id, "exclude": list(exclude), "count": count})
        chosen = sorted(cur.fetchall(), key=lambda r: (-r["priority"], r["seq"]))
        if not chosen:
            return lease_id, expires, []
        cur.execute(
            "INSERT INTO leases (id, operator, kiosk, created_at, expires_at) "
            "VALUES (%s, %s, %s, %s, %s)",
            (lease_id, operator_id, kiosk_id, now, expires),
        )
        cur.execute(
            "INSERT INTO assignments (operator, clip, lease_id, assigned_at, state) "
            "SELECT %s, clip, %s, %s, 'open' FROM unnest(%s::text[]) AS clip",
            (operator_id, lease_id, now, [r["sha256"] for r in chosen]),
        )
    return lease_id, expires, chosen
