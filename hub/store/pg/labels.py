"""A label batch in PostgreSQL: one INSERT of all its rows, idempotent by uuid.

`insert_labels` does what `Store.add_labels` does, in PostgreSQL's way:
- the batch's clips are looked up once (`= ANY(array)`): a label on an unknown clip is
  refused alone (`UNKNOWN_CLIP`);
- the others go in as one `INSERT … SELECT FROM unnest(arrays) ON CONFLICT (uuid) DO
  NOTHING RETURNING uuid`: one statement text whatever the batch's size (prepared once,
  no 65,535-parameter limit as with a VALUES list), and a uuid already stored, by this
  batch or by another hub process at the same moment, is skipped by the server instead of
  looked up first. The uuids it returns are `STORED`, the rest `RETRY`;
- clip counters move by the stored labels only (`n_labels + n`, `n_open - n` for labels on
  an open assignment of a work clip), in one UPDATE from arrays; relative updates, so two
  processes storing labels of one clip at once both count;
- the operator's assignment becomes `labelled`, or a `labelled` one is recorded for a label
  that came without one (the operator never gets that clip again).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import psycopg

from ..store import RETRY, STORED, UNKNOWN_CLIP, NewLabel

INSERT = """
INSERT INTO labels (uuid, operator, clip, kiosk, lease_id, schema_version, "values",
                    segments, telemetry, created_at, received_at, review)
SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
                     %s::integer[], %s::text[], %s::text[], %s::text[],
                     %s::double precision[], %s::double precision[], %s::integer[])
ON CONFLICT (uuid) DO NOTHING
RETURNING uuid
"""


def insert_labels(
    conn: psycopg.Connection, kiosk: str, labels: Sequence[NewLabel], now: float | None = None
) -> tuple[list[str], list[float]]:
    """Store a batch in one transaction; per label (same order) STORED, RETRY or
    UNKNOWN_CLIP, and the `received_at` it was given (`now` + 1 µs per position)."""
    now = time.time() if now is None else now
    received = [now + i * 1e-6 for i in range(len(labels))]
    with conn.transaction():
        clips = {
            sha: (gold, seq)
            for sha, gold, seq in conn.execute(
                "SELECT sha256, gold, seq FROM clips WHERE sha256 = ANY(%s)",
                (list({x.clip for x in labels}),),
            )
        }
        known = [(i, x) for i, x in enumerate(labels) if x.clip in clips]
        columns: list[list[object]] = [[] for _ in range(12)]
        for i, x in known:
            row = (
                x.uuid,
                x.operator,
                x.clip,
                kiosk,
                x.lease_id,
                x.schema_version,
                x.values,
                x.segments,
                x.telemetry,
                x.created_at,
                received[i],
                int(x.review),
            )
            for column, value in zip(columns, row, strict=True):
                column.append(value)
        stored = {u for (u,) in conn.execute(INSERT, columns).fetchall()} if known else set()
        status: list[str] = []
        first: list[NewLabel] = []
        for x in labels:
            if x.clip not in clips:
                status.append(UNKNOWN_CLIP)
            elif x.uuid in stored:
                stored.discard(x.uuid)  # a uuid twice in the batch: the first is the one
                status.append(STORED)
                first.append(x)
            else:
                status.append(RETRY)
        if first:
            _move_counters(conn, first, clips)
    return status, received


def _move_counters(
    conn: psycopg.Connection, new: list[NewLabel], clips: dict[str, tuple[str | None, int]]
) -> None:
    """Assignments to `labelled` and clip counters for the labels just stored."""
    pairs = list(dict.fromkeys((x.operator, x.clip) for x in new))  # once each, in order
    ops = [op for op, _ in pairs]
    shas = [clip for _, clip in pairs]
    leases = {(x.operator, x.clip): x.lease_id or "" for x in reversed(new)}  # the first's
    was = {
        (op, clip): state
        for op, clip, state in conn.execute(
            "SELECT a.operator, a.clip, a.state FROM assignments a "
            "JOIN unnest(%s::text[], %s::text[]) AS k(operator, clip) "
            "ON a.operator = k.operator AND a.clip = k.clip FOR UPDATE OF a",
            (ops, shas),
        )
    }
    d_labels: dict[str, int] = {}
    d_open: dict[str, int] = {}
    for x in new:
        d_labels[x.clip] = d_labels.get(x.clip, 0) + 1
        key = (x.operator, x.clip)
        if was.get(key) == "open" and clips[x.clip][0] is None:
            d_open[x.clip] = d_open.get(x.clip, 0) + 1
        was[key] = "labelled"  # a second label of the pair frees no second slot
    conn.execute(
        "UPDATE clips c SET n_labels = c.n_labels + d.n, n_open = c.n_open - d.o "
        "FROM unnest(%s::bigint[], %s::integer[], %s::integer[]) AS d(seq, n, o) "
        "WHERE c.seq = d.seq",
        (
            [clips[clip][1] for clip in d_labels],
            list(d_labels.values()),
            [d_open.get(clip, 0) for clip in d_labels],
        ),
    )
    conn.execute(
        "INSERT INTO assignments (operator, clip, lease_id, assigned_at, state) "
        "SELECT k.operator, k.clip, k.lease, k.at, 'labelled' "
        "FROM unnest(%s::text[], %s::text[], %s::text[], %s::double precision[]) "
        "AS k(operator, clip, lease, at) "
        "ON CONFLICT (operator, clip) DO UPDATE SET state = 'labelled'",
        (ops, shas, [leases[p] for p in pairs], [time.time()] * len(pairs)),
    )
