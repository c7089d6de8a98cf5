"""Quality report: JSON-ready dict, self-contained HTML, terminal text."""

from __future__ import annotations

import json
import re

import msgspec
import pytest
from consensus_testdata import simulate

from hub.consensus import quality_report
from hub.consensus.report import SCHEMA
from hub.render.quality_report import render_html, render_text


@pytest.fixture(scope="module")
def crowd() -> tuple[list[str], list[str], list[str], dict[str, str]]:
    tasks, workers, labels, truth, _, _ = simulate(300, 12, 3, 4, seed=9)
    workers = [w if w != "w3" else "<b>w3</b> & co" for w in workers]  # hostile name
    return tasks, workers, labels, truth


def test_report_structure_and_numbers(crowd) -> None:  # type: ignore[no-untyped-def]
    tasks, workers, labels, truth = crowd
    gold = dict(list(truth.items())[:30])
    rep = quality_report(tasks, workers, labels, ["c0", "c1", "c2"], gold)
    doc = msgspec.to_builtins(rep)
    json.dumps(doc, allow_nan=False)  # strictly JSON
    assert doc["schema"] == SCHEMA and rep.schema == SCHEMA and rep.method == "ds"
    o = rep.overall
    assert o.clips == 300 and o.operators == 12 and o.labels == 1200
    assert doc["overall"]["labels_per_clip"] == {"mean": 4.0, "min": 4, "max": 4}
    assert o.krippendorff_alpha is not None and o.fleiss_kappa is not None
    assert 0.0 < o.krippendorff_alpha <= 1.0 and 0.0 < o.fleiss_kappa <= 1.0
    assert sum(map(sum, o.confusion)) == 1200
    assert o.gold_clips == 30 and o.gold_labels == 120
    assert o.gold_confusion is not None and sum(map(sum, o.gold_confusion)) == 120
    assert o.gold_accuracy is not None and 0.5 < o.gold_accuracy < 1.0
    assert sum(o.confidence_histogram.counts) == 300
    assert [p.label for p in rep.per_label] == ["c0", "c1", "c2"]
    assert sum(p.consensus_clips for p in rep.per_label) == 300
    assert len(rep.per_operator) == 12
    op = doc["per_operator"][0]
    assert set(op) >= {
        "operator",
        "labels",
        "agreement_with_consensus",
        "agreement_with_others",
        "gold_accuracy",
        "estimated_accuracy",
        "confusion",
    }
    assert sum(p.gold_labels for p in rep.per_operator) == 120


def test_report_without_gold_and_with_majority_vote(crowd) -> None:  # type: ignore[no-untyped-def]
    tasks, workers, labels, _ = crowd
    rep = quality_report(tasks, workers, labels, None, method="mv")
    doc = msgspec.to_builtins(rep)
    json.dumps(doc, allow_nan=False)
    assert rep.overall.gold_accuracy is None
    assert rep.overall.gold_confusion is None
    assert rep.overall.consensus_differs_from_majority == 0
    assert rep.per_operator[0].estimated_accuracy is None
    assert "estimated_accuracy" not in doc["per_operator"][0]  # left out of the JSON
    with pytest.raises(ValueError):
        quality_report(tasks, workers, labels, None, method="glad")


def test_html_is_self_contained_and_escaped(crowd) -> None:  # type: ignore[no-untyped-def]
    tasks, workers, labels, truth = crowd
    rep = quality_report(tasks, workers, labels, None, dict(list(truth.items())[:10]))
    page = render_html(rep)
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") >= 4
    assert "<script" not in page.lower()
    assert not re.search(r"\b(src|href)\s*=", page)
    urls = set(re.findall(r"https?://[^\s\"'<>]+", page))
    assert urls <= {"http://www.w3.org/2000/svg"}
    assert "<b>w3</b>" not in page
    assert "&lt;b&gt;w3&lt;/b&gt; &amp; co" in page


def test_text_rendering(crowd) -> None:  # type: ignore[no-untyped-def]
    tasks, workers, labels, _ = crowd
    text = render_text(quality_report(tasks, workers, labels, None))
    assert "Krippendorff's alpha" in text and "Fleiss' kappa" in text
    assert "Per label" in text and "Per operator" in text
    assert "<b>w3</b> & co" in text
    assert text.endswith("\n")
