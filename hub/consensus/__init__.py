"""Consensus and quality: pure numpy, no I/O.

Entry points for the hub:

- :func:`aggregate` — consensus per clip (majority vote, Dawid–Skene, or any
  crowd-kit aggregator by name) as a :class:`ConsensusResult`;
- :func:`quality_report` — the quality report (per label, per operator, overall) as a
  typed :class:`~hub.consensus.report.QualityReport`, drawn by :mod:`hub.render`;
- :func:`hub.consensus.overview.overview` — the dashboard's quality figures: that report
  with the pairwise majority-vote figures beside it;
- :mod:`hub.consensus.assignment` — which clips an operator gets next;
- :mod:`hub.consensus.multilabel` — multi-choice and segment labels.

All of them take long-format labels: three parallel sequences ``task_ids``,
``worker_ids`` (operators) and ``labels``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .dawid_skene import DawidSkene
from .encode import Encoded, encode, gold_index, vote_counts
from .majority import MajorityVote
from .report import QualityReport, build_report
from .result import ConsensusResult

__all__ = [
    "ConsensusResult",
    "DawidSkene",
    "MajorityVote",
    "QualityReport",
    "aggregate",
    "quality_report",
]

_MV = {"mv", "majority", "majorityvote"}
_DS = {"ds", "dawidskene"}


def method_key(method: str) -> str:
    """The spelling rule for method names: case, ``-``, ``_`` and spaces do not count
    (``"dawid_skene"``, ``"Dawid-Skene"`` and ``"ds"`` are all our Dawid–Skene)."""
    return "".join(ch for ch in method.strip().lower() if ch not in "-_ ")


def _build_result(
    enc: Encoded,
    posterior: np.ndarray,
    index: np.ndarray,
    method: str,
    model: Any,
    counts: np.ndarray | None = None,
) -> ConsensusResult:
    if counts is None:
        counts = vote_counts(enc)
    return ConsensusResult(
        tasks=list(enc.tasks),
        classes=list(enc.classes),
        label_index=np.asarray(index, dtype=np.int64),
        posterior=np.array(posterior, dtype=np.float64),  # a snapshot, not a view into the model
        counts=counts,
        method=method,
        model=model,
    )


def aggregate(
    task_ids: Sequence[str],
    worker_ids: Sequence[str],
    labels: Sequence[str],
    classes: Sequence[str] | None = None,
    gold: Mapping[str, str] | None = None,
    method: str = "ds",
    *,
    init: DawidSkene | None = None,
    **params: Any,
) -> ConsensusResult:
    """Consensus per task from long-format labels.

    ``classes`` fixes the class order (ties go to the first class; default: the
    labels seen, sorted naturally). ``gold`` maps task id to its known answer: gold
    tasks get that answer with confidence 1 (and Dawid–Skene uses them as fixed
    truths while learning the operators). ``method``: ``"mv"`` (majority vote),
    ``"ds"`` (Dawid–Skene, the default) or a crowd-kit aggregator name such as
    ``"GLAD"``, ``"MACE"``, ``"Wawa"``, ``"OneCoinDawidSkene"`` (``"crowdkit:<Name>"``
    forces crowd-kit, e.g. ``"crowdkit:DawidSkene"``). Names follow one spelling
    rule (:func:`method_key`: case, ``-``, ``_`` and spaces ignored), so
    ``"dawid_skene"`` is ours as ``"ds"`` is; an unknown name raises ``ValueError``. ``init`` warm-starts
    Dawid–Skene from an earlier fit (``result.model``); ``params`` go to the
    aggregator's constructor.
    """
    prefix, _, rest = method.partition(":")
    if rest and method_key(prefix) == "crowdkit":
        from .crowdkit_bridge import run_crowdkit

        return run_crowdkit(rest, task_ids, worker_ids, labels, classes, gold, **params)
    name = method_key(method)
    if name not in _MV and name not in _DS:
        from .crowdkit_bridge import AGGREGATORS, run_crowdkit

        if name not in {a.lower() for a in AGGREGATORS}:
            raise ValueError(
                f"unknown method {method!r}: use 'mv', 'ds' or one of crowd-kit's "
                f"{', '.join(AGGREGATORS)} (prefix 'crowdkit:' for crowd-kit's own MV or DS)"
            )
        return run_crowdkit(method, task_ids, worker_ids, labels, classes, gold, **params)
    enc = encode(task_ids, worker_ids, labels, classes)
    gidx = gold_index(enc, gold)
    if name in _MV:
        mv = MajorityVote(**params).fit_encoded(enc, gidx)
        return _build_result(enc, mv.probas_, mv.label_index_, "mv", mv, mv.counts_)
    ds = DawidSkene(**params).fit_encoded(enc, gidx, init=init)
    return _build_result(enc, ds.probas_, ds.label_index_, "ds", ds)


def quality_report(
    task_ids: Sequence[str],
    worker_ids: Sequence[str],
    labels: Sequence[str],
    classes: Sequence[str] | None,
    gold: Mapping[str, str] | None = None,
    **options: Any,
) -> QualityReport:
    """The quality report: overall, per label, per operator (see :mod:`.report`)."""

    return build_report(task_ids, worker_ids, labels, classes, gold, **options)
