"""The database check of the hub's `/healthz` (`hub.web.health`)."""

from __future__ import annotations

from .store import Store


def database_readable(store: Store) -> None:
    """Raises (the driver's error) unless the hub's tables can be read."""
    store.conn.execute("SELECT count(*) FROM meta").fetchone()
