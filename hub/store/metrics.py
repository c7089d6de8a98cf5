"""Reads for the hub's Prometheus metrics (`hub.metrics`): cheap enough for a scrape every
few seconds on a hub with millions of labels (no scan of the labels table)."""

from __future__ import annotations

from .store import Store


def labels_received(store: Store) -> int:
    """Labels ever stored, retracted ones too: a counter that only grows (labels are only
    appended, so the newest row id is their number)."""
    return store.last_label_rowid()


def backlog(store: Store) -> tuple[int, int]:
    """(clips still wanting votes, votes they still want)."""
    clips, votes = store.conn.execute(
        "SELECT coalesce(sum(n_labels < want), 0), coalesce(sum(max(want - n_labels, 0)), 0) "
        "FROM clips"
    ).fetchone()
    return int(clips), int(votes)
