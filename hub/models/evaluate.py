"""How good is a model against the people? Pure logic, no I/O.

- :func:`evaluate`: accuracy, per-label precision / recall / F1 (and macro F1), the
  confusion matrix (reference rows x model columns) and calibration bins for a
  reliability diagram (with the expected calibration error), of predicted labels
  against reference labels.
- :func:`model_report`: a model against the *confident* consensus (posterior of the
  leading label at least ``threshold``; gold clips left out) and against gold, for one
  version, plus the learning curve across all its versions. JSON-ready.

:mod:`hub.render.model_report` draws the report as text and as one self-contained page.

Labels are strings; a multi-choice label set is compared as one class (its values sorted
and joined by ``+``). Calibration uses the model's probability of the label it
predicted (single choice only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
import numpy as np

from ..consensus.calibration import calibration
from .scores import probabilities

__all__ = ["calibration", "evaluate", "model_report"]

ModelPredictions = Mapping[str, tuple[str, Mapping[str, float]]]  # clip → (label, scores)


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else num / den


def evaluate(
    predicted: Mapping[str, str],
    reference: Mapping[str, str],
    classes: Sequence[str] = (),
    confidence: Mapping[str, float] | None = None,
    bins: int = 10,
) -> dict[str, Any]:
    """Model labels `predicted` (clip → label) against `reference` (clip → label) on the
    clips both have. `classes` fixes the order; labels outside it are appended.
    `confidence` (clip → the model's probability of its label) gives calibration."""
    clips = [c for c in reference if c in predicted]
    seen = {reference[c] for c in clips} | {predicted[c] for c in clips}
    labels = list(classes) + sorted(seen - set(classes))
    pos = {c: i for i, c in enumerate(labels)}
    k = len(labels)
    matrix = np.zeros((k, k), dtype=np.int64)
    for c in clips:
        matrix[pos[reference[c]], pos[predicted[c]]] += 1
    n = len(clips)
    correct = int(np.trace(matrix))
    per_label: dict[str, dict[str, Any]] = {}
    f1s = []
    for i, label in enumerate(labels):
        tp = int(matrix[i, i])
        support = int(matrix[i].sum())
        chosen = int(matrix[:, i].sum())
        precision = _ratio(tp, chosen)
        recall = _ratio(tp, support)
        if precision is None or recall is None:
            f1 = None
        else:
            f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
        per_label[label] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": support,
            "predicted": chosen,
        }
        if support:
            f1s.append(f1 if f1 is not None else 0.0)
    out: dict[str, Any] = {
        "n": n,
        "correct": correct,
        "accuracy": _ratio(correct, n),
        "macro_f1": float(np.mean(f1s)) if f1s else None,
        "per_label": per_label,
        "confusion": {"labels": labels, "matrix": matrix.tolist()},
        "missing": len(reference) - n,
    }
    if confidence is not None:
        cal = [c for c in clips if c in confidence]
        out["calibration"] = msgspec.to_builtins(
            calibration(
                [confidence[c] for c in cal], [predicted[c] == reference[c] for c in cal], bins
            )
        )
    return out


def _confidences(preds: ModelPredictions, classes: Sequence[str], kind: str) -> dict[str, float]:
    if kind == "multi" or not classes:
        return {}
    pos = {c: i for i, c in enumerate(classes)}
    out = {}
    for clip, (label, scores) in preds.items():
        if not scores or label not in pos:
            continue
        p = probabilities(scores, classes)
        if p is not None:
            out[clip] = float(p[pos[label]])
    return out


def model_report(
    model: str,
    versions: Mapping[int, ModelPredictions],
    consensus: Mapping[str, tuple[str, float]],
    gold: Mapping[str, str],
    classes: Sequence[str],
    *,
    kind: str = "single",
    threshold: float = 0.9,
    version: int | None = None,
    created: Mapping[int, float] | None = None,
    bins: int = 10,
) -> dict[str, Any]:
    """The model (`version`, default its newest) against confident consensus (clip →
    (label, confidence); gold clips left out) and against `gold`, and the learning curve
    over every version."""
    if not versions:
        raise ValueError(f"model {model!r} has no predictions")
    version = max(versions) if version is None else version
    if version not in versions:
        raise ValueError(f"model {model!r} has no version {version}")
    confident = {
        clip: label
        for clip, (label, conf) in consensus.items()
        if conf >= threshold and clip not in gold
    }

    def against(preds: ModelPredictions, reference: Mapping[str, str]) -> dict[str, Any]:
        labels = {clip: label for clip, (label, _) in preds.items()}
        return evaluate(labels, reference, classes, _confidences(preds, classes, kind), bins)

    curve = []
    for v in sorted(versions):
        vs_cons = against(versions[v], confident)
        vs_gold = against(versions[v], gold)
        curve.append(
            {
                "version": v,
                "created_at": (created or {}).get(v),
                "clips": len(versions[v]),
                "consensus": {k: vs_cons[k] for k in ("n", "accuracy", "macro_f1")},
                "gold": {k: vs_gold[k] for k in ("n", "accuracy", "macro_f1")},
                "ece": vs_cons.get("calibration", {}).get("ece"),
            }
        )
    return {
        "model": model,
        "version": version,
        "versions": sorted(versions),
        "clips": len(versions[version]),
        "threshold": threshold,
        "classes": list(classes),
        "consensus_clips": len([c for c in consensus if c not in gold]),
        "confident_clips": len(confident),
        "gold_clips": len(gold),
        "against_consensus": against(versions[version], confident),
        "against_gold": against(versions[version], gold),
        "learning_curve": curve,
    }
