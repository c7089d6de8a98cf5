"""Consensus per clip for the export.

Single choice: `hub.consensus.aggregate` (Dawid–Skene by default) when that package is
importable, else a majority vote of our own (ties to the first label of the schema).
Multi choice and segments: per label, the share of operators who chose it; a label is
in the consensus when at least half chose it. Gold clips take their gold answer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .prepare import Prepared, vote_counts
from .source import ExportData

log = logging.getLogger(__name__)


@dataclass
class ClipConsensus:
    classes: list[str]
    counts: np.ndarray  # (n_clips, n_classes) votes per label value
    n_votes: np.ndarray  # (n_clips,) labels per clip
    posterior: np.ndarray  # (n_clips, n_classes); NaN rows where nothing is known
    label: list[str | None]  # the most likely value
    labels: list[list[str]]  # the consensus value(s)
    confidence: np.ndarray  # (n_clips,); NaN where nothing is known
    method: str


def aggregate_single(
    tasks: Sequence[str],
    workers: Sequence[str],
    labels: Sequence[str],
    classes: list[str],
    gold: dict[str, str],
    method: str,
) -> tuple[list[str], np.ndarray, str] | None:
    """(tasks, posterior aligned with `classes`, method) from `hub.consensus`; None when
    that package is not there or fails (the caller then takes its own majority vote)."""
    try:
        from hub.consensus import aggregate
    except ImportError:
        return None
    if not tasks:
        return [], np.zeros((0, len(classes))), method
    try:
        result = aggregate(list(tasks), list(workers), list(labels), classes, gold or None, method)
    except Exception:  # a dataset is still wanted: say so in the log, take the majority
        log.exception("consensus %r failed; the export falls back to majority vote", method)
        return None
    posterior = np.asarray(result.posterior, dtype=np.float64)
    if list(result.classes) != classes:
        aligned = np.zeros((posterior.shape[0], len(classes)))
        where = {c: j for j, c in enumerate(classes)}
        for i, c in enumerate(result.classes):
            aligned[:, where[c]] = posterior[:, i]
        posterior = aligned
    return list(result.tasks), posterior, str(result.method)


def _argmax_low(rows: np.ndarray) -> np.ndarray:
    if rows.shape[0] == 0 or rows.shape[1] == 0:
        return np.zeros(rows.shape[0], dtype=np.int64)
    top = np.nanmax(rows, axis=1, keepdims=True)
    return np.argmax(rows >= top - 1e-9, axis=1)


def _single(
    data: ExportData, prep: Prepared, counts: np.ndarray, method: str
) -> tuple[np.ndarray, str]:
    n, k = counts.shape
    posterior = np.full((n, k), np.nan)
    position = {c: j for j, c in enumerate(prep.classes)}
    gold: dict[str, str] = {}
    for sha, values in zip(data.clips["sha256"], prep.gold, strict=True):
        if len(values) == 1 and values[0] in position:
            gold[sha] = values[0]

    one_value = np.array([len(vs) == 1 for vs in prep.value_sets], dtype=bool)
    first = np.array([vs[0] if len(vs) == 1 else "" for vs in prep.value_sets], dtype=object)
    rows = np.flatnonzero((prep.label_clip >= 0) & one_value[prep.value_codes]) if k else []
    sha = np.asarray(data.clips["sha256"], dtype=object)
    operator = data.labels["operator"]
    got = aggregate_single(
        sha[prep.label_clip[rows]].tolist() if len(rows) else [],
        operator.take(pa.array(rows, pa.int64())).to_pylist() if len(rows) else [],
        first[prep.value_codes[rows]].tolist() if len(rows) else [],
        prep.classes,
        gold,
        method,
    )
    if got is None:
        totals = counts.sum(axis=1, keepdims=True)
        has = totals[:, 0] > 0
        posterior[has] = counts[has] / totals[has]
        used = "mv"
    else:
        tasks, post, used = got
        if tasks:
            idx = np.fromiter((prep.clip_index[t] for t in tasks), dtype=np.int64, count=len(tasks))
            posterior[idx] = post
    for clip, answer in gold.items():
        row = prep.clip_index[clip]
        posterior[row] = 0.0
        posterior[row, position[answer]] = 1.0
    return posterior, used


def clip_consensus(data: ExportData, prep: Prepared, method: str = "ds") -> ClipConsensus:
    n = data.n_clips
    counts, n_votes = vote_counts(prep, n)
    k = len(prep.classes)
    multi = data.project.kind != "single"
    if multi:
        posterior = np.full((n, k), np.nan)
        has = n_votes > 0
        posterior[has] = counts[has] / n_votes[has, None]
        position = {c: j for j, c in enumerate(prep.classes)}
        for row, answer in enumerate(prep.gold):
            values = [v for v in answer if v in position]
            if values:
                posterior[row] = 0.0
                posterior[row, [position[v] for v in values]] = 1.0
        used = "share"
    else:
        posterior, used = _single(data, prep, counts, method)

    known = ~np.isnan(posterior).any(axis=1) if k else np.zeros(n, dtype=bool)
    best = _argmax_low(np.where(known[:, None], posterior, -1.0))
    classes = np.asarray(prep.classes, dtype=object)
    label: list[str | None] = [None] * n
    labels: list[list[str]] = [[] for _ in range(n)]
    confidence = np.full(n, np.nan)
    for row in np.flatnonzero(known).tolist():
        p = posterior[row]
        if multi:
            chosen = classes[p >= 0.5].tolist()
            labels[row] = chosen
            label[row] = str(classes[best[row]]) if p.max() > 0 else None
            confidence[row] = float(np.maximum(p, 1.0 - p).min())
        else:
            label[row] = str(classes[best[row]])
            labels[row] = [label[row]]
            confidence[row] = float(p[best[row]])
    return ClipConsensus(
        classes=list(prep.classes),
        counts=counts,
        n_votes=n_votes,
        posterior=posterior,
        label=label,
        labels=labels,
        confidence=confidence,
        method=used,
    )
