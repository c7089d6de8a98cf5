"""How far to trust a confidence column: reliability bins, expected calibration error,
and two ways to measure them for a Dawid–Skene fit.

- :func:`calibration`: equal-width confidence bins (count, mean confidence, accuracy),
  ECE and Brier score of any (confidence, correct) pairs;
- :func:`held_out_gold`: the consensus of the gold clips fitted *without* any gold
  answer, against those answers (what the confidence is worth where the truth is known);
- :func:`simulated`: labels drawn from the fitted model on the same clips and operators,
  fitted again and scored against the drawn truth (what the confidence is worth at this
  crowd's size and design, if the model is right).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import msgspec
import numpy as np

from .base import argmax_ties_low
from .encode import Encoded

__all__ = ["Bin", "Reliability", "calibration", "held_out_gold", "simulated"]


class Bin(msgspec.Struct, frozen=True):
    """One confidence bin [lo, hi): its clips, their mean confidence and accuracy (None when
    the bin is empty)."""

    lo: float
    hi: float
    n: int
    confidence: float | None
    accuracy: float | None


class Reliability(msgspec.Struct, frozen=True):
    """Reliability bins of a confidence column, with the expected calibration error (ECE)
    and the Brier score (None without clips)."""

    bins: list[Bin]
    n: int
    ece: float | None
    brier: float | None

    def rounded(self, digits: int = 4) -> Reliability:
        """The same figures rounded for a report."""

        def r(x: float | None) -> float | None:
            return None if x is None else round(x, digits)

        return Reliability(
            bins=[
                msgspec.structs.replace(b, confidence=r(b.confidence), accuracy=r(b.accuracy))
                for b in self.bins
            ],
            n=self.n,
            ece=r(self.ece),
            brier=r(self.brier),
        )


Fit = Callable[[Encoded, np.ndarray | None], np.ndarray]  # (encoded, gold) -> posterior


def calibration(
    confidence: Sequence[float] | np.ndarray, correct: Sequence[bool] | np.ndarray, bins: int = 10
) -> Reliability:
    """Equal-width bins over [0, 1] of the confidence: per bin the count, mean confidence
    and accuracy (None when empty); ECE = sum_b n_b / N * |acc_b - conf_b|; Brier score of
    the chosen label's probability."""
    conf = np.clip(np.asarray(confidence, dtype=float), 0.0, 1.0)
    hit = np.asarray(correct, dtype=float)
    idx = np.minimum((conf * bins).astype(int), bins - 1)
    out = []
    ece = 0.0
    for b in range(bins):
        mask = idx == b
        n = int(mask.sum())
        if n:
            mean_conf, acc = float(conf[mask].mean()), float(hit[mask].mean())
            ece += n / len(conf) * abs(acc - mean_conf)
            out.append(Bin(b / bins, (b + 1) / bins, n, mean_conf, acc))
        else:
            out.append(Bin(b / bins, (b + 1) / bins, 0, None, None))
    return Reliability(
        bins=out,
        n=int(len(conf)),
        ece=float(ece) if len(conf) else None,
        brier=float(np.mean((conf - hit) ** 2)) if len(conf) else None,
    )


def _score(posterior: np.ndarray, truth: np.ndarray, rows: np.ndarray) -> Reliability:
    chosen = argmax_ties_low(posterior[rows])
    conf = posterior[rows, chosen]
    return calibration(conf, chosen == truth[rows])


def held_out_gold(enc: Encoded, gold: np.ndarray, fit: Fit) -> Reliability | None:
    """Reliability of the consensus on the gold clips with votes, fitted without gold;
    None when there are no such clips."""
    voted = np.bincount(enc.task, minlength=enc.n_tasks) > 0
    rows = np.flatnonzero((gold >= 0) & voted)
    if not rows.size:
        return None
    return _score(fit(enc, None), gold, rows)


def simulated(
    enc: Encoded,
    gold: np.ndarray,
    posterior: np.ndarray,
    errors: np.ndarray,
    fit: Fit,
    seed: int = 0,
) -> Reliability | None:
    """Reliability of a refit on labels drawn from the fitted model: each clip's truth
    from its posterior, each (clip, operator) label from that operator's confusion matrix
    ``errors[operator, observed, true]``; gold clips keep their drawn truth as gold."""
    if not enc.n_labels:
        return None
    rng = np.random.default_rng(seed)
    k = enc.n_classes
    cum = np.cumsum(posterior, axis=1)
    truth = np.minimum((rng.random(enc.n_tasks)[:, None] > cum).sum(axis=1), k - 1)
    said = np.cumsum(errors[enc.worker, :, truth[enc.task]], axis=1)
    labels = np.minimum((rng.random(enc.n_labels)[:, None] > said).sum(axis=1), k - 1)
    drawn = Encoded(enc.tasks, enc.workers, enc.classes, enc.task, enc.worker, labels)
    fixed = np.where(gold >= 0, truth, -1)
    voted = np.bincount(enc.task, minlength=enc.n_tasks) > 0
    rows = np.flatnonzero(voted & (gold < 0))
    if not rows.size:
        return None
    return _score(fit(drawn, fixed), truth, rows)
