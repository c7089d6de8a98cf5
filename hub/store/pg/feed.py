"""Labels since a position, in commit order: what incremental consensus reads.

SQLite has one writer, so "rows after the last rowid seen" is every new label. PostgreSQL
with several hub processes has many: a label's `seq` is taken when it is inserted, its
transaction may commit later than one with a higher `seq`, and a reader that moved past the
higher one never comes back for it. So readers follow transaction ids instead:
`labels.txid` is the inserting transaction's id, and every transaction with an id below the
current snapshot's `xmin` has finished (committed or rolled back) and stays as it is. Each
read takes the labels with `after <= txid < xmin`, in one statement so that the snapshot
it reads is the one `xmin` came from, and returns `xmin` as the next position.

A label whose transaction is still open, or which committed after an older transaction
that is still open anywhere on the server, comes in a later read, never lost and never
twice. A transaction left open for long (an idle session, a backup in a transaction) holds
every reader back: consensus lags, nothing is wrong.
"""

from __future__ import annotations

import psycopg

from ..records import long_votes

SINCE = """
WITH s AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
SELECT s.xmin::text, l.clip, l.operator, l."values"
FROM s LEFT JOIN labels l
  ON l.txid >= %(after)s::text::xid8 AND l.txid < s.xmin AND l.retracted = 0
ORDER BY l.txid, l.seq
"""


SINCE_SEQ = """
WITH s AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
SELECT s.xmin::text, c.seq, l.operator, l."values"
FROM s LEFT JOIN (labels l JOIN clips c ON c.sha256 = l.clip)
  ON l.txid >= %(after)s::text::xid8 AND l.txid < s.xmin AND l.retracted = 0
ORDER BY l.txid, l.seq
"""


def position(conn: psycopg.Connection) -> int:
    """The position a reader that has seen nothing new would reach now."""
    row = conn.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text").fetchone()
    return int(row[0]) if row else 0


def labels_since(
    conn: psycopg.Connection, after: int = 0
) -> tuple[int, list[str], list[str], list[str]]:
    """(next position, clips, operators, values): one vote per value of each label whose
    transaction finished at or after position `after`, in commit-safe order. Run it outside
    a transaction of one's own (autocommit): an open one would hold `xmin` at itself."""
    rows = conn.execute(SINCE, {"after": str(after)}).fetchall()
    upto = int(rows[0][0]) if rows else after
    tasks, workers, values = long_votes(r[1:] for r in rows if r[1] is not None)
    return max(upto, after), tasks, workers, values


def votes_by_seq_since(
    conn: psycopg.Connection, after: int = 0
) -> tuple[int, list[int], list[str], list[str]]:
    """`labels_since` with each clip as its `clips.seq` (the consensus fit's integer ids)."""
    rows: list[tuple[str, int, str, str]] = conn.execute(
        SINCE_SEQ, {"after": str(after)}
    ).fetchall()
    upto = int(rows[0][0]) if rows else after
    seqs, workers, values = long_votes(r[1:] for r in rows if r[1] is not None)
    return max(upto, after), seqs, workers, values
