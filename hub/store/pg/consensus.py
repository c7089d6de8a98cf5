"""The consensus fit's results in PostgreSQL: one statement for a whole slice of clips.

`Store.set_consensus` runs on the hub's writer connection, on the router's event loop (the
one writer): a row per statement (psycopg's `executemany`, pipelined) took ~16 µs of the loop
per clip, ~8 ms per 500; one `UPDATE … FROM unnest(arrays)` sends the slice at once and the
server joins it on the clips' primary key."""

from __future__ import annotations

from collections.abc import Iterable

from ..dialect import Piped

SET_CONSENSUS = """
UPDATE clips c SET consensus = d.consensus, confidence = d.confidence, want = d.want
FROM unnest(%s::text[], %s::double precision[], %s::integer[], %s::text[])
    AS d(consensus, confidence, want, sha256)
WHERE c.sha256 = d.sha256
"""


def set_consensus(conn: Piped, rows: Iterable[tuple[str | None, float, int, str]]) -> None:
    """(consensus, confidence, want, clip) per clip, in one statement."""
    columns = [list(c) for c in zip(*rows, strict=True)]
    if columns:
        conn.execute(SET_CONSENSUS, columns, prepare=True)
