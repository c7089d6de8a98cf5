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

HAS_WORK = """
SELECT 1 FROM clips c
WHERE c.n_labels + c.n_open < c.want AND c.gold IS NULL
  AND NOT EXISTS (SELECT 1 FROM assignments a
                  WHERE a.operator = %(operator)s AND a.clip = c.sha256)
LIMIT 1
"""


def pick_work(
    conn: psycopg.Connection, operator_id: str, count: int, exclude: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """Take a slot on up to `count` free work clips this operator never had (their `n_open`
    raised), most urgent first, inside the caller's transaction."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(PICK, {"operator": operator_id, "exclude": list(exclude), "count": count})
        return sorted(cur.fetchall(), key=lambda r: (-r["priority"], r["seq"]))


def has_work(conn: psycopg.Connection, operator_id: str) -> bool:
    """Is there a free work clip this operator never had (nothing taken)?"""
    row = conn.execute(HAS_WORK, {"operator": operator_id}).fetchone()
    return row is not None
