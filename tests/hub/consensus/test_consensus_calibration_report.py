"""How far to trust the confidence: held-out gold and simulated reliability in the report."""

from __future__ import annotations

import pytest
from consensus_testdata import simulate

from hub.consensus import DawidSkene, quality_report
from hub.consensus.calibration import calibration, held_out_gold, simulated
from hub.consensus.encode import encode, gold_index
from hub.render.quality_report import render_html, render_text


def fit(enc, gold):  # noqa: ANN001, ANN201
    return DawidSkene().fit_encoded(enc, gold).probas_


def crowd(n: int = 400, seed: int = 3):  # noqa: ANN201
    tasks, workers, labels, truth, _, _ = simulate(n, 12, 2, 3, seed)
    gold = {t: truth[t] for t in sorted(truth)[: n // 5]}
    return tasks, workers, labels, truth, gold


def test_calibration_bins_and_ece() -> None:
    cal = calibration([0.95, 0.95, 0.55, 0.55], [True, False, True, True])
    assert cal.n == 4 and [b.n for b in cal.bins][5] == 2
    assert cal.ece == pytest.approx(0.5 * abs(0.5 - 0.95) + 0.5 * abs(1.0 - 0.55))


def test_held_out_gold_never_sees_the_gold_answers() -> None:
    tasks, workers, labels, truth, gold = crowd()
    enc = encode(tasks, workers, labels, ["c0", "c1"])
    right = held_out_gold(enc, gold_index(enc, gold), fit)
    flipped = {t: "c1" if a == "c0" else "c0" for t, a in gold.items()}
    wrong = held_out_gold(enc, gold_index(enc, flipped), fit)
    assert right is not None and wrong is not None
    assert right.n == wrong.n == len(gold)
    # same fit (no gold in it), scored against opposite answers
    for a, b in zip(right.bins, wrong.bins, strict=True):
        assert a.n == b.n and a.confidence == b.confidence
        if a.n:
            assert a.accuracy == pytest.approx(1 - b.accuracy)
    assert right.ece < 0.1
    assert held_out_gold(enc, gold_index(enc, None), fit) is None


def test_simulated_reliability_is_seeded_and_calibrated_on_a_model_crowd() -> None:
    tasks, workers, labels, _, gold = crowd(2000, 5)
    enc = encode(tasks, workers, labels, ["c0", "c1"])
    g = gold_index(enc, gold)
    model = DawidSkene().fit_encoded(enc, g)
    one = simulated(enc, g, model.probas_, model.errors_, fit, seed=1)
    two = simulated(enc, g, model.probas_, model.errors_, fit, seed=1)
    assert one == two and one is not None
    assert one.n == 2000 - len(gold)  # scored on the clips without gold
    assert one.ece < 0.03


def test_report_carries_calibration_and_renders_it() -> None:
    tasks, workers, labels, _, gold = crowd()
    report = quality_report(tasks, workers, labels, ["c0", "c1"], gold)
    cal = report.overall.calibration
    assert cal is not None and cal.held_out_gold is not None and cal.simulated is not None
    assert cal.held_out_gold.n == len(gold) and cal.simulated.n == 400 - len(gold)
    assert cal.held_out_gold.ece is not None and 0 <= cal.held_out_gold.ece <= 1
    text = render_text(report)
    assert "Calibration, held out: gold clips: ECE" in text
    html = render_html(report)
    part = html[html.index("How far to trust the confidence") :]
    assert part.count('aria-label="Held out: gold clips"') == 1
    assert part.index("<svg") < part.index("Confusion")
    mv = quality_report(tasks, workers, labels, ["c0", "c1"], gold, method="mv")
    assert mv.overall.calibration is None
    no_gold = quality_report(tasks, workers, labels, ["c0", "c1"]).overall.calibration
    assert no_gold is not None and no_gold.simulated is not None
    assert no_gold.held_out_gold is None and no_gold.simulated.n == 400
    assert "nothing to measure" in render_html(quality_report(tasks, workers, labels, ["c0", "c1"]))
