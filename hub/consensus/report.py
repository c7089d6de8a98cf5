"""Quality report: the figures that say whether the labels are good enough, as typed results.

:func:`build_report` answers "is the data good enough?" per label, per operator
and overall: agreement (Krippendorff's alpha, Fleiss' kappa), consensus
confidence, accuracy on gold, agreement with the consensus and with the other
operators, confusion matrices, as a :class:`QualityReport` (``msgspec.to_builtins`` makes it
JSON, schema :data:`SCHEMA`). Undefined numbers are ``None`` (JSON ``null``).

Pure maths: :mod:`hub.render.quality_report` draws it as a page or as text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
import numpy as np

from .agreement import (
    confusion_matrix,
    fleiss_kappa,
    fleiss_kappa_per_class,
    krippendorff_alpha,
    krippendorff_alpha_per_class,
    worker_accuracy,
    worker_confusion,
    worker_pairwise_agreement,
)
from .base import argmax_ties_low
from .calibration import Reliability, held_out_gold, simulated
from .dawid_skene import DawidSkene
from .encode import Encoded, encode, gold_index, vote_counts
from .majority import MajorityVote

__all__ = [
    "SCHEMA",
    "Calibration",
    "Histogram",
    "LabelQuality",
    "OperatorQuality",
    "Overall",
    "QualityReport",
    "Spread",
    "build_report",
]

SCHEMA = "annotatiestraat.quality/1"
_HIST_BINS = 10


class Spread(msgspec.Struct, frozen=True):
    mean: float | None
    min: int | None
    max: int | None


class Histogram(msgspec.Struct, frozen=True):
    edges: list[float]
    counts: list[int]


class Calibration(msgspec.Struct, frozen=True):
    """How far to trust the consensus confidence (Dawid–Skene only), None where there is
    nothing to measure: ``held_out_gold`` (the gold clips' consensus fitted without any gold
    answer, against those answers), ``simulated`` (labels drawn from the fitted model on the
    same clips and operators, fitted again)."""

    held_out_gold: Reliability | None
    simulated: Reliability | None


class Overall(msgspec.Struct, frozen=True):
    clips: int
    operators: int
    labels: int
    labels_per_clip: Spread
    krippendorff_alpha: float | None
    fleiss_kappa: float | None
    mean_confidence: float | None
    low_confidence_threshold: float
    low_confidence_clips: int
    agreement_with_consensus: float | None
    gold_clips: int
    gold_labels: int
    gold_accuracy: float | None
    majority_vote_gold_accuracy: float | None  # the crowd's majority vote, before gold is truth
    consensus_differs_from_majority: int
    confidence_histogram: Histogram
    calibration: Calibration | None
    confusion: list[list[int]]  # consensus row × label given column
    gold_confusion: list[list[int]] | None  # gold answer row × label given column


class LabelQuality(msgspec.Struct, frozen=True):
    label: str
    consensus_clips: int
    votes: int
    prior: float | None
    krippendorff_alpha: float | None
    fleiss_kappa: float | None
    mean_confidence: float | None
    recall: float | None  # of the labels on clips whose consensus is this, the share saying it
    precision: float | None  # of the labels saying this, the share on clips whose consensus it is
    gold_clips: int


class OperatorQuality(msgspec.Struct, frozen=True, omit_defaults=True):
    operator: str
    labels: int
    clips: int
    agreement_with_consensus: float | None
    agreement_with_others: float | None
    gold_labels: int
    gold_correct: int
    gold_accuracy: float | None
    confusion: list[list[int]]
    # expected accuracy under the Dawid–Skene model: sum_k prior_k * P(say k | k)
    estimated_accuracy: float | None = None


class QualityReport(msgspec.Struct, frozen=True):
    schema: str
    title: str
    method: str
    classes: list[str]
    overall: Overall
    per_label: list[LabelQuality]
    per_operator: list[OperatorQuality]


def _num(x: Any, digits: int = 4) -> float | None:
    """JSON-safe float: NaN/inf become None."""
    if x is None:
        return None
    v = float(x)
    if math.isnan(v) or math.isinf(v):
        return None
    return round(v, digits)


def _ratio(a: float, b: float) -> float | None:
    return _num(a / b) if b else None


def build_report(
    task_ids: Sequence[str],
    worker_ids: Sequence[str],
    labels: Sequence[str],
    classes: Sequence[str] | None = None,
    gold: Mapping[str, str] | None = None,
    method: str = "ds",
    low_confidence: float = 0.9,
    title: str = "Quality report",
) -> QualityReport:
    """The quality report of a set of labels (see the module docstring).

    ``method`` is the consensus used as reference (``"ds"`` or ``"mv"``);
    ``low_confidence`` the confidence under which a clip counts as uncertain.
    ``overall.calibration`` (Dawid–Skene only, see :class:`Calibration`) costs two more fits.
    """
    if method not in ("ds", "mv"):
        raise ValueError("method must be 'ds' or 'mv'")
    enc = encode(task_ids, worker_ids, labels, classes)
    k = enc.n_classes
    gidx = gold_index(enc, gold)
    counts = vote_counts(enc)
    mv = MajorityVote().fit_encoded(enc)  # without gold: the crowd on its own
    if method == "ds":
        model: DawidSkene | MajorityVote = DawidSkene().fit_encoded(enc, gidx)
    else:
        model = MajorityVote().fit_encoded(enc, gidx)
    posterior = model.probas_
    consensus = argmax_ties_low(posterior)
    confidence = posterior[np.arange(enc.n_tasks), consensus]
    has_gold = gidx >= 0

    per_task_votes = counts.sum(axis=1)
    label_ok = consensus[enc.task] == enc.label
    agree_correct, agree_judged = worker_accuracy(enc, consensus)
    pair_mean, pair_used = worker_pairwise_agreement(enc, counts)
    gold_correct, gold_judged = worker_accuracy(enc, gidx)
    op_conf = worker_confusion(enc, consensus)
    worker_tasks = np.bincount(
        np.unique(enc.worker * max(enc.n_tasks, 1) + enc.task) // max(enc.n_tasks, 1),
        minlength=enc.n_workers,
    )

    alpha_k = krippendorff_alpha_per_class(counts)
    kappa_k = fleiss_kappa_per_class(counts)
    hist, edges = np.histogram(confidence, bins=_HIST_BINS, range=(0.0, 1.0))
    priors = getattr(model, "priors_", None)
    class_share = (
        priors
        if priors is not None
        else (posterior.mean(axis=0) if enc.n_tasks else np.full(k, np.nan))
    )

    gold_tasks = int(has_gold.sum())
    gold_label_mask = has_gold[enc.task]
    per_label = []
    for j, c in enumerate(enc.classes):
        said = enc.label == j
        is_c = consensus[enc.task] == j
        per_label.append(
            LabelQuality(
                label=c,
                consensus_clips=int((consensus == j).sum()),
                votes=int(said.sum()),
                prior=_num(class_share[j]),
                krippendorff_alpha=_num(alpha_k[j]),
                fleiss_kappa=_num(kappa_k[j]),
                mean_confidence=_num(confidence[consensus == j].mean())
                if (consensus == j).any()
                else None,
                recall=_ratio(float((said & is_c).sum()), float(is_c.sum())),
                precision=_ratio(float((said & is_c).sum()), float(said.sum())),
                gold_clips=int((gidx == j).sum()),
            )
        )

    per_operator = []
    ds_errors = getattr(model, "errors_", None)
    for w, name in enumerate(enc.workers):
        per_operator.append(
            OperatorQuality(
                operator=name,
                labels=int(agree_judged[w]),
                clips=int(worker_tasks[w]),
                agreement_with_consensus=_ratio(agree_correct[w], agree_judged[w]),
                agreement_with_others=_num(pair_mean[w]),
                gold_labels=int(gold_judged[w]),
                gold_correct=int(gold_correct[w]),
                gold_accuracy=_ratio(gold_correct[w], gold_judged[w]),
                confusion=op_conf[w].tolist(),
                estimated_accuracy=_num(float(np.dot(priors, np.diag(ds_errors[w]))))
                if ds_errors is not None and priors is not None
                else None,
            )
        )

    mv_on_gold = mv.label_index_[has_gold] == gidx[has_gold]
    overall = Overall(
        clips=enc.n_tasks,
        operators=enc.n_workers,
        labels=enc.n_labels,
        labels_per_clip=Spread(
            mean=_num(per_task_votes.mean()) if enc.n_tasks else None,
            min=int(per_task_votes.min()) if enc.n_tasks else None,
            max=int(per_task_votes.max()) if enc.n_tasks else None,
        ),
        krippendorff_alpha=_num(krippendorff_alpha(counts)),
        fleiss_kappa=_num(fleiss_kappa(counts)),
        mean_confidence=_num(confidence.mean()) if enc.n_tasks else None,
        low_confidence_threshold=low_confidence,
        low_confidence_clips=int((confidence < low_confidence).sum()),
        agreement_with_consensus=_ratio(float(label_ok.sum()), float(enc.n_labels)),
        gold_clips=gold_tasks,
        gold_labels=int(gold_label_mask.sum()),
        gold_accuracy=_ratio(float(gold_correct.sum()), float(gold_judged.sum())),
        majority_vote_gold_accuracy=_ratio(float(mv_on_gold.sum()), float(gold_tasks)),
        consensus_differs_from_majority=int((consensus != mv.label_index_).sum()),
        confidence_histogram=Histogram(
            edges=[round(float(e), 2) for e in edges], counts=hist.astype(int).tolist()
        ),
        calibration=_calibration(enc, gidx, model) if isinstance(model, DawidSkene) else None,
        confusion=confusion_matrix(consensus[enc.task], enc.label, k).astype(int).tolist(),
        gold_confusion=(
            confusion_matrix(gidx[enc.task], enc.label, k).astype(int).tolist()
            if gold_tasks
            else None
        ),
    )
    return QualityReport(
        schema=SCHEMA,
        title=title,
        method=method,
        classes=list(enc.classes),
        overall=overall,
        per_label=per_label,
        per_operator=per_operator,
    )


def _calibration(enc: Encoded, gold: np.ndarray, model: DawidSkene) -> Calibration:
    def fit(e: Encoded, g: np.ndarray | None) -> np.ndarray:
        return DawidSkene().fit_encoded(e, g).probas_

    held = held_out_gold(enc, gold, fit)
    sim = simulated(enc, gold, model.probas_, model.errors_, fit)
    return Calibration(
        held_out_gold=None if held is None else held.rounded(),
        simulated=None if sim is None else sim.rounded(),
    )
