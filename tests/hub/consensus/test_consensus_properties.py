"""Property tests (hypothesis) for the aggregators.

Derandomized: the same examples on every run, so that CI cannot turn red on a case no change
brought. To search further, drop `derandomize` and raise `max_examples` locally.
"""

from __future__ import annotations

import numpy as np
from consensus_testdata import accuracy, simulate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.consensus import aggregate

METHODS = ("mv", "ds")


@st.composite
def crowd(draw: st.DrawFn) -> tuple[list[str], list[str], list[str], list[str]]:
    """Small long-format label sets (possibly sparse, possibly with repeats)."""
    n_tasks = draw(st.integers(1, 8))
    n_workers = draw(st.integers(1, 5))
    classes = ["a", "b", "c"][: draw(st.integers(2, 3))]
    rows = draw(
        st.lists(
            st.tuples(
                st.integers(0, n_tasks - 1),
                st.integers(0, n_workers - 1),
                st.sampled_from(classes),
            ),
            min_size=1,
            max_size=30,
        )
    )
    return (
        [f"t{t}" for t, _, _ in rows],
        [f"w{w}" for _, w, _ in rows],
        [y for _, _, y in rows],
        classes,
    )


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=crowd(), seed=st.integers(0, 2**32 - 1))
def test_permuting_operators_and_clips_changes_nothing(
    data: tuple[list[str], list[str], list[str], list[str]], seed: int
) -> None:
    tasks, workers, labels, classes = data
    rng = np.random.default_rng(seed)
    # shuffle the rows and rename operators and clips so that their sort order changes
    order = rng.permutation(len(tasks))
    task_names = sorted(set(tasks))
    worker_names = sorted(set(workers))
    task_map = dict(
        zip(task_names, [f"T{i}" for i in rng.permutation(len(task_names))], strict=True)
    )
    worker_map = dict(
        zip(worker_names, [f"W{i}" for i in rng.permutation(len(worker_names))], strict=True)
    )
    p_tasks = [task_map[tasks[i]] for i in order]
    p_workers = [worker_map[workers[i]] for i in order]
    p_labels = [labels[i] for i in order]
    for method in METHODS:
        # Dawid-Skene's EM exactly; its sampled posterior (small data) up to sampling noise
        params = {"sample_limit": 0} if method == "ds" else {}
        a = aggregate(tasks, workers, labels, classes, method=method, **params)
        b = aggregate(p_tasks, p_workers, p_labels, classes, method=method, **params)
        pos = {t: i for i, t in enumerate(b.tasks)}
        for i, t in enumerate(a.tasks):
            j = pos[task_map[t]]
            assert a.label[i] == b.label[j], (method, t)
            assert np.allclose(a.posterior[i], b.posterior[j], atol=1e-9), (method, t)
            assert a.votes[i] == b.votes[j]
    a = aggregate(tasks, workers, labels, classes, method="ds")
    b = aggregate(p_tasks, p_workers, p_labels, classes, method="ds")
    pos = {t: i for i, t in enumerate(b.tasks)}
    for i, t in enumerate(a.tasks):
        assert np.allclose(a.posterior[i], b.posterior[pos[task_map[t]]], atol=0.08), t


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_tasks=st.integers(20, 150),
    n_workers=st.integers(3, 8),
    n_classes=st.integers(2, 4),
    per_task=st.integers(2, 3),
)
def test_adding_a_perfect_operator_never_lowers_accuracy(
    seed: int, n_tasks: int, n_workers: int, n_classes: int, per_task: int
) -> None:
    """A perfect operator labels every clip, on top of ``per_task`` noisy labels.

    At least two noisy labels per clip: with one noisy label plus the perfect one,
    every clip has two labels and Dawid–Skene cannot tell which of the two operators
    is the reliable one (both explanations fit the data equally well); hypothesis
    finds such cases where DS then trusts the wrong operator (e.g. seed 2608, 20
    clips, 3 operators, 2 classes). Majority vote keeps the property everywhere.
    """
    tasks, workers, labels, truth, _, _ = simulate(
        n_tasks, n_workers, n_classes, per_task, seed, accuracy_range=(0.5, 0.95)
    )
    perfect_tasks = sorted(truth)
    more_tasks = tasks + perfect_tasks
    more_workers = workers + ["perfect"] * len(perfect_tasks)
    more_labels = labels + [truth[t] for t in perfect_tasks]
    classes = [f"c{i}" for i in range(n_classes)]
    for method in METHODS:
        before = aggregate(tasks, workers, labels, classes, method=method)
        after = aggregate(more_tasks, more_workers, more_labels, classes, method=method)
        acc_before = accuracy(before.tasks, before.label, truth)
        acc_after = accuracy(after.tasks, after.label, truth)
        assert acc_after >= acc_before, (method, acc_before, acc_after)
