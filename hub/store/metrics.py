"""Reads for the hub's Prometheus metrics (`hub.metrics`): cheap enough for a scrape every
few seconds on a hub with millions of labels (no scan of the labels table)."""

from __future__ import annotations

from .store import Store


def labels_received(store: Store) -> int:
    """Labels ever stored, retracted ones too: a counter that only grows. SQLite: labels are
    only appended, so the newest row id is their number. PostgreSQL: counted (its identity
    column has gaps where an insert of a label already there was skipped)."""
    if store.postgres:
        return int(store.conn.execute("SELECT count(*) FROM labels").fetchone()[0])
    return store.last_label_rowid()


def backlog(store: Store) -> tuple[int, int]:
    """(clips still wanting votes, votes they still want)."""
    clips, votes = store.conn.execute(
        "SELECT coalesce(sum(CASE WHEN n_labels < want THEN 1 ELSE 0 END), 0), "
        "coalesce(sum(CASE WHEN want > n_labels THEN want - n_labels ELSE 0 END), 0) FROM clips"
    ).fetchone()
    return int(clips), int(votes)
