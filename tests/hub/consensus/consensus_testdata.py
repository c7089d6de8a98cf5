"""Test helpers for the consensus tests: the truth-inference data sets and simulated crowds.

Not a test module (no ``test_`` prefix). The real data is read in place from
``/work/shared/data/truth-inference`` (or ``$STRAAT_TRUTH_INFERENCE``); it is never
copied into the project.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA_ROOT = Path(os.environ.get("STRAAT_TRUTH_INFERENCE", "/work/shared/data/truth-inference"))

DATASETS = (
    "d_jn-product",
    "d_sentiment",
    "s4_Dog_data",
    "s4_Face_Sentiment_Identification",
    "s4_Relevance",
    "s5_AdultContent",
)


@dataclass
class CrowdData:
    name: str
    tasks: list[str]
    workers: list[str]
    labels: list[str]
    truth: dict[str, str]  # only items that have at least one answer


def _rows(path: Path) -> list[list[str]]:
    # newline="" lets csv handle CRLF; strip defensively anyway.
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)  # headers differ per set (question/id, worker, answer; question/q, truth)
        return [[c.strip() for c in row] for row in reader if row]


def load(name: str) -> CrowdData:
    folder = DATA_ROOT / name
    answers = _rows(folder / "answer.csv")
    tasks = [r[0] for r in answers]
    workers = [r[1] for r in answers]
    labels = [r[2] for r in answers]
    present = set(tasks)
    truth = {r[0]: r[1] for r in _rows(folder / "truth.csv") if r[0] in present}
    return CrowdData(name, tasks, workers, labels, truth)


def accuracy(tasks: list[str], predicted: list[str], truth: dict[str, str]) -> float:
    pred = dict(zip(tasks, predicted, strict=True))
    hits = [pred[t] == v for t, v in truth.items() if t in pred]
    return float(np.mean(hits))


def simulate(
    n_tasks: int,
    n_workers: int,
    n_classes: int,
    per_task: int,
    seed: int,
    accuracy_range: tuple[float, float] = (0.55, 0.95),
) -> tuple[list[str], list[str], list[str], dict[str, str], np.ndarray, np.ndarray]:
    """A seeded crowd with per-worker confusion matrices.

    Returns task ids, worker ids, labels (long format), the truth, the true confusion
    matrices (workers x observed x true) and the true class of every task.
    """
    rng = np.random.default_rng(seed)
    k = n_classes
    acc = rng.uniform(*accuracy_range, size=n_workers)
    conf = np.empty((n_workers, k, k))
    for w in range(n_workers):
        for t in range(k):
            off = rng.dirichlet(np.ones(k - 1)) * (1 - acc[w])
            col = np.insert(off, t, acc[w])
            conf[w, :, t] = col
    prior = rng.dirichlet(np.full(k, 5.0))
    truth_idx = rng.choice(k, size=n_tasks, p=prior)
    task_idx = np.repeat(np.arange(n_tasks), per_task)
    worker_idx = np.concatenate(
        [rng.choice(n_workers, size=per_task, replace=False) for _ in range(n_tasks)]
    )
    cum = conf[worker_idx, :, truth_idx[task_idx]].cumsum(axis=1)
    u = rng.random(len(task_idx))[:, None]
    label_idx = np.minimum((u > cum).sum(axis=1), k - 1)
    tasks = [f"t{i}" for i in task_idx]
    workers = [f"w{i}" for i in worker_idx]
    labels = [f"c{i}" for i in label_idx]
    truth = {f"t{i}": f"c{c}" for i, c in enumerate(truth_idx)}
    return tasks, workers, labels, truth, conf, truth_idx
