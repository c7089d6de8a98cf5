"""The model features over a hub `Store`: read, call the pure logic, write back.

- :func:`refresh_priorities`: recompute ``clips.priority`` from the model's newest
  predictions (and the hub's running consensus) with the project's ``[priority]``
  setting. Call it after an import, after a consensus refresh (mode ``disagreement``)
  and after new clips are ingested.
- :func:`evaluation`: the model report of :mod:`hub.models.evaluate` for the hub's data
  (Dawid–Skene consensus over the labels, gold answers).
- :func:`suggestions`: the model's label per clip, for review mode only.
- :func:`priority_config_from_store`: the ``[priority]`` table of the newest project text.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..store import Store
from ..store import predictions as sql
from .evaluate import model_report
from .priority import ClipInput, PriorityConfig, prioritise, priority_config
from .scores import join_labels

__all__ = [
    "PriorityOutcome",
    "compute_priorities",
    "consensus_labels",
    "consensus_threshold",
    "evaluation",
    "priority_config_from_store",
    "refresh_priorities",
    "suggestions",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PriorityOutcome:
    mode: str
    model: str | None
    clips: int  # work clips ordered
    scored: int  # of those, with a prediction


def priority_config_from_store(store: Store) -> PriorityConfig:
    """The ``[priority]`` table of the newest project text the store holds (mode "none"
    when there is none)."""
    text = sql.project_toml(store)
    if text is None:
        return PriorityConfig()
    try:
        return priority_config(tomllib.loads(text).get("priority"))
    except (tomllib.TOMLDecodeError, ValueError) as e:  # the project check should catch it
        log.warning("project [priority] not usable, no model order: %s", e)
        return PriorityConfig()


def _model(store: Store, name: str | None) -> str | None:
    if name:
        return name if sql.model_exists(store, name) else None
    return sql.newest_model(store)


def compute_priorities(
    store: Store, config: PriorityConfig | None = None
) -> tuple[PriorityOutcome, dict[str, float]]:
    """Read and compute, write nothing: (outcome, clip → priority for every work clip).
    Safe to run in a worker thread on a second (read-only) connection; write the result
    with `hub.store.predictions.set_priorities` on the hub's own."""
    config = config or priority_config_from_store(store)
    classes, kind = sql.schema_info(store)
    model = _model(store, config.model) if config.mode != "none" else None
    rows = [r for r in sql.clip_consensus(store) if r["gold"] is None]
    if model is None:
        return PriorityOutcome(config.mode, None, len(rows), 0), {}
    preds = sql.latest_predictions(store, model)
    k = len(classes)
    inputs = []
    for r in rows:
        pred = preds.get(r["sha256"])
        consensus = None
        label, conf = r["consensus"], r["confidence"]
        if kind != "multi" and label in classes and r["n_labels"] and conf is not None:
            rest = (1.0 - float(conf)) / (k - 1) if k > 1 else 0.0
            consensus = {c: (float(conf) if c == label else rest) for c in classes}
        inputs.append(
            ClipInput(
                r["sha256"],
                scores=(pred.scores or None) if pred else None,
                label=pred.label if pred else None,
                consensus=consensus,
            )
        )
    order = prioritise(inputs, classes, config, kind)
    outcome = PriorityOutcome(
        config.mode, model, len(inputs), sum(1 for p in order if p.score is not None)
    )
    return outcome, {p.clip_id: p.priority for p in order}


def refresh_priorities(store: Store, config: PriorityConfig | None = None) -> PriorityOutcome:
    """Write ``clips.priority`` for every work clip (gold clips get 0) from the chosen
    model's newest prediction per clip. Mode "none", or no such model: every priority 0.
    `config` default: the ``[priority]`` table of the newest project text in the store."""
    outcome, values = compute_priorities(store, config)
    sql.set_priorities(store, values)
    return outcome


def consensus_threshold(store: Store, default: float = 0.9) -> float:
    """The project's ``confidence`` (the newest project text), for the evaluation."""
    text = sql.project_toml(store)
    try:
        value = tomllib.loads(text).get("confidence", default) if text else default
        return float(value)
    except (tomllib.TOMLDecodeError, TypeError, ValueError):
        return default


def consensus_labels(
    store: Store, classes: list[str], kind: str, method: str = "ds"
) -> dict[str, tuple[str, float]]:
    """Clip → (consensus label, its posterior) from every label that counts (gold clips
    are fixed to their answer). Multi choice: the label set as one class."""
    from ..consensus import aggregate

    tasks, workers, values = [], [], []
    for clip, operator, labels in sql.label_votes(store):
        if kind == "multi":
            value = join_labels(labels)
        elif len(labels) == 1 and (not classes or labels[0] in classes):
            value = labels[0]
        else:
            continue
        tasks.append(clip)
        workers.append(operator)
        values.append(value)
    if not tasks:
        return {}
    gold = sql.gold_answers(store)
    single = kind != "multi" and bool(classes)
    gold = {c: g for c, g in gold.items() if not single or g in classes}
    result = aggregate(
        tasks, workers, values, classes if single else None, gold or None, method=method
    )
    return {
        t: (label, float(conf))
        for t, label, conf in zip(result.tasks, result.label, result.confidence, strict=True)
    }


def evaluation(
    store: Store,
    model: str,
    *,
    threshold: float = 0.9,
    version: int | None = None,
    method: str = "ds",
) -> dict[str, Any]:
    """The model report (see `hub.models.evaluate.model_report`); raises `LookupError` for
    an unknown model or version."""
    info = {m.model: m for m in sql.models(store)}.get(model)
    if info is None:
        raise LookupError(f"no model {model!r}")
    versions = {v["version"]: v for v in info.versions}
    if version is not None and version not in versions:
        raise LookupError(f"model {model!r} has no version {version}")
    classes, kind = sql.schema_info(store)
    preds = {
        v: {c: (p.label, p.scores) for c, p in sql.version_predictions(store, model, v).items()}
        for v in versions
    }
    consensus = consensus_labels(store, classes, kind, method)
    return model_report(
        model,
        preds,
        consensus,
        sql.gold_answers(store),
        classes,
        kind=kind,
        threshold=threshold,
        version=version,
        created={v: row["created_at"] for v, row in versions.items()},
    )


def suggestions(store: Store, clip_ids: Iterable[str], model: str | None = None) -> dict[str, str]:
    """Review mode only: the model's label per clip (newest prediction of `model`, or of
    the model the project's ``[priority] model`` names, or of the newest model). Clips
    without a prediction are left out. Never call this for a project without review mode."""
    name = _model(store, model or priority_config_from_store(store).model or None)
    if name is None:
        return {}
    return {clip: p.label for clip, p in sql.latest_for_clips(store, name, clip_ids).items()}
