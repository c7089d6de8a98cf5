"""Wrong PINs typed at a kiosk, kept in the store so that every hub process of a site counts
the same ones: a kiosk that moves to another process (or tries them at several in turn) meets
the same lock-out. Two rows of `meta` per kiosk that typed a wrong PIN (`pin_failures:ID`, a
count; `pin_locked:ID`, until when), gone at its next good PIN."""

from __future__ import annotations

from .store import Store

FAILED = "pin_failures:"
LOCKED = "pin_locked:"


def kiosk_locked_until(store: Store, kiosk_id: str) -> float:
    """Until when the kiosk takes no PIN (0: it does)."""
    value = store.conn.execute("SELECT value FROM meta WHERE key = ?", (LOCKED + kiosk_id,))
    row = value.fetchone()
    return float(row[0]) if row is not None else 0.0


def kiosk_pin_failed(store: Store, kiosk_id: str, now: float, after: int, seconds: float) -> float:
    """Count one more wrong PIN at the kiosk (one atomic increment: two processes at once
    both count); from the `after`th on, lock it for `seconds`, doubling with each further
    one. Returns until when it is locked (0: it is not)."""
    with store.transaction():
        failed = int(
            store.conn.execute(
                "INSERT INTO meta(key, value) VALUES (?, '1') ON CONFLICT(key) DO UPDATE "
                "SET value = CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT) RETURNING value",
                (FAILED + kiosk_id,),
            ).fetchone()[0]
        )
        if failed < after:
            return 0.0
        until = now + seconds * 2 ** (failed - after)
        store.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (LOCKED + kiosk_id, repr(until)),
        )
    return until


def kiosk_pin_ok(store: Store, kiosk_id: str) -> None:
    """A good PIN at the kiosk: its count starts again."""
    with store.transaction():
        store.conn.execute(
            "DELETE FROM meta WHERE key IN (?, ?)", (FAILED + kiosk_id, LOCKED + kiosk_id)
        )
