"""Shared shape of the aggregators (crowd-kit style, numpy only).

An aggregator is configured in ``__init__``, learns with ``fit`` and exposes what it
learnt as attributes with a trailing underscore:

- ``tasks_``, ``workers_``, ``classes_``: the vocabularies (sorted ids),
- ``probas_``: ``(n_tasks, n_classes)`` posterior per task,
- ``labels_``: consensus label per task (``classes_[argmax]``, ties to the lowest index).

``fit`` takes long-format sequences; ``fit_encoded`` takes an :class:`Encoded` and a
per-task gold index array (``-1`` = no gold) for callers that encode once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Self

import numpy as np

from .encode import Encoded, encode, gold_index

__all__ = ["Aggregator", "argmax_ties_low", "one_hot"]

#: Posteriors closer than this count as tied; ties go to the lowest class index so the
#: result does not depend on the floating-point summation order.
TIE_TOLERANCE = 1e-9


def argmax_ties_low(probas: np.ndarray, atol: float = TIE_TOLERANCE) -> np.ndarray:
    """Row-wise argmax; near-ties (within ``atol``) resolve to the lowest column."""
    if probas.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    top = probas.max(axis=1, keepdims=True)
    return np.argmax(probas >= top - atol, axis=1).astype(np.int64)


def one_hot(index: np.ndarray, n_classes: int) -> np.ndarray:
    out = np.zeros((index.shape[0], n_classes))
    out[np.arange(index.shape[0]), index] = 1.0
    return out


class Aggregator:
    """Base class: long-format ``fit`` plus the ``fit_predict*`` helpers."""

    tasks_: list[str]
    workers_: list[str]
    classes_: list[str]
    probas_: np.ndarray
    labels_: np.ndarray
    label_index_: np.ndarray

    def fit_encoded(self, enc: Encoded, gold: np.ndarray | None = None) -> Self:
        raise NotImplementedError

    def fit(
        self,
        task_ids: Sequence[object],
        worker_ids: Sequence[object],
        labels: Sequence[object],
        classes: Sequence[str] | None = None,
        gold: Mapping[str, str] | None = None,
    ) -> Self:
        """Fit on long-format labels; ``gold`` maps task id to its known answer."""
        enc = encode(task_ids, worker_ids, labels, classes)
        return self.fit_encoded(enc, gold_index(enc, gold))

    def fit_predict(
        self,
        task_ids: Sequence[object],
        worker_ids: Sequence[object],
        labels: Sequence[object],
        classes: Sequence[str] | None = None,
        gold: Mapping[str, str] | None = None,
    ) -> np.ndarray:
        """Fit and return the consensus label per task (aligned with ``tasks_``)."""
        return self.fit(task_ids, worker_ids, labels, classes, gold).labels_

    def fit_predict_proba(
        self,
        task_ids: Sequence[object],
        worker_ids: Sequence[object],
        labels: Sequence[object],
        classes: Sequence[str] | None = None,
        gold: Mapping[str, str] | None = None,
    ) -> np.ndarray:
        """Fit and return the posterior per task, ``(n_tasks, n_classes)``."""
        return self.fit(task_ids, worker_ids, labels, classes, gold).probas_

    def _set_vocab(self, enc: Encoded) -> None:
        self.tasks_ = list(enc.tasks)
        self.workers_ = list(enc.workers)
        self.classes_ = list(enc.classes)

    def _set_labels(self, probas: np.ndarray) -> None:
        self.probas_ = probas
        self.label_index_ = argmax_ties_low(probas)
        self.labels_ = np.asarray(self.classes_, dtype=object)[self.label_index_]
