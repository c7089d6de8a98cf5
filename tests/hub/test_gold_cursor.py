"""Gold clips for an operator with a long history: each request looks on from the last gold
the operator got (the history is not scanned again), and still finds gold made later on
older clips."""

from __future__ import annotations

import hashlib
from pathlib import Path

from hub.store import Store

from .conftest import open_store


def sha(i: int) -> str:
    return hashlib.sha256(f"clip{i}".encode()).hexdigest()


def make(tmp_path: Path, clips: int = 60, golds: int = 30) -> Store:
    store = open_store(tmp_path / "hub.db")
    for i in range(clips):
        store.add_clip(sha(i), 10, 1.0, f"c{i}", want=3)
    for i in range(0, 2 * golds, 2):  # every other clip is gold, up to `golds` of them
        store.set_gold(sha(i), "gewelddadig")
    return store


def golds_of(store: Store, clips: list[dict]) -> list[int]:
    return [c["seq"] for c in clips if c["gold"] is not None]


def test_gold_comes_in_order_from_where_the_operator_left_off(tmp_path: Path) -> None:
    store = make(tmp_path)
    got: list[int] = []
    for _ in range(5):
        _lease, _exp, clips = store.assign("op1", "k", 4, 600.0, gold=2)
        got += golds_of(store, clips)
    assert got == sorted(got) and len(got) == len(set(got)) == 10
    # never twice, and a second operator starts from the beginning
    _lease, _exp, clips = store.assign("op2", "k", 4, 600.0, gold=2)
    assert golds_of(store, clips) == got[:2]


def test_the_gold_query_starts_at_the_operator_s_place_in_the_index(tmp_path: Path) -> None:
    store = make(tmp_path)
    seen: list[str] = []
    store.conn.set_trace_callback(seen.append)
    store.assign("op1", "k", 4, 600.0, gold=2)
    store.conn.set_trace_callback(None)
    (sql,) = [s for s in seen if "c.gold IS NOT NULL AND NOT EXISTS" in s]
    plan = " ".join(r[3] for r in store.conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
    assert "clips_gold (seq>?)" in plan, plan


def test_gold_made_later_on_an_older_clip_is_still_served(tmp_path: Path) -> None:
    store = make(tmp_path, clips=60, golds=5)  # gold: seq 1, 3, 5, 7, 9
    with store.transaction():  # seq 2 is finished by others: op1 never gets it as work
        store.conn.execute("UPDATE clips SET n_labels = 3 WHERE seq = 2")
    first: list[int] = []
    for _ in range(3):
        _lease, _exp, clips = store.assign("op1", "k", 3, 600.0, gold=1)
        first += golds_of(store, clips)
    assert first == [1, 3, 5]  # seq of clips 0, 2, 4
    store.set_gold(sha(1), "gewelddadig")  # seq 2: behind where op1 looks from now
    later: list[int] = []
    for _ in range(10):
        _lease, _exp, clips = store.assign("op1", "k", 3, 600.0, gold=1)
        later += golds_of(store, clips)
    assert 2 in later and not set(later) & set(first)
    assert len(later) == len(set(later))
