"""Multi-choice and segment consensus."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hub.consensus.multilabel import (
    aggregate_multilabel,
    aggregate_segments,
    cells_to_segments,
    iou,
    segments_to_cells,
)

TYPES = ["abuse", "car accident", "explosion", "fighting", "riot", "shooting"]


def test_multichoice_per_label_majority() -> None:
    tasks = ["c1", "c1", "c1", "c2", "c2", "c2"]
    workers = ["a", "b", "c", "a", "b", "c"]
    selections = [
        {"fighting", "riot"},
        {"fighting"},
        {"fighting", "shooting"},
        set(),
        [],
        ["riot"],
    ]
    res = aggregate_multilabel(tasks, workers, selections, TYPES)
    assert res.tasks == ["c1", "c2"]
    assert res.labels == [["fighting"], []]
    j = TYPES.index
    assert res.probability[0, j("fighting")] == 1.0
    assert res.probability[0, j("riot")] == pytest.approx(1 / 3)
    assert res.probability[1, j("riot")] == pytest.approx(1 / 3)
    assert len(res.alpha) == len(TYPES)
    assert math.isnan(res.alpha[j("abuse")])  # nobody ever ticked it: no variation


def test_multichoice_tie_is_no_and_gold_and_ds() -> None:
    res = aggregate_multilabel(["c", "c"], ["a", "b"], [{"riot"}, set()], TYPES)
    assert res.labels == [[]]
    res = aggregate_multilabel(
        ["c", "c"], ["a", "b"], [{"riot"}, set()], TYPES, gold={"c": ["riot", "fighting"]}
    )
    assert res.labels == [["fighting", "riot"]]
    rng = np.random.default_rng(1)
    tasks, workers, selections = [], [], []
    for i in range(60):
        present = {t for t in TYPES if rng.random() < 0.3}
        for w in range(4):
            tasks.append(f"c{i}"), workers.append(f"w{w}")
            selections.append({t for t in TYPES if (t in present) != (rng.random() < 0.1)})
    ds = aggregate_multilabel(tasks, workers, selections, TYPES, method="ds")
    assert ds.method == "ds" and ds.probability.shape == (60, 6)
    with pytest.raises(ValueError, match="not one of"):
        aggregate_multilabel(["c"], ["a"], [{"dancing"}], TYPES)
    with pytest.raises(ValueError):
        aggregate_multilabel(["c"], ["a"], [set()], TYPES, method="glad")


def test_grid_roundtrip_and_iou() -> None:
    cells = segments_to_cells([(1.0, 2.5)], n_cells=20, step=0.5)
    assert np.flatnonzero(cells).tolist() == [2, 3, 4]
    assert cells_to_segments(cells, 0.5) == [(1.0, 2.5)]
    assert cells_to_segments(segments_to_cells([(0, 1), (3, 4)], 8), 0.5) == [
        (0.0, 1.0),
        (3.0, 4.0),
    ]
    assert segments_to_cells([(2.5, 1.0)], 20).sum() == 3  # reversed A-B marks still count
    empty = np.zeros(5, dtype=bool)
    assert iou(empty, empty) == 1.0
    assert iou(empty, ~empty) == 0.0


def test_segment_consensus_and_agreement() -> None:
    res = aggregate_segments(
        ["v", "v", "v"],
        ["a", "b", "c"],
        [[(0.0, 2.0)], [(0.5, 2.5)], [(3.0, 4.0)]],
        durations={"v": 4.0},
    )
    assert res.classes == [""]
    assert res.segments["v"][""] == [(0.5, 2.0)]
    assert res.coverage["v"][""].tolist() == pytest.approx(
        [1 / 3, 2 / 3, 2 / 3, 2 / 3, 1 / 3, 0, 1 / 3, 1 / 3]
    )
    # a-b: 3 shared cells of 5 -> 0.6; a-c and b-c: 0
    assert res.pairwise_iou["v"][""] == pytest.approx(0.2)
    assert res.operator_iou["a"] == pytest.approx(3 / 4)
    assert res.operator_iou["c"] == 0.0
    assert -1.0 <= res.alpha <= 1.0


def test_labelled_segments_and_empty_annotations() -> None:
    res = aggregate_segments(
        ["v", "v", "w", "w"],
        ["a", "b", "a", "b"],
        [
            [(0.0, 1.0, "fighting"), (2.0, 3.0, "riot")],
            [(0.0, 1.0, "fighting")],
            [],
            [],
        ],
        durations={"v": 3.0, "w": 2.0},
        step=0.5,
    )
    assert res.classes == ["fighting", "riot"]
    assert res.segments["v"]["fighting"] == [(0.0, 1.0)]
    assert res.segments["v"]["riot"] == []  # one of two operators: not more than half
    assert res.segments["w"] == {"fighting": [], "riot": []}
    assert res.pairwise_iou["w"]["fighting"] == 1.0  # both saw nothing
    assert res.pairwise_iou["v"]["riot"] == 0.0
    single = aggregate_segments(["x"], ["a"], [[(0.0, 1.0)]])
    assert math.isnan(single.pairwise_iou["x"][""])
    with pytest.raises(ValueError):
        aggregate_segments(["x"], ["a"], [[]], step=0.0)
