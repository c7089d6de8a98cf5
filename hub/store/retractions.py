"""Labels taken back, as the store knows them (for several hub processes on one store: each
one counts only its own retractions in memory)."""

from __future__ import annotations

from .store import Store


def retracted_labels(store: Store) -> int:
    """How many labels are retracted (a scan of the labels: for the housekeeping thread)."""
    return int(store.conn.execute("SELECT count(*) FROM labels WHERE retracted = 1").fetchone()[0])
