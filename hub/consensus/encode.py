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
from typing import TypeGuard

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


Values = Sequence[object] | np.ndarray  # ids or classes, as given or as a numpy column


def _normalise(values: Values, column: str) -> list[str]:
    """Values as strings: numbers written canonically (``1``, ``1.0`` and ``True``-free
    ``np.int64(1)`` all become ``"1"``; ``0.5`` stays ``"0.5"``). ``None``, NaN and
    other types are refused with the column and the value named."""
    out = []
    for v in values:
        if type(v) is str:
            out.append(v)
        elif isinstance(v, bool | np.bool_) or v is None:
            raise ValueError(f"{column}: {v!r} is not an id or class (give strings or numbers)")
        elif isinstance(v, int | np.integer):
            out.append(str(int(v)))
        elif isinstance(v, float | np.floating):
            f = float(v)
            if f != f or f in (float("inf"), float("-inf")):
                raise ValueError(f"{column}: {v!r} is not an id or class")
            out.append(str(int(f)) if f.is_integer() else repr(f))
        else:
            raise ValueError(
                f"{column}: {v!r} ({type(v).__name__}) is not an id or class "
                "(give strings or numbers)"
            )
    return out


def _int_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes and sorted distinct values of an integer array (dense ids: O(n), no sort)."""
    n = values.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64), values[:0]
    lo, hi = int(values.min()), int(values.max())
    if hi - lo <= 4 * n + 1024:
        present = np.zeros(hi - lo + 1, dtype=bool)
        shifted = values - lo
        present[shifted] = True
        remap = np.cumsum(present) - 1
        return remap[shifted].astype(np.int64, copy=False), np.flatnonzero(present) + lo
    distinct, codes = np.unique(values, return_inverse=True)
    return codes.astype(np.int64, copy=False), distinct


#: From this many values on strings are dictionary-encoded by pyarrow (C++), below
#: that a Python dict is as fast and pyarrow is not imported.
_ARROW_FROM = 20_000


def _all_str(values: Values) -> TypeGuard[Sequence[str]]:
    return all(type(v) is str for v in values)


def _factorize_small(
    values: Values, vocabulary: Sequence[str] | None, column: str
) -> tuple[np.ndarray, list]:
    vals = values if _all_str(values) else _normalise(values, column)
    if vocabulary is not None:
        vocab = [str(v) for v in vocabulary]
        if len(set(vocab)) != len(vocab):
            raise ValueError("vocabulary has duplicates")
    else:
        vocab = sorted(set(vals))
    index = {v: i for i, v in enumerate(vocab)}
    try:
        codes = np.fromiter(map(index.__getitem__, vals), dtype=np.int64, count=len(vals))
    except KeyError as exc:
        raise ValueError(f"{column}: value {exc.args[0]!r} is not one of {vocab}") from None
    return codes, vocab


def factorize(
    values: Values,
    vocabulary: Sequence[str] | None = None,
    column: str = "values",
) -> tuple[np.ndarray, list]:
    """Map values to integer codes.

    An integer numpy array (the hub's clip and operator numbers) is encoded as numbers:
    the vocabulary is its sorted distinct values, as Python ints. Anything else is
    compared as strings (numbers normalised, see :func:`_normalise`; ``None`` and NaN
    refused naming ``column``), dictionary-encoded by pyarrow. Without a vocabulary the
    codes index the sorted distinct values; with one they index the vocabulary and
    unknown values raise ``ValueError``.
    """
    if isinstance(values, np.ndarray) and values.dtype.kind in "iu":
        codes, distinct = _int_codes(values)
        if vocabulary is None:
            return codes, distinct.tolist()
        vocab = [str(v) for v in vocabulary]
        index = {v: i for i, v in enumerate(vocab)}
        missing = [d for d in distinct.tolist() if str(d) not in index]
        if missing:
            raise ValueError(f"{column}: value {missing[0]!r} is not one of {vocab}")
        if len(set(vocab)) != len(vocab):
            raise ValueError("vocabulary has duplicates")
        rank = np.array([index[str(d)] for d in distinct.tolist()], dtype=np.int64)
        return rank[codes], vocab
    if len(values) < _ARROW_FROM:
        return _factorize_small(values, vocabulary, column)
    import pyarrow as pa  # here, not at import: the kiosk and small fits never need it

    try:
        arr = pa.array(values, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        arr = pa.array(_normalise(values, column), type=pa.string())
    if arr.null_count:
        bad = values[arr.is_null().to_numpy(zero_copy_only=False).argmax()]
        raise ValueError(f"{column}: {bad!r} is not an id or class")
    encoded = arr.dictionary_encode()
    seen: list[str] = encoded.dictionary.to_pylist()
    if vocabulary is not None:
        vocab = [str(v) for v in vocabulary]
        if len(set(vocab)) != len(vocab):
            raise ValueError("vocabulary has duplicates")
        index = {v: i for i, v in enumerate(vocab)}
        missing = [v for v in seen if v not in index]
        if missing:
            raise ValueError(f"{column}: value {missing[0]!r} is not one of {vocab}")
        rank = np.array([index[v] for v in seen], dtype=np.int64)
    else:
        vocab = sorted(seen)
        rank = np.empty(len(seen), dtype=np.int64)
        rank[np.argsort(np.array(seen, dtype=object), kind="stable")] = np.arange(len(seen))
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    codes = rank[indices] if len(seen) else np.zeros(0, dtype=np.int64)
    return codes.astype(np.int64, copy=False), vocab


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
    task, tasks = factorize(task_ids, column="task_ids")
    worker, workers = factorize(worker_ids, column="worker_ids")
    if classes is None:
        label, seen = factorize(labels, column="labels")
        seen = [str(c) for c in seen]
        order = natural_sort(seen)
        remap = np.array([order.index(c) for c in seen], dtype=np.int64)
        label = remap[label] if n else label
        classes_list = order
    else:
        label, classes_list = factorize(labels, classes, column="labels")
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
    pos: dict[object, int] = {t: i for i, t in enumerate(enc.tasks)}
    for task, answer in gold.items():
        i = pos.get(task)
        if i is None:
            i = pos.get(str(task))
        if i is None:
            continue
        c = cls.get(str(answer))
        if c is None:
            raise ValueError(f"gold answer {answer!r} for task {task!r} is not a class")
        out[i] = c
    return out
