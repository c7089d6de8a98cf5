"""The result every aggregation method returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["ConsensusResult"]


@dataclass
class ConsensusResult:
    """Consensus per task.

    ``tasks[i]`` has consensus ``label[i]`` with ``confidence[i]`` (the posterior of
    that label), the full ``posterior[i]`` over ``classes`` and its raw ``votes[i]``
    (class -> count, classes without votes left out). ``method`` names the
    aggregator; ``model`` is the fitted aggregator (e.g. a ``DawidSkene`` to warm-start
    the next fit from), or None.
    """

    tasks: list[str]
    classes: list[str]
    label: list[str]
    confidence: list[float]
    posterior: np.ndarray
    votes: list[dict[str, int]]
    method: str
    model: Any = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.tasks)

    def as_dict(self, task: str) -> dict[str, Any]:
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
