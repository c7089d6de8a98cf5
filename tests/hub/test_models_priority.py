"""The order of work by the model: hand-made cases for every mode, and the stored
priority that reproduces it in SQL."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from hub.models.importer import import_predictions
from hub.models.priority import (
    ClipInput,
    PriorityConfig,
    disagreement,
    prioritise,
    priority_config,
    uncertainty,
)
from hub.models.runtime import priority_config_from_store, refresh_priorities
from hub.store import predictions as sql

from .conftest import close_after_test
from .test_models_import import HEADER, N, V, clip_sha, csv_text, models_store

AB = ["a", "b"]


def order(clips: list[ClipInput], classes: list[str], **config: str) -> list[str]:
    return [p.clip_id for p in prioritise(clips, classes, PriorityConfig(**config))]


BINARY = [
    ClipInput("c1", {"a": 0.5, "b": 0.5}),  # entropy 1.0
    ClipInput("c2", {"a": 0.9, "b": 0.1}, consensus={"b": 0.95, "a": 0.05}),  # 0.469
    ClipInput("c3", {"a": 0.6, "b": 0.4}, consensus={"a": 0.9, "b": 0.1}),  # 0.971
    ClipInput("c4"),  # no prediction
    ClipInput("c5", {"a": 0.99}),  # b gets the rest: entropy 0.081
]


def test_measures_by_hand() -> None:
    assert uncertainty(np.array([0.5, 0.5])) == pytest.approx(1.0)
    assert uncertainty(np.array([0.9, 0.1])) == pytest.approx(
        -(0.9 * math.log(0.9) + 0.1 * math.log(0.1)) / math.log(2)
    )
    assert uncertainty(np.array([1.0, 0.0, 0.0])) == 0.0
    p = np.array([0.5, 0.5, 0.0])
    assert uncertainty(p, "margin") == pytest.approx(1.0)
    assert uncertainty(p, "entropy") == pytest.approx(math.log(2) / math.log(3))
    assert uncertainty(np.array([0.4, 0.3, 0.3]), "least_confidence") == pytest.approx(0.9)
    assert disagreement(np.array([0.9, 0.1]), np.array([0.05, 0.95])) == pytest.approx(0.86)
    assert uncertainty(np.array([0.5, 0.9]), "entropy", multi=True) == pytest.approx(
        (1.0 + -(0.9 * math.log2(0.9) + 0.1 * math.log2(0.1))) / 2
    )


def test_uncertainty_first() -> None:
    # entropy: c1 1.0 > c3 0.971 > c2 0.469 > c5 0.081; no prediction last
    assert order(BINARY, AB, mode="uncertainty") == ["c1", "c3", "c2", "c5", "c4"]
    assert order(BINARY, AB, mode="uncertainty", unscored="first") == [
        "c4",
        "c1",
        "c3",
        "c2",
        "c5",
    ]
    result = prioritise(BINARY, AB, PriorityConfig(mode="uncertainty"))
    assert [p.rank for p in result] == [0, 1, 2, 3, 4]
    assert [p.priority for p in result] == [1.0, 0.8, 0.6, 0.4, 0.2]
    assert result[0].score == pytest.approx(1.0) and result[-1].score is None


def test_margin_and_entropy_differ_on_three_classes() -> None:
    clips = [
        ClipInput("two-way", {"a": 0.5, "b": 0.5, "c": 0.0}),  # margin 1.0, entropy 0.63
        ClipInput("three-way", {"a": 0.4, "b": 0.3, "c": 0.3}),  # margin 0.9, entropy 0.99
        ClipInput("sure", {"a": 0.98, "b": 0.01, "c": 0.01}),
    ]
    abc = ["a", "b", "c"]
    assert order(clips, abc, mode="uncertainty", measure="entropy") == [
        "three-way",
        "two-way",
        "sure",
    ]
    assert order(clips, abc, mode="uncertainty", measure="margin") == [
        "two-way",
        "three-way",
        "sure",
    ]


def test_disagreement_with_consensus() -> None:
    # c2: model a 0.9, people b 0.95 → 0.86; c1 and c5 have no labels (uniform: 0.5, the
    # more uncertain first); c3: model a 0.6, people a 0.9 → 0.42; c4 unscored last
    assert order(BINARY, AB, mode="disagreement") == ["c2", "c1", "c5", "c3", "c4"]
    scores = {p.clip_id: p.score for p in prioritise(BINARY, AB, PriorityConfig("disagreement"))}
    assert scores["c2"] == pytest.approx(0.86) and scores["c3"] == pytest.approx(0.42)


def test_stratified_brings_rare_predicted_labels_forward() -> None:
    clips = [
        ClipInput("a-sure", {"a": 0.95, "b": 0.03, "c": 0.02}),
        ClipInput("a-unsure", {"a": 0.5, "b": 0.3, "c": 0.2}),
        ClipInput("a-mid", {"a": 0.8, "b": 0.1, "c": 0.1}),
        ClipInput("a-mid2", {"a": 0.7, "b": 0.2, "c": 0.1}),
        ClipInput("b-sure", {"a": 0.05, "b": 0.9, "c": 0.05}),
        ClipInput("b-unsure", {"a": 0.3, "b": 0.5, "c": 0.2}),
        ClipInput("c-only", {"a": 0.1, "b": 0.1, "c": 0.8}),
    ]
    result = prioritise(clips, ["a", "b", "c"], PriorityConfig(mode="stratified"))
    assert [p.clip_id for p in result] == [
        "c-only",  # the rarest predicted label first
        "b-unsure",
        "a-unsure",
        "b-sure",
        "a-mid2",
        "a-mid",
        "a-sure",
    ]
    assert [p.stratum for p in result][:3] == ["c", "b", "a"]
    # uncertainty alone would show no c clip in the first three
    assert "c-only" not in order(clips, ["a", "b", "c"], mode="uncertainty")[:3]


def test_none_keeps_the_hubs_order_and_bad_settings_are_refused() -> None:
    result = prioritise(BINARY, AB, PriorityConfig())
    assert [p.clip_id for p in result] == ["c1", "c2", "c3", "c4", "c5"]
    assert {p.priority for p in result} == {0.0}
    with pytest.raises(ValueError, match="priority mode must be one of"):
        PriorityConfig(mode="loudest")
    with pytest.raises(ValueError, match="measure"):
        priority_config({"mode": "uncertainty", "measure": "vibes"})
    assert priority_config(None) == PriorityConfig()


def test_multi_choice_uncertainty() -> None:
    clips = [
        ClipInput("sure", {"riot": 0.99, "fighting": 0.01}),
        ClipInput("unsure", {"riot": 0.5, "fighting": 0.6}),
        ClipInput("half", {"riot": 0.9}),
    ]
    got = [
        p.clip_id
        for p in prioritise(clips, ["riot", "fighting"], PriorityConfig("uncertainty"), "multi")
    ]
    assert got == ["unsure", "half", "sure"]


def test_stored_priority_reproduces_the_order_in_sql(tmp_path: Path) -> None:
    store = close_after_test(
        models_store(
            tmp_path, sources=2, per_source=4, extra_toml='\n[priority]\nmode = "uncertainty"\n'
        )
    )
    store.set_gold(clip_sha(1, 3), V)
    scores = {  # clip → P(violent)
        clip_sha(0, 0): 0.97,
        clip_sha(0, 1): 0.55,
        clip_sha(0, 2): 0.2,
        clip_sha(1, 0): 0.49,
        clip_sha(1, 1): 0.75,
        clip_sha(1, 3): 0.5,  # gold: never ordered
    }
    rows = [[clip, None, None, None, None, p, 1 - p] for clip, p in scores.items()]
    import_predictions(store, csv_text(rows, HEADER), "m", fmt="csv")
    assert priority_config_from_store(store) == PriorityConfig(mode="uncertainty")
    outcome = refresh_priorities(store)
    assert (outcome.mode, outcome.model, outcome.clips, outcome.scored) == (
        "uncertainty",
        "m",
        7,
        5,
    )
    got = [
        r[0]
        for r in store.conn.execute(
            "SELECT sha256 FROM clips WHERE gold IS NULL ORDER BY priority DESC, seq"
        )
    ]
    assert got == [
        clip_sha(1, 0),  # 0.49
        clip_sha(0, 1),  # 0.55
        clip_sha(1, 1),  # 0.8
        clip_sha(0, 2),  # 0.2
        clip_sha(0, 0),  # 0.97
        clip_sha(0, 3),  # no prediction: last, in clip order
        clip_sha(1, 2),
    ]
    assert sql.priorities(store)[clip_sha(1, 3)] == 0.0
    # mode none puts every clip back to 0 (the hub's own order)
    refresh_priorities(store, PriorityConfig())
    assert set(sql.priorities(store).values()) == {0.0}
    store.close()


def test_disagreement_uses_the_hubs_running_consensus(tmp_path: Path) -> None:
    store = models_store(tmp_path, sources=1, per_source=3)
    rows = [[clip_sha(0, c), None, None, None, None, 0.9, 0.1] for c in range(3)]
    import_predictions(store, csv_text(rows, HEADER), "m", fmt="csv")
    # people so far: clip 1 clearly not violent, clip 2 clearly violent, clip 0 no labels
    store.conn.execute(
        "UPDATE clips SET n_labels = 2, consensus = ?, confidence = 0.95 WHERE sha256 = ?",
        (N, clip_sha(0, 1)),
    )
    store.conn.execute(
        "UPDATE clips SET n_labels = 2, consensus = ?, confidence = 0.95 WHERE sha256 = ?",
        (V, clip_sha(0, 2)),
    )
    refresh_priorities(store, PriorityConfig(mode="disagreement"))
    got = [r[0] for r in store.conn.execute("SELECT sha256 FROM clips ORDER BY priority DESC, seq")]
    assert got == [clip_sha(0, 1), clip_sha(0, 0), clip_sha(0, 2)]
    store.close()
