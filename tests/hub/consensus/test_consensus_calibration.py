"""Dawid–Skene confidence on small data: known answers and a small calibrated crowd."""

from __future__ import annotations

import numpy as np
import pytest
from consensus_testdata import simulate

from hub.consensus import DawidSkene, aggregate
from hub.models.evaluate import calibration


def _even_splits(n_clips: int) -> tuple[list[str], list[str], list[str]]:
    """Two operators who disagree on every clip, each saying "x" on half of them."""
    tasks, workers, labels = [], [], []
    for i in range(n_clips):
        a, b = ("x", "y") if i % 2 else ("y", "x")
        tasks += [f"c{i}", f"c{i}"]
        workers += ["op1", "op2"]
        labels += [a, b]
    return tasks, workers, labels


def test_even_split_between_indistinguishable_operators_is_a_coin_flip() -> None:
    tasks, workers, labels = _even_splits(6)
    res = aggregate(tasks, workers, labels, classes=["x", "y"], method="ds")
    assert res.confidence == pytest.approx([0.5] * 6, abs=0.05)


def test_two_two_tie_among_new_operators_is_near_half() -> None:
    # ten clear clips by three operators, then one clip split 2:2 by four new ones
    tasks, workers, labels = [], [], []
    for i in range(10):
        for w in ("a", "b", "c"):
            tasks.append(f"c{i}"), workers.append(w), labels.append("x" if i % 3 else "y")
    for w, y in (("n1", "x"), ("n2", "x"), ("n3", "y"), ("n4", "y")):
        tasks.append("tie"), workers.append(w), labels.append(y)
    res = aggregate(tasks, workers, labels, classes=["x", "y"], method="ds")
    tie = res.tasks.index("tie")
    assert 0.5 <= res.confidence[tie] <= 0.8  # the class balance (7:3) tilts it a little


def test_class_prior_cannot_collapse_to_zero() -> None:
    tasks = [f"c{i}" for i in range(5) for _ in range(3)]
    workers = ["a", "b", "c"] * 5
    labels = ["x"] * 15
    model = DawidSkene().fit(tasks, workers, labels, classes=["x", "y"])
    # 5 clips of "x" and 4 pseudo-clips per class: P(y) is at least 4 / 13
    assert 4 / 13 <= model.priors_[1] < 0.5
    assert model.priors_.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="class_prior"):
        DawidSkene(class_prior=-1)


def test_sampled_posterior_is_reproducible_and_limited_by_size() -> None:
    tasks, workers, labels, _, _, _ = simulate(40, 8, 2, 3, seed=5)
    one = DawidSkene().fit(tasks, workers, labels)
    two = DawidSkene().fit(tasks, workers, labels)
    assert one.sampled_ and np.array_equal(one.probas_, two.probas_)
    assert np.allclose(one.probas_.sum(axis=1), 1.0)
    em = DawidSkene(sample_limit=len(tasks) - 1).fit(tasks, workers, labels)
    assert not em.sampled_


def test_gold_stays_fixed_when_sampling() -> None:
    tasks, workers, labels = _even_splits(6)
    res = aggregate(tasks, workers, labels, ["x", "y"], gold={"c0": "y"}, method="ds")
    assert res.label[0] == "y" and res.confidence[0] == 1.0


def test_small_crowds_are_calibrated() -> None:
    """Pooled over 12 crowds of 50 clips (3 votes, 10 operators): the confidence is
    right about as often as it says (ECE here 0.039, accuracy 0.798; the EM point
    estimate ``DawidSkene(class_prior=0, sample_limit=0)``: 0.165 and 0.787)."""
    conf, hit = [], []
    for seed in range(12):
        tasks, workers, labels, truth, _, _ = simulate(50, 10, 2, 3, seed=100 + seed)
        res = aggregate(tasks, workers, labels, method="ds")
        conf += res.confidence
        hit += [truth[t] == y for t, y in zip(res.tasks, res.label, strict=True)]
    ece = calibration(conf, hit).ece
    assert ece <= 0.07
    assert np.mean(hit) >= 0.79


def test_overlap_uses_vote_share_until_the_model_is_identified() -> None:
    tasks, workers, labels = [], [], []
    for i in range(30):  # three operators with 30 labels each, both classes common
        for w, flip in (("a", False), ("b", False), ("c", i % 5 == 0)):
            y = "x" if (i % 2) != flip else "y"
            tasks.append(f"c{i:02d}"), workers.append(w), labels.append(y)
    for w, y in (("new1", "x"), ("new2", "x"), ("new3", "y")):  # operators with one label
        tasks.append("fresh"), workers.append(w), labels.append(y)
    model = DawidSkene().fit(tasks, workers, labels)
    overlap = model.overlap_confidence()
    conf = model.probas_[np.arange(len(model.tasks_)), model.label_index_]
    fresh = model.tasks_.index("fresh")
    assert overlap[fresh] == pytest.approx(2 / 3)  # vote share: new operators
    known = [i for i in range(len(model.tasks_)) if i != fresh]
    assert np.allclose(overlap[known], conf[known])  # identified: Dawid-Skene
    assert np.allclose(model.overlap_confidence([fresh, 0]), overlap[[fresh, 0]])
    # too few clips of a class: vote share everywhere
    small = DawidSkene().fit(tasks[:9], workers[:9], labels[:9])
    assert np.allclose(small.overlap_confidence(), [2 / 3, 1, 1])


def test_em_runs_to_convergence_once_operators_have_many_labels() -> None:
    # 20 operators x 3,000 labels: past CONVERGE_FROM, so EM runs on to tol_converged
    tasks, workers, labels, _, _, _ = simulate(20_000, 20, 2, 3, 21)
    exact = DawidSkene(tol=1e-12, n_iter=2000).fit(tasks, workers, labels).probas_
    default = DawidSkene().fit(tasks, workers, labels)
    early = DawidSkene(tol_converged=1e-5).fit(tasks, workers, labels)
    assert default.n_iter_ > early.n_iter_
    assert np.abs(default.probas_ - exact).max() < 0.5 * np.abs(early.probas_ - exact).max()
    # 20 operators x 60 labels: under it, tol alone decides (the same fit either way)
    tasks, workers, labels, _, _, _ = simulate(400, 20, 2, 3, 21)
    a = DawidSkene(sample_limit=0).fit(tasks, workers, labels)
    b = DawidSkene(sample_limit=0, tol_converged=1e-12).fit(tasks, workers, labels)
    assert a.n_iter_ == b.n_iter_ and np.array_equal(a.probas_, b.probas_)


def test_an_operator_never_seen_to_err_gets_some_of_the_crowds_error_rate() -> None:
    tasks, workers, labels, _, _, _ = simulate(3000, 20, 2, 3, 8)
    # one more operator who agrees with the crowd's majority on 100 clips
    first = {}
    for t, y in zip(tasks, labels, strict=True):
        first.setdefault(t, []).append(y)
    clean = sorted(first)[:100]
    for t in clean:
        tasks.append(t), workers.append("clean"), labels.append(max(first[t], key=first[t].count))
    with_pool = DawidSkene(sample_limit=0, predictive=False).fit(tasks, workers, labels)
    without = DawidSkene(sample_limit=0, pool_prior=0, predictive=False).fit(tasks, workers, labels)
    w = with_pool.workers_.index("clean")
    off = lambda m: float(m.errors_[w][~np.eye(2, dtype=bool)].max())  # noqa: E731
    crowd = float(1 - np.mean([np.diag(e).mean() for e in with_pool.errors_]))
    assert off(without) < 1e-3  # ~0: the plain MAP estimate
    assert 0.1 * crowd / 101 < off(with_pool) < crowd  # one label's worth of the crowd


def _clean_crowd_with_one_slip(n_clips: int) -> tuple[list[str], list[str], list[str]]:
    """Five operators, three on every clip, all agreeing, except one clip where "d"
    contradicts two others: "d" is the only operator ever seen to err."""
    rng = np.random.default_rng(3)
    ops = np.array(["a", "b", "c", "d", "e"])
    tasks, workers, labels = [], [], []
    for i in range(n_clips):
        for w in rng.choice(ops, size=3, replace=False):
            tasks.append(f"c{i:04d}"), workers.append(str(w)), labels.append("x" if i % 3 else "y")
    for w, y in (("a", "x"), ("b", "x"), ("d", "y")):
        tasks.append("slip"), workers.append(w), labels.append(y)
    return tasks, workers, labels


TIE = (("d", "x"), ("a", "x"), ("b", "y"), ("c", "y"))


@pytest.mark.parametrize(("n_clips", "n_ties"), [(100, 1), (300, 1), (300, 3)])
def test_tie_against_the_one_operator_seen_to_err_is_not_certain(n_clips: int, n_ties: int) -> None:
    """A 2:2 split whose one side has the only operator seen to err (once, in 60 or 180
    labels): the data cannot tell him from the others, so neither side is near certain
    (the MAP-EM point estimate said 0.9999). Three such ties on the same operators do
    not make each other sure. The slip itself stays clear."""
    tasks, workers, labels = _clean_crowd_with_one_slip(n_clips)
    for t in range(n_ties):
        for w, y in TIE:
            tasks.append(f"tie{t}"), workers.append(w), labels.append(y)
    model = DawidSkene().fit(tasks, workers, labels, classes=["x", "y"])
    assert not model.sampled_  # the EM path: operators have 60 or more labels
    slip = model.tasks_.index("slip")
    for t in range(n_ties):
        tie = model.tasks_.index(f"tie{t}")
        assert model.probas_[tie].max() <= 0.8, model.probas_[tie]
    tie = model.tasks_.index("tie0")
    assert model.labels_[slip] == "x" and model.probas_[slip, 0] > 0.85
    assert model.strength_ is not None and model.strength_.min() >= 64  # alike operators
    point = DawidSkene(predictive=False).fit(tasks, workers, labels, classes=["x", "y"])
    assert point.probas_[tie].max() > 0.99  # what the point estimate says
    # the incremental path gives the tie the same answer
    cut = -4 * n_ties
    inc = DawidSkene().fit(tasks[:cut], workers[:cut], labels[:cut], classes=["x", "y"])
    inc.partial_fit(tasks[cut:], workers[cut:], labels[cut:])
    for t in range(n_ties):
        assert inc.probas_[inc.tasks_.index(f"tie{t}")].max() <= 0.8


def test_pool_strength_tells_alike_operators_from_different_ones() -> None:
    tasks, workers, labels = _clean_crowd_with_one_slip(300)
    alike = DawidSkene(sample_limit=0).fit(tasks, workers, labels).strength_
    tasks, workers, labels, _, _, _ = simulate(3000, 20, 2, 3, seed=4)  # accuracy 0.55-0.95
    different = DawidSkene(sample_limit=0).fit(tasks, workers, labels).strength_
    assert alike is not None and different is not None
    assert alike.min() >= 64 and different.max() <= 16
