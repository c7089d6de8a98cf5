"""`add_label`: one label through `Store.add_labels`, for tests that build data label by label."""

from __future__ import annotations

import json
from typing import Any

from hub.store import STORED, UNKNOWN_CLIP, NewLabel, StoreError
from hub.store.interface import HubStore


def add_label(
    store: HubStore,
    *,
    uuid: str,
    operator: str,
    clip: str,
    kiosk: str,
    schema_version: int,
    values: list[str],
    segments: list[Any],
    telemetry: dict[str, Any],
    created_at: float,
    lease_id: str | None = None,
    review: bool = False,
) -> bool:
    """Store one label; True when stored, False for a uuid already there (a retry).
    StoreError for an unknown clip."""
    label = NewLabel(
        uuid=uuid,
        operator=operator,
        clip=clip,
        schema_version=schema_version,
        values=json.dumps(values),
        segments=json.dumps(segments),
        telemetry=json.dumps(telemetry),
        created_at=created_at,
        lease_id=lease_id,
        review=review,
    )
    (status,) = store.add_labels(kiosk, [label]).status
    if status == UNKNOWN_CLIP:
        raise StoreError(f"unknown clip {clip[:12]}")
    return status == STORED
