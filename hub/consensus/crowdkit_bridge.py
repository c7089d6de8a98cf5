"""Run any crowd-kit classification aggregator on our long-format data.

crowd-kit is an optional extra (``pip install 'annotatiestraat[crowdkit]'``); it and
pandas are imported only when an aggregator is run, and a missing install raises
:class:`CrowdKitMissing` with the install hint. The result is a
:class:`ConsensusResult` like every other method, with tasks in our sorted order
and posteriors over our class order (one-hot when the method has no posteriors).
Gold answers go to the methods that take them (``DawidSkene``,
``GoldMajorityVote``) and override the consensus of gold tasks for all methods.
Ties in a posterior go to the lowest class index, as everywhere in this package.
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
            "crowd-kit is not installed; install the extra: pip install 'annotatiestraat[crowdkit]'"
        ) from exc
    return aggregation, pd


def _compatible(cls: type) -> type:
    """Work around crowd-kit 1.4 with scikit-learn >= 1.6.

    Wawa, ZeroBasedSkill and GoldMajorityVote call ``sklearn.utils.validation.
    check_is_fitted``, which now reads estimator tags that only classes deriving from
    ``sklearn.base.BaseEstimator`` have. A subclass that adds ``BaseEstimator`` last in
    the MRO supplies the tags and changes nothing else.
    """
    try:
        from sklearn.base import BaseEstimator
    except ImportError:  # pragma: no cover - old crowd-kit without scikit-learn
        return cls
    if issubclass(cls, BaseEstimator):
        return cls
    return type(cls.__name__, (cls, BaseEstimator), {"__module__": __name__})


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
    model = _compatible(getattr(aggregation, cls_name))(**params)
    args: tuple[Any, ...] = (frame,)
    if cls_name in _TAKES_GOLD:
        has = np.flatnonzero(gidx >= 0)
        truth = pd.Series(
            np.asarray(enc.classes, dtype=object)[gidx[has]],
            index=np.asarray(enc.tasks, dtype=object)[has],
        )
        if truth.empty and cls_name == "GoldMajorityVote":
            raise ValueError("GoldMajorityVote needs gold answers")
        args = (frame, truth if not truth.empty else None)
    if hasattr(model, "fit_predict_proba"):
        probas, labels_out = model.fit_predict_proba(*args), None
    else:  # KOS, MMSR: labels only
        probas, labels_out = None, model.fit_predict(*args)

    k = enc.n_classes
    if probas is not None and len(probas):
        frame_p = probas.reindex(index=enc.tasks, columns=enc.classes).fillna(0.0)
        posterior = frame_p.to_numpy(dtype=np.float64)
        sums = posterior.sum(axis=1, keepdims=True)
        posterior = np.where(sums > 0, posterior / np.where(sums > 0, sums, 1), 1.0 / k)
        idx = argmax_ties_low(posterior)  # our tie rule, not pandas' column order
    else:
        theirs = labels_out.reindex(enc.tasks) if labels_out is not None else []
        pos = {c: i for i, c in enumerate(enc.classes)}
        idx = np.array([pos[str(v)] for v in theirs], dtype=np.int64)
        posterior = one_hot(idx, k)
    is_gold = gidx >= 0
    if is_gold.any():
        posterior[is_gold] = one_hot(gidx[is_gold], k)
        idx = np.where(is_gold, gidx, idx)
    from . import _build_result

    return _build_result(enc, posterior, idx, f"crowdkit:{cls_name}", model, vote_counts(enc))
