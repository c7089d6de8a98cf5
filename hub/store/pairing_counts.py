"""Wrong pairing codes counted for the whole site in the store: with hub processes on several
machines each has its own pairing socket and its own guard (`hub.pairing`), and the count
that withdraws every open code after `BURN_AFTER` wrong ones must add up over all of them,
else an attacker gets that many guesses per machine. Two `meta` rows: the count and the time
of the last wrong code."""

from __future__ import annotations

from .store import Store

COUNT = "pairing_wrong"
LAST = "pairing_wrong_at"


def count_wrong_pair_code(store: Store, now: float, burn_after: int, forget_seconds: float) -> bool:
    """Count one wrong code for the site (one atomic increment; a count whose last wrong code
    is older than `forget_seconds` starts again). True when it reached `burn_after`: the
    caller withdraws the open codes, and the count starts again."""
    with store.transaction():
        last = store.conn.execute("SELECT value FROM meta WHERE key = ?", (LAST,)).fetchone()
        if last is not None and now - float(last[0]) > forget_seconds:
            store.conn.execute("DELETE FROM meta WHERE key = ?", (COUNT,))
        wrong = int(
            store.conn.execute(
                "INSERT INTO meta(key, value) VALUES (?, '1') ON CONFLICT(key) DO UPDATE "
                "SET value = CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT) RETURNING value",
                (COUNT,),
            ).fetchone()[0]
        )
        store.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (LAST, repr(now)),
        )
        if wrong < burn_after:
            return False
        store.conn.execute("DELETE FROM meta WHERE key = ?", (COUNT,))
    return True
