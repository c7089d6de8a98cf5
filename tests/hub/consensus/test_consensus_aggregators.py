"""Majority vote and Dawid–Skene on hand-made cases and simulated crowds."""

from __future__ import annotations

import builtins
import subprocess
import sys

import numpy as np
import pytest
from consensus_testdata import accuracy, simulate

from hub.consensus import ConsensusResult, DawidSkene, MajorityVote, aggregate
from hub.consensus.crowdkit_bridge import AGGREGATORS, CrowdKitMissing, run_crowdkit


def _spammer_case() -> tuple[list[str], list[str], list[str], dict[str, str]]:
    """Three perfect operators, two who always say "b"; task x: r1 says a, spammers b."""
    tasks, workers, labels, truth = [], [], [], {}
    for i in range(20):
        t = f"t{i:02d}"
        truth[t] = "a" if i % 2 else "b"
        for w in ("r1", "r2", "r3"):
            tasks.append(t), workers.append(w), labels.append(truth[t])
        for w in ("s1", "s2"):
            tasks.append(t), workers.append(w), labels.append("b")
    for w, y in (("r1", "a"), ("s1", "b"), ("s2", "b")):
        tasks.append("x"), workers.append(w), labels.append(y)
    truth["x"] = "a"
    return tasks, workers, labels, truth


# ----------------------------------------------------------------------------- majority


def test_majority_vote_counts_and_ties() -> None:
    tasks = ["t1", "t1", "t1", "t2", "t2"]
    workers = ["w1", "w2", "w3", "w1", "w2"]
    labels = ["b", "b", "a", "a", "b"]
    res = aggregate(tasks, workers, labels, method="mv")
    assert res.tasks == ["t1", "t2"]
    assert res.classes == ["a", "b"]
    assert res.label == ["b", "a"]  # t2 is a tie: lowest class index wins
    assert res.confidence == pytest.approx([2 / 3, 0.5])
    assert res.votes == [{"a": 1, "b": 2}, {"a": 1, "b": 1}]
    assert res.method == "mv"
    # the class order given by the caller decides ties
    res = aggregate(tasks, workers, labels, classes=["b", "a"], method="mv")
    assert res.label == ["b", "b"]


def test_classes_sort_naturally_and_unknown_labels_fail() -> None:
    res = aggregate(["t"] * 3, ["a", "b", "c"], ["10", "2", "9"], method="mv")
    assert res.classes == ["2", "9", "10"]
    assert res.label == ["2"]
    with pytest.raises(ValueError, match="not one of"):
        aggregate(["t"], ["a"], ["maybe"], classes=["yes", "no"])


def test_majority_vote_gold_overrides() -> None:
    res = aggregate(
        ["t1", "t1", "t1"], ["a", "b", "c"], ["x", "x", "y"], gold={"t1": "y"}, method="mv"
    )
    assert res.label == ["y"] and res.confidence == [1.0]
    mv = MajorityVote().fit(["t1", "t1", "t2"], ["a", "b", "a"], ["x", "y", "y"])
    assert mv.skills_[mv.workers_.index("a")] == pytest.approx(1.0)


# ----------------------------------------------------------------------------- Dawid–Skene


def test_dawid_skene_discounts_spammers() -> None:
    tasks, workers, labels, truth = _spammer_case()
    mv = aggregate(tasks, workers, labels, method="mv")
    ds = aggregate(tasks, workers, labels, method="ds")
    assert dict(zip(mv.tasks, mv.label, strict=True))["x"] == "b"
    assert dict(zip(ds.tasks, ds.label, strict=True)) == truth
    model: DawidSkene = ds.model
    s1 = model.workers_.index("s1")
    # spammer: says b whatever the truth is
    assert model.errors_[s1, 1, 0] > 0.85 and model.errors_[s1, 1, 1] > 0.85
    assert np.allclose(model.errors_.sum(axis=1), 1.0)
    assert np.allclose(ds.posterior.sum(axis=1), 1.0)


def test_dawid_skene_gold_is_fixed_truth() -> None:
    tasks, workers, labels, _ = _spammer_case()
    ds = aggregate(tasks, workers, labels, gold={"t00": "a"})
    i = ds.tasks.index("t00")
    assert ds.label[i] == "a" and ds.confidence[i] == 1.0
    assert ds.posterior[i].tolist() == [1.0, 0.0]
    # gold for a task nobody labelled is ignored; a gold answer outside the classes is an error
    aggregate(tasks, workers, labels, gold={"nobody": "a"})
    with pytest.raises(ValueError, match="not a class"):
        aggregate(tasks, workers, labels, gold={"t00": "c"})


def test_dawid_skene_recovers_confusion_matrices() -> None:
    tasks, workers, labels, truth, conf, _ = simulate(
        n_tasks=3000, n_workers=15, n_classes=3, per_task=7, seed=11
    )
    model = DawidSkene(tol=1e-7).fit(tasks, workers, labels)
    order = [int(w[1:]) for w in model.workers_]
    est = model.errors_
    true = conf[order]
    assert model.classes_ == ["c0", "c1", "c2"]
    assert np.abs(est - true).max() < 0.06
    assert np.abs(est - true).mean() < 0.015
    assert accuracy(model.tasks_, list(model.labels_), truth) > 0.97
    # the objective never goes down
    assert np.all(np.diff(model.loss_history_) > -1e-9)


def test_plain_maximum_likelihood_option() -> None:
    tasks, workers, labels, truth = _spammer_case()
    model = DawidSkene(diagonal_prior=0.0).fit(tasks, workers, labels)
    assert dict(zip(model.tasks_, model.labels_, strict=True)) == truth
    with pytest.raises(ValueError):
        DawidSkene(diagonal_prior=-1)
    with pytest.raises(ValueError):
        DawidSkene(n_iter=0)


def test_warm_start_converges_fast_to_the_same_answer() -> None:
    tasks, workers, labels, truth, _, _ = simulate(4000, 40, 4, 5, seed=3)
    cut = 18_000
    first = DawidSkene().fit(tasks[:cut], workers[:cut], labels[:cut])
    cold = DawidSkene().fit(tasks, workers, labels)
    warm = DawidSkene().fit(tasks, workers, labels, init=first)
    assert warm.tasks_ == cold.tasks_
    assert warm.n_iter_ < cold.n_iter_
    same = np.mean(warm.labels_ == cold.labels_)
    assert same > 0.998
    assert (
        abs(
            accuracy(warm.tasks_, list(warm.labels_), truth)
            - accuracy(cold.tasks_, list(cold.labels_), truth)
        )
        < 0.003
    )
    with pytest.raises(ValueError, match="differ"):
        DawidSkene().fit(tasks, workers, labels, classes=["c3", "c2", "c1", "c0"], init=first)


def test_partial_fit_tracks_a_full_refit() -> None:
    tasks, workers, labels, truth, _, _ = simulate(3000, 30, 3, 5, seed=5)
    n0 = 12_000
    model = DawidSkene().fit(tasks[:n0], workers[:n0], labels[:n0])
    n_tasks_before = len(model.tasks_)
    # new labels arrive in three batches; some batches touch old tasks again
    for lo, hi in ((n0, 13_000), (13_000, 14_000), (14_000, 15_000)):
        model.partial_fit(tasks[lo:hi], workers[lo:hi], labels[lo:hi])
    full = DawidSkene().fit(tasks, workers, labels)
    assert sorted(model.tasks_) == full.tasks_
    assert model.tasks_[:n_tasks_before] == sorted(set(tasks[:n0]))  # new ones appended
    ref = dict(zip(full.tasks_, full.labels_, strict=True))
    agree = np.mean([ref[t] == y for t, y in zip(model.tasks_, model.labels_, strict=True)])
    assert agree > 0.99
    acc_partial = accuracy(model.tasks_, list(model.labels_), truth)
    acc_full = accuracy(full.tasks_, list(full.labels_), truth)
    assert acc_partial > acc_full - 0.01
    assert np.allclose(model.probas_.sum(axis=1), 1.0)
    # refit() resyncs with a full fit over everything seen
    model.refit()
    ref_pos = {t: i for i, t in enumerate(full.tasks_)}
    mine = np.array([ref_pos[t] for t in model.tasks_])
    assert np.mean(model.labels_ == full.labels_[mine]) > 0.999


def test_partial_fit_gold_and_errors() -> None:
    tasks, workers, labels, _ = _spammer_case()
    model = DawidSkene()
    with pytest.raises(RuntimeError, match="not fitted"):
        model.partial_fit(["t"], ["w"], ["a"])
    model.fit(tasks, workers, labels)
    model.partial_fit(["y", "y"], ["s1", "s2"], ["b", "b"], gold={"y": "a"})
    i = model.tasks_.index("y")
    assert model.labels_[i] == "a" and model.probas_[i, 0] == 1.0
    with pytest.raises(ValueError, match="not one of"):
        model.partial_fit(["z"], ["r1"], ["c"])
    with pytest.raises(ValueError, match="not a class"):
        model.partial_fit(["z"], ["r1"], ["a"], gold={"z": "c"})
    assert "z" not in model.tasks_  # a rejected call changes nothing
    before = model.probas_.copy()
    model.partial_fit([], [], [])
    assert np.array_equal(model.probas_, before)
    with pytest.raises(ValueError, match="differ in length"):
        model.partial_fit(["z"], [], ["a"])


def test_consensus_result_rows() -> None:
    tasks, workers, labels, _ = _spammer_case()
    res = aggregate(tasks, workers, labels)
    assert isinstance(res, ConsensusResult)
    assert len(res) == 21 and res.posterior.shape == (21, 2)
    row = res.as_dict("x")
    assert row["label"] == "a" and set(row["posterior"]) == {"a", "b"}
    assert row["votes"] == {"a": 1, "b": 2}
    assert len(res.rows()) == 21


# ----------------------------------------------------------------------------- crowd-kit


@pytest.mark.parametrize(
    "name",
    ["GLAD", "MACE", "Wawa", "OneCoinDawidSkene", "crowdkit:DawidSkene", "crowdkit:MajorityVote"],
)
def test_crowdkit_aggregators_by_name(name: str) -> None:
    pytest.importorskip("crowdkit")
    rng = np.random.default_rng(0)
    tasks, workers, labels, truth = [], [], [], {}
    for i in range(30):
        t = f"t{i}"
        truth[t] = "yes" if rng.random() < 0.5 else "no"
        for w in range(5):
            wrong = rng.random() < 0.1
            tasks.append(t), workers.append(f"w{w}")
            labels.append(("no" if truth[t] == "yes" else "yes") if wrong else truth[t])
    iterative = ("GLAD", "MACE", "OneCoinDawidSkene", "crowdkit:DawidSkene")
    kwargs = {"n_iter": 10} if name in iterative else {}
    res = aggregate(tasks, workers, labels, method=name, **kwargs)
    assert res.method.startswith("crowdkit:")
    assert res.tasks == sorted(truth) and res.classes == ["no", "yes"]
    assert np.allclose(res.posterior.sum(axis=1), 1.0)
    assert accuracy(res.tasks, res.label, truth) >= 0.95


def test_crowdkit_gold_and_names() -> None:
    pytest.importorskip("crowdkit")
    tasks, workers, labels, _ = _spammer_case()
    res = run_crowdkit("dawid-skene", tasks, workers, labels, gold={"x": "b"})
    assert dict(zip(res.tasks, res.label, strict=True))["x"] == "b"
    res = run_crowdkit("GoldMajorityVote", tasks, workers, labels, gold={"t00": "b", "t01": "a"})
    assert res.method == "crowdkit:GoldMajorityVote"
    assert "GLAD" in AGGREGATORS
    with pytest.raises(ValueError, match="unknown method .nonsense."):
        aggregate(tasks, workers, labels, method="nonsense")


def test_crowdkit_missing_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import hub.consensus.crowdkit_bridge  # noqa: F401 - loaded before imports break

    real_import = builtins.__import__

    def fake_import(name: str, *args: object, **kwargs: object) -> object:
        if name == "crowdkit" or name.startswith("crowdkit."):
            raise ImportError("No module named 'crowdkit'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(CrowdKitMissing, match=r"annotatiestraat\[crowdkit\]"):
        aggregate(["t"], ["w"], ["a"], method="GLAD")


def test_consensus_imports_no_io_or_ui_modules() -> None:
    code = (
        "import sys\n"
        "import hub.consensus, hub.consensus.assignment, hub.consensus.multilabel\n"
        "import hub.consensus.report, hub.consensus.crowdkit_bridge, hub.consensus.agreement\n"
        "bad = [m for m in ('textual', 'aiohttp', 'zmq', 'mpv', 'sqlite3', 'sqlite_utils',\n"
        "       'crowdkit', 'pandas', 'pyarrow') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_partial_fit_in_many_small_batches() -> None:
    """Many batches: the label store merges its chunks; the result stays close to a refit."""
    tasks, workers, labels, truth, _, _ = simulate(3000, 25, 3, 5, seed=8)
    model = DawidSkene().fit(tasks[:1000], workers[:1000], labels[:1000])
    for lo in range(1000, 15_000, 700):
        hi = min(lo + 700, 15_000)
        model.partial_fit(tasks[lo:hi], workers[lo:hi], labels[lo:hi])
    assert len(model._store.task) > 1000  # chunks were merged into the base
    stored = sum(len(t) for t in model._store.all()[:1])
    assert stored == 15_000
    full = DawidSkene().fit(tasks, workers, labels)
    ref = dict(zip(full.tasks_, full.labels_, strict=True))
    agree = np.mean([ref[t] == y for t, y in zip(model.tasks_, model.labels_, strict=True)])
    assert agree > 0.98
    assert (
        accuracy(model.tasks_, list(model.labels_), truth)
        > accuracy(full.tasks_, list(full.labels_), truth) - 0.02
    )


def test_one_spelling_rule_for_method_names() -> None:
    tasks, workers, labels = ["t", "t", "t"], ["a", "b", "c"], ["x", "x", "y"]
    for name in ("ds", "DS", "dawid_skene", "Dawid-Skene", "dawidskene"):
        assert aggregate(tasks, workers, labels, method=name).method == "ds"
    for name in ("mv", "majority_vote", "Majority-Vote"):
        assert aggregate(tasks, workers, labels, method=name).method == "mv"
    with pytest.raises(ValueError, match="unknown method 'dawid_skeen'"):
        aggregate(tasks, workers, labels, method="dawid_skeen")


def test_numbers_are_normalised_and_missing_values_refused() -> None:
    res = aggregate(["t", "t", "u"], ["a", "b", "a"], [1, 1.0, "2"], method="mv")
    assert res.classes == ["1", "2"] and res.label == ["1", "2"]
    res = aggregate(["t", "t"], ["a", "b"], [1.0, 1], gold={"t": "1"}, method="ds")
    assert res.label == ["1"]
    with pytest.raises(ValueError, match=r"labels: nan"):
        aggregate(["t", "t"], ["a", "b"], ["x", float("nan")])
    with pytest.raises(ValueError, match=r"worker_ids: None"):
        aggregate(["t", "t"], ["a", None], ["x", "y"])
    # integer ids stay numbers (the hub's clip and operator numbers)
    res = aggregate(np.array([7, 7, 3]), np.array([1, 2, 1]), np.array([0, 0, 1]), method="mv")
    assert res.tasks == [3, 7] and res.label == ["1", "0"]
