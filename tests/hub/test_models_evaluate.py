"""Model evaluation: a hand-made case with known precision / recall / F1, calibration
and confusion; the report against consensus and gold with its learning curve; text and
a self-contained HTML page; the same over a real store."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hub.models.evaluate import calibration, evaluate, model_report
from hub.models.importer import import_predictions
from hub.models.runtime import evaluation
from hub.render.model_report import STYLE, STYLE_CSP, render_html, render_text
from protocol.pins import hash_pin
from tests.labelling import add_label

from .conftest import close_after_test
from .test_models_import import HEADER, N, V, clip_sha, csv_text, models_store

ABC = ["a", "b", "c"]
REF = dict(zip([f"k{i}" for i in range(10)], "aaaabbbccc", strict=True))
PRED = dict(zip([f"k{i}" for i in range(10)], "aaabbbacca", strict=True))


def test_precision_recall_f1_by_hand() -> None:
    ev = evaluate(PRED, {**REF, "unpredicted": "a"}, ABC)
    assert ev["n"] == 10 and ev["correct"] == 7 and ev["accuracy"] == pytest.approx(0.7)
    assert ev["missing"] == 1
    assert ev["confusion"] == {"labels": ABC, "matrix": [[3, 1, 0], [1, 2, 0], [1, 0, 2]]}
    a, b, c = (ev["per_label"][x] for x in ABC)
    assert (a["precision"], a["recall"]) == (pytest.approx(3 / 5), pytest.approx(3 / 4))
    assert a["f1"] == pytest.approx(2 / 3)
    assert (b["precision"], b["recall"], b["f1"]) == (
        pytest.approx(2 / 3),
        pytest.approx(2 / 3),
        pytest.approx(2 / 3),
    )
    assert (c["precision"], c["recall"]) == (1.0, pytest.approx(2 / 3))
    assert c["f1"] == pytest.approx(0.8)
    assert (a["support"], a["predicted"]) == (4, 5)
    assert ev["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 0.8) / 3)


def test_undefined_precision_and_unknown_labels() -> None:
    ev = evaluate({"x": "a", "y": "a"}, {"x": "a", "y": "z"}, ["a", "b"])
    assert ev["confusion"]["labels"] == ["a", "b", "z"]  # a label outside the project kept
    assert ev["per_label"]["b"] == {
        "precision": None,
        "recall": None,
        "f1": None,
        "support": 0,
        "predicted": 0,
    }
    assert ev["per_label"]["z"]["recall"] == 0.0 and ev["per_label"]["z"]["precision"] is None
    assert ev["macro_f1"] == pytest.approx((2 / 3 + 0.0) / 2)  # labels with support only
    assert evaluate({}, {}, ABC)["accuracy"] is None


def test_calibration_bins_by_hand() -> None:
    # 7 right at 0.9, 3 wrong at 0.6: ECE = 0.7 * |1 - 0.9| + 0.3 * |0 - 0.6| = 0.25
    conf = [0.9] * 7 + [0.6] * 3
    hit = [True] * 7 + [False] * 3
    cal = calibration(conf, hit, bins=10)
    assert cal.ece == pytest.approx(0.25)
    assert cal.brier == pytest.approx((7 * 0.01 + 3 * 0.36) / 10)
    by_bin = {b.lo: b for b in cal.bins if b.n}
    assert set(by_bin) == {0.6, 0.9}
    assert (by_bin[0.9].n, by_bin[0.9].accuracy) == (7, 1.0)
    assert (by_bin[0.6].n, by_bin[0.6].accuracy) == (3, 0.0)
    assert calibration([1.0], [True]).bins[-1].n == 1  # 1.0 falls in the last bin


def _report() -> dict:
    v1 = {k: (p, {p: 0.6}) for k, p in PRED.items()}
    v2 = {k: (r, {r: 0.9}) for k, r in REF.items()}  # the second version is right everywhere
    consensus = {k: (r, 0.95) for k, r in REF.items()}
    consensus["k0"] = ("a", 0.5)  # not confident: left out
    consensus["g1"] = ("b", 1.0)  # gold: left out of the consensus comparison
    gold = {"g1": "b", "k3": "a"}
    v1["g1"] = ("a", {"a": 0.7})
    return model_report(
        "m", {1: v1, 2: v2}, consensus, gold, ABC, threshold=0.9, version=1, created={1: 1.0}
    )


def test_report_against_consensus_and_gold_with_learning_curve() -> None:
    report = _report()
    assert report["version"] == 1 and report["versions"] == [1, 2]
    assert (report["consensus_clips"], report["confident_clips"], report["gold_clips"]) == (
        9,  # 10 clips with a consensus + g1, less the two gold clips
        8,
        2,
    )
    cons = report["against_consensus"]
    assert cons["n"] == 8 and cons["correct"] == 6  # k0 (not confident), k3 (gold) left out
    assert cons["calibration"]["n"] == 8
    gold = report["against_gold"]
    assert (gold["n"], gold["correct"]) == (2, 0)  # k3: b for a; g1: a for b
    curve = report["learning_curve"]
    assert [p["version"] for p in curve] == [1, 2]
    assert curve[0]["consensus"]["accuracy"] == pytest.approx(6 / 8)
    assert curve[1]["consensus"]["accuracy"] == 1.0
    assert curve[1]["gold"] == {"n": 1, "accuracy": 1.0, "macro_f1": 1.0}
    assert curve[0]["created_at"] == 1.0 and curve[1]["created_at"] is None
    with pytest.raises(ValueError, match="no version 7"):
        model_report("m", {1: {}}, {}, {}, ABC, version=7)


def test_text_and_self_contained_html() -> None:
    report = _report()
    text = render_text(report)
    assert "against confident consensus: 8 clips, accuracy 75.0%" in text
    assert "v2: 100.0%" in text
    page = render_html(report)
    assert page.startswith("<!doctype html>") and page.count("<svg") == 5
    assert "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    assert not re.search(r"(src|href)=", page)  # nothing fetched
    assert " style=" not in page  # colours as SVG attributes: the CSP allows one <style>
    assert f"<style>{STYLE}</style>" in page and STYLE_CSP.startswith("'sha256-")
    assert "reliability diagram" in page and "confusion matrix" in page


def test_html_escapes_labels() -> None:
    report = model_report(
        "<m>", {1: {"x": ("<b>", {})}}, {"x": ("<b>", 1.0)}, {}, ["<b>"], threshold=0.5
    )
    page = render_html(report)
    assert "<b>" not in page.split("<body>", 1)[1] and "&lt;b&gt;" in page


def test_evaluation_from_the_hub_store(tmp_path: Path) -> None:
    store = close_after_test(models_store(tmp_path, sources=2, per_source=4))
    store.set_gold(clip_sha(1, 3), N)
    for i in range(1, 4):
        store.add_operator(f"op{i}", f"Op {i}", hash_pin("1234", n=2**10))
    truth = {clip_sha(s, c): V if (s + c) % 2 else N for s in range(2) for c in range(4)}
    n = 0
    for clip, answer in truth.items():
        for op in ("op1", "op2", "op3"):
            n += 1
            add_label(
                store,
                uuid=f"u{n}",
                operator=op,
                clip=clip,
                kiosk="k",
                schema_version=1,
                values=[answer],
                segments=[],
                telemetry={},
                created_at=float(n),
            )
    # v1 wrong on two clips, v2 right everywhere
    wrong = {clip_sha(0, 0), clip_sha(0, 1)}
    v1 = [
        [c, None, None, None, (V if a == N else N) if c in wrong else a, None, None]
        for c, a in truth.items()
    ]
    v2 = [
        [c, None, None, None, a, 0.9 if a == V else 0.1, 0.1 if a == V else 0.9]
        for c, a in truth.items()
    ]
    import_predictions(store, csv_text(v1, HEADER), "m", fmt="csv")
    import_predictions(store, csv_text(v2, HEADER), "m", fmt="csv")
    report = evaluation(store, "m", threshold=0.9)
    assert report["version"] == 2 and report["gold_clips"] == 1
    assert report["against_consensus"]["accuracy"] == 1.0
    assert report["against_consensus"]["n"] == 7  # 8 clips, the gold one left out
    curve = report["learning_curve"]
    assert curve[0]["consensus"]["accuracy"] == pytest.approx(5 / 7)
    assert report["against_gold"]["n"] == 1
    assert evaluation(store, "m", version=1)["against_consensus"]["correct"] == 5
    with pytest.raises(LookupError):
        evaluation(store, "nope")
    store.close()
