"""Handing out work in PostgreSQL: several hub processes assign at once, none over-assigns.

`pick_work` picks the clips in one statement: the free work clips this operator never had,
most urgent first, `FOR UPDATE SKIP LOCKED`, and raises their `n_open` in the same statement.
Two transactions assigning at once never wait on each other: the second skips the rows the
first holds and takes the next free ones. A row another transaction changed and committed
meanwhile is checked again against `n_labels + n_open < want` when it is locked (READ
COMMITTED re-reads the newest row version for FOR UPDATE), so a clip filled meanwhile drops
out. A clip whose only free slot another transaction is holding is skipped for this request,
not waited for: the kiosk gets fewer clips now, never a clip too many.

`Store.assign` (hub/store/work.py) writes the lease row and the (operator, clip) assignment
rows in the same transaction, and mixes in gold; the primary key of `assignments` is the
last guard against one operator getting a clip twice (two of its requests at once would
make the second transaction fail, not double up).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..dialect import Executes

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
), picked AS (
    UPDATE clips c SET n_open = c.n_open + 1 FROM free WHERE c.seq = free.seq
    RETURNING c.*
), taken AS (
    SELECT sha256 FROM picked
    UNION ALL
    SELECT g FROM unnest(%(golds)s::text[]) AS g
    WHERE %(golds_alone)s OR EXISTS (SELECT 1 FROM picked)
), lease AS (
    INSERT INTO leases (id, operator, kiosk, created_at, expires_at)
    SELECT %(lease)s, %(operator)s, %(kiosk)s, %(now)s, %(expires)s
    WHERE EXISTS (SELECT 1 FROM taken)
), assigned AS (
    INSERT INTO assignments (operator, clip, lease_id, assigned_at, state)
    SELECT %(operator)s, sha256, %(lease)s, %(now)s, 'open' FROM taken
)
SELECT * FROM picked
"""

HAS_WORK = """
SELECT 1 FROM clips c
WHERE c.n_labels + c.n_open < c.want AND c.gold IS NULL
  AND NOT EXISTS (SELECT 1 FROM assignments a
                  WHERE a.operator = %(operator)s AND a.clip = c.sha256)
LIMIT 1
"""


def lease_work(
    conn: Executes,
    operator_id: str,
    kiosk_id: str,
    count: int,
    exclude: Iterable[str],
    lease: tuple[str, float, float],
    golds: list[str],
    golds_alone: bool,
) -> list[dict[str, Any]]:
    """In one statement: take a slot on up to `count` free work clips this operator never
    had (their `n_open` raised), write the lease (`lease`: id, now, expiry) and an open
    assignment for each of them and for the gold clips `golds` (kept only with work, or
    when `golds_alone`). Returns the work clips, most urgent first."""
    params = {
        "operator": operator_id,
        "kiosk": kiosk_id,
        "exclude": list(exclude),
        "count": count,
        "golds": golds,
        "golds_alone": golds_alone,
        "lease": lease[0],
        "now": lease[1],
        "expires": lease[2],
    }
    cur = conn.execute(PICK, params)
    names = [d.name for d in cur.description]
    rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    return sorted(rows, key=lambda r: (-r["priority"], r["seq"]))


def has_work(conn: Executes, operator_id: str) -> bool:
    """Is there a free work clip this operator never had (nothing taken)?"""
    row = conn.execute(HAS_WORK, {"operator": operator_id}).fetchone()
    return row is not None
