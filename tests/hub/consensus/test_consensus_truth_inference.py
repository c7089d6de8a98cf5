"""Real crowd data with ground truth: our engine beside crowd-kit.

The public truth-inference benchmark sets (Zheng et al., PVLDB 2017) are read in
place from /work/shared/data/truth-inference (or $STRAAT_TRUTH_INFERENCE). On every
set our Dawid–Skene must be at least as accurate as crowd-kit's DawidSkene minus
0.5 percentage points, and our majority vote must equal crowd-kit's wherever
crowd-kit's vote is not a tie (on a tie we take the lowest class index; crowd-kit
takes whichever class pandas happened to put first, so both are among the tied).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from consensus_testdata import DATA_ROOT, DATASETS, accuracy, load

from hub.consensus import DawidSkene, MajorityVote

pytestmark = pytest.mark.skipif(
    not DATA_ROOT.is_dir(),
    reason=f"truth-inference data not found at {DATA_ROOT} (set STRAAT_TRUTH_INFERENCE)",
)

#: allowed shortfall against crowd-kit's DawidSkene, in accuracy (0.5 pp)
MARGIN = 0.005


@pytest.fixture(scope="module")
def crowdkit_aggregation():  # type: ignore[no-untyped-def]
    pytest.importorskip("crowdkit", reason="crowd-kit (the crowdkit extra) is not installed")
    import pandas as pd
    from crowdkit.aggregation import DawidSkene as CKDawidSkene
    from crowdkit.aggregation import MajorityVote as CKMajorityVote

    return pd, CKDawidSkene, CKMajorityVote


@pytest.mark.parametrize("name", DATASETS)
def test_dawid_skene_and_majority_vote_against_crowdkit(name: str, crowdkit_aggregation) -> None:  # type: ignore[no-untyped-def]
    pd, CKDawidSkene, CKMajorityVote = crowdkit_aggregation
    data = load(name)
    assert data.truth, "no truth for any labelled item"

    t0 = time.perf_counter()
    ours = DawidSkene().fit(data.tasks, data.workers, data.labels)
    t_ours = time.perf_counter() - t0
    frame = pd.DataFrame({"task": data.tasks, "worker": data.workers, "label": data.labels})
    t0 = time.perf_counter()
    theirs = CKDawidSkene(n_iter=100).fit(frame)
    t_theirs = time.perf_counter() - t0

    acc_ours = accuracy(ours.tasks_, list(ours.labels_), data.truth)
    acc_theirs = accuracy(list(theirs.labels_.index), list(theirs.labels_.values), data.truth)
    print(
        f"\n{name}: DS ours {acc_ours:.4f} ({t_ours:.2f}s, {ours.n_iter_} it) "
        f"crowd-kit {acc_theirs:.4f} ({t_theirs:.2f}s, {len(theirs.loss_history_)} it)"
    )
    assert acc_ours >= acc_theirs - MARGIN

    mv = MajorityVote().fit(data.tasks, data.workers, data.labels)
    ck_mv = CKMajorityVote().fit(frame)
    probas = ck_mv.probas_.reindex(index=mv.tasks_, columns=mv.classes_).fillna(0.0).to_numpy()
    top = probas.max(axis=1, keepdims=True)
    tied = np.isclose(probas, top)
    unique = tied.sum(axis=1) == 1
    ck_labels = ck_mv.labels_.reindex(mv.tasks_).astype(str).to_numpy()
    assert np.array_equal(mv.labels_[unique], ck_labels[unique])
    # on ties: ours is the lowest tied class, theirs is one of the tied classes
    assert np.array_equal(mv.label_index_[~unique], np.argmax(tied[~unique], axis=1))
    pos = {c: i for i, c in enumerate(mv.classes_)}
    their_idx = np.array([pos[c] for c in ck_labels[~unique]], dtype=np.int64)
    assert tied[~unique][np.arange(len(their_idx)), their_idx].all()
    print(f"{name}: MV identical on {unique.sum()} clips, {int((~unique).sum())} ties")
