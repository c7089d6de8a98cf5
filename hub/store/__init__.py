"""The hub's store: every SQL statement of the hub lives in this package.

One module boundary (`Store`) so that a later PostgreSQL store is a swap, not a rewrite.
"""

from .store import (
    RETRY,
    STORED,
    UNKNOWN_CLIP,
    BatchOutcome,
    LabelOutcome,
    NewLabel,
    Store,
    StoreError,
    long_votes,
    private_folder,
)

__all__ = [
    "long_votes",
    "RETRY",
    "STORED",
    "UNKNOWN_CLIP",
    "BatchOutcome",
    "LabelOutcome",
    "NewLabel",
    "Store",
    "StoreError",
    "private_folder",
]
