"""The dashboard's quality figures: our majority-vote fallback and the hub.consensus merge."""

from __future__ import annotations

from collections import Counter

import krippendorff
import numpy as np
import pytest

from hub.web import quality as q

# Krippendorff's own nominal example (Content Analysis, 2004/2011 reliability data:
# 4 coders, 12 units, some missing); alpha nominal = 0.743
RELIABILITY = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def test_alpha_matches_krippendorff_and_the_package() -> None:
    units = [
        Counter(str(row[u]) for row in RELIABILITY if row[u] is not None)
        for u in range(len(RELIABILITY[0]))
    ]
    ours = q.krippendorff_alpha_nominal(units)
    data = np.array([[np.nan if v is None else v for v in row] for row in RELIABILITY], float)
    theirs = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert ours == pytest.approx(theirs, abs=1e-9)
    assert ours == pytest.approx(0.743, abs=1e-3)


def test_alpha_edge_cases() -> None:
    assert q.krippendorff_alpha_nominal([]) is None
    assert q.krippendorff_alpha_nominal([Counter({"a": 1})]) is None
    assert q.krippendorff_alpha_nominal([Counter({"a": 2}), Counter({"a": 3})]) == 1.0


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
    r = q.compute(VOTES, ["yes", "no"], gold={"c2": "no", "c3": "no"})
    assert r.source == "majority vote" and r.n_labels == 8 and r.n_clips == 4
    assert r.n_clips_multi == 3
    # consensus c1 yes, c2 no, c4 yes
    assert r.per_operator["ann"]["agreement"] == 1.0
    assert r.per_operator["bob"]["agreement"] == 1.0
    assert r.per_operator["cas"]["agreement"] == 0.0
    assert r.per_operator["ann"]["gold_accuracy"] == 0.5  # c2 right, c3 wrong
    assert r.per_operator["cas"]["gold_accuracy"] is None
    # pairs: c1 (2 of 6 ordered pairs agree), c2 (2 of 2), c4 (0 of 2)
    assert r.percent_agreement == pytest.approx(4 / 10)
    assert r.confusion == [[3, 2], [0, 2]]  # rows: consensus yes/no, columns: given yes/no
    assert r.gold_confusion == [[0, 0], [1, 2]]
    assert r.per_label["yes"]["votes"] == 4
    # specific agreement yes: sum n(n-1) = 2 (c1) / sum n(m-1) = 2*2 + 1*1 = 5
    assert r.per_label["yes"]["agreement"] == pytest.approx(2 / 5)


def test_multi_choice_values_become_one_class() -> None:
    r = q.compute([("c", "a", ["x", "y"], 0.0), ("c", "b", ["y", "x"], 0.0)], ["x", "y"])
    assert "x+y" in r.classes and r.per_operator["a"]["agreement"] == 1.0


def test_consensus_report_is_merged() -> None:
    result = {
        "method": "ds",
        "classes": ["yes", "no"],
        "overall": {
            "krippendorff_alpha": 0.5,
            "fleiss_kappa": 0.4,
            "confusion": [[9, 1], [2, 8]],
            "mean_confidence": 0.93,
        },
        "per_label": [{"label": "yes", "krippendorff_alpha": 0.6, "fleiss_kappa": None}],
        "per_operator": [
            {
                "operator": "ann",
                "agreement_with_consensus": 0.8,
                "agreement_with_others": 0.7,
                "gold_accuracy": None,
            }
        ],
    }
    r = q.merge_consensus(q.compute(VOTES, ["yes", "no"]), result)
    assert r.source == "hub.consensus (ds)"
    assert (r.alpha, r.kappa) == (0.5, 0.4)
    assert r.confusion == [[9, 1], [2, 8]]
    assert r.per_label["yes"]["alpha"] == 0.6 and r.per_label["yes"]["votes"] == 4
    assert r.per_operator["ann"]["agreement"] == 0.8
    assert r.per_operator["ann"]["gold_accuracy"] is None
    assert r.extra == {"mean_confidence": 0.93}


def test_quality_uses_hub_consensus_when_it_is_there() -> None:
    r = q.quality(VOTES, ["yes", "no"], gold={"c2": "no"})
    if q.consensus_hook() is None:
        assert r.source == "majority vote"
    else:
        assert r.source.startswith("hub.consensus")
        assert r.kappa is not None
        assert set(r.per_operator) == {"ann", "bob", "cas"}


def test_a_failing_consensus_module_leaves_the_fallback(monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(q, "consensus_hook", lambda: broken)
    r = q.quality(VOTES, ["yes", "no"])
    assert r.source == "majority vote" and "boom" in r.extra["consensus_error"]


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
