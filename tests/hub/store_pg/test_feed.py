"""labels_since in commit order: a label whose transaction commits late is read once, later,
where a reader following `seq` would skip it for good."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from hub.store.pg.feed import labels_since, votes_by_seq_since

from .conftest import add_clips, insert_labels
from .test_labels import label


def by_seq(reader: psycopg.Connection, after: int = 0) -> tuple[int, list, list, list]:
    """`votes_by_seq_since` with the clips' seqs turned back into sha256s."""
    upto, seqs, workers, values = votes_by_seq_since(reader, after)
    sha = dict(reader.execute("SELECT seq, sha256 FROM clips").fetchall())
    return upto, [sha[s] for s in seqs], workers, values


@pytest.mark.parametrize("read", [labels_since, by_seq], ids=["sha256", "seq"])
def test_late_commit_neither_skipped_nor_repeated(
    pg_hub: str, read: Callable[..., tuple[int, list[Any], list[str], list[str]]]
) -> None:
    labels_since = read  # noqa: N806 - the same test for both readers
    clips = add_clips(pg_hub, 2, want=3)
    with (
        psycopg.connect(pg_hub) as a,
        psycopg.connect(pg_hub) as b,
        psycopg.connect(pg_hub, autocommit=True) as reader,
    ):
        start, *_ = labels_since(reader)
        with a.transaction():  # a's transaction stays open across what follows
            insert_labels(a, "ka", [label("op1", clips[0], "ja")])  # first seq
            insert_labels(b, "kb", [label("op2", clips[1], "nee")])  # second seq, committed

            # a reader following seq sees only b's label and moves past a's seq for good
            (last_seq,) = reader.execute("SELECT max(seq) FROM labels").fetchone()
            assert reader.execute("SELECT count(*) FROM labels").fetchone() == (1,)

            upto, tasks, _workers, _values = labels_since(reader, start)
            assert tasks == []  # b's label waits behind a's open transaction
        upto, tasks, workers, values = labels_since(reader, upto)
        assert (tasks, workers, values) == ([clips[0], clips[1]], ["op1", "op2"], ["ja", "nee"])
        assert labels_since(reader, upto)[1:] == ([], [], [])  # not twice

        missed = reader.execute("SELECT count(*) FROM labels WHERE seq > %s", (last_seq,))
        assert missed.fetchone() == (0,)  # the seq reader never gets a's label


def test_retracted_and_rolled_back_not_read(pg_hub: str) -> None:
    clips = add_clips(pg_hub, 2, want=3)
    with psycopg.connect(pg_hub) as w, psycopg.connect(pg_hub, autocommit=True) as reader:
        start = labels_since(reader)[0]
        keep, gone = label("op1", clips[0]), label("op2", clips[1])
        insert_labels(w, "k", [keep, gone])
        w.execute("UPDATE labels SET retracted = 1 WHERE uuid = %s", (gone.uuid,))
        w.commit()
        try:
            with w.transaction():
                insert_labels(w, "k", [label("op3", clips[1])])
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        upto, tasks, workers, _ = labels_since(reader, start)
        assert (tasks, workers) == ([clips[0]], ["op1"])
        assert upto > start
