"""Counts and agreement figures for the dataset card and the snapshot manifest."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow.compute as pc

from ..consensus.agreement import krippendorff_alpha, pairwise_agreement
from .prepare import Prepared
from .source import ExportData
from .splits import SPLITS
from .votes import ClipConsensus


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None or math.isnan(x) else round(float(x), digits)


def _gold_accuracy(prep: Prepared) -> tuple[int, float | None]:
    """Labels on gold clips whose value set is exactly the gold answer."""
    gold = {i: frozenset(g) for i, g in enumerate(prep.gold) if g}
    if not gold:
        return 0, None
    is_gold = np.zeros(len(prep.gold) + 1, dtype=bool)  # the extra last entry: unknown clip
    is_gold[list(gold)] = True
    rows = np.flatnonzero(is_gold[prep.label_clip])
    sets = [frozenset(v) for v in prep.value_sets]
    clips, codes = prep.label_clip[rows].tolist(), prep.value_codes[rows].tolist()
    hits = sum(sets[v] == gold[c] for c, v in zip(clips, codes, strict=True))
    return len(rows), (hits / len(rows) if len(rows) else None)


def compute_stats(data: ExportData, prep: Prepared, cons: ClipConsensus) -> dict[str, Any]:
    splits = np.asarray(prep.splits, dtype=object)
    n_votes = cons.n_votes
    labelled = n_votes > 0
    known = prep.label_clip >= 0
    label_split = splits[prep.label_clip[known]] if known.any() else np.zeros(0, dtype=object)
    per_split = {}
    for name in SPLITS:
        rows = splits == name
        per_split[name] = {
            "clips": int(rows.sum()),
            "labelled_clips": int((rows & labelled).sum()),
            "sources": len({s for s, r in zip(prep.source_ids, rows.tolist(), strict=True) if r}),
            "annotations": int((label_split == name).sum()),
        }
    per_label = {}
    single = data.project.kind == "single"
    for j, value in enumerate(cons.classes):
        # per label: the labels that chose it against those that did not (multi-choice too)
        binary = np.stack([cons.counts[:, j], n_votes - cons.counts[:, j]], axis=1)
        per_label[value] = {
            "consensus_clips": sum(1 for x in cons.labels if value in x),
            "votes": int(cons.counts[:, j].sum()),
            "krippendorff_alpha": _round(krippendorff_alpha(binary)),
        }
    gold_labels, gold_acc = _gold_accuracy(prep)
    confidence = cons.confidence[~np.isnan(cons.confidence)]
    return {
        "clips": data.n_clips,
        "labelled_clips": int(labelled.sum()),
        "annotations": int(known.sum()),
        "operators": pc.count_distinct(data.labels["operator"]).as_py(),
        "kiosks": pc.count_distinct(data.labels["kiosk"]).as_py(),
        "sources": len(set(prep.source_ids)),
        "gold_clips": sum(1 for g in prep.gold if g),
        "votes_per_clip": {
            "mean": _round(float(n_votes[labelled].mean())) if labelled.any() else None,
            "min": int(n_votes[labelled].min()) if labelled.any() else None,
            "max": int(n_votes[labelled].max()) if labelled.any() else None,
        },
        "splits": per_split,
        "labels": per_label,
        "agreement": {
            "krippendorff_alpha": _round(krippendorff_alpha(cons.counts)) if single else None,
            "pairwise_agreement": _round(pairwise_agreement(cons.counts)) if single else None,
            "mean_confidence": _round(float(confidence.mean())) if confidence.size else None,
            "gold_labels": gold_labels,
            "gold_accuracy": _round(gold_acc),
        },
        "consensus_method": cons.method,
    }
