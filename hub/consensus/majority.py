"""Majority vote with deterministic ties.

The consensus of a task is the class with the most votes; a tie goes to the class
that comes first in ``classes_`` (the lowest index: the order the caller gave, or the
natural sort of the labels), whatever order the labels arrived in. crowd-kit's
tie-break differs: it takes whichever tied class pandas lists first, which depends on
the row order. ``probas_`` are vote shares.
Gold tasks take their gold answer (posterior one-hot).
"""

from __future__ import annotations

from typing import Self

import numpy as np

from .base import Aggregator, one_hot
from .encode import Encoded, vote_counts

__all__ = ["MajorityVote", "vote_shares"]


def vote_shares(counts: np.ndarray) -> np.ndarray:
    """Rows of vote counts to rows of shares (a task with no votes gets a uniform row)."""
    totals = counts.sum(axis=1, keepdims=True)
    k = counts.shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(totals > 0, counts / np.maximum(totals, 1), 1.0 / k)
    return shares


class MajorityVote(Aggregator):
    """Majority vote. Fitted: ``counts_`` (votes per task and class), ``probas_``,
    ``labels_``, ``skills_`` (per worker: share of labels equal to the consensus)."""

    counts_: np.ndarray
    skills_: np.ndarray

    def fit_encoded(self, enc: Encoded, gold: np.ndarray | None = None) -> Self:
        self._set_vocab(enc)
        counts = vote_counts(enc)
        probas = vote_shares(counts.astype(np.float64))
        if gold is not None and (gold >= 0).any():
            has = gold >= 0
            probas[has] = one_hot(gold[has], enc.n_classes)
        self.counts_ = counts
        self._set_labels(probas)
        hit = (self.label_index_[enc.task] == enc.label).astype(np.float64)
        n = np.bincount(enc.worker, minlength=enc.n_workers)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.skills_ = np.bincount(enc.worker, weights=hit, minlength=enc.n_workers) / n
        return self
