"""End-of-run invariants of a hub database, read in a few set-based passes.

Used by the load and chaos benchmarks and by fault tests after a run, on SQLite or PostgreSQL: no clip held by more
people than it wants, no operator labelling a clip twice, clip counters equal to the labels.

Each check is one pass over an index or a sort of one table, so the cost grows as
n log n with the labels, not as their square: the counts per clip are merged with
`UNION ALL` + `GROUP BY` (one sort) and joined to `clips` through its `sha256` index, and
the clips that went through an expired lease form one `IN` list that SQLite indexes once.
(Joining two aggregated CTEs to each other, as the first version of this check did, made
SQLite scan one of them once per row of the other: 8.5 s at 13k labels with one label
wanted per clip, unfinished after minutes at 55k; benchmarks/RESULTS-load.md.)
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

#: Clips with more labels + open assignments on live leases than they want, leaving out
#: the clips one of whose leases expired (a late label on an expired lease may legitimately
#: meet the vote of the operator who got the clip next: `expired_reassignments`).
OVER_ASSIGNED = """
SELECT count(*) FROM (
    SELECT clip, sum(n) AS n FROM (
        SELECT clip, count(*) AS n FROM labels WHERE retracted = 0 GROUP BY clip
        UNION ALL
        SELECT a.clip, count(*) FROM assignments a JOIN leases s ON s.id = a.lease_id
        WHERE a.state = 'open' AND s.expires_at > ? GROUP BY a.clip
    ) AS holders GROUP BY clip
) t JOIN clips c ON c.sha256 = t.clip
WHERE t.n > c.want
  AND t.clip NOT IN (SELECT clip FROM assignments WHERE state = 'expired')
"""
EXPIRED_REASSIGNMENTS = "SELECT count(DISTINCT clip) FROM assignments WHERE state = 'expired'"
REPEATED_FOR_OPERATOR = (
    "SELECT count(*) FROM (SELECT 1 FROM labels WHERE retracted = 0 "
    "GROUP BY operator, clip HAVING count(*) > 1) AS twice"
)
#: Clips whose `n_labels` differs from their labels (outer-joined: a clip with none counts 0).
COUNTER_MISMATCH = """
SELECT count(*) FROM clips c LEFT JOIN (
    SELECT clip, count(*) AS n FROM labels WHERE retracted = 0 GROUP BY clip
) l ON l.clip = c.sha256
WHERE c.n_labels != coalesce(l.n, 0)
"""


def audit_connection(conn: Any, now: float | None = None) -> dict[str, int]:
    """The invariants' counts on an open hub database (`conn`: a sqlite3 connection or a
    store's `conn`, which speaks the same) (0 everywhere but `labels` and
    `expired_reassignments` when all is well)."""
    now = time.time() if now is None else now

    def one(sql: str, params: tuple[float, ...] = ()) -> int:
        return int(conn.execute(sql, params).fetchone()[0])

    return {
        "labels": one("SELECT count(*) FROM labels"),
        "over_assigned": one(OVER_ASSIGNED, (now,)),
        "repeated_for_operator": one(REPEATED_FOR_OPERATOR),
        "expired_reassignments": one(EXPIRED_REASSIGNMENTS),
        "counter_mismatch": one(COUNTER_MISMATCH),
    }


def audit(location: Path | str, now: float | None = None) -> dict[str, int]:
    """`audit_connection` on the hub database at `location` (a SQLite file or a PostgreSQL
    URL), on a connection of its own."""
    from .dialect import is_postgres_url

    if not is_postgres_url(str(location)):
        conn = sqlite3.connect(Path(location))
        try:
            return audit_connection(conn, now)
        finally:
            conn.close()
    from .store import Store

    store = Store(str(location), readonly=True)
    try:
        return audit_connection(store.conn, now)
    finally:
        store.close()
