"""Quality figures for the dashboard: agreement, gold accuracy, confusion.

If the consensus package offers ``hub.consensus.quality_report(task_ids, worker_ids, labels,
classes, gold=…)``, its figures (Dawid–Skene consensus, alpha, kappa, per label and per
operator) replace ours where it gives them; the rest (and everything, when it is not there)
is computed here from majority vote: pure Python, no I/O, no aiohttp.

- consensus per clip: majority vote, ties to the class listed first;
- agreement of an operator: share of their labels on clips with 2+ votes that equal the
  consensus; agreement per label: specific agreement (chance two votes on a clip agree on
  this label, given one of them is this label); overall: Krippendorff's alpha (nominal) and
  pairwise percent agreement;
- gold accuracy: share of an operator's labels on gold clips that equal the gold answer.
"""

from __future__ import annotations

import importlib
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Vote = tuple[str, str, list[str], float]  # clip, operator, values, created_at


@dataclass
class QualityReport:
    source: str
    classes: list[str]
    n_labels: int = 0
    n_clips: int = 0
    n_clips_multi: int = 0  # clips with 2+ votes: the ones agreement is measured on
    alpha: float | None = None
    kappa: float | None = None  # Fleiss' kappa, from hub.consensus
    percent_agreement: float | None = None
    per_label: dict[str, dict[str, float | int | None]] = field(default_factory=dict)
    per_operator: dict[str, dict[str, float | int | None]] = field(default_factory=dict)
    confusion: list[list[int]] = field(default_factory=list)  # consensus row × label column
    gold_confusion: list[list[int]] = field(default_factory=list)  # gold row × label column
    over_time: list[tuple[str, float, int]] = field(default_factory=list)  # day, agreement, n
    extra: dict[str, Any] = field(default_factory=dict)  # more figures from hub.consensus

    def for_operator(self, operator: str) -> dict[str, Any]:
        return dict(self.per_operator.get(operator, {}))


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else num / den


def class_of(values: Sequence[str]) -> str:
    """One class per label: the value, or for multi-choice the sorted values joined by '+'."""
    return "+".join(sorted(values)) if values else "∅"


def majority(counts: Counter[str], rank: dict[str, int]) -> str:
    return min(counts, key=lambda c: (-counts[c], rank.get(c, len(rank)), c))


def krippendorff_alpha_nominal(units: Sequence[Counter[str]]) -> float | None:
    """Nominal alpha from per-unit value counts (units with fewer than 2 values are skipped)."""
    coincidence: dict[tuple[str, str], float] = defaultdict(float)
    for unit in units:
        m = sum(unit.values())
        if m < 2:
            continue
        for c, nc in unit.items():
            for k, nk in unit.items():
                coincidence[(c, k)] += (nc * nk - (nc if c == k else 0)) / (m - 1)
    totals: dict[str, float] = defaultdict(float)
    for (c, _k), v in coincidence.items():
        totals[c] += v
    n = sum(totals.values())
    if n <= 1:
        return None
    observed = sum(v for (c, k), v in coincidence.items() if c != k)
    expected = sum(totals[c] * totals[k] for c in totals for k in totals if c != k)
    if expected == 0:
        return 1.0 if observed == 0 else None
    return 1.0 - (n - 1) * observed / expected


def compute(
    votes: Sequence[Vote], classes: Sequence[str], gold: dict[str, str] | None = None
) -> QualityReport:
    """Majority-vote quality figures (see the module docstring)."""
    gold = gold or {}
    per_clip: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
    for clip, op, values, at in votes:
        per_clip[clip].append((op, class_of(values), at))
    seen_classes = list(classes) + sorted(
        {c for rows in per_clip.values() for _, c, _ in rows} - set(classes)
    )
    rank = {c: i for i, c in enumerate(seen_classes)}
    index = rank
    size = len(seen_classes)
    report = QualityReport(source="majority vote", classes=seen_classes)
    report.n_labels = len(votes)
    report.n_clips = len(per_clip)
    report.confusion = [[0] * size for _ in range(size)]
    report.gold_confusion = [[0] * size for _ in range(size)]

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
    units: list[Counter[str]] = []

    for clip, rows in per_clip.items():
        counts = Counter(c for _, c, _ in rows)
        m = len(rows)
        for op, c, _at in rows:
            op_labels[op] += 1
            answer = gold.get(clip)
            if answer is not None:
                gold_n[op] += 1
                gold_hits[op] += c == answer
                if answer in index:
                    report.gold_confusion[index[answer]][index[c]] += 1
        if m < 2:
            continue
        units.append(counts)
        report.n_clips_multi += 1
        consensus = majority(counts, rank)
        for op, c, at in rows:
            op_n[op] += 1
            op_hits[op] += c == consensus
            report.confusion[index[consensus]][index[c]] += 1
            day = datetime.fromtimestamp(at).date().isoformat()
            day_n[day] += 1
            day_hits[day] += c == consensus
        for c, nc in counts.items():
            label_pairs[c] += nc * (nc - 1)
            label_any[c] += nc * (m - 1)
        pairs_all += m * (m - 1)
        pairs_agree += sum(nc * (nc - 1) for nc in counts.values())

    report.alpha = krippendorff_alpha_nominal(units)
    report.percent_agreement = _ratio(pairs_agree, pairs_all)
    totals = Counter(class_of(v) for _, _, v, _ in votes)
    for c in seen_classes:
        report.per_label[c] = {
            "votes": totals.get(c, 0),
            "agreement": _ratio(label_pairs[c], label_any[c]),
        }
    for op in sorted(op_labels):
        report.per_operator[op] = {
            "labels": op_labels[op],
            "compared": op_n[op],
            "agreement": _ratio(op_hits[op], op_n[op]),
            "gold_labels": gold_n[op],
            "gold_accuracy": _ratio(gold_hits[op], gold_n[op]),
        }
    report.over_time = [(d, day_hits[d] / day_n[d], day_n[d]) for d in sorted(day_n)]
    return report


def consensus_hook() -> Callable[..., Any] | None:
    """`hub.consensus.quality_report` when the consensus package provides it."""
    try:
        module = importlib.import_module("hub.consensus")
    except ImportError:
        return None
    hook = getattr(module, "quality_report", None)
    return hook if callable(hook) else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None  # NaN → None


def _matrix(value: Any, size: int) -> list[list[int]] | None:
    if not isinstance(value, list) or len(value) != size:
        return None
    if not all(isinstance(row, list) and len(row) == size for row in value):
        return None
    return [[int(v) for v in row] for row in value]


def merge_consensus(report: QualityReport, result: Any) -> QualityReport:
    """Take the figures of `hub.consensus.quality_report` (schema annotatiestraat.quality/1):
    overall alpha, kappa and confusion by its consensus (Dawid–Skene by default), per label
    alpha and kappa, per operator agreement with consensus and with others, gold accuracy."""
    if not isinstance(result, dict):
        return report
    report.source = f"hub.consensus ({result.get('method', '?')})"
    overall = result.get("overall") or {}
    if result.get("classes") == report.classes:
        for key, target in (("confusion", "confusion"), ("gold_confusion", "gold_confusion")):
            matrix = _matrix(overall.get(key), len(report.classes))
            if matrix is not None:
                setattr(report, target, matrix)
    alpha = _number(overall.get("krippendorff_alpha"))
    if alpha is not None or "krippendorff_alpha" in overall:
        report.alpha = alpha
    report.kappa = _number(overall.get("fleiss_kappa"))
    for key in (
        "mean_confidence",
        "low_confidence_clips",
        "agreement_with_consensus",
        "gold_accuracy",
        "majority_vote_gold_accuracy",
        "consensus_differs_from_majority",
    ):
        value = _number(overall.get(key))
        if value is not None:
            report.extra[key] = value
    calibration = overall.get("calibration")
    if isinstance(calibration, dict):
        report.extra["calibration"] = calibration
    for row in result.get("per_label") or []:
        if isinstance(row, dict) and "label" in row:
            target = report.per_label.setdefault(str(row["label"]), {"votes": 0})
            target["alpha"] = _number(row.get("krippendorff_alpha"))
            target["kappa"] = _number(row.get("fleiss_kappa"))
    for row in result.get("per_operator") or []:
        if isinstance(row, dict) and "operator" in row:
            target = report.per_operator.setdefault(str(row["operator"]), {})
            target["agreement"] = _number(row.get("agreement_with_consensus"))
            target["agreement_with_others"] = _number(row.get("agreement_with_others"))
            target["gold_accuracy"] = _number(row.get("gold_accuracy"))
            target["estimated_accuracy"] = _number(row.get("estimated_accuracy"))
    return report


def quality(
    votes: Sequence[Vote], classes: Sequence[str], gold: dict[str, str] | None = None
) -> QualityReport:
    """The dashboard's quality report: majority vote here, refined by hub.consensus if there."""
    report = compute(votes, classes, gold)
    hook = consensus_hook()
    if hook is None or not votes:
        return report
    try:
        result = hook(
            [v[0] for v in votes],
            [v[1] for v in votes],
            [class_of(v[2]) for v in votes],
            report.classes,
            gold=gold or None,
        )
    except Exception as e:  # the dashboard stays up on a consensus bug; it says so
        report.extra["consensus_error"] = f"{type(e).__name__}: {e}"
        return report
    return merge_consensus(report, result)
