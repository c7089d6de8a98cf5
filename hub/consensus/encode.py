"""Long-format labels (task, worker, label) to integer arrays.

Every aggregator works on three parallel integer arrays: ``task``, ``worker`` and
``label`` (one entry per label given), plus the three vocabularies that map the
integers back to ids. Vocabularies are sorted, so the internal order never depends
on the order in which labels arrived; classes sort "naturally" (``"2" < "10"``)
unless the caller gives them explicitly, and the class order is what breaks ties.

Repeated (task, worker) pairs are kept: each row is one observation, as in
crowd-kit. Callers that want one vote per operator per clip dedupe before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Encoded",
    "encode",
    "factorize",
    "gold_index",
    "natural_sort",
    "vote_counts",
]

_DIGITS = re.compile(r"(\d+)")


def _natural_key(value: str) -> tuple[tuple[int, int | str], ...]:
    parts = _DIGITS.split(value)
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts if p != "")


def natural_sort(values: Iterable[str]) -> list[str]:
    """Sort strings with runs of digits compared as numbers (``"2" < "10"``)."""
    return sorted(values, key=_natural_key)


def factorize(
    values: Sequence[object], vocabulary: Sequence[str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """Map values to integer codes (values are compared as strings).

    Without a vocabulary the codes index the sorted distinct values. With one, the
    codes index the vocabulary and unknown values raise ``ValueError``.
    """
    distinct = set(values)
    vals: Sequence[object] = values
    if not all(type(v) is str for v in distinct):  # only the distinct values are checked
        vals = [str(v) for v in values]
        distinct = set(vals)
    if vocabulary is not None:
        vocab = [str(v) for v in vocabulary]
        if len(set(vocab)) != len(vocab):
            raise ValueError("vocabulary has duplicates")
    else:
        vocab = sorted(distinct)  # type: ignore[arg-type]
    index = {v: i for i, v in enumerate(vocab)}
    try:
        codes = np.fromiter(map(index.__getitem__, vals), dtype=np.int64, count=len(vals))
    except KeyError as exc:
        raise ValueError(f"value {exc.args[0]!r} is not one of {vocab}") from None
    return codes, vocab


@dataclass(frozen=True)
class Encoded:
    """Labels as parallel integer arrays plus the vocabularies.

    ``task[i]``, ``worker[i]`` and ``label[i]`` describe label ``i``; ``tasks``,
    ``workers`` and ``classes`` turn the integers back into ids.
    """

    tasks: list[str]
    workers: list[str]
    classes: list[str]
    task: np.ndarray
    worker: np.ndarray
    label: np.ndarray

    @property
    def n_tasks(self) -> int:
        return len(self.tasks)

    @property
    def n_workers(self) -> int:
        return len(self.workers)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def n_labels(self) -> int:
        return int(self.task.shape[0])


def encode(
    task_ids: Sequence[object],
    worker_ids: Sequence[object],
    labels: Sequence[object],
    classes: Sequence[str] | None = None,
) -> Encoded:
    """Encode long-format labels. ``classes`` fixes the class order (ties go to the first)."""
    n = len(task_ids)
    if len(worker_ids) != n or len(labels) != n:
        raise ValueError(
            f"task_ids, worker_ids and labels differ in length ({n}, {len(worker_ids)}, {len(labels)})"
        )
    task, tasks = factorize(task_ids)
    worker, workers = factorize(worker_ids)
    if classes is None:
        label, seen = factorize(labels)
        order = natural_sort(seen)
        remap = np.array([order.index(c) for c in seen], dtype=np.int64)
        label = remap[label] if n else label
        classes_list = order
    else:
        label, classes_list = factorize(labels, classes)
    if not classes_list:
        raise ValueError("no classes: give classes or at least one label")
    return Encoded(tasks, workers, classes_list, task, worker, label)


def vote_counts(enc: Encoded) -> np.ndarray:
    """Votes per task and class, shape ``(n_tasks, n_classes)``."""
    k = enc.n_classes
    flat = np.bincount(enc.task * k + enc.label, minlength=enc.n_tasks * k)
    return flat.reshape(enc.n_tasks, k)


def gold_index(enc: Encoded, gold: Mapping[str, str] | None) -> np.ndarray:
    """Per task the class index of its gold answer, or -1. Gold for unknown tasks is ignored."""
    out = np.full(enc.n_tasks, -1, dtype=np.int64)
    if not gold:
        return out
    cls = {c: i for i, c in enumerate(enc.classes)}
    pos = {t: i for i, t in enumerate(enc.tasks)}
    for task, answer in gold.items():
        i = pos.get(str(task))
        if i is None:
            continue
        c = cls.get(str(answer))
        if c is None:
            raise ValueError(f"gold answer {answer!r} for task {task!r} is not a class")
        out[i] = c
    return out
