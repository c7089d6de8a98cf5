"""A label batch in PostgreSQL: one statement for all its rows, idempotent by uuid.

`Store.add_labels` (hub/store/labels.py) stores a batch on PostgreSQL with `STORE`: its
`INSERT … SELECT FROM unnest(arrays) ON CONFLICT (uuid) DO NOTHING RETURNING` is one
statement text whatever the batch's size (prepared once, no 65,535-parameter limit as with a
VALUES list). A uuid already stored, by this batch or by another hub process at the same
moment, is skipped by the server instead of looked up first; the uuids it returns are the
labels stored. The clip counters move by those only (relative updates, so two processes
storing labels of one clip at once both count), with the assignment rows locked first.
"""

from __future__ import annotations

from typing import Any

from ..dialect import Piped

#: A batch in one statement: the known clips among the labels' (sha256, gold, n_labels,
#: seq), the labels inserted (the first of each uuid among those on known clips; a uuid
#: already stored is skipped), and the assignment state of each (operator, clip) of an
#: inserted label, those rows locked in one order. Rows: (kind, a, b, n, seq, state).
STORE = """
WITH known AS (
    SELECT sha256, gold, n_labels, seq FROM clips WHERE sha256 = ANY(%s::text[])
), batch AS (
    SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
                         %s::integer[], %s::text[], %s::text[], %s::text[],
                         %s::double precision[], %s::double precision[], %s::integer[])
        WITH ORDINALITY AS b(uuid, operator, clip, kiosk, lease_id, schema_version,
                             "values", segments, telemetry, created_at, received_at, review,
                             pos)
), firsts AS (
    SELECT DISTINCT ON (b.uuid) b.* FROM batch b JOIN known k ON k.sha256 = b.clip
    ORDER BY b.uuid, b.pos
), stored AS (
    INSERT INTO labels (uuid, operator, clip, kiosk, lease_id, schema_version, "values",
                        segments, telemetry, created_at, received_at, review, site)
    SELECT uuid, operator, clip, kiosk, lease_id, schema_version, "values", segments,
           telemetry, created_at, received_at, review, %s::text
    FROM firsts ORDER BY pos
    ON CONFLICT (uuid) DO NOTHING
    RETURNING uuid, operator, clip
), states AS (
    SELECT a.operator, a.clip, a.state FROM assignments a
    JOIN (SELECT DISTINCT operator, clip FROM stored) s
      ON a.operator = s.operator AND a.clip = s.clip
    ORDER BY a.operator, a.clip
    FOR UPDATE OF a
)
SELECT 'clip', sha256, gold, n_labels, seq, NULL::text FROM known
UNION ALL SELECT 'stored', uuid, NULL, NULL, NULL, NULL FROM stored
UNION ALL SELECT 'state', operator, clip, NULL, NULL, state FROM states
"""

#: Votes per value on these clips (labels not retracted), each clip's labels found by the
#: `labels_clip` index. Planned at each call (`prepare=False`): a generic plan made while
#: `labels` was nearly empty would scan the whole table for good (~1 ms a call, not 0.03).
VOTES = """
SELECT k.clip, j.value, count(*) FROM unnest(%s::text[]) AS k(clip)
CROSS JOIN LATERAL (SELECT l."values" FROM labels l
                    WHERE l.clip = k.clip AND l.retracted = 0) l,
json_array_elements_text((l."values")::json) j
GROUP BY k.clip, j.value
"""

COUNTERS = """
UPDATE clips c SET n_labels = c.n_labels + d.n, n_open = c.n_open - d.o
FROM unnest(%s::integer[], %s::integer[], %s::bigint[]) AS d(n, o, seq)
WHERE c.seq = d.seq
"""

VERDICTS = """
UPDATE clips c SET n_labels = c.n_labels + d.n, n_open = c.n_open - d.o,
    consensus = d.consensus, confidence = d.confidence, want = d.want
FROM unnest(%s::integer[], %s::integer[], %s::text[], %s::double precision[],
            %s::integer[], %s::bigint[]) AS d(n, o, consensus, confidence, want, seq)
WHERE c.seq = d.seq
"""

#: New `labelled` rows and existing ones set to `labelled`, in one statement (the pairs are
#: distinct).
LABELLED = """
INSERT INTO assignments (operator, clip, lease_id, assigned_at, state)
SELECT k.operator, k.clip, k.lease, k.at, 'labelled'
FROM unnest(%s::text[], %s::text[], %s::text[], %s::double precision[])
  AS k(operator, clip, lease, at)
ON CONFLICT (operator, clip) DO UPDATE SET state = 'labelled'
"""


def _columns(rows: list[tuple[Any, ...]], n: int) -> list[list[Any]]:
    return [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in range(n)]


#: Around the label path's statements (in the same round trip): their generic plans, made
#: once per connection. Left to itself the server plans them at every call (their array
#: parameters make each custom plan look cheaper than the generic one), 0.1–0.3 ms of its
#: time each; the pick of a request for work keeps its custom plans (its generic plan is
#: ten times slower), hence back to the default right after.
GENERIC = "SET LOCAL plan_cache_mode = force_generic_plan"
DEFAULT = "SET LOCAL plan_cache_mode TO DEFAULT"


def generic_plans(
    statements: list[tuple[str, Any, bool | None]],
) -> list[tuple[str, Any, bool | None]]:
    """`statements` run on their generic plans, the default mode restored after them."""
    return [(GENERIC, None, False), *statements, (DEFAULT, None, False)]


def store_batch(
    conn: Piped,
    site: str,
    shas: list[str],
    rows: list[tuple[Any, ...]],
    votes: dict[str, dict[str, int]] | None = None,
) -> tuple[list[tuple[str, str | None, int, int]], set[str], dict[tuple[str, str], str]]:
    """`STORE` for these clips and label rows (`records.label_row`'s order) heard at `site`:
    (the known clips' sha256, gold, n_labels, seq), the uuids inserted, and the locked
    assignment states of the inserted labels' (operator, clip). `votes`, if given, is
    filled with the votes per value on these clips before the batch (`VOTES`, sent in the
    same round trip, ahead of the insert)."""
    clips: list[tuple[str, str | None, int, int]] = []
    stored: set[str] = set()
    states: dict[tuple[str, str], str] = {}
    statements: list[tuple[str, Any, bool | None]] = generic_plans(
        [(STORE, [shas, *_columns(rows, 12), site], None)]
    )
    if votes is not None:
        statements.insert(0, (VOTES, (shas,), False))
    cursors = conn.execute_each(statements)
    if votes is not None:
        for clip, value, n in cursors[0]:
            votes.setdefault(clip, {})[value] = n
    for kind, a, b, n, seq, state in cursors[-2]:  # STORE's (the last: the mode's reset)
        if kind == "clip":
            clips.append((a, b, n, seq))
        elif kind == "stored":
            stored.add(a)
        else:
            states[(a, b)] = state
    return clips, stored, states


def move_counters(
    conn: Piped,
    counters: list[tuple[int, int, int]],
    verdicts: list[tuple[Any, ...]],
    new_assignments: list[tuple[str, str, str, float]],
    labelled: list[tuple[str, str]],
) -> None:
    """`Labels._move_counters` in one statement per kind (arrays, not one row each), all of
    them in one round trip."""
    statements: list[tuple[str, Any]] = []
    if counters:
        statements.append((COUNTERS, _columns(counters, 3)))
    if verdicts:
        statements.append((VERDICTS, _columns(verdicts, 6)))
    rows = new_assignments + [(op, clip, "", 0.0) for op, clip in labelled]
    if rows:
        statements.append((LABELLED, _columns(rows, 4)))
    if statements:
        conn.execute_each(generic_plans([(sql, params, None) for sql, params in statements]))
