"""The result every aggregation method returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

__all__ = ["ConsensusResult"]


@dataclass(eq=False)
class ConsensusResult:
    """Consensus per task, held as columns.

    ``tasks[i]`` has consensus ``classes[label_index[i]]`` with the full ``posterior[i]``
    over ``classes`` and its raw vote ``counts[i]`` (per class). ``method`` names the
    aggregator; ``model`` is the fitted aggregator (e.g. a ``DawidSkene`` to warm-start
    the next fit from), or None. The per-task lists ``label``, ``confidence`` (the
    posterior of the label) and ``votes`` (class -> count, classes without votes left
    out) are built on first use: a caller that only needs the arrays never pays for a
    million small Python objects.
    """

    tasks: list[Any]
    classes: list[str]
    label_index: np.ndarray
    posterior: np.ndarray
    counts: np.ndarray
    method: str
    model: Any = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.tasks)

    @cached_property
    def confidence_array(self) -> np.ndarray:
        """Posterior of the consensus label per task, as a float array."""
        return self.posterior[np.arange(len(self.label_index)), self.label_index]

    @cached_property
    def label(self) -> list[str]:
        return np.asarray(self.classes, dtype=object)[self.label_index].tolist()

    @cached_property
    def confidence(self) -> list[float]:
        return self.confidence_array.astype(float).tolist()

    @cached_property
    def votes(self) -> list[dict[str, int]]:
        classes = self.classes
        return [{classes[j]: c for j, c in enumerate(row) if c} for row in self.counts.tolist()]

    def as_dict(self, task: Any) -> dict[str, Any]:
        """One task's consensus as a JSON-ready dict."""
        i = self.tasks.index(task)
        return self._row(i)

    def rows(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per task (task, label, confidence, posterior, votes)."""
        return [self._row(i) for i in range(len(self.tasks))]

    def _row(self, i: int) -> dict[str, Any]:
        return {
            "task": self.tasks[i],
            "label": self.label[i],
            "confidence": self.confidence[i],
            "posterior": {
                c: float(p) for c, p in zip(self.classes, self.posterior[i], strict=True)
            },
            "votes": dict(self.votes[i]),
        }
