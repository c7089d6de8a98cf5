"""The two tables of a snapshot as Arrow tables: `clips` and `annotations`.

Types are chosen for pandas and Hugging Face `datasets`: strings, float64, int32, bool,
UTC timestamps, `list<string>` for label sets, structs (one field per label value)
for posteriors and vote counts, and the raw telemetry as JSON text beside typed
copies of its common fields. `BuiltTable.json_text` gives the nested columns as JSON
text for formats that cannot hold nesting (CSV).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from .prepare import Prepared, dictionary, unique_parse
from .source import ExportData
from .votes import ClipConsensus

SEGMENT = pa.struct([("start", pa.float64()), ("end", pa.float64()), ("label", pa.string())])
TELEMETRY_FIELDS: dict[str, pa.DataType] = {
    "time_to_label_s": pa.float64(),
    "first_key_s": pa.float64(),
    "watched_fraction": pa.float64(),
    "replays": pa.int32(),
    "seeks": pa.int32(),
    "speed": pa.float64(),
}


@dataclass
class BuiltTable:
    table: pa.Table
    json_text: dict[str, Callable[[], pa.Array]] = field(default_factory=dict)


def pseudonym(key: bytes, operator_id: str) -> str:
    """Stable within a hub, not reversible without the hub's key, never the name."""
    return "op-" + hmac.new(key, operator_id.encode(), hashlib.sha256).hexdigest()[:16]


def _take(values: pa.Array, codes: np.ndarray) -> pa.Array:
    return values.take(pa.array(codes, pa.int64()))


_encode = msgspec.json.Encoder().encode


def _dumps(value: Any) -> str:
    return _encode(value).decode()


def parse_segments(text: str) -> list[dict[str, Any]]:
    """Segments as the kiosk sends them ([start, end, label] or objects) to dicts."""
    try:
        raw = json.loads(text)
    except (TypeError, ValueError):
        return []
    out = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, dict):
            start, end, label = item.get("start"), item.get("end"), item.get("label", "")
        elif isinstance(item, list | tuple) and len(item) >= 2:
            start, end = item[0], item[1]
            label = item[2] if len(item) > 2 else ""
        else:
            continue
        try:
            out.append({"start": float(start), "end": float(end), "label": str(label or "")})
        except (TypeError, ValueError):
            continue
    return out


def _coerce(value: Any, kind: pa.DataType) -> Any:
    if value is None or isinstance(value, bool) and not pa.types.is_boolean(kind):
        return None
    try:
        return int(value) if pa.types.is_integer(kind) else float(value)
    except (TypeError, ValueError, OverflowError):
        return None


def json_lines(texts: pa.Array) -> pa.Buffer:
    """The texts joined by newlines, as one buffer (no Python strings made)."""
    lines = pc.binary_join_element_wise(texts.fill_null("{}"), "", "\n")  # text + "\n"
    total = pc.sum(pc.binary_length(lines)).as_py() or 0
    return lines.buffers()[2].slice(0, total)


def _read_telemetry(texts: pa.Array, schema: pa.Schema) -> pa.Table | None:
    """Arrow's JSON reader, one object per line; None when a line does not fit."""
    try:
        table = pajson.read_json(
            pa.BufferReader(json_lines(texts)),
            parse_options=pajson.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="ignore"
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    return table if table.num_rows == len(texts) else None


def telemetry_columns(texts: pa.ChunkedArray) -> dict[str, pa.ChunkedArray]:
    """Typed copies of the common telemetry fields (null where absent or unreadable)."""
    schema = pa.schema(list(TELEMETRY_FIELDS.items()))
    parts: dict[str, list[pa.Array]] = {name: [] for name in TELEMETRY_FIELDS}
    for chunk in texts.chunks:
        if not len(chunk):
            continue
        table = _read_telemetry(chunk, schema)
        if table is None:
            columns = _telemetry_slow(chunk.to_pylist())
        else:
            columns = {name: table.column(name) for name in TELEMETRY_FIELDS}
        for name in TELEMETRY_FIELDS:
            parts[name].append(columns[name])
    return {
        name: pa.chunked_array(
            [c for part in parts[name] for c in getattr(part, "chunks", [part])], kind
        )
        for name, kind in TELEMETRY_FIELDS.items()
    }


def _telemetry_slow(texts: list[str | None]) -> dict[str, pa.Array]:
    columns: dict[str, list[Any]] = {name: [] for name in TELEMETRY_FIELDS}
    for text in texts:
        try:
            tel = json.loads(text or "")
        except (TypeError, ValueError):
            tel = {}
        if not isinstance(tel, dict):
            tel = {}
        for name, kind in TELEMETRY_FIELDS.items():
            columns[name].append(_coerce(tel.get(name), kind))
    return {name: pa.array(columns[name], kind) for name, kind in TELEMETRY_FIELDS.items()}


def timestamps(seconds: pa.Array | pa.ChunkedArray) -> pa.Array:
    values = seconds.to_numpy(zero_copy_only=False).astype(np.float64)
    micros = np.rint(values * 1e6).astype(np.int64)
    return pa.array(micros, pa.int64()).cast(pa.timestamp("us", tz="UTC"))


def annotations_table(data: ExportData, prep: Prepared) -> BuiltTable:
    labels = data.labels
    known = prep.label_clip >= 0  # a label of an unknown clip is left out
    keep = None if known.all() else pa.array(np.flatnonzero(known), pa.int64())

    def col(name: str) -> pa.ChunkedArray:
        return labels[name] if keep is None else labels[name].take(keep)

    clip_rows = prep.label_clip[known]
    value_codes = prep.value_codes[known]

    op_codes, operators = dictionary(col("operator"))
    op_pseudo = pa.array([pseudonym(data.pseudonym_key, o) for o in operators], pa.string())
    value_lists = pa.array(prep.value_sets, pa.list_(pa.string()))
    seg_codes, seg_sets = unique_parse(col("segments"), parse_segments)
    seg_lists = pa.array(seg_sets, pa.list_(SEGMENT))
    source_ids = pa.array(prep.source_ids, pa.string())
    splits = pa.array(prep.splits, pa.string()).dictionary_encode()
    clip_ids = pa.array(data.clips["sha256"], pa.string())
    telemetry = col("telemetry")

    columns: dict[str, pa.Array] = {
        "annotation_id": col("uuid"),
        "clip_id": _take(clip_ids, clip_rows),
        "source_id": _take(source_ids, clip_rows),
        "split": _take(splits, clip_rows).cast(pa.string()),
        "operator_id": _take(op_pseudo, op_codes),
        "kiosk_id": col("kiosk"),
        "site": col("site"),
        "schema_version": col("schema_version").cast(pa.int32()),
        "values": _take(value_lists, value_codes),
        "segments": _take(seg_lists, seg_codes),
        "created_at": timestamps(col("created_at")),
        "review": pc.not_equal(col("review"), 0),
        **telemetry_columns(telemetry),
        "telemetry": telemetry,
    }

    def values_json() -> pa.Array:
        return _take(pa.array([_dumps(v) for v in prep.value_sets], pa.string()), value_codes)

    def segments_json() -> pa.Array:
        return _take(pa.array([_dumps(v) for v in seg_sets], pa.string()), seg_codes)

    return BuiltTable(pa.table(columns), {"values": values_json, "segments": segments_json})


def _struct(
    classes: list[str], matrix: np.ndarray, kind: pa.DataType, mask: np.ndarray | None
) -> pa.Array:
    arrays = [pa.array(matrix[:, j], kind) for j in range(len(classes))]
    return pa.StructArray.from_arrays(
        arrays, names=classes, mask=None if mask is None else pa.array(mask, pa.bool_())
    )


def struct_json(column: pa.StructArray) -> pa.Array:
    """A struct of numbers as JSON objects, built in C++ (null stays null)."""
    pieces: list[Any] = []
    for j, f in enumerate(column.type):
        pieces.append(("{" if j == 0 else ",") + _dumps(f.name) + ":")
        pieces.append(pc.cast(column.field(j), pa.string()))
    pieces.append("}")
    joined = pc.binary_join_element_wise(*pieces, "")
    return pc.if_else(column.is_null(), pa.scalar(None, pa.string()), joined)


def _clip_schema_versions(data: ExportData, prep: Prepared) -> pa.Array:
    n = data.n_clips
    versions = data.labels["schema_version"].to_numpy(zero_copy_only=False).astype(np.int64)
    known = prep.label_clip >= 0
    best = np.full(n, -1, dtype=np.int64)
    if known.any():
        np.maximum.at(best, prep.label_clip[known], versions[known])
    return pa.array(best, pa.int32(), mask=best < 0)


def clips_table(data: ExportData, prep: Prepared, cons: ClipConsensus) -> BuiltTable:
    clips = data.clips
    n = data.n_clips
    unknown = np.isnan(cons.posterior).any(axis=1) if cons.classes else np.ones(n, bool)
    confidence = pa.array(cons.confidence, pa.float64(), mask=np.isnan(cons.confidence))
    columns: dict[str, pa.Array] = {
        "clip_id": pa.array(clips["sha256"], pa.string()),
        "name": pa.array(clips["name"], pa.string()),
        "source_id": pa.array(prep.source_ids, pa.string()),
        "source_name": pa.array(clips["source_name"], pa.string()),
        "start": pa.array(clips["start"], pa.float64()),
        "end": pa.array(clips["end"], pa.float64()),
        "duration": pa.array(clips["duration"], pa.float64()),
        "split": pa.array(prep.splits, pa.string()),
        "label": pa.array(cons.label, pa.string()),
        "labels": pa.array(cons.labels, pa.list_(pa.string())),
        "confidence": confidence,
    }
    json_text: dict[str, Callable[[], pa.Array]] = {}
    if cons.classes:
        posterior = np.where(np.isnan(cons.posterior), 0.0, cons.posterior)
        columns["posterior"] = _struct(cons.classes, posterior, pa.float64(), unknown)
        columns["n_votes"] = pa.array(cons.n_votes, pa.int32())
        columns["vote_counts"] = _struct(cons.classes, cons.counts, pa.int32(), None)
        for name in ("posterior", "vote_counts"):
            json_text[name] = lambda c=columns[name]: struct_json(c)
    else:
        columns["n_votes"] = pa.array(cons.n_votes, pa.int32())
    columns["gold"] = pa.array([bool(g) for g in prep.gold], pa.bool_())
    columns["gold_label"] = pa.array([",".join(g) if g else None for g in prep.gold], pa.string())
    columns["schema_version"] = _clip_schema_versions(data, prep)
    json_text["labels"] = lambda: pa.array([_dumps(x) for x in cons.labels], pa.string())
    return BuiltTable(pa.table(columns), json_text)
