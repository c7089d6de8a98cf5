"""Agreement statistics against published oracles."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hub.consensus.agreement import (
    confusion_matrix,
    fleiss_kappa,
    fleiss_kappa_per_class,
    krippendorff_alpha,
    krippendorff_alpha_per_class,
    worker_accuracy,
    worker_confusion,
    worker_pairwise_agreement,
)
from hub.consensus.encode import encode, vote_counts

# Krippendorff, "Computing Krippendorff's Alpha-Reliability" (2011), the example with
# 4 observers, 12 units and missing data (None): nominal alpha = 0.743.
KRIPPENDORFF_2011 = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
}

# Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5 categories.
# The article gives P-bar = 0.378, P_e = 0.213, kappa = 0.210.
WIKIPEDIA_FLEISS = np.array(
    [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
)

# Fleiss (1971), Table 1: 30 patients, 6 psychiatrists each, 5 diagnoses
# (1 depression, 2 personality disorder, 3 schizophrenia, 4 neurosis, 5 other), as
# the `diagnoses` data of R's irr package: kappa = 0.430 (irr: 0.4302445) and the
# per-category kappas of the paper's Table 2: .245 .245 .520 .471 .566.
FLEISS_1971 = [
    [4, 4, 4, 4, 4, 4],
    [2, 2, 2, 5, 5, 5],
    [2, 3, 3, 3, 3, 5],
    [5, 5, 5, 5, 5, 5],
    [2, 2, 2, 4, 4, 4],
    [1, 1, 3, 3, 3, 3],
    [3, 3, 3, 3, 5, 5],
    [1, 1, 3, 3, 3, 4],
    [1, 1, 4, 4, 4, 4],
    [5, 5, 5, 5, 5, 5],
    [1, 4, 4, 4, 4, 4],
    [1, 2, 4, 4, 4, 4],
    [2, 2, 2, 3, 3, 3],
    [1, 4, 4, 4, 4, 4],
    [2, 2, 4, 4, 4, 5],
    [3, 3, 3, 3, 3, 5],
    [1, 1, 1, 4, 5, 5],
    [1, 1, 1, 1, 1, 2],
    [2, 2, 4, 4, 4, 4],
    [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5],
    [2, 4, 4, 4, 4, 4],
    [2, 2, 4, 5, 5, 5],
    [1, 1, 4, 4, 4, 4],
    [1, 4, 4, 4, 4, 5],
    [2, 2, 2, 2, 2, 4],
    [1, 1, 1, 1, 5, 5],
    [2, 2, 4, 4, 4, 4],
    [1, 3, 3, 3, 3, 3],
    [5, 5, 5, 5, 5, 5],
]


def _long(table: dict[str, list[int | None]]) -> tuple[list[str], list[str], list[str]]:
    tasks, workers, labels = [], [], []
    for coder, values in table.items():
        for unit, v in enumerate(values):
            if v is not None:
                tasks.append(f"u{unit + 1}")
                workers.append(coder)
                labels.append(str(v))
    return tasks, workers, labels


def test_krippendorff_2011_nominal_alpha_is_0_743() -> None:
    enc = encode(*_long(KRIPPENDORFF_2011))
    alpha = krippendorff_alpha(vote_counts(enc))
    assert alpha == pytest.approx(0.743, abs=5e-4)
    # the same value as the package on the raw coder x unit matrix
    import krippendorff

    raw = [[np.nan if v is None else v for v in row] for row in KRIPPENDORFF_2011.values()]
    assert alpha == pytest.approx(
        krippendorff.alpha(reliability_data=raw, level_of_measurement="nominal"), abs=1e-12
    )


def test_fleiss_kappa_wikipedia_example() -> None:
    assert fleiss_kappa(WIKIPEDIA_FLEISS) == pytest.approx(0.210, abs=5e-4)


def test_fleiss_1971_kappa_and_per_category() -> None:
    ratings = np.array(FLEISS_1971)
    counts = np.stack([(ratings == v).sum(axis=1) for v in range(1, 6)], axis=1)
    assert counts.sum(axis=0).tolist() == [26, 26, 30, 55, 43]
    assert fleiss_kappa(counts) == pytest.approx(0.4302445, abs=1e-7)
    assert fleiss_kappa_per_class(counts) == pytest.approx(
        [0.245, 0.245, 0.520, 0.471, 0.566], abs=5e-4
    )


def test_fleiss_kappa_from_long_format() -> None:
    tasks, workers, labels = [], [], []
    for i, row in enumerate(FLEISS_1971):
        for j, v in enumerate(row):
            tasks.append(f"p{i}")
            workers.append(f"r{i}-{j}")  # not the same six psychiatrists per patient
            labels.append(str(v))
    enc = encode(tasks, workers, labels)
    assert fleiss_kappa(vote_counts(enc)) == pytest.approx(0.4302445, abs=1e-7)


def test_undefined_agreement_is_nan() -> None:
    assert math.isnan(krippendorff_alpha(np.array([[2, 0], [3, 0]])))  # no variation
    assert math.isnan(krippendorff_alpha(np.array([[1, 0], [0, 1]])))  # nothing pairable
    assert math.isnan(fleiss_kappa(np.array([[1, 0], [0, 1]])))
    assert math.isnan(fleiss_kappa(np.array([[3, 0], [2, 0]])))
    assert krippendorff_alpha(np.array([[2, 0], [0, 2]])) == pytest.approx(1.0)
    assert fleiss_kappa(np.array([[2, 0], [0, 2]])) == pytest.approx(1.0)


def test_per_class_alpha_matches_binarized_table() -> None:
    counts = WIKIPEDIA_FLEISS
    per = krippendorff_alpha_per_class(counts)
    for k in range(counts.shape[1]):
        two = np.stack([counts[:, k], counts.sum(axis=1) - counts[:, k]], axis=1)
        assert per[k] == pytest.approx(krippendorff_alpha(two))


def test_confusion_and_worker_measures() -> None:
    # task t1: a, a, b ; t2: b, b ; t3: a (single label)
    enc = encode(
        ["t1", "t1", "t1", "t2", "t2", "t3"],
        ["w1", "w2", "w3", "w1", "w3", "w2"],
        ["a", "a", "b", "b", "b", "a"],
    )
    reference = np.array([0, 1, -1])  # t3 unknown
    correct, judged = worker_accuracy(enc, reference)
    assert dict(
        zip(enc.workers, zip(correct.tolist(), judged.tolist(), strict=True), strict=True)
    ) == {
        "w1": (2, 2),
        "w2": (1, 1),
        "w3": (1, 2),
    }
    cm = confusion_matrix(reference[enc.task], enc.label, 2)
    assert cm.tolist() == [[2, 1], [0, 2]]
    wc = worker_confusion(enc, reference)
    assert wc[enc.workers.index("w3")].tolist() == [[0, 1], [0, 1]]
    mean, used = worker_pairwise_agreement(enc, vote_counts(enc))
    # w1: t1 (a; others a,b -> 1/2), t2 (b; other b -> 1) -> 0.75
    assert mean[enc.workers.index("w1")] == pytest.approx(0.75)
    assert used[enc.workers.index("w2")] == 1  # t3 has no other label


def test_fleiss_kappa_leaves_single_vote_clips_out() -> None:
    from hub.consensus.agreement import fleiss_kappa

    pairs = np.array([[1, 1], [1, 1], [1, 1]])  # every pair disagrees: kappa -1
    singles = np.array([[1, 0]] * 20)  # one vote each, all the same class
    assert fleiss_kappa(pairs) == pytest.approx(-1.0)
    assert fleiss_kappa(np.vstack([pairs, singles])) == pytest.approx(-1.0)
