"""The hub's store: every SQL statement of the hub lives in this package.

One module boundary (`Store`) so that a later PostgreSQL store is a swap, not a rewrite.
"""

from .store import LabelOutcome, Store, StoreError

__all__ = ["LabelOutcome", "Store", "StoreError"]
