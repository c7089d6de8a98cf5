"""Small builders for the contract tests (clips, operators, labels)."""

from __future__ import annotations

import hashlib
import json
import uuid as uuidlib

from hub.store import NewLabel
from hub.store.interface import HubStore

V, N = "gewelddadig", "niet_gewelddadig"
PIN_HASH = "scrypt$1024$8$1$" + "0" * 32 + "$" + "1" * 64  # never verified here


def sha(i: int | str) -> str:
    return hashlib.sha256(f"clip-{i}".encode()).hexdigest()


def add_clips(store: HubStore, n: int, want: int = 2, start: int = 0) -> list[str]:
    shas = [sha(i) for i in range(start, start + n)]
    for i, s in enumerate(shas, start=start):
        assert store.add_clip(s, 100 + i, 2.0, f"clip {i}", want=want)
    return shas


def add_operators(store: HubStore, n: int) -> list[str]:
    ids = [f"op{i}" for i in range(1, n + 1)]
    for op in ids:
        store.add_operator(op, f"Operator {op}", PIN_HASH)
    return ids


def label(
    operator: str,
    clip: str,
    value: str = V,
    *,
    uuid: str | None = None,
    lease: str | None = None,
    seconds: float = 2.0,
) -> NewLabel:
    return NewLabel(
        uuid=uuid or str(uuidlib.uuid4()),
        operator=operator,
        clip=clip,
        schema_version=1,
        values=json.dumps([value]),
        segments="[]",
        telemetry=json.dumps({"time_to_label_s": seconds}),
        created_at=1000.0,
        lease_id=lease,
    )


def holders(store: HubStore) -> dict[str, tuple[int, int, int]]:
    """clip -> (n_labels, n_open, want) from the store's own clip rows."""
    return {c["sha256"]: (c["n_labels"], c["n_open"], c["want"]) for c in store.clips()}
