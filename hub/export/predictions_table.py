"""The snapshot's `predictions` table: every stored model prediction, one row per
(model, version, clip), joinable with the clips table on `clip_id`.

Columns: ``model`` (string), ``version`` (int32), ``latest`` (bool: the model's newest
version), ``clip_id`` (string, the clip's sha256), ``label`` (string; a multi-choice set
as values joined by ``+``), ``score`` (float64: the score of ``label``, null when the
model gave none), ``scores`` (struct, one float64 field per label value, null where the
model gave no score), ``created_at`` (UTC timestamp of the import),
``version_created_at`` (UTC timestamp of the version).

CSV cannot hold the struct: :func:`predictions_csv_table` has ``scores`` as JSON text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from ..store import Store
from ..store import predictions as sql

__all__ = ["predictions_csv_table", "predictions_schema", "predictions_table"]


def _timestamps(seconds: list[float]) -> pa.Array:
    micros = np.rint(np.asarray(seconds, dtype=np.float64) * 1e6).astype(np.int64)
    return pa.array(micros, pa.int64()).cast(pa.timestamp("us", tz="UTC"))


def _score_fields(rows: list[dict], classes: Sequence[str]) -> list[str]:
    seen = {name for row in rows for name in row["scores"]}
    return list(classes) + sorted(seen - set(classes))


def predictions_schema(score_fields: Sequence[str]) -> pa.Schema:
    scores = pa.struct([(name, pa.float64()) for name in score_fields])
    return pa.schema(
        [
            ("model", pa.string()),
            ("version", pa.int32()),
            ("latest", pa.bool_()),
            ("clip_id", pa.string()),
            ("label", pa.string()),
            ("score", pa.float64()),
            ("scores", scores),
            ("created_at", pa.timestamp("us", tz="UTC")),
            ("version_created_at", pa.timestamp("us", tz="UTC")),
        ]
    )


def predictions_table(store: Store, classes: Sequence[str] | None = None) -> pa.Table:
    """All predictions as an Arrow table (see the module doc). `classes` orders the
    fields of `scores` (default: the project's label values; other scored labels after)."""
    if classes is None:
        classes, _ = sql.schema_info(store)
    rows = sql.all_predictions(store)
    fields = _score_fields(rows, classes)
    schema = predictions_schema(fields)
    if not fields:  # a struct needs a field: keep the column, typed, always null
        schema = schema.set(6, pa.field("scores", pa.struct([("_", pa.float64())])))
    score_struct = schema.field("scores").type
    scores = pa.array(
        [
            {name: row["scores"].get(name) for name in fields} if row["scores"] else None
            for row in rows
        ],
        score_struct,
    )
    return pa.table(
        {
            "model": pa.array([r["model"] for r in rows], pa.string()),
            "version": pa.array([r["version"] for r in rows], pa.int32()),
            "latest": pa.array([r["latest"] for r in rows], pa.bool_()),
            "clip_id": pa.array([r["clip"] for r in rows], pa.string()),
            "label": pa.array([r["label"] for r in rows], pa.string()),
            "score": pa.array([r["scores"].get(r["label"]) for r in rows], pa.float64()),
            "scores": scores,
            "created_at": _timestamps([r["created_at"] for r in rows]),
            "version_created_at": _timestamps([r["version_created_at"] for r in rows]),
        },
        schema=schema,
    )


def predictions_csv_table(table: pa.Table) -> pa.Table:
    """The same table for CSV: ``scores`` as JSON text (null stays null)."""
    index = table.schema.get_field_index("scores")
    text = [
        None if value is None else json.dumps({k: v for k, v in value.items() if v is not None})
        for value in table.column("scores").to_pylist()
    ]
    return table.set_column(index, "scores", pa.array(text, pa.string()))
