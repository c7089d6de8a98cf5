"""The store as the rest of the hub uses it: one `typing.Protocol` per concern, and `HubStore`.

Read from the callers (hub/service.py, hub/site/, hub/ingest/catalog.py, hub/cli.py,
hub/export/, hub/web/, hub/metrics.py, hub/models/): these are the `Store` methods they
call. `Store` (hub/store/store.py) implements them once for both engines, SQLite and
PostgreSQL; tests/hub/store_contract/ checks their meaning against both, and that `Store`
has every method listed here with these parameters.

The module-level readers in this package (`hub.store.dashboard`, `.accounts`,
`.predictions`, `.metrics`, `.health`) take a `HubStore` and run their SQL through
`SqlAccess` (the connection and its dialect): they are part of the store, written in the
SQL both engines share, with the dialect's fragments where the engines differ. Nothing
outside hub/store touches `conn`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from .dialect import Dialect
from .records import BatchOutcome, Decide, NewLabel


class SqlAccess(Protocol):
    """For the store's own modules only: the connection (sqlite3's calls, on either engine)
    and the dialect's fragments."""

    conn: Any
    dialect: Dialect


class Transactions(Protocol):
    #: where the database is: a SQLite file path or a `postgresql://` URL
    location: str
    #: where reads that may lag go (a read replica; else `location`)
    read_location: str

    def transaction(self) -> AbstractContextManager[None]:
        """Group calls into one commit; nested use rolls back alone (a savepoint)."""

    def snapshot(self) -> AbstractContextManager[None]:
        """Reads inside see one state of the database."""

    def reopen(self, *, readonly: bool = True) -> HubStore:
        """Another handle (connection) on the same database, for another thread."""

    def reader(self, cache_mib: int = 64) -> HubStore:
        """A read-only handle, on the read replica when there is one."""

    def reader_at(self, cache_mib: int = 64) -> Callable[[], HubStore]:
        """How `reader()` opens its handle, picklable: another process opens its own."""

    def reads_only(self, cache_mib: int = 64) -> None:
        """This handle refuses writes from now on."""

    def defer_checkpoints(self) -> None:
        """Commits never checkpoint (SQLite's WAL; nothing on PostgreSQL)."""

    def checkpoint(self, mode: str = "PASSIVE") -> tuple[int, int, int]:
        """SQLite's WAL checkpoint; (0, 0, 0) on PostgreSQL."""

    def probe(self, timeout: int = 2) -> None:
        """DatabaseUnavailable unless the database answers now (on a connection of its own)."""

    def close(self) -> None: ...


class MetaStore(Protocol):
    def meta(self, key: str, default: str | None = None) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    def meta_once(self, key: str, value: str) -> str:
        """The value under `key`, `value` stored first if there is none."""

    def hub_id(self) -> str:
        """The database's (the program's) id, made once and kept."""

    @property
    def site(self) -> str:
        """The site this handle writes for: its name, else the hub id (one site)."""

    def sites(self) -> list[str]:
        """Every site that stored a label or saw a kiosk, and this one."""

    def project_version(self, name: str, toml_text: str, schema_json: str) -> int:
        """The version of this project text; a changed text gets the next number."""

    def current_schema_json(self) -> str | None: ...


class MediaStore(Protocol):
    def has_source(self, sha256: str) -> bool: ...

    def add_source(self, sha256: str, name: str, path: str, duration: float, size: int) -> None:
        """Idempotent by sha256."""

    def add_clip(
        self,
        sha256: str,
        size: int,
        duration: float,
        name: str,
        *,
        want: int,
        source_sha256: str | None = None,
        source_name: str | None = None,
        start: float = 0.0,
        end: float | None = None,
        gold: str | None = None,
    ) -> bool:
        """False when a clip with these bytes is already there (nothing changes)."""

    def clip(self, sha256: str) -> dict[str, Any] | None: ...

    def clips(self) -> list[dict[str, Any]]:
        """Every clip, in the order they were added."""

    def set_gold(self, sha256: str, answer: str | None, want: int = 0) -> bool:
        """A known answer (not work: want 0) or ordinary again; False for an unknown clip."""

    def has_gold(self) -> bool: ...


class WorkStore(Protocol):
    def assign(
        self,
        operator_id: str,
        kiosk_id: str,
        count: int,
        lease_seconds: float,
        exclude: Iterable[str] = (),
        gold: int = 0,
        training: bool = False,
    ) -> tuple[str, float, list[dict[str, Any]]]:
        """(lease, expiry, clips): clips this operator never had, never more holders (labels
        + open leases) than a clip wants; gold mixed in, only gold while training."""

    def expire_leases(self, now: float | None = None) -> int:
        """Free the open slots of leases expired by `now`; returns how many."""

    def open_assignments(self, operator_id: str) -> list[dict[str, Any]]:
        """Clips leased to this operator, not yet labelled, lease still running."""


class LabelStore(Protocol):
    def add_labels(
        self,
        kiosk: str,
        labels: list[NewLabel],
        now: float | None = None,
        decide: Decide | None = None,
    ) -> BatchOutcome:
        """A batch in one commit: per label STORED, RETRY (uuid seen) or UNKNOWN_CLIP."""

    def retract_label(self, uuid: str, operator: str, kiosk: str | None = None) -> bool: ...

    def labels(self, include_retracted: bool = False) -> list[dict[str, Any]]: ...

    def count_labels(self) -> int: ...

    def alerts(self) -> list[dict[str, Any]]: ...

    def breaks(self, operator: str | None = None) -> list[dict[str, Any]]: ...

    def export_rows(
        self,
    ) -> AbstractContextManager[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], Any]]:
        """Project versions, clips and a cursor over the labels, from one snapshot."""

    def last_label_rowid(self) -> int:
        """A position in the append order of labels (`labels_since` reads after it)."""

    def labels_since(self, rowid: int) -> tuple[int, list[str], list[str], list[str]]:
        """(position reached, clips, operators, values) of labels stored after `rowid`."""

    def exposure_minutes(self, operator_id: str, since: float) -> float: ...

    def add_alert(
        self, uuid: str, operator: str, clip: str, kiosk: str, created_at: float
    ) -> None: ...

    def add_break(
        self,
        uuid: str,
        operator: str,
        kiosk: str,
        started_at: float,
        seconds: float,
        enforced: bool,
        kind: str = "",
    ) -> bool:
        """False when this uuid is already stored (a resend)."""


class ConsensusStore(Protocol):
    def consensus_state(
        self, labelled_only: bool = False, clips: Iterable[str] | None = None
    ) -> dict[str, tuple[int, str | None, float | None, int]]: ...

    def set_consensus(self, rows: Iterable[tuple[str | None, float, int, str]]) -> None:
        """(consensus, confidence, want, clip) per clip."""

    def clip_votes(self, sha256: str) -> dict[str, int]: ...

    def clip_votes_many(self, clips: Iterable[str]) -> dict[str, dict[str, int]]: ...

    def votes_by_seq(self, upto: int | None = None) -> tuple[list[int], list[str], list[str]]:
        """(clip seq, operator, value) per vote of every label that counts, up to `upto`."""

    def votes_by_seq_since(self, position: int) -> tuple[int, list[int], list[str], list[str]]:
        """`labels_since` with each clip as its seq."""

    def gold_by_seq(self) -> dict[int, tuple[str, str]]:
        """seq -> (sha256, gold answer)."""

    def consensus_columns(
        self, labelled_only: bool = False, seqs: Iterable[int] | None = None
    ) -> tuple[list[int], list[int], list[str | None], list[float | None], list[int]]:
        """`consensus_state` as columns keyed by seq: seq, labels, consensus, confidence,
        wanted votes."""

    def clip_sha256s(self, seqs: Iterable[int]) -> dict[int, str]:
        """seq -> sha256 of the given clips."""


class OperatorStore(Protocol):
    def add_operator(self, operator_id: str, name: str, pin_hash: str) -> None: ...

    def operator(self, operator_id: str) -> dict[str, Any] | None: ...

    def operators(self) -> list[dict[str, Any]]: ...

    def roster(self) -> list[tuple[str, str, str]]:
        """(id, name, PIN hash) of the active operators."""

    def known_operators(self, operator_ids: Iterable[str]) -> set[str]: ...

    def record_login(self, operator_id: str, ok: bool, now: float | None = None) -> float:
        """Count an attempt; the time until which the operator is locked (0: not)."""

    def log_session(self, operator_id: str, kiosk: str, kind: str) -> None: ...

    def end_session(self, kiosk_id: str, operator_id: str, at: float) -> float | None:
        """Log the logout of this open session at `at` (not before its login, not after
        now); None when no such session is open."""

    def open_session(self, kiosk_id: str, operator_id: str, since: float = 0.0) -> float | None:
        """When the still open session of this operator at this kiosk began, if not before
        `since` (None: none)."""

    def operator_history(self, operator_id: str) -> tuple[int, int, list[bool], bool]: ...

    def set_passed_training(self, operator_id: str, at: float | None = None) -> None: ...

    def set_operator_active(self, operator_id: str, active: bool) -> None: ...


class KioskStore(Protocol):
    def create_pair_code(
        self, ttl: float = 300.0, digits: int = 6, kiosk: str | None = None
    ) -> str: ...

    def use_pair_code(self, code: str, kiosk_id: str, public_key: str | None = None) -> bool:
        """True once per unexpired code (the kiosk is paired then)."""

    def claim_pair_code(self, code: str, kiosk_id: str, public_key: str | None = None) -> str:
        """'' when paired, else why not: 'wrong', 'in_use' or 'other_kiosk'."""

    def withdraw_pair_codes(self, now: float | None = None) -> int: ...

    def pair_kiosk(self, kiosk_id: str, public_key: str | None = None) -> None: ...

    def unpair_kiosk(self, kiosk_id: str) -> None: ...

    def note_kiosk_login(self, kiosk_id: str, operator: str, at: float | None = None) -> float:
        """The latest login of `operator` at `kiosk_id` on record after noting this one."""

    def kiosk_login_at(self, kiosk_id: str, operator: str) -> float | None: ...

    def refuse(self, kiosk_id: str, reason: str, detail: str = "", n: int = 1) -> None: ...

    def refusals(self) -> list[dict[str, Any]]: ...

    def is_paired(self, kiosk_id: str) -> bool: ...

    def is_key_paired(self, public_key: str) -> bool: ...

    def kiosk(self, kiosk_id: str) -> dict[str, Any] | None: ...

    def kiosks(self) -> list[dict[str, Any]]: ...

    def kiosk_seen(
        self,
        kiosk_id: str,
        *,
        version: str | None = None,
        operator: str | None = None,
        outbox: int | None = None,
        cache_bytes: int | None = None,
    ) -> None: ...


class HubStore(
    Transactions,
    MetaStore,
    MediaStore,
    WorkStore,
    LabelStore,
    ConsensusStore,
    OperatorStore,
    KioskStore,
    Protocol,
):
    """Everything the hub calls on its store."""


#: The concerns, for tests that walk them.
CONCERNS: tuple[type, ...] = (
    Transactions,
    MetaStore,
    MediaStore,
    WorkStore,
    LabelStore,
    ConsensusStore,
    OperatorStore,
    KioskStore,
)
