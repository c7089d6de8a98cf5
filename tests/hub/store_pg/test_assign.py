"""assign_work: two connections in two threads assigning the same clips never over-assign."""

from __future__ import annotations

import threading
from collections import Counter

import psycopg

from .conftest import add_clips, assign_work, holders


def test_assigns_free_clips_in_order_never_twice(pg_hub: str) -> None:
    clips = add_clips(pg_hub, 4, want=2)
    with psycopg.connect(pg_hub, autocommit=True) as conn:
        conn.execute("UPDATE clips SET priority = 1 WHERE sha256 = %s", (clips[2],))
        lease, expires, got = assign_work(conn, "op1", "k", 3, 60.0, exclude=[clips[1]])
        assert [c["sha256"] for c in got] == [clips[2], clips[0], clips[3]]
        assert conn.execute(
            "SELECT operator, kiosk, expires_at FROM leases WHERE id = %s", (lease,)
        ).fetchone() == ("op1", "k", expires)
        again = assign_work(conn, "op1", "k", 3, 60.0)[2]
        assert [c["sha256"] for c in again] == [clips[1]]  # the rest: never the same twice
        assert assign_work(conn, "op1", "k", 3, 60.0)[2] == []
        assert [h[4] for h in holders(conn)] == [1, 1, 1, 1]


def test_second_transaction_skips_locked_rows_without_waiting(pg_hub: str) -> None:
    """A holds its pick uncommitted; B, at the same moment, gets other clips at once."""
    clips = add_clips(pg_hub, 4, want=1)
    with psycopg.connect(pg_hub) as a, psycopg.connect(pg_hub) as b:
        b.execute("SET lock_timeout = '5s'")  # waiting would fail the test, not hang it
        with a.transaction():
            got_a = assign_work(a, "op1", "ka", 2, 60.0)[2]
            with b.transaction():
                got_b = assign_work(b, "op2", "kb", 4, 60.0)[2]
        assert [c["sha256"] for c in got_a] == clips[:2]
        assert [c["sha256"] for c in got_b] == clips[2:]
        assert assign_work(b, "op3", "kb", 4, 60.0)[2] == []  # all four taken, once each
        b.commit()
        assert all(h[3] == 1 and h[4] == 1 for h in holders(b))


def test_threads_never_over_assign(pg_hub: str) -> None:
    """Two connections (real threads) hand out 300 clips that want one holder each to 24
    operators at once, in rounds that start together: both look at the same free clips
    first, so without the row locks they would take the same ones."""
    clips = add_clips(pg_hub, 300, want=1)
    operators = [f"op{i}" for i in range(24)]
    given: list[list[tuple[str, str]]] = [[], []]
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run(i: int) -> None:
        try:
            with psycopg.connect(pg_hub, autocommit=True) as conn:
                for round_ in range(6):
                    for op in operators[(i + round_) % 2 :: 2]:
                        start.wait(timeout=30)
                        got = assign_work(conn, op, f"k{i}", 5, 60.0)[2]
                        given[i].extend((op, c["sha256"]) for c in got)
        except BaseException as exc:  # noqa: BLE001
            start.abort()
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    pairs = given[0] + given[1]
    per_clip = Counter(clip for _op, clip in pairs)
    assert len(given[0]) > 0 and len(given[1]) > 0
    assert max(per_clip.values()) == 1
    assert max(Counter(pairs).values()) == 1  # no operator got a clip twice
    with psycopg.connect(pg_hub, autocommit=True) as conn:
        # what a skipped row left free is still there: 720 asked, every one of the 300
        # slots given exactly once (a late sweep by two more operators takes the rest)
        late = [
            c["sha256"] for op in ("x1", "x2") for c in assign_work(conn, op, "k", 300, 60.0)[2]
        ]
    assert len(pairs) + len(late) == 300
    per_clip.update(late)
    with psycopg.connect(pg_hub) as conn:
        for sha, want, labels, open_, n_open in holders(conn):
            assert labels + open_ <= want
            assert n_open == open_ == per_clip.get(sha, 0)
    assert set(per_clip) <= set(clips)
