"""Which clips people should label first, by what a model says. Pure logic, no I/O.

The hub gives :func:`prioritise` its work clips (not gold) with the model's scores and the
current consensus, in clip order, and gets back a rank per clip and a ``priority`` number
to store in ``clips.priority``: ``ORDER BY priority DESC, seq`` then reproduces the order
exactly. Only the *order* of work changes: redundancy, adaptive overlap, gold, training and
"never the same clip twice" stay with :mod:`hub.consensus.assignment` and the store.

Modes (project setting ``[priority] mode``):

- ``none``: no model order (every priority 0; the hub's own order stands).
- ``uncertainty``: the clips the model is least sure of first. ``measure``:
  ``entropy`` (of the class probabilities, divided by log K), ``margin``
  (1 - (p1 - p2)), or ``least_confidence`` ((1 - p1) * K / (K - 1)); all in [0, 1].
- ``disagreement``: the clips where model and current consensus most likely disagree
  first: 1 - sum_c p_model(c) * p_consensus(c). A clip with no labels yet counts its
  consensus as uniform (so it sits between clear agreement and clear disagreement);
  ties go to the more uncertain clip.
- ``stratified``: round robin over the model's predicted labels, rarest predicted label
  first, most uncertain clip first within each, so that every predicted label (rare
  ones above all) is seen early and at an equal share.

Clips the model has no prediction for go after (``unscored = "last"``, the default) or
before (``"first"``) the scored ones, in the given order. Ties keep the given order.

Multi-choice projects: the scores are per-label probabilities; a clip's uncertainty is
the mean binary entropy over the labels scored (``margin``: the mean of
1 - |2p - 1|), its disagreement the mean over labels of P(model and consensus differ).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "MEASURES",
    "MODES",
    "ClipInput",
    "Priority",
    "PriorityConfig",
    "disagreement",
    "disagreements",
    "prioritise",
    "priority_config",
    "uncertainties",
    "uncertainty",
]

MODES = ("none", "uncertainty", "disagreement", "stratified")
MEASURES = ("entropy", "margin", "least_confidence")
UNSCORED = ("last", "first")


@dataclass(frozen=True)
class PriorityConfig:
    """The project's ``[priority]`` table: ``mode``, ``measure``, ``model`` (whose
    predictions order the work; empty = the newest model), ``unscored``."""

    mode: str = "none"
    measure: str = "entropy"
    model: str = ""
    unscored: str = "last"

    def __post_init__(self) -> None:
        problems = check(self)
        if problems:
            raise ValueError("; ".join(problems))


def check(config: Any) -> list[str]:
    """Problems with a priority setting (any object with the four attributes)."""
    problems = []
    if config.mode not in MODES:
        problems.append(f"priority mode must be one of {', '.join(MODES)}, not {config.mode!r}")
    if config.measure not in MEASURES:
        problems.append(
            f"priority measure must be one of {', '.join(MEASURES)}, not {config.measure!r}"
        )
    if config.unscored not in UNSCORED:
        problems.append(f"priority unscored must be 'last' or 'first', not {config.unscored!r}")
    return problems


def priority_config(raw: Any) -> PriorityConfig:
    """A `PriorityConfig` from a project's ``[priority]`` table: a mapping (parsed TOML),
    an object with the same attributes (a msgspec Struct), or None (mode "none")."""
    if raw is None:
        return PriorityConfig()
    get = raw.get if isinstance(raw, Mapping) else lambda k, d: getattr(raw, k, d)
    return PriorityConfig(
        mode=str(get("mode", "none")),
        measure=str(get("measure", "entropy")),
        model=str(get("model", "") or ""),
        unscored=str(get("unscored", "last")),
    )


@dataclass(frozen=True)
class ClipInput:
    """One work clip: the model's ``scores`` (None: no prediction) and ``label``, and the
    current consensus posterior over the labels (None: no labels yet)."""

    clip_id: str
    scores: Mapping[str, float] | None = None
    label: str | None = None
    consensus: Mapping[str, float] | None = None


@dataclass(frozen=True)
class Priority:
    clip_id: str
    rank: int  # 0 = first
    priority: float  # (n - rank) / n in (0, 1]; 0.0 for every clip in mode "none"
    score: float | None  # the measure (uncertainty or disagreement); None: unscored
    stratum: str | None = None  # stratified: the predicted label


# ---- measures ------------------------------------------------------------------------------


def uncertainties(p: np.ndarray, measure: str = "entropy", multi: bool = False) -> np.ndarray:
    """Row-wise :func:`uncertainty` of a matrix of probability vectors (NaN = not scored,
    multi choice only)."""
    p = np.asarray(p, dtype=float)
    n, k = p.shape
    if n == 0:
        return np.zeros(0)
    if multi:
        q = np.clip(p, 0.0, 1.0)
        if measure == "entropy":
            with np.errstate(divide="ignore", invalid="ignore"):
                h = -(q * np.log2(q) + (1 - q) * np.log2(1 - q))
            h = np.where(np.isnan(q), np.nan, np.nan_to_num(h, nan=0.0))
        else:
            h = 1.0 - np.abs(2.0 * q - 1.0)
        with np.errstate(invalid="ignore"):
            known = (~np.isnan(h)).sum(axis=1)
            return np.where(known > 0, np.nansum(h, axis=1) / np.maximum(known, 1), 0.0)
    if k < 2:
        return np.zeros(n)
    if measure == "entropy":
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
        return np.clip(-terms.sum(axis=1) / math.log(k), 0.0, 1.0)
    top = -np.sort(-p, axis=1)
    if measure == "margin":
        return 1.0 - (top[:, 0] - top[:, 1])
    return (1.0 - top[:, 0]) * k / (k - 1)  # least_confidence


def uncertainty(p: np.ndarray, measure: str = "entropy", multi: bool = False) -> float:
    """How unsure a probability vector is, in [0, 1] (see the module doc)."""
    row = np.asarray(p, dtype=float).reshape(1, -1)
    return float(uncertainties(row, measure, multi)[0]) if row.size else 0.0


def disagreements(p: np.ndarray, q: np.ndarray, multi: bool = False) -> np.ndarray:
    """Row-wise :func:`disagreement`."""
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    if multi:
        d = p * (1 - q) + (1 - p) * q
        known = (~np.isnan(d)).sum(axis=1)
        return np.where(known > 0, np.nansum(d, axis=1) / np.maximum(known, 1), 0.0)
    return 1.0 - (p * q).sum(axis=1)


def disagreement(p: np.ndarray, q: np.ndarray, multi: bool = False) -> float:
    """Probability that a draw from the model and one from the consensus differ."""
    p = np.asarray(p, dtype=float).reshape(1, -1)
    q = np.asarray(q, dtype=float).reshape(1, -1)
    return float(disagreements(p, q, multi)[0]) if p.size else 0.0


def _matrix(maps: Sequence[Mapping[str, float] | None], classes: Sequence[str]) -> np.ndarray:
    nan = float("nan")
    return np.array(
        [[float(m.get(c, nan)) if m else nan for c in classes] for m in maps], dtype=float
    ).reshape(len(maps), len(classes))


def _complete(given: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Single choice: rows of scores (NaN = no score) as probability vectors (see
    `hub.models.scores.probabilities`), and which rows had any score."""
    n, k = given.shape
    known = ~np.isnan(given)
    has = known.any(axis=1) if k else np.zeros(n, dtype=bool)
    p = np.where(known, np.clip(np.nan_to_num(given), 0.0, None), 0.0)
    missing = (~known).sum(axis=1)
    rest = np.maximum(0.0, 1.0 - p.sum(axis=1)) / np.maximum(missing, 1)
    p = np.where(known, p, rest[:, None])
    total = p.sum(axis=1, keepdims=True)
    uniform = np.full_like(p, 1.0 / max(k, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(total > 0, p / np.where(total > 0, total, 1.0), uniform)
    return p, has


# ---- ordering ------------------------------------------------------------------------------


def prioritise(
    clips: Sequence[ClipInput],
    classes: Sequence[str],
    config: PriorityConfig,
    kind: str = "single",
) -> list[Priority]:
    """The clips in the order people should label them (see the module doc)."""
    n = len(clips)
    if config.mode == "none" or n == 0:
        return [Priority(c.clip_id, i, 0.0, None) for i, c in enumerate(clips)]
    multi = kind == "multi"
    k = max(len(classes), 1)
    given = _matrix([c.scores for c in clips], classes)
    if multi:
        p = given
        has = (~np.isnan(given)).any(axis=1) if len(classes) else np.zeros(n, dtype=bool)
    else:
        p, has = _complete(given)
    unsure = uncertainties(p, config.measure, multi)
    if config.mode == "disagreement":
        cons = _matrix([c.consensus for c in clips], classes)
        if multi:
            q = np.where(np.isnan(cons), 0.5, cons)
        else:
            q, has_q = _complete(cons)
            q[~has_q] = 1.0 / k
        primary = disagreements(p, q, multi)
    else:
        primary = unsure
    scored = np.flatnonzero(has)
    unscored = [int(i) for i in np.flatnonzero(~has)]
    labels: list[str | None] = [None] * n
    if config.mode == "stratified":
        for i in scored:
            label = clips[i].label
            if label is None and not multi:
                label = classes[int(np.argmax(p[i]))]
            labels[i] = label
        ordered = _round_robin([int(i) for i in scored], unsure, labels)
    elif config.mode == "disagreement":
        ordered = [int(i) for i in scored[np.lexsort((scored, -unsure[scored], -primary[scored]))]]
    else:
        ordered = [int(i) for i in scored[np.lexsort((scored, -primary[scored]))]]
    order = unscored + ordered if config.unscored == "first" else ordered + unscored
    stratified = config.mode == "stratified"
    return [
        Priority(
            clips[i].clip_id,
            rank,
            (n - rank) / n,
            round(float(primary[i]), 9) if has[i] else None,
            labels[i] if stratified else None,
        )
        for rank, i in enumerate(order)
    ]


def _round_robin(scored: list[int], unsure: np.ndarray, labels: list[str | None]) -> list[int]:
    """Rarest predicted label first, then the next, …, one clip each per turn; within a
    label the most uncertain clip first."""
    strata: dict[str, list[int]] = {}
    for i in scored:
        strata.setdefault(labels[i] or "", []).append(i)
    queues = [
        sorted(items, key=lambda i: (-unsure[i], i))
        for _, items in sorted(strata.items(), key=lambda kv: (len(kv[1]), kv[1][0]))
    ]
    out: list[int] = []
    depth = 0
    while len(out) < len(scored):
        for queue in queues:
            if depth < len(queue):
                out.append(queue[depth])
        depth += 1
    return out
