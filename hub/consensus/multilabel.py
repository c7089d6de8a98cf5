"""Multi-choice labels and time segments.

Multi-choice (an operator ticks any number of labels for a clip): every class is a
separate yes/no question, aggregated with majority vote or Dawid–Skene on the
binary answers (an operator who labelled the clip and did not tick a class said
"no" to it). A class is in the consensus when its posterior is above 0.5; ties go
to "no".

Segments (the kiosk's A–B marking): every clip is cut into a time grid (default
0.5 s cells). An operator covers a cell when the cell's centre lies inside one of
their segments. A cell is in the consensus when more than ``threshold`` of the
clip's operators cover it, and consecutive consensus cells are merged back into
segments. Agreement is the intersection over union (IoU) of covered cells:
between every pair of operators on a clip, and of each operator with the
consensus (two empty selections agree: IoU 1). Krippendorff's alpha over all
cells, with cells as units, is reported too.

Segments may carry a class (``(start, end, label)``); each class is then gridded
on its own. Plain ``(start, end)`` segments belong to the class ``""``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .agreement import krippendorff_alpha
from .dawid_skene import DawidSkene
from .encode import encode, factorize, gold_index, natural_sort
from .majority import MajorityVote

__all__ = [
    "MultiLabelResult",
    "SegmentResult",
    "aggregate_multilabel",
    "aggregate_segments",
    "cells_to_segments",
    "iou",
    "segments_to_cells",
]

Segment = tuple[float, float] | tuple[float, float, str]


# --------------------------------------------------------------------------- multi-choice


@dataclass
class MultiLabelResult:
    """Per task the classes in the consensus and P(class present) per class.

    ``probability[i, j]`` is the posterior that ``classes[j]`` applies to
    ``tasks[i]``; ``labels[i]`` lists the classes with probability > 0.5.
    ``alpha[j]`` is Krippendorff's alpha of the yes/no answers for class ``j``.
    """

    tasks: list[str]
    classes: list[str]
    labels: list[list[str]]
    probability: np.ndarray
    alpha: list[float]
    method: str


def aggregate_multilabel(
    task_ids: Sequence[str],
    worker_ids: Sequence[str],
    selections: Sequence[Iterable[str]],
    classes: Sequence[str],
    gold: Mapping[str, Iterable[str]] | None = None,
    method: str = "mv",
) -> MultiLabelResult:
    """Per-class binary consensus for multi-choice labels.

    ``selections[i]`` is the set of classes the operator ticked in annotation ``i``
    (empty: none applies). ``gold`` maps a task to its known set of classes.
    ``method``: ``"mv"`` or ``"ds"``.
    """
    if method not in ("mv", "ds"):
        raise ValueError("method must be 'mv' or 'ds'")
    n = len(task_ids)
    if len(worker_ids) != n or len(selections) != n:
        raise ValueError("task_ids, worker_ids and selections differ in length")
    classes = [str(c) for c in classes]
    class_pos = {c: j for j, c in enumerate(classes)}
    ticked = np.zeros((n, len(classes)), dtype=bool)
    for i, sel in enumerate(selections):
        for c in sel:
            j = class_pos.get(str(c))
            if j is None:
                raise ValueError(f"selection {c!r} is not one of {classes}")
            ticked[i, j] = True
    _, tasks = factorize(task_ids)
    probability = np.zeros((len(tasks), len(classes)))
    alphas: list[float] = []
    for j, c in enumerate(classes):
        answers = np.where(ticked[:, j], "yes", "no").tolist()
        enc = encode(task_ids, worker_ids, answers, ["no", "yes"])
        g = None
        if gold:
            g = {t: ("yes" if c in {str(x) for x in v} else "no") for t, v in gold.items()}
        gidx = gold_index(enc, g)
        model = MajorityVote() if method == "mv" else DawidSkene()
        model.fit_encoded(enc, gidx)
        probability[:, j] = model.probas_[:, 1]
        counts = np.bincount(enc.task * 2 + enc.label, minlength=enc.n_tasks * 2)
        alphas.append(krippendorff_alpha(counts.reshape(-1, 2)))
    present = probability > 0.5
    labels = [[classes[j] for j in np.flatnonzero(row)] for row in present]
    return MultiLabelResult(tasks, classes, labels, probability, alphas, method)


# --------------------------------------------------------------------------- segments


def segments_to_cells(
    segments: Iterable[Sequence[float]], n_cells: int, step: float = 0.5
) -> np.ndarray:
    """Boolean grid of ``n_cells`` cells of ``step`` seconds covered by the segments."""
    centres = (np.arange(n_cells) + 0.5) * step
    out = np.zeros(n_cells, dtype=bool)
    for seg in segments:
        start, end = float(seg[0]), float(seg[1])
        if end < start:
            start, end = end, start
        out |= (centres >= start) & (centres < end)
    return out


def cells_to_segments(cells: np.ndarray, step: float = 0.5) -> list[tuple[float, float]]:
    """Runs of covered cells back to ``(start, end)`` segments in seconds."""
    padded = np.concatenate([[False], np.asarray(cells, dtype=bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [
        (float(a * step), float(b * step)) for a, b in zip(edges[::2], edges[1::2], strict=True)
    ]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two boolean grids (both empty: 1.0)."""
    union = int(np.count_nonzero(a | b))
    if union == 0:
        return 1.0
    return int(np.count_nonzero(a & b)) / union


@dataclass
class SegmentResult:
    """Consensus segments per task and class, with IoU agreement.

    - ``segments[task][cls]``: consensus segments ``[(start, end), ...]``.
    - ``coverage[task][cls]``: share of the task's operators covering each cell.
    - ``pairwise_iou[task][cls]``: mean IoU over pairs of operators (nan if < 2).
    - ``operator_iou[worker]``: mean IoU of that operator with the consensus.
    - ``mean_pairwise_iou``: mean of the pairwise IoUs over tasks and classes.
    - ``alpha``: Krippendorff's alpha with every (task, class, cell) as a unit.
    """

    tasks: list[str]
    classes: list[str]
    step: float
    segments: dict[str, dict[str, list[tuple[float, float]]]]
    coverage: dict[str, dict[str, np.ndarray]] = field(repr=False)
    pairwise_iou: dict[str, dict[str, float]]
    operator_iou: dict[str, float]
    mean_pairwise_iou: float
    alpha: float


def aggregate_segments(
    task_ids: Sequence[str],
    worker_ids: Sequence[str],
    segments: Sequence[Iterable[Segment]],
    durations: Mapping[str, float] | None = None,
    step: float = 0.5,
    threshold: float = 0.5,
) -> SegmentResult:
    """Consensus on a time grid.

    ``segments[i]`` holds annotation ``i``'s segments (``(start, end)`` or
    ``(start, end, label)``, seconds); an annotation with no segments says "nothing
    here". ``durations`` gives clip lengths (default: the last segment end). A cell
    is in the consensus when more than ``threshold`` of the task's operators cover it.
    Several annotations by one operator on one task are merged.
    """
    if step <= 0:
        raise ValueError("step must be > 0")
    n = len(task_ids)
    if len(worker_ids) != n or len(segments) != n:
        raise ValueError("task_ids, worker_ids and segments differ in length")
    # task -> worker -> class -> [(start, end)]
    marks: dict[str, dict[str, dict[str, list[tuple[float, float]]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    class_set: set[str] = set()
    ends: dict[str, float] = defaultdict(float)
    for t, w, segs in zip(task_ids, worker_ids, segments, strict=True):
        per_worker = marks[str(t)][str(w)]
        for seg in segs:
            cls = str(seg[2]) if len(seg) > 2 else ""
            start, end = float(seg[0]), float(seg[1])
            per_worker[cls].append((start, end))
            class_set.add(cls)
            ends[str(t)] = max(ends[str(t)], start, end)
    classes = natural_sort(class_set) or [""]
    tasks = sorted(marks)

    out_segments: dict[str, dict[str, list[tuple[float, float]]]] = {}
    coverage: dict[str, dict[str, np.ndarray]] = {}
    pair_iou: dict[str, dict[str, float]] = {}
    op_scores: dict[str, list[float]] = defaultdict(list)
    pair_values: list[float] = []
    unit_counts: list[np.ndarray] = []
    for t in tasks:
        duration = float(durations[t]) if durations and t in durations else ends[t]
        n_cells = max(1, math.ceil(duration / step - 1e-9))
        workers = sorted(marks[t])
        out_segments[t], coverage[t], pair_iou[t] = {}, {}, {}
        for cls in classes:
            grids = np.stack(
                [segments_to_cells(marks[t][w].get(cls, []), n_cells, step) for w in workers]
            )
            share = grids.mean(axis=0)
            consensus = share > threshold
            coverage[t][cls] = share
            out_segments[t][cls] = cells_to_segments(consensus, step)
            for w, g in zip(workers, grids, strict=True):
                op_scores[w].append(iou(g, consensus))
            if len(workers) >= 2:
                values = [
                    iou(grids[a], grids[b])
                    for a in range(len(workers))
                    for b in range(a + 1, len(workers))
                ]
                pair_iou[t][cls] = float(np.mean(values))
                pair_values.append(pair_iou[t][cls])
            else:
                pair_iou[t][cls] = float("nan")
            yes = grids.sum(axis=0)
            unit_counts.append(np.stack([yes, len(workers) - yes], axis=1))
    alpha = krippendorff_alpha(np.concatenate(unit_counts)) if unit_counts else float("nan")
    return SegmentResult(
        tasks=tasks,
        classes=classes,
        step=step,
        segments=out_segments,
        coverage=coverage,
        pairwise_iou=pair_iou,
        operator_iou={w: float(np.mean(v)) for w, v in sorted(op_scores.items())},
        mean_pairwise_iou=float(np.mean(pair_values)) if pair_values else float("nan"),
        alpha=alpha,
    )
