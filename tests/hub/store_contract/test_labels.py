"""Label batches: idempotent by uuid, unknown clips refused alone, counters, retraction."""

from __future__ import annotations

import pytest

from hub.store import RETRY, STORED, UNKNOWN_CLIP
from hub.store.interface import HubStore

from .helpers import N, V, add_clips, add_operators, label, sha


def test_batch_stored_once_by_uuid(store: HubStore) -> None:
    clips = add_clips(store, 3, want=3)
    add_operators(store, 2)
    batch = [label("op1", c) for c in clips] + [label("op2", clips[0], N)]
    first = store.add_labels("k1", batch, now=5000.0)
    assert first.status == [STORED] * 4
    assert first.received_at == sorted(first.received_at)  # the batch's order is kept
    assert first.clips[clips[0]] == (None, 2)
    again = store.add_labels("k1", batch, now=6000.0)  # the kiosk resends: nothing changes
    assert again.status == [RETRY] * 4
    assert len(store.labels()) == 4
    assert [store.clip(c)["n_labels"] for c in clips] == [2, 1, 1]  # type: ignore[index]
    stored = {row["uuid"]: row for row in store.labels()}
    assert stored[batch[3].uuid]["values"] == [N]
    assert stored[batch[3].uuid]["kiosk"] == "k1"
    assert stored[batch[0].uuid]["received_at"] == pytest.approx(5000.0)


def test_duplicate_uuid_within_a_batch(store: HubStore) -> None:
    (clip,) = add_clips(store, 1)
    add_operators(store, 1)
    one = label("op1", clip)
    out = store.add_labels("k", [one, one])
    assert out.status == [STORED, RETRY]
    assert store.clip(clip)["n_labels"] == 1  # type: ignore[index]


def test_a_uuid_on_an_unknown_clip_then_on_a_known_one(store: HubStore) -> None:
    """The first of a uuid among the labels on known clips is the one stored, with its
    position's `received_at` and values."""
    (clip,) = add_clips(store, 1)
    add_operators(store, 1)
    bad = label("op1", sha("missing"), uuid="u-1")
    good, again = label("op1", clip, N, uuid="u-1"), label("op1", clip, V, uuid="u-1")
    out = store.add_labels("k", [bad, good, again], now=7000.0)
    assert out.status == [UNKNOWN_CLIP, STORED, RETRY]
    (row,) = store.labels()
    assert row["values"] == [N] and row["received_at"] == pytest.approx(7000.0 + 1e-6)
    assert store.clip(clip)["n_labels"] == 1  # type: ignore[index]


def test_unknown_clip_refused_alone(store: HubStore) -> None:
    (clip,) = add_clips(store, 1)
    add_operators(store, 1)
    good, bad = label("op1", clip), label("op1", sha("missing"))
    out = store.add_labels("k", [bad, good])
    assert out.status == [UNKNOWN_CLIP, STORED]
    assert [row["uuid"] for row in store.labels()] == [good.uuid]


def test_label_without_lease_blocks_reassignment(store: HubStore) -> None:
    """A label the hub had no open assignment for still counts, and the operator never
    gets that clip again."""
    clips = add_clips(store, 2, want=2)
    add_operators(store, 1)
    store.add_labels("k", [label("op1", clips[0])])
    _lease, _exp, got = store.assign("op1", "k", 5, 60.0)
    assert [c["sha256"] for c in got] == [clips[1]]


def test_retract(store: HubStore) -> None:
    (clip,) = add_clips(store, 1)
    add_operators(store, 2)
    mine = label("op1", clip)
    store.add_labels("k", [mine])
    assert not store.retract_label(mine.uuid, "op2")  # only its own operator
    assert store.retract_label(mine.uuid, "op1")
    assert not store.retract_label(mine.uuid, "op1")  # once
    assert store.labels() == []
    assert [r["uuid"] for r in store.labels(include_retracted=True)] == [mine.uuid]
    assert store.clip(clip)["n_labels"] == 0  # type: ignore[index]


def test_labels_since_a_position(store: HubStore) -> None:
    clips = add_clips(store, 2)
    add_operators(store, 2)
    start = store.last_label_rowid()
    store.add_labels("k", [label("op1", clips[0], V), label("op2", clips[0], N)])
    middle = store.last_label_rowid()
    assert middle > start
    store.add_labels("k", [label("op1", clips[1], N)])
    upto, tasks, workers, values = store.labels_since(start)
    assert (tasks, workers, values) == (
        [clips[0], clips[0], clips[1]],
        ["op1", "op2", "op1"],
        [V, N, N],
    )
    assert upto == store.last_label_rowid()
    assert store.labels_since(middle)[1:] == ([clips[1]], ["op1"], [N])
    assert store.labels_since(upto)[1:] == ([], [], [])


def test_decide_sets_consensus_with_the_counters(store: HubStore) -> None:
    (clip,) = add_clips(store, 1, want=2)
    add_operators(store, 2)
    seen: list[tuple[str, dict[str, int], int]] = []

    def decide(c: str, votes: dict[str, int], n: int) -> tuple[str | None, float, int]:
        seen.append((c, votes, n))
        return V, 0.9, 4

    store.add_labels("k", [label("op1", clip, V), label("op2", clip, V)], decide=decide)
    assert seen == [(clip, {V: 2}, 2)]
    assert store.consensus_state(clips=[clip]) == {clip: (2, V, 0.9, 4)}
    store.set_consensus([(N, 0.5, 3, clip)])
    assert store.consensus_state(labelled_only=True) == {clip: (2, N, 0.5, 3)}


def test_decide_sees_the_votes_after_the_batch(store: HubStore) -> None:
    """The votes `decide` gets count the labels stored before (a retracted one not), this
    batch's new ones once, and neither a retried uuid again nor another clip's labels."""
    clips = add_clips(store, 3, want=5)
    add_operators(store, 4)
    first = label("op1", clips[0], V)
    gone = label("op2", clips[0], N)
    store.add_labels("k", [first, gone, label("op1", clips[1], N)])
    assert store.retract_label(gone.uuid, "op2", kiosk="k")
    seen: dict[str, tuple[dict[str, int], int]] = {}

    def decide(c: str, votes: dict[str, int], n: int) -> None:
        seen[c] = (votes, n)

    again = label("op3", clips[0], N)
    batch = [first, again, again, label("op4", clips[0], N), label("op3", clips[2], V)]
    store.add_labels("k", batch, decide=decide)
    assert seen[clips[0]][0] == {V: 1, N: 2}
    assert seen[clips[2]][0] == {V: 1}
    assert clips[1] not in seen  # no new label there


def test_exposure_alerts_breaks(store: HubStore) -> None:
    clips = add_clips(store, 2)
    add_operators(store, 1)
    store.add_labels(
        "k", [label("op1", clips[0], seconds=30.0), label("op1", clips[1], seconds=60.0)]
    )
    assert store.exposure_minutes("op1", since=0.0) == pytest.approx(1.5)
    assert store.exposure_minutes("op1", since=2000.0) == 0.0  # created_at is 1000
    store.add_alert("a1", "op1", clips[0], "k", 1.0)
    store.add_alert("a1", "op1", clips[0], "k", 1.0)  # resent: no error
    assert store.add_break("b1", "op1", "k", 10.0, 300.0, True, "rest")
    assert not store.add_break("b1", "op1", "k", 10.0, 300.0, True, "rest")


def test_set_consensus_writes_each_row_and_only_those(store: HubStore) -> None:
    """A slice of the fit's rows is written as given (a consensus may be None); a clip the
    store does not hold is left out, the others untouched, and nothing is a no-op."""
    clips = add_clips(store, 4, want=3)
    store.set_consensus([])
    before = store.consensus_state(clips=clips)
    rows = [(V, 0.75, 4, clips[0]), (None, 0.5, 5, clips[1]), (N, 0.99, 3, sha(99))]
    rows += [(V, 0.6, 6, clips[3])]
    store.set_consensus(iter(rows))  # any iterable, read once
    after = store.consensus_state(clips=clips)
    assert after[clips[0]][1:] == (V, 0.75, 4)
    assert after[clips[1]][1:] == (None, 0.5, 5)
    assert after[clips[2]] == before[clips[2]]
    assert after[clips[3]][1:] == (V, 0.6, 6)
    assert store.clip(sha(99)) is None
