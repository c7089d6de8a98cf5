"""Transactions: a group commits together, a failed inner part rolls back alone, a failed
group leaves nothing; what was committed is there for a handle opened later."""

from __future__ import annotations

import pytest

from hub.store.interface import HubStore

from .conftest import StoreFactory
from .helpers import add_clips, add_operators, label


class Boom(Exception):
    pass


def test_inner_failure_rolls_back_alone(store: HubStore) -> None:
    clips = add_clips(store, 2)
    add_operators(store, 1)
    with store.transaction():
        store.add_labels("k", [label("op1", clips[0])])
        with pytest.raises(Boom):
            with store.transaction():
                store.add_labels("k", [label("op1", clips[1])])
                raise Boom
    assert [row["clip"] for row in store.labels()] == [clips[0]]
    assert store.clip(clips[1])["n_labels"] == 0  # type: ignore[index]


def test_outer_failure_leaves_nothing(store: HubStore) -> None:
    clips = add_clips(store, 2, want=1)
    add_operators(store, 1)
    with pytest.raises(Boom):
        with store.transaction():
            store.add_labels("k", [label("op1", clips[0])])
            assert store.assign("op1", "k", 2, 60.0)[2]
            raise Boom
    assert store.labels() == []
    # the lease went too: both clips free again, for the same operator as well
    assert len(store.assign("op1", "k", 2, 60.0)[2]) == 2


def test_committed_state_seen_by_a_later_handle(store_factory: StoreFactory) -> None:
    first = store_factory.open()
    clips = add_clips(first, 3, want=1)
    add_operators(first, 2)
    lease, _exp, got = first.assign("op1", "k", 2, 600.0)
    first.add_labels("k", [label("op1", got[0]["sha256"], lease=lease)])
    first.close()
    later = store_factory.open()
    assert len(later.labels()) == 1
    assert later.assign("op1", "k", 5, 60.0)[2][0]["sha256"] == clips[2]  # no repeat
    assert later.assign("op2", "k", 5, 60.0)[2] == []  # 1 label, 1 open lease, 1 given
