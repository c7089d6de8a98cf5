"""The dashboard's quality figures: the consensus report (:mod:`.report`) with the figures it
does not give (pairwise agreement, per-label specific agreement, agreement over time), as one
typed :class:`Overview`. Pure Python and numpy, no I/O.

- consensus per clip for the pairwise figures: majority vote, ties to the class listed first;
- agreement of an operator: share of their labels on clips with 2+ votes that equal that
  consensus; agreement per label: specific agreement (chance two votes on a clip agree on
  this label, given one of them is this label); pairwise percent agreement;
- gold accuracy: share of an operator's labels on gold clips that equal the gold answer.

Where the consensus report gives a figure (Dawid–Skene by default: alpha, kappa, confusion,
agreement with the consensus, per label and per operator), it replaces the majority-vote one.
If the report fails, the page still shows the majority-vote figures and says why.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec
import numpy as np

from .agreement import krippendorff_alpha
from .base import argmax_ties_low
from .report import QualityReport, build_report

__all__ = ["LabelFigures", "OperatorFigures", "Overview", "Vote", "class_of", "overview"]

Vote = tuple[str, str, list[str], float]  # clip, operator, values, created_at

#: Figures of the consensus report's `overall` shown beside the pairwise ones.
EXTRA_FIGURES = (
    "mean_confidence",
    "low_confidence_clips",
    "agreement_with_consensus",
    "gold_accuracy",
    "majority_vote_gold_accuracy",
    "consensus_differs_from_majority",
)


@dataclass
class LabelFigures:
    votes: int
    agreement: float | None  # specific agreement
    alpha: float | None = None  # from the consensus report
    kappa: float | None = None


@dataclass
class OperatorFigures:
    labels: int
    compared: int  # labels on clips with 2+ votes
    agreement: float | None  # with the consensus
    gold_labels: int
    gold_accuracy: float | None
    agreement_with_others: float | None = None  # from the consensus report
    estimated_accuracy: float | None = None


@dataclass
class Overview:
    source: str  # "majority vote" or "hub.consensus (<method>)"
    classes: list[str]
    n_labels: int = 0
    n_clips: int = 0
    n_clips_multi: int = 0  # clips with 2+ votes: the ones agreement is measured on
    alpha: float | None = None
    kappa: float | None = None  # Fleiss' kappa, from the consensus report
    percent_agreement: float | None = None
    per_label: dict[str, LabelFigures] = field(default_factory=dict)
    per_operator: dict[str, OperatorFigures] = field(default_factory=dict)
    confusion: list[list[int]] = field(default_factory=list)  # consensus row × label column
    gold_confusion: list[list[int]] = field(default_factory=list)  # gold row × label column
    over_time: list[tuple[str, float, int]] = field(default_factory=list)  # day, agreement, n
    consensus: QualityReport | None = None
    consensus_error: str | None = None

    def for_operator(self, operator: str) -> dict[str, Any]:
        """An operator's figures as the store's statement takes them."""
        row = self.per_operator.get(operator)
        return {} if row is None else vars(row).copy()

    def operator_figures(self) -> dict[str, dict[str, Any]]:
        """Every operator's figures as the store's operator list takes them."""
        return {op: vars(row).copy() for op, row in self.per_operator.items()}

    def extra(self) -> dict[str, Any]:
        """The consensus report's overall figures the page shows as cards (those it has)."""
        out: dict[str, Any] = {}
        if self.consensus is not None:
            overall = self.consensus.overall
            for key in EXTRA_FIGURES:
                value = getattr(overall, key)
                if value is not None:
                    out[key] = value
            if overall.calibration is not None:
                out["calibration"] = msgspec.to_builtins(overall.calibration)
        if self.consensus_error is not None:
            out["consensus_error"] = self.consensus_error
        return out

    def as_json(self) -> dict[str, Any]:
        """The `/api/v1/quality` document: the figures, with the consensus report's shown
        ones under `extra`."""
        out = {
            key: msgspec.to_builtins(value)
            for key, value in vars(self).items()
            if key not in ("consensus", "consensus_error")
        }
        out["per_label"] = {k: vars(v) for k, v in self.per_label.items()}
        out["per_operator"] = {k: vars(v) for k, v in self.per_operator.items()}
        out["extra"] = self.extra()
        return out


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else num / den


def class_of(values: Sequence[str]) -> str:
    """One class per label: the value, or for multi-choice the sorted values joined by '+'."""
    return "+".join(sorted(values)) if values else "∅"


def pairwise(
    votes: Sequence[Vote], classes: Sequence[str], gold: dict[str, str] | None = None
) -> Overview:
    """The majority-vote figures (see the module docstring)."""
    gold = gold or {}
    per_clip: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
    for clip, op, values, at in votes:
        per_clip[clip].append((op, class_of(values), at))
    seen_classes = list(classes) + sorted(
        {c for rows in per_clip.values() for _, c, _ in rows} - set(classes)
    )
    index = {c: i for i, c in enumerate(seen_classes)}
    size = len(seen_classes)
    report = Overview(source="majority vote", classes=seen_classes)
    report.n_labels = len(votes)
    report.n_clips = len(per_clip)
    report.confusion = [[0] * size for _ in range(size)]
    report.gold_confusion = [[0] * size for _ in range(size)]

    # the clips with 2+ votes as a (clips, classes) count table: majority vote and alpha
    multi = [(clip, rows) for clip, rows in per_clip.items() if len(rows) >= 2]
    counts = np.zeros((len(multi), size), dtype=np.int64)
    for u, (_clip, rows) in enumerate(multi):
        for _, c, _ in rows:
            counts[u, index[c]] += 1
    majority = argmax_ties_low(counts.astype(np.float64)).tolist()

    op_hits: Counter[str] = Counter()
    op_n: Counter[str] = Counter()
    op_labels: Counter[str] = Counter()
    gold_hits: Counter[str] = Counter()
    gold_n: Counter[str] = Counter()
    day_hits: Counter[str] = Counter()
    day_n: Counter[str] = Counter()
    label_pairs: Counter[str] = Counter()  # n_c (n_c - 1) summed over clips
    label_any: Counter[str] = Counter()  # n_c (m - 1) summed over clips
    pairs_agree = pairs_all = 0.0

    for clip, rows in per_clip.items():
        for op, c, _at in rows:
            op_labels[op] += 1
            answer = gold.get(clip)
            if answer is not None:
                gold_n[op] += 1
                gold_hits[op] += c == answer
                if answer in index:
                    report.gold_confusion[index[answer]][index[c]] += 1
    for (_clip, rows), best in zip(multi, majority, strict=True):
        m = len(rows)
        consensus = seen_classes[best]
        report.n_clips_multi += 1
        for op, c, at in rows:
            op_n[op] += 1
            op_hits[op] += c == consensus
            report.confusion[best][index[c]] += 1
            day = datetime.fromtimestamp(at).date().isoformat()
            day_n[day] += 1
            day_hits[day] += c == consensus
        for c, nc in Counter(c for _, c, _ in rows).items():
            label_pairs[c] += nc * (nc - 1)
            label_any[c] += nc * (m - 1)
            pairs_agree += nc * (nc - 1)
        pairs_all += m * (m - 1)

    alpha = krippendorff_alpha(counts) if multi else float("nan")
    report.alpha = None if np.isnan(alpha) else alpha
    report.percent_agreement = _ratio(pairs_agree, pairs_all)
    totals = Counter(class_of(v) for _, _, v, _ in votes)
    for c in seen_classes:
        report.per_label[c] = LabelFigures(
            votes=totals.get(c, 0), agreement=_ratio(label_pairs[c], label_any[c])
        )
    for op in sorted(op_labels):
        report.per_operator[op] = OperatorFigures(
            labels=op_labels[op],
            compared=op_n[op],
            agreement=_ratio(op_hits[op], op_n[op]),
            gold_labels=gold_n[op],
            gold_accuracy=_ratio(gold_hits[op], gold_n[op]),
        )
    report.over_time = [(d, day_hits[d] / day_n[d], day_n[d]) for d in sorted(day_n)]
    return report


def with_consensus(report: Overview, result: QualityReport) -> Overview:
    """The consensus report's figures in place of the majority-vote ones: overall alpha,
    kappa and confusion by its consensus, per label alpha and kappa, per operator agreement
    with the consensus and with the others, gold accuracy and estimated accuracy."""
    report.source = f"hub.consensus ({result.method})"
    report.consensus = result
    overall = result.overall
    if result.classes == report.classes:
        report.confusion = overall.confusion
        if overall.gold_confusion is not None:
            report.gold_confusion = overall.gold_confusion
    report.alpha = overall.krippendorff_alpha
    report.kappa = overall.fleiss_kappa
    for label in result.per_label:
        target = report.per_label.setdefault(label.label, LabelFigures(votes=0, agreement=None))
        target.alpha = label.krippendorff_alpha
        target.kappa = label.fleiss_kappa
    for op in result.per_operator:
        row = report.per_operator.get(op.operator)
        if row is None:
            continue
        row.agreement = op.agreement_with_consensus
        row.agreement_with_others = op.agreement_with_others
        row.gold_accuracy = op.gold_accuracy
        row.estimated_accuracy = op.estimated_accuracy
    return report


def overview(
    votes: Sequence[Vote], classes: Sequence[str], gold: dict[str, str] | None = None
) -> Overview:
    """The dashboard's quality figures: majority vote, refined by the consensus report."""
    report = pairwise(votes, classes, gold)
    if not votes:
        return report
    try:
        result = build_report(
            [v[0] for v in votes],
            [v[1] for v in votes],
            [class_of(v[2]) for v in votes],
            report.classes,
            gold or None,
        )
    except Exception as e:  # the dashboard stays up on a consensus bug; it says so
        report.consensus_error = f"{type(e).__name__}: {e}"
        return report
    return with_consensus(report, result)
