"""What the store takes and gives back for labels: plain records, no SQL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

#: What `Store.add_labels` did with each label of a batch.
STORED, RETRY, UNKNOWN_CLIP = "stored", "retry", "unknown_clip"


class StoreError(Exception):
    """A request the store refuses (unknown operator, unknown clip, …)."""


class DatabaseUnavailable(StoreError):
    """The database cannot be reached or refuses us, or the connection was lost (what was
    not committed is not there); the message says where and why."""


@dataclass(frozen=True)
class NewLabel:
    """One label for `Store.add_labels` (`values`, `segments`, `telemetry`: JSON text)."""

    uuid: str
    operator: str
    clip: str
    schema_version: int
    values: str
    segments: str
    telemetry: str
    created_at: float
    lease_id: str | None = None
    review: bool = False
    #: the kiosk it came from, when a batch holds labels of several kiosks (else the batch's)
    kiosk: str | None = None


def label_row(x: NewLabel, kiosk: str, received_at: float) -> tuple[Any, ...]:
    """A label's row in the order of the labels table's insert columns (uuid, operator,
    clip, kiosk, lease_id, schema_version, values, segments, telemetry, created_at,
    received_at, review)."""
    return (
        x.uuid,
        x.operator,
        x.clip,
        x.kiosk or kiosk,
        x.lease_id,
        x.schema_version,
        x.values,
        x.segments,
        x.telemetry,
        x.created_at,
        received_at,
        int(x.review),
    )


#: (clip, votes per value, labels after the batch) -> (consensus, confidence, wanted votes)
Decide = Callable[[str, dict[str, int], int], "tuple[str | None, float, int] | None"]


@dataclass
class BatchOutcome:
    """Per label of the batch (same order): `STORED`, `RETRY` or `UNKNOWN_CLIP`, and the
    `received_at` it was stored with; per clip touched: (gold answer, n_labels after)."""

    status: list[str]
    received_at: list[float]
    clips: dict[str, tuple[str | None, int]]


def long_votes(rows: Iterable[tuple[Any, str, str]]) -> tuple[list[Any], list[str], list[str]]:
    """(clips, operators, values), one vote per value, from (clip, operator, `values` JSON)
    label rows (a clip as its sha256 or its seq); each distinct value list is parsed once
    (a project has a handful)."""
    tasks: list[Any] = []
    workers: list[str] = []
    values: list[str] = []
    parsed: dict[str, list[str]] = {}
    for clip, operator, raw in rows:
        chosen = parsed.get(raw)
        if chosen is None:
            chosen = json.loads(raw)
            if len(parsed) < 4096:
                parsed[raw] = chosen
        for value in chosen:
            tasks.append(clip)
            workers.append(operator)
            values.append(value)
    return tasks, workers, values
