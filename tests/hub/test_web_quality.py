"""The dashboard's quality figures: majority vote, refined by the consensus report."""

from __future__ import annotations

import pytest

from hub.consensus import overview as q
from hub.consensus.report import build_report

# Krippendorff's own nominal example (Content Analysis, 2004/2011 reliability data:
# 4 coders, 12 units, some missing); alpha nominal = 0.743
RELIABILITY = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def test_majority_vote_alpha_is_krippendorffs() -> None:
    votes = [
        (f"u{u}", f"coder{i}", [str(v)], 0.0)
        for i, row in enumerate(RELIABILITY)
        for u, v in enumerate(row)
        if v is not None
    ]
    assert q.pairwise(votes, ["1", "2", "3", "4", "5"]).alpha == pytest.approx(0.743, abs=1e-3)


def test_alpha_edge_cases() -> None:
    assert q.pairwise([], ["a"]).alpha is None
    assert q.pairwise([("c", "x", ["a"], 0.0)], ["a"]).alpha is None  # one vote: no pairs
    one_value = [("c1", "x", ["a"], 0.0), ("c1", "y", ["a"], 0.0)]
    assert q.pairwise(one_value, ["a"]).alpha is None  # no disagreement possible


VOTES = [
    # clip, operator, values, time
    ("c1", "ann", ["yes"], 1.0),
    ("c1", "bob", ["yes"], 2.0),
    ("c1", "cas", ["no"], 3.0),
    ("c2", "ann", ["no"], 4.0),
    ("c2", "bob", ["no"], 5.0),
    ("c3", "ann", ["yes"], 6.0),  # one vote: not compared
    ("c4", "bob", ["yes"], 7.0),
    ("c4", "cas", ["no"], 8.0),  # a tie: goes to the class listed first (yes)
]


def test_majority_vote_figures() -> None:
    r = q.pairwise(VOTES, ["yes", "no"], gold={"c2": "no", "c3": "no"})
    assert r.source == "majority vote" and r.n_labels == 8 and r.n_clips == 4
    assert r.n_clips_multi == 3
    # consensus c1 yes, c2 no, c4 yes
    assert r.per_operator["ann"].agreement == 1.0
    assert r.per_operator["bob"].agreement == 1.0
    assert r.per_operator["cas"].agreement == 0.0
    assert r.per_operator["ann"].gold_accuracy == 0.5  # c2 right, c3 wrong
    assert r.per_operator["cas"].gold_accuracy is None
    # pairs: c1 (2 of 6 ordered pairs agree), c2 (2 of 2), c4 (0 of 2)
    assert r.percent_agreement == pytest.approx(4 / 10)
    assert r.confusion == [[3, 2], [0, 2]]  # rows: consensus yes/no, columns: given yes/no
    assert r.gold_confusion == [[0, 0], [1, 2]]
    assert r.per_label["yes"].votes == 4
    # specific agreement yes: sum n(n-1) = 2 (c1) / sum n(m-1) = 2*2 + 1*1 = 5
    assert r.per_label["yes"].agreement == pytest.approx(2 / 5)


def test_multi_choice_values_become_one_class() -> None:
    r = q.pairwise([("c", "a", ["x", "y"], 0.0), ("c", "b", ["y", "x"], 0.0)], ["x", "y"])
    assert "x+y" in r.classes and r.per_operator["a"].agreement == 1.0


def test_the_consensus_report_replaces_its_figures() -> None:
    report = build_report(
        [v[0] for v in VOTES], [v[1] for v in VOTES], [v[2][0] for v in VOTES], ["yes", "no"]
    )
    r = q.with_consensus(q.pairwise(VOTES, ["yes", "no"]), report)
    o = report.overall
    assert r.source == "hub.consensus (ds)" and r.consensus is report
    assert (r.alpha, r.kappa) == (o.krippendorff_alpha, o.fleiss_kappa)
    assert r.confusion == o.confusion
    assert r.per_label["yes"].alpha == report.per_label[0].krippendorff_alpha
    assert r.per_label["yes"].votes == 4  # the majority-vote count stays
    ann = next(p for p in report.per_operator if p.operator == "ann")
    assert r.per_operator["ann"].agreement == ann.agreement_with_consensus
    assert r.per_operator["ann"].agreement_with_others == ann.agreement_with_others
    assert r.per_operator["ann"].compared == 2  # the majority-vote count stays (c1, c2)
    extra = r.extra()
    assert extra["mean_confidence"] == o.mean_confidence
    assert extra["low_confidence_clips"] == o.low_confidence_clips
    assert "gold_accuracy" not in extra  # no gold: the report has no figure for it
    doc = r.as_json()
    assert doc["extra"] == extra and doc["per_operator"]["ann"]["compared"] == 2


def test_overview_uses_the_consensus_report() -> None:
    r = q.overview(VOTES, ["yes", "no"], gold={"c2": "no"})
    assert r.source == "hub.consensus (ds)"
    assert r.kappa is not None
    assert set(r.per_operator) == {"ann", "bob", "cas"}
    assert "calibration" in r.extra()


def test_a_failing_consensus_report_leaves_the_majority_vote(monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(q, "build_report", broken)
    r = q.overview(VOTES, ["yes", "no"])
    assert r.source == "majority vote" and "boom" in r.extra()["consensus_error"]
    assert r.consensus is None


class _Svc:
    """What QualityCache needs of the hub service: the schema's labels."""

    class schema:  # noqa: N801
        labels = [type("L", (), {"value": "yes"}), type("L", (), {"value": "no"})]


class _Reader:
    """Runs reads inline on a list of votes, counting how often the votes were read."""

    def __init__(self) -> None:
        self.votes = list(VOTES)
        self.reads = 0

    async def __call__(self, fn, *args):  # type: ignore[no-untyped-def]
        from hub.store import dashboard
        from hub.web import state

        if fn is dashboard.labels_version:
            return (len(self.votes),)
        assert fn is state._votes_and_gold
        self.reads += 1
        return list(self.votes), {}


async def test_quality_report_is_recomputed_when_labels_change_but_not_in_a_burst() -> None:
    from hub.web.state import QualityCache

    reader = _Reader()
    cache = QualityCache(reader)  # type: ignore[arg-type]
    cache._pace.share = 1e-9  # as if each computation took long: served as it is for a while
    first = await cache.get(_Svc)  # type: ignore[arg-type]
    assert first.n_labels == len(VOTES) and reader.reads == 1
    assert await cache.get(_Svc) is first and reader.reads == 1  # type: ignore[arg-type]
    reader.votes.append(("c3", "bob", ["yes"], 9.0))
    assert await cache.get(_Svc) is first and reader.reads == 1  # type: ignore[arg-type]
    cache._pace.due = 0.0  # the spacing is over
    again = await cache.get(_Svc)  # type: ignore[arg-type]
    assert reader.reads == 2 and again.n_labels == len(VOTES) + 1


def test_a_share_spaces_a_recomputation_by_its_own_cost() -> None:
    from hub.web.state import Share

    pace = Share(0.25)
    assert pace.ready(0.0)
    pace.spent(began=10.0, ended=11.0)  # took 1 s: at most a quarter of the time → due at 14
    assert not pace.ready(13.9) and pace.ready(14.0)
