"""`Store`: the hub's database, SQLite (WAL, the default) or PostgreSQL, one concern per
module (meta, media, work, labels, consensus, operators, kiosks) over one connection
(`StoreBase`). Thin methods, one transaction per call site."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .base import IN_CHUNK, WAL_KEEP_BYTES, SchemaError, private_folder
from .consensus import Consensus
from .consensus_codes import ConsensusCodes
from .exports import ExportReads
from .kiosks import (
    MAX_CODE_DIGITS,
    MAX_PAIR_CODE_TTL,
    MIN_CODE_DIGITS,
    PAIR_CODE_TTL,
    Kiosks,
)
from .labels import Labels
from .media import Media
from .meta import Meta
from .operators import LOCKOUT_AFTER, LOCKOUT_BASE_SECONDS, Operators
from .records import (
    RETRY,
    STORED,
    UNKNOWN_CLIP,
    BatchOutcome,
    DatabaseUnavailable,
    Decide,
    NewLabel,
    StoreError,
    long_votes,
)
from .work import Work

__all__ = [
    "IN_CHUNK",
    "LOCKOUT_AFTER",
    "LOCKOUT_BASE_SECONDS",
    "MAX_CODE_DIGITS",
    "MAX_PAIR_CODE_TTL",
    "MIN_CODE_DIGITS",
    "PAIR_CODE_TTL",
    "RETRY",
    "STORED",
    "UNKNOWN_CLIP",
    "WAL_KEEP_BYTES",
    "BatchOutcome",
    "DatabaseUnavailable",
    "Decide",
    "NewLabel",
    "SchemaError",
    "Store",
    "StoreError",
    "long_votes",
    "ReaderAt",
    "open_store",
    "private_folder",
]


class Store(Meta, Media, Work, Labels, ConsensusCodes, Consensus, Operators, Kiosks, ExportReads):
    """The hub's store on one connection: `Store(path)` (SQLite) or
    `Store("postgresql://…")`."""

    def reopen(self, *, readonly: bool = True) -> Store:
        """Another handle on the same database (another connection: worker threads)."""
        return Store(
            self.location, readonly=readonly, read_location=self.read_location, site=self._site
        )

    def reader(self, cache_mib: int = 64) -> Store:
        """A handle for reads only, on the read replica when there is one (dashboard,
        background reads: a replica may be a moment behind)."""
        return self.reader_at(cache_mib)()

    def reader_at(self, cache_mib: int = 64) -> ReaderAt:
        """How to open `reader()` again, as a value another process can be given."""
        return ReaderAt(self.read_location, self._site, cache_mib)


@dataclass(frozen=True)
class ReaderAt:
    """Where and how `Store.reader` opens its handle; calling it opens one. Picklable: a
    process of its own (the consensus fit) opens its reader from it."""

    location: str
    site: str | None
    cache_mib: int = 64

    def __call__(self) -> Store:
        store = Store(self.location, readonly=True, site=self.site)
        store.reads_only(self.cache_mib)
        return store


def open_store(
    location: Path | str,
    *,
    readonly: bool = False,
    read_location: str | None = None,
    site: str | None = None,
) -> Store:
    """The hub's store at `location`: a `postgresql://` URL, else a SQLite file path
    (`read_location`: a PostgreSQL read replica for `Store.reader`; `site`: the site this
    hub is, when several share the database)."""
    return Store(location, readonly=readonly, read_location=read_location, site=site)
