"""A model's scores as numbers the rest of `hub.models` can use. Pure, no I/O.

Single-choice projects: scores are class probabilities. A model may give scores for some
classes only (a binary model often gives just P(violent)); the classes without a score
share what is left to 1, and the vector is normalised to sum 1.

Multi-choice projects: scores are independent per-label probabilities (one sigmoid per
label); a label is predicted at 0.5 and above. A label set is written as its values
sorted and joined by ``+`` (as the quality report does).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

__all__ = [
    "MULTI_JOIN",
    "join_labels",
    "label_from_scores",
    "probabilities",
    "split_label",
]

MULTI_JOIN = "+"


def join_labels(values: Iterable[str]) -> str:
    return MULTI_JOIN.join(sorted(set(values)))


def split_label(label: str) -> list[str]:
    return [part for part in label.split(MULTI_JOIN) if part]


def probabilities(scores: Mapping[str, float], classes: Sequence[str]) -> list[float] | None:
    """Single choice: the scores as a probability vector over `classes` (see module doc);
    None when no score is for one of the classes."""
    k = len(classes)
    given = [scores.get(c) for c in classes]
    known = [g for g in given if g is not None]
    if k == 0 or not known:
        return None
    p = [max(0.0, float(g)) if g is not None else -1.0 for g in given]
    missing = k - len(known)
    if missing:
        rest = max(0.0, 1.0 - sum(x for x in p if x >= 0)) / missing
        p = [rest if x < 0 else x for x in p]
    total = sum(p)
    if total <= 0:
        return [1.0 / k] * k
    return [x / total for x in p]


def label_from_scores(scores: Mapping[str, float], classes: Sequence[str], kind: str) -> str:
    """The label the scores stand for: the most likely class (ties: the first in
    `classes`), or for multi choice every label scored 0.5 or more."""
    if kind == "multi":
        return join_labels(c for c, s in scores.items() if s >= 0.5)
    if classes:
        p = probabilities(scores, classes)
        if p is not None:
            return classes[max(range(len(p)), key=lambda i: (p[i], -i))]
    return max(scores, key=lambda c: scores[c])  # no known classes: the highest score
