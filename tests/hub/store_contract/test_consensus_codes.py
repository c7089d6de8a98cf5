"""The consensus fit's reads with clips as their `seq` (integers): the same votes, gold
answers and stored consensus as the sha256 readers give, on every backend."""

from __future__ import annotations

import json

import pytest

from hub.store import consensus_codes
from hub.store.interface import HubStore

from .helpers import N, V, add_clips, add_operators, label


def test_votes_by_seq_are_the_labels_with_clip_numbers(store: HubStore) -> None:
    clips = add_clips(store, 3)
    add_operators(store, 3)
    seq = {c["sha256"]: c["seq"] for c in store.clips()}
    assert all(isinstance(s, int) for s in seq.values())
    start = store.last_label_rowid()
    assert store.votes_by_seq() == ([], [], [])
    assert store.votes_by_seq_since(start)[1:] == ([], [], [])
    first = label("op1", clips[0], V)
    store.add_labels("k", [first, label("op2", clips[0], N)])
    middle = store.last_label_rowid()
    two = label("op3", clips[1], V)
    two = type(two)(**{**two.__dict__, "values": json.dumps([V, N])})  # two votes
    store.add_labels("k", [two, label("op1", clips[2], N)])
    store.retract_label(first.uuid, "op1")
    expected = (
        [seq[clips[0]], seq[clips[1]], seq[clips[1]], seq[clips[2]]],
        ["op2", "op3", "op3", "op1"],
        [N, V, N, N],
    )
    assert store.votes_by_seq() == expected
    assert store.votes_by_seq(upto=middle) == ([seq[clips[0]]], ["op2"], [N])
    # the same votes the sha256 readers give, in the same order
    upto, tasks, workers, values = store.labels_since(start)
    assert store.votes_by_seq_since(start) == (upto, [seq[t] for t in tasks], workers, values)
    assert store.votes_by_seq_since(middle)[1:] == (
        expected[0][1:],
        ["op3"] * 2 + ["op1"],
        [V, N, N],
    )
    assert store.votes_by_seq_since(upto) == (upto, [], [], [])


def test_gold_state_and_sha256s_by_clip_number(store: HubStore) -> None:
    clips = add_clips(store, 4, want=3)
    add_operators(store, 2)
    seq = {c["sha256"]: c["seq"] for c in store.clips()}
    store.set_gold(clips[3], N)
    assert store.gold_by_seq() == {seq[clips[3]]: (clips[3], N)}
    store.add_labels("k", [label("op1", clips[1]), label("op2", clips[1]), label("op1", clips[0])])
    store.set_consensus([(V, 0.75, 4, clips[1])])
    state = store.consensus_state(labelled_only=True)
    columns = store.consensus_columns(labelled_only=True)
    order = sorted(state, key=seq.__getitem__)
    assert columns == (
        [seq[c] for c in order],
        *([state[c][i] for c in order] for i in range(4)),
    )
    assert columns[0] == [seq[clips[0]], seq[clips[1]]]
    assert (columns[1], columns[2][1], columns[3][1], columns[4][1]) == ([1, 2], V, 0.75, 4)
    every = store.consensus_columns()
    assert every[0] == sorted(seq.values())
    some = store.consensus_columns(seqs=[seq[clips[2]], seq[clips[1]], 10**9])
    state = store.consensus_state(clips=clips[1:3])
    assert some == (
        [seq[clips[1]], seq[clips[2]]],
        *([state[c][i] for c in clips[1:3]] for i in range(4)),
    )
    assert store.consensus_columns(seqs=[]) == ([], [], [], [], [])
    assert store.clip_sha256s([seq[clips[2]], seq[clips[0]], 10**9]) == {
        seq[clips[2]]: clips[2],
        seq[clips[0]]: clips[0],
    }


@pytest.mark.parametrize("range_from", [1, 10**6], ids=["range", "lists"])
def test_sha256s_of_many_or_few_clips(
    store: HubStore, monkeypatch: pytest.MonkeyPatch, range_from: int
) -> None:
    monkeypatch.setattr(consensus_codes, "_RANGE_FROM", range_from)
    clips = add_clips(store, 6)
    seq = {c["sha256"]: c["seq"] for c in store.clips()}
    some = [clips[4], clips[1], clips[2]]
    assert store.clip_sha256s([seq[c] for c in some] + [10**9]) == {seq[c]: c for c in some}
    assert store.clip_sha256s([]) == {}
