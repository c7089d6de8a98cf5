"""The hub's Dawid-Skene consensus is incremental (a big site's refit does not read every
label every few seconds): new labels go into the last model; a retraction, a
changed gold answer or every FULL_FIT_EVERY fits start over with a full fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hub import consensus_fit as fit_module
from hub.consensus import aggregate
from hub.consensus import dawid_skene as dsm
from hub.consensus.assignment import ClipState, votes_wanted
from hub.service import HubService
from hub.store.dashboard import gold_answers, long_format
from protocol import messages as m
from tests.hub.test_label_batch import N, V, lab, make


def label_round(service: HubService, n: int, tag: str, wrong: str = "op3") -> list[str]:
    """Each operator labels `n` new clips (op3 disagrees on every other one)."""
    uuids = []
    for op in ("op1", "op2", "op3"):
        (assign,) = service.handle("k", m.RequestWork(operator=op, count=n))
        batch = []
        for i, clip in enumerate(assign.clips):
            value = N if (op == wrong and i % 2) else V
            batch.append(lab(f"{tag}-{op}-{i}", op, clip.sha256, value, lease=assign.lease_id))
        uuids += [x.uuid for x in batch]
        service.handle("k", m.LabelBatch(labels=batch))
    return uuids


def stored(service: HubService) -> dict[str, tuple]:
    return {
        sha: (label, round(conf, 6))
        for sha, label, conf in service.store.conn.execute(
            "SELECT sha256, consensus, confidence FROM clips WHERE n_labels > 0"
        )
    }


def full_fit(service: HubService) -> dict[str, tuple]:
    """A fresh fit of every label, as the service reads them (clips as their seq: on small
    data the posterior is sampled, and the draws follow the clips' order)."""
    store = service.store
    seqs, workers, values = store.votes_by_seq()
    classes = [v.value for v in service.schema.labels]
    gold = {seq: answer for seq, (_, answer) in store.gold_by_seq().items()}
    result = aggregate(np.array(seqs), workers, values, classes, gold or None)
    sha = store.clip_sha256s(result.tasks)
    return {
        sha[t]: (label, round(conf, 6))
        for t, label, conf in zip(result.tasks, result.label, result.confidence, strict=True)
    }


def test_new_labels_go_into_the_last_model_and_touch_only_their_clips(tmp_path: Path) -> None:
    service = make(tmp_path, clips=40)
    label_round(service, 6, "a")
    service.refresh_consensus()
    first = service.fit.state.model
    assert first is not None and service.fit.state.partial_fits == 0
    before = stored(service)
    label_round(service, 6, "b")
    upto_before = service.fit.state.upto
    written = service.consensus_rows(service.store)
    assert service.fit.state.model is first and service.fit.state.partial_fits == 1  # incremental
    assert service.fit.state.upto > upto_before
    new_clips = {
        sha
        for (sha,) in service.store.conn.execute(
            "SELECT DISTINCT clip FROM labels WHERE uuid LIKE 'b-%'"
        )
    }
    assert {row[3] for row in written} <= new_clips  # only clips the new labels touched
    service.store.set_consensus(written)
    after = stored(service)
    assert {c: v for c, v in after.items() if c not in new_clips} == {
        c: v for c, v in before.items() if c not in new_clips
    }
    # the incremental answer agrees with a full fit on these clips' consensus, where the
    # full fit is not a near coin flip (on small data its posterior is sampled, the
    # incremental one is EM's: a clip at 0.51 may fall either way)
    full = full_fit(service)
    clear = [c for c in new_clips if full[c][1] >= 0.6]
    assert len(clear) >= len(new_clips) - 2
    assert all(after[c][0] == full[c][0] for c in clear)
    assert service.consensus_rows(service.store) == []  # nothing new: nothing to do


def test_a_retraction_or_a_changed_gold_answer_starts_a_full_fit(tmp_path: Path) -> None:
    service = make(tmp_path, clips=40)
    uuids = label_round(service, 6, "a")
    service.refresh_consensus()
    model = service.fit.state.model
    service.handle("k", m.Retract(uuid=uuids[0], operator="op1"))
    service.refresh_consensus()
    assert service.fit.state.model is not model and service.fit.state.partial_fits == 0
    # the retracted label is gone from the fit: same as a full fit over what is left
    assert stored(service) == {c: v for c, v in full_fit(service).items() if c in stored(service)}
    model = service.fit.state.model
    label_round(service, 2, "b")
    service.refresh_consensus()
    assert service.fit.state.model is model  # incremental again
    clip = next(iter(stored(service)))
    service.store.set_gold(clip, N)  # a new gold answer: the model takes it as it is
    service.refresh_consensus()
    assert service.fit.state.model is model and service.fit.state.gold.get(clip) == N
    service.store.set_gold(clip, V)  # a gold answer changed: start over
    service.refresh_consensus()
    assert service.fit.state.model is not model and service.fit.state.gold.get(clip) == V


def test_every_so_many_fits_a_full_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fit_module, "FULL_FIT_EVERY", 2)
    monkeypatch.setattr(fit_module, "FULL_FIT_SHARE", 1.0)  # due as soon as it ended
    service = make(tmp_path, clips=60)
    label_round(service, 3, "a")
    service.refresh_consensus()
    models = [service.fit.state.model]
    for tag in ("b", "c", "d"):
        label_round(service, 3, tag)
        service.refresh_consensus()
        models.append(service.fit.state.model)
    assert models[0] is models[1] is models[2]  # two incremental fits
    assert models[3] is not models[2]  # then a full one


def test_routine_full_fits_take_a_bounded_share_of_the_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fit_module, "FULL_FIT_EVERY", 1)
    monkeypatch.setattr(fit_module, "FULL_FIT_SHARE", 1e-6)  # as if a full fit took ages
    service = make(tmp_path, clips=60)
    label_round(service, 3, "a")
    service.refresh_consensus()
    model = service.fit.state.model
    for tag in ("b", "c", "d"):
        label_round(service, 3, tag)
        service.refresh_consensus()
    assert service.fit.state.model is model and service.fit.state.partial_fits == 3


def test_clip_numbers_give_the_consensus_sha256s_gave(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service fits clips as their seq; the consensus, confidence and wanted votes it
    stores are those of the same fits on sha256s (the engine's string input): a full fit,
    an incremental one with a new gold answer, a full one after a changed gold answer.
    EM only: its fit does not depend on the clips' order (the sampler's draws do)."""
    monkeypatch.setattr(dsm, "SAMPLE_BELOW", 0)
    service = make(tmp_path, clips=60)
    store = service.store
    classes = [v.value for v in service.schema.labels]
    label_round(service, 8, "a")
    service.refresh_consensus()
    tasks, workers, values = long_format(store)
    twin = aggregate(tasks, workers, values, classes, method="ds").model
    check_against(service, twin, set(tasks))

    upto = store.last_label_rowid()
    label_round(service, 6, "b")
    gold_clip = tasks[0]
    store.set_gold(gold_clip, N)
    service.refresh_consensus()
    assert service.fit.state.partial_fits == 1
    _, tasks, workers, values = store.labels_since(upto)
    twin.partial_fit(tasks, workers, values, gold={gold_clip: N})
    check_against(service, twin, set(tasks))

    store.set_gold(gold_clip, V)  # a changed gold answer: a full fit, from the last model
    service.refresh_consensus()
    assert service.fit.state.partial_fits == 0
    tasks, workers, values = long_format(store)
    gold = gold_answers(store)
    twin = aggregate(tasks, workers, values, classes, gold, method="ds", init=twin).model
    check_against(service, twin, set(tasks) - {gold_clip})


def check_against(service: HubService, twin: dsm.DawidSkene, clips: set[str]) -> None:
    """Stored consensus, confidence and wanted votes of `clips` are the string fit's."""
    assert len(clips) >= 10
    pos = twin.task_positions()
    at = [pos[c] for c in sorted(clips)]
    overlap = dict(zip(sorted(clips), twin.overlap_confidence(at).tolist(), strict=True))
    rows = service.store.conn.execute(
        "SELECT sha256, n_labels, consensus, confidence, want FROM clips WHERE n_labels > 0"
    ).fetchall()
    seen = 0
    for sha, n, label, conf, want in rows:
        if sha not in clips:
            continue
        i = pos[sha]
        k = int(twin.label_index_[i])
        assert label == twin.classes_[k]
        assert conf == pytest.approx(float(twin.probas_[i, k]), abs=1e-9)
        state = ClipState(clip_id=sha, votes=n, confidence=overlap[sha])
        assert want == n + votes_wanted(state, service.policy)
        seen += 1
    assert seen == len(clips)
