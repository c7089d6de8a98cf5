"""What kiosks report, written for all kiosks of a slice at once on PostgreSQL.

`Kiosks.kiosk_seen` inside a transaction (the router's slice) only notes the kiosk's report
in memory; the slice's COMMIT carries one `UPDATE … FROM unnest(…)` for every kiosk heard
in it (`StoreBase.transaction`), in the same round trip. A report that changes nothing for
another column (None) leaves that column as it was.
"""

from __future__ import annotations

from typing import Any

SEEN = """
UPDATE kiosks k SET last_seen = d.at, site = %s,
    version = coalesce(d.version, k.version),
    operator = coalesce(d.operator, k.operator),
    outbox = coalesce(d.outbox, k.outbox),
    cache_bytes = coalesce(d.cache_bytes, k.cache_bytes)
FROM unnest(%s::text[], %s::double precision[], %s::text[], %s::text[], %s::integer[],
            %s::bigint[]) AS d(id, at, version, operator, outbox, cache_bytes)
WHERE k.id = d.id
"""

#: The columns a report may set, in `SEEN`'s order after id.
COLUMNS = ("last_seen", "version", "operator", "outbox", "cache_bytes")


def seen_params(site: str, seen: dict[str, dict[str, Any]]) -> list[Any]:
    """`SEEN`'s parameters: the site of the hub that heard them (a kiosk may move to another
    site's hub), then arrays of these kiosks' reports (column -> value, last one wins), in id
    order (rows locked in one order in every process)."""
    ids = sorted(seen)
    return [site, ids] + [[seen[k].get(c) for k in ids] for c in COLUMNS]
