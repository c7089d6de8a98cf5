"""The hub's store: every SQL statement of the hub lives in this package.

`open_store(location)` opens it: a SQLite file (the default, `<data>/hub.db`) or a
PostgreSQL database (`postgresql://…`); the rest of the hub uses it through
`hub.store.interface.HubStore`.
"""

from .store import (
    RETRY,
    STORED,
    UNKNOWN_CLIP,
    BatchOutcome,
    DatabaseUnavailable,
    NewLabel,
    ReaderAt,
    SchemaError,
    Store,
    StoreError,
    long_votes,
    open_store,
    private_folder,
)

__all__ = [
    "long_votes",
    "RETRY",
    "STORED",
    "UNKNOWN_CLIP",
    "BatchOutcome",
    "DatabaseUnavailable",
    "SchemaError",
    "open_store",
    "NewLabel",
    "ReaderAt",
    "Store",
    "StoreError",
    "private_folder",
]
