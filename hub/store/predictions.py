"""SQL for model predictions: functions over a `Store`, no logic of their own.

Tables (see the migration in `schema.py`):

- ``model_versions(model, version, created_at)``: one row per version of a model;
- ``predictions(model, version, clip, label, scores, created_at)``: the model's label and
  its scores (JSON object label → score) per clip, primary key (model, version, clip);
- ``prediction_imports(model, version, fingerprint, …)``: what was imported, so that the
  same predictions imported again change nothing;
- ``clips.priority``: the assignment order the model asks for (higher = sooner).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .dashboard import gold_answers
from .store import Store

__all__ = [
    "ModelInfo",
    "StoredPrediction",
    "all_predictions",
    "clip_consensus",
    "clip_rows",
    "find_import",
    "gold_answers",
    "label_votes",
    "latest_for_clips",
    "latest_predictions",
    "model_exists",
    "models",
    "newest_model",
    "next_version",
    "priorities",
    "project_toml",
    "schema_info",
    "set_priorities",
    "version_predictions",
    "write_predictions",
]


@dataclass(frozen=True)
class StoredPrediction:
    clip: str
    label: str
    scores: dict[str, float]
    version: int
    created_at: float


@dataclass(frozen=True)
class ModelInfo:
    model: str
    versions: list[dict[str, Any]] = field(default_factory=list)  # version, created_at, clips

    @property
    def latest(self) -> int:
        return max((v["version"] for v in self.versions), default=0)

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "latest": self.latest, "versions": list(self.versions)}


# ---- writing -------------------------------------------------------------------------------


def next_version(store: Store, model: str) -> int:
    value = store.conn.execute(
        "SELECT max(version) FROM model_versions WHERE model = ?", (model,)
    ).fetchone()[0]
    return 1 if value is None else int(value) + 1


def find_import(
    store: Store, model: str, fingerprint: str, version: int | None = None
) -> int | None:
    """The version these exact predictions were imported as before (None: never)."""
    if version is None:
        row = store.conn.execute(
            "SELECT min(version) FROM prediction_imports WHERE model = ? AND fingerprint = ?",
            (model, fingerprint),
        ).fetchone()
    else:
        row = store.conn.execute(
            "SELECT version FROM prediction_imports WHERE model = ? AND version = ? "
            "AND fingerprint = ?",
            (model, version, fingerprint),
        ).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def write_predictions(
    store: Store,
    model: str,
    version: int,
    rows: Iterable[tuple[str, str, Mapping[str, float]]],
    *,
    fingerprint: str,
    source: str,
    n_rows: int,
    now: float | None = None,
) -> int:
    """Store (clip, label, scores) rows as `model` `version` (one transaction); a clip
    already in that version gets the new label and scores. Returns the clips written."""
    now = time.time() if now is None else now
    with store.transaction():
        store.conn.execute(
            "INSERT INTO model_versions (model, version, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (model, version, now),
        )
        values = [
            (model, version, clip, label, json.dumps(dict(scores), sort_keys=True), now)
            for clip, label, scores in rows
        ]
        store.conn.executemany(
            "INSERT INTO predictions (model, version, clip, label, scores, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(model, version, clip) DO UPDATE SET "
            "label = excluded.label, scores = excluded.scores",
            values,
        )
        n = len(values)
        store.conn.execute(
            "INSERT INTO prediction_imports (model, version, fingerprint, source, "
            "rows, clips, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (model, version, fingerprint, source, n_rows, n, now),
        )
    return n


def set_priorities(store: Store, values: Mapping[str, float], *, reset_others: bool = True) -> int:
    """Write `clips.priority` (higher = handed out sooner); other clips get 0 when
    `reset_others`. Returns the clips updated."""
    with store.transaction():
        if reset_others:
            store.conn.execute("UPDATE clips SET priority = 0 WHERE priority != 0")
        store.conn.executemany(
            "UPDATE clips SET priority = ? WHERE sha256 = ?",
            [(float(v), clip) for clip, v in values.items()],
        )
    return len(values)


# ---- reading -------------------------------------------------------------------------------


def _prediction(row: Sequence[Any]) -> StoredPrediction:
    clip, label, scores, version, created = row
    return StoredPrediction(clip, label, json.loads(scores), int(version), float(created))


def latest_predictions(store: Store, model: str) -> dict[str, StoredPrediction]:
    """Per clip, the prediction of the newest version of `model` that has that clip."""
    cursor = store.conn.execute(
        "SELECT p.clip, p.label, p.scores, p.version, p.created_at FROM predictions p "
        "JOIN (SELECT clip, max(version) AS v FROM predictions WHERE model = ? GROUP BY clip) l "
        "ON l.clip = p.clip AND l.v = p.version WHERE p.model = ?",
        (model, model),
    )
    return {row[0]: _prediction(row) for row in cursor}


def latest_for_clips(store: Store, model: str, clips: Iterable[str]) -> dict[str, StoredPrediction]:
    """The newest prediction of `model` for each of `clips` that has one."""
    out = {}
    for clip in clips:
        row = store.conn.execute(
            "SELECT clip, label, scores, version, created_at FROM predictions "
            "WHERE clip = ? AND model = ? ORDER BY version DESC LIMIT 1",
            (clip, model),
        ).fetchone()
        if row is not None:
            out[clip] = _prediction(row)
    return out


def version_predictions(store: Store, model: str, version: int) -> dict[str, StoredPrediction]:
    cursor = store.conn.execute(
        "SELECT clip, label, scores, version, created_at FROM predictions "
        "WHERE model = ? AND version = ?",
        (model, version),
    )
    return {row[0]: _prediction(row) for row in cursor}


def models(store: Store) -> list[ModelInfo]:
    """Every model with its versions (oldest first) and the clips each version covers."""
    out: dict[str, list[dict[str, Any]]] = {}
    for model, version, created, clips in store.conn.execute(
        "SELECT v.model, v.version, v.created_at, "
        "(SELECT count(*) FROM predictions p WHERE p.model = v.model AND p.version = v.version) "
        "FROM model_versions v ORDER BY v.model, v.version"
    ):
        out.setdefault(model, []).append(
            {"version": int(version), "created_at": float(created), "clips": int(clips)}
        )
    return [ModelInfo(name, versions) for name, versions in out.items()]


def model_exists(store: Store, model: str) -> bool:
    return (
        store.conn.execute(
            "SELECT 1 FROM model_versions WHERE model = ? LIMIT 1", (model,)
        ).fetchone()
        is not None
    )


def newest_model(store: Store) -> str | None:
    """The model whose latest version was made last (None: no predictions at all)."""
    row = store.conn.execute(
        "SELECT model FROM model_versions ORDER BY created_at DESC, version DESC LIMIT 1"
    ).fetchone()
    return None if row is None else str(row[0])


def all_predictions(store: Store) -> list[dict[str, Any]]:
    """Every stored prediction (for the export), by model, version and clip order."""
    rows = store.conn.execute(
        "SELECT p.model, p.version, p.clip, p.label, p.scores, p.created_at, v.created_at, "
        "(SELECT max(version) FROM model_versions m WHERE m.model = p.model) "
        "FROM predictions p JOIN model_versions v ON v.model = p.model AND v.version = p.version "
        "LEFT JOIN clips c ON c.sha256 = p.clip "
        "ORDER BY p.model, p.version, coalesce(c.seq, 0), p.clip"
    )
    return [
        {
            "model": model,
            "version": int(version),
            "clip": clip,
            "label": label,
            "scores": json.loads(scores),
            "created_at": float(created),
            "version_created_at": float(v_created),
            "latest": int(version) == int(latest),
        }
        for model, version, clip, label, scores, created, v_created, latest in rows
    ]


def clip_rows(store: Store) -> list[dict[str, Any]]:
    """What the importer needs to map rows onto clips, in clip order."""
    cursor = store.conn.execute(
        'SELECT sha256, name, source_sha256, source_name, start, "end", duration, gold '
        "FROM clips ORDER BY seq"
    )
    cols = [d[0] for d in cursor.description]
    return [dict(zip(cols, row, strict=True)) for row in cursor]


def _columns(store: Store, table: str) -> set[str]:
    return {d[0] for d in store.conn.execute(f"SELECT * FROM {table} LIMIT 0").description}


def clip_consensus(store: Store) -> list[dict[str, Any]]:
    """Per clip (clip order): sha256, gold, n_labels, n_open, want, and the hub's running
    consensus label and confidence where the store keeps them (else None)."""
    have = _columns(store, "clips")
    extra = ", consensus, confidence" if {"consensus", "confidence"} <= have else ""
    cursor = store.conn.execute(
        f"SELECT sha256, gold, n_labels, n_open, want{extra} FROM clips ORDER BY seq"
    )
    cols = [d[0] for d in cursor.description]
    out = []
    for row in cursor:
        record = dict(zip(cols, row, strict=True))
        record.setdefault("consensus", None)
        record.setdefault("confidence", None)
        out.append(record)
    return out


def priorities(store: Store) -> dict[str, float]:
    return dict(store.conn.execute("SELECT sha256, priority FROM clips ORDER BY seq"))


def label_votes(store: Store) -> list[tuple[str, str, list[str]]]:
    """(clip, operator, values) of every label that counts, oldest first."""
    return [
        (clip, operator, json.loads(values))
        for clip, operator, values in store.conn.execute(
            'SELECT clip, operator, "values" FROM labels WHERE retracted = 0 '
            "ORDER BY received_at, uuid"
        )
    ]


def schema_info(store: Store) -> tuple[list[str], str]:
    """(label values, kind) of the current project schema; ([], "single") before any."""
    raw = store.current_schema_json()
    if not raw:
        return [], "single"
    schema = json.loads(raw)
    return [x["value"] for x in schema.get("labels", [])], str(schema.get("kind", "single"))


def project_toml(store: Store) -> str | None:
    """The newest project text the hub was started with (None before any)."""
    row = store.conn.execute(
        "SELECT toml FROM project_versions ORDER BY version DESC LIMIT 1"
    ).fetchone()
    return None if row is None else str(row[0])
