"""A label batch in PostgreSQL: one INSERT of all its rows, idempotent by uuid.

`Store.add_labels` (hub/store/labels.py) inserts a batch on PostgreSQL with `INSERT`: one
`INSERT … SELECT FROM unnest(arrays) ON CONFLICT (uuid) DO NOTHING RETURNING uuid`, one
statement text whatever the batch's size (prepared once, no 65,535-parameter limit as with a
VALUES list). A uuid already stored, by this batch or by another hub process at the same
moment, is skipped by the server instead of looked up first; the uuids it returns are the
labels stored. The clip counters move by those only (relative updates, so two processes
storing labels of one clip at once both count), with the assignment rows locked first.
"""

from __future__ import annotations

INSERT = """
INSERT INTO labels (uuid, operator, clip, kiosk, lease_id, schema_version, "values",
                    segments, telemetry, created_at, received_at, review, site)
SELECT *, %s::text FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
                     %s::integer[], %s::text[], %s::text[], %s::text[],
                     %s::double precision[], %s::double precision[], %s::integer[])
ON CONFLICT (uuid) DO NOTHING
RETURNING uuid
"""
