"""Assignment: never more holders than a clip wants, never the same clip twice to one
operator, leases that expire and free their slots, gold mixed in."""

from __future__ import annotations

import threading
import time
from collections import Counter

from hub.store.interface import HubStore

from .conftest import StoreFactory
from .helpers import V, add_clips, add_operators, label


def shas(clips: list[dict]) -> list[str]:
    return [c["sha256"] for c in clips]


def test_never_over_assigned(store: HubStore) -> None:
    clips = add_clips(store, 10, want=2)
    ops = add_operators(store, 5)
    given: Counter[str] = Counter()
    for op in ops:
        _lease, expires, got = store.assign(op, "k", 6, 60.0)
        assert expires > time.time()
        assert len(set(shas(got))) == len(got)
        given.update(shas(got))
    assert set(given) == set(clips)
    assert max(given.values()) == 2 and sum(given.values()) == 20  # every slot, none twice
    _lease, _exp, more = store.assign("op5", "k", 6, 60.0)
    assert more == []


def test_labels_fill_slots_and_no_repeat(store: HubStore) -> None:
    clips = add_clips(store, 3, want=2)
    add_operators(store, 3)
    lease, _exp, got = store.assign("op1", "k", 3, 60.0)
    assert shas(got) == clips  # oldest first
    store.add_labels("k", [label("op1", c, lease=lease) for c in clips])
    # op1 had them all: nothing again for op1, though every clip still wants a vote
    assert store.assign("op1", "k", 3, 60.0)[2] == []
    assert sorted(shas(store.assign("op2", "k", 3, 60.0)[2])) == sorted(clips)
    assert store.assign("op3", "k", 3, 60.0)[2] == []  # 1 label + 1 open lease = want 2


def test_exclude(store: HubStore) -> None:
    clips = add_clips(store, 3)
    add_operators(store, 1)
    _lease, _exp, got = store.assign("op1", "k", 3, 60.0, exclude=[clips[0]])
    assert shas(got) == clips[1:]


def test_expired_lease_frees_slot_for_others_only(store: HubStore) -> None:
    clips = add_clips(store, 2, want=1)
    add_operators(store, 2)
    _lease, expires, got = store.assign("op1", "k", 2, 30.0)
    assert shas(got) == clips
    assert store.assign("op2", "k", 2, 30.0)[2] == []
    assert store.expire_leases(now=expires - 1) == 0
    assert store.expire_leases(now=expires + 1) == 2
    assert store.expire_leases(now=expires + 2) == 0  # once
    assert store.assign("op1", "k", 2, 30.0)[2] == []  # never the same clip twice
    assert shas(store.assign("op2", "k", 2, 30.0)[2]) == clips


def test_late_label_on_expired_lease_counts(store: HubStore) -> None:
    (clip,) = add_clips(store, 1, want=1)
    add_operators(store, 2)
    lease, expires, _ = store.assign("op1", "k", 1, 30.0)
    store.expire_leases(now=expires + 1)
    store.add_labels("k", [label("op1", clip, lease=lease)])
    assert store.clip(clip)["n_labels"] == 1  # type: ignore[index]
    assert store.assign("op2", "k", 1, 30.0)[2] == []  # it has its one vote


def test_gold_mixed_in_and_alone_in_training(store: HubStore) -> None:
    work = add_clips(store, 6, want=3)
    golds = add_clips(store, 2, want=3, start=100)
    for g in golds:
        store.set_gold(g, V)
    add_operators(store, 3)
    _l, _e, got = store.assign("op1", "k", 4, 60.0, gold=1)
    assert len(got) == 4
    assert sum(c["gold"] is not None for c in got) == 1
    _l, _e, trained = store.assign("op2", "k", 4, 60.0, training=True)
    assert sorted(shas(trained)) == sorted(golds)
    _l, _e, plain = store.assign("op3", "k", 10, 60.0)
    assert sorted(shas(plain)) == sorted(work)  # gold=0: no gold


def test_no_gold_without_work(store: HubStore) -> None:
    (g,) = add_clips(store, 1, start=100)
    store.set_gold(g, V)
    add_operators(store, 1)
    assert store.assign("op1", "k", 4, 60.0, gold=2)[2] == []


def test_two_handles_in_threads_never_over_assign(store_factory: StoreFactory) -> None:
    """Two handles on one database (as two hub processes would have) assign at once."""
    setup = store_factory.open()
    clips = add_clips(setup, 40, want=2)
    ops = add_operators(setup, 8)
    given: list[Counter[str]] = [Counter(), Counter()]
    per_op: list[list[tuple[str, list[str]]]] = [[], []]
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run(i: int) -> None:
        handle = store_factory.open(closed_by_test=True)
        try:
            barrier.wait()
            for op in ops[i::2] + ops[1 - i :: 2]:  # both handles serve every operator
                got = shas(handle.assign(op, f"k{i}", 7, 60.0)[2])
                given[i].update(got)
                per_op[i].append((op, got))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            handle.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    total = given[0] + given[1]
    assert max(total.values()) <= 2
    # whatever the threads left is still there for others: no slot lost, none doubled
    extra = Counter(shas(setup.assign("x1", "k", 40, 60.0)[2]))
    extra += Counter(shas(setup.assign("x2", "k", 40, 60.0)[2]))
    assert max((total + extra).values()) == 2 and sum((total + extra).values()) == 80
    seen: Counter[tuple[str, str]] = Counter(
        (op, c) for part in per_op for op, got in part for c in got
    )
    assert max(seen.values()) == 1  # no operator got a clip twice
    assert set(total) == set(clips)
