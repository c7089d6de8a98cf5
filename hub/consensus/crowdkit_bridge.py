"""Run any crowd-kit classification aggregator on our long-format data.

crowd-kit is an optional extra (``pip install 'annotatiestraat[crowdkit]'``); it and
pandas are imported only when an aggregator is run, and a missing install raises
:class:`CrowdKitMissing` with the install hint. The result is a
:class:`ConsensusResult` like every other method, with tasks in our sorted order
and posteriors over our class order (one-hot when the method has no posteriors).
Gold answers go to the methods that take them (``DawidSkene``,
``GoldMajorityVote``) and override the consensus of gold tasks for all methods.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .base import argmax_ties_low, one_hot
from .encode import encode, gold_index, vote_counts
from .result import ConsensusResult

__all__ = ["AGGREGATORS", "CrowdKitMissing", "available", "run_crowdkit"]

#: Classification aggregators by their crowd-kit class name.
AGGREGATORS = (
    "DawidSkene",
    "GLAD",
    "GoldMajorityVote",
    "KOS",
    "MACE",
    "MMSR",
    "MajorityVote",
    "OneCoinDawidSkene",
    "Wawa",
    "ZeroBasedSkill",
)
_TAKES_GOLD = {"DawidSkene", "GoldMajorityVote"}


class CrowdKitMissing(RuntimeError):
    """crowd-kit (the ``crowdkit`` extra) is not installed."""


def available() -> list[str]:
    """The aggregator names :func:`run_crowdkit` accepts."""
    return list(AGGREGATORS)


def _resolve(name: str) -> str:
    wanted = name.lower().replace("-", "").replace("_", "")
    for known in AGGREGATORS:
        if known.lower() == wanted:
            return known
    raise ValueError(f"unknown crowd-kit aggregator {name!r}; known: {', '.join(AGGREGATORS)}")


def _import() -> tuple[Any, Any]:
    try:
        import crowdkit.aggregation as aggregation
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - exercised with the extra missing
        raise CrowdKitMissing(
            "crowd-kit is not installed; install the extra: "
            "pip install 'annotatiestraat[crowdkit]'"
        ) from exc
    return aggregation, pd


def run_crowdkit(
    name: str,
    task_ids: Sequence[object],
    worker_ids: Sequence[object],
    labels: Sequence[object],
    classes: Sequence[str] | None = None,
    gold: Mapping[str, str] | None = None,
    **params: Any,
) -> ConsensusResult:
    """Fit crowd-kit's aggregator ``name`` (e.g. ``"GLAD"``) and return its consensus.

    ``params`` go to the aggregator's constructor (e.g. ``n_iter=50``).
    """
    cls_name = _resolve(name)
    aggregation, pd = _import()
    enc = encode(task_ids, worker_ids, labels, classes)
    gidx = gold_index(enc, gold)
    frame = pd.DataFrame(
        {
            "task": np.asarray(enc.tasks, dtype=object)[enc.task],
            "worker": np.asarray(enc.workers, dtype=object)[enc.worker],
            "label": np.asarray(enc.classes, dtype=object)[enc.label],
        }
    )
    model = getattr(aggregation, cls_name)(**params)
    if cls_name in _TAKES_GOLD:
        has = np.flatnonzero(gidx >= 0)
        truth = pd.Series(
            np.asarray(enc.classes, dtype=object)[gidx[has]],
            index=np.asarray(enc.tasks, dtype=object)[has],
        )
        if cls_name == "GoldMajorityVote":
            if truth.empty:
                raise ValueError("GoldMajorityVote needs gold answers")
            model.fit(frame, truth)
            probas = model.predict_proba(frame)
            labels_out = model.predict(frame)
        else:
            model.fit(frame, truth if not truth.empty else None)
            probas, labels_out = model.probas_, model.labels_
    else:
        model.fit(frame)
        probas, labels_out = getattr(model, "probas_", None), model.labels_

    k = enc.n_classes
    if probas is not None and len(probas):
        frame_p = probas.reindex(index=enc.tasks, columns=enc.classes).fillna(0.0)
        posterior = frame_p.to_numpy(dtype=np.float64)
        sums = posterior.sum(axis=1, keepdims=True)
        posterior = np.where(sums > 0, posterior / np.where(sums > 0, sums, 1), 1.0 / k)
        idx = argmax_ties_low(posterior)
        # keep crowd-kit's own choice where it is one of the tied best
        theirs = labels_out.reindex(enc.tasks)
        pos = {c: i for i, c in enumerate(enc.classes)}
        their_idx = np.array([pos.get(str(v), -1) for v in theirs], dtype=np.int64)
        ok = (their_idx >= 0) & np.isclose(
            posterior[np.arange(len(idx)), np.maximum(their_idx, 0)],
            posterior[np.arange(len(idx)), idx],
        )
        idx = np.where(ok, their_idx, idx)
    else:
        theirs = labels_out.reindex(enc.tasks)
        pos = {c: i for i, c in enumerate(enc.classes)}
        idx = np.array([pos[str(v)] for v in theirs], dtype=np.int64)
        posterior = one_hot(idx, k)
    has = gidx >= 0
    if has.any():
        posterior[has] = one_hot(gidx[has], k)
        idx = np.where(has, gidx, idx)
    from . import _build_result

    return _build_result(enc, posterior, idx, f"crowdkit:{cls_name}", model, vote_counts(enc))
