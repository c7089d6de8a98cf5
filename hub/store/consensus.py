"""Votes and the consensus state per clip; labels in the order they came (for incremental
consensus)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from .base import StoreBase, chunks, marks
from .records import long_votes


class Consensus(StoreBase):
    def clip_votes(self, sha256: str) -> dict[str, int]:
        votes: dict[str, int] = {}
        for (raw,) in self.conn.execute(
            'SELECT "values" FROM labels WHERE clip = ? AND retracted = 0', (sha256,)
        ):
            for value in json.loads(raw):
                votes[value] = votes.get(value, 0) + 1
        return votes

    def consensus_state(
        self, labelled_only: bool = False, clips: Iterable[str] | None = None
    ) -> dict[str, tuple[int, str | None, float | None, int]]:
        """clip -> (labels, consensus, confidence, wanted votes) as stored now (only clips
        with a label if `labelled_only`: a big project's unlabelled million stay unread;
        only `clips` if given)."""
        sql = "SELECT sha256, n_labels, consensus, confidence, want FROM clips"
        if clips is not None:
            state: dict[str, tuple[int, str | None, float | None, int]] = {}
            for part in chunks(list(clips)):
                q = f"{sql} WHERE sha256 IN ({marks(len(part))})"
                for sha, n, label, conf, want in self.conn.execute(q, part):
                    state[sha] = (n, label, conf, want)
            return state
        where = " WHERE n_labels > 0" if labelled_only else ""
        return {
            sha: (n, label, conf, want)
            for sha, n, label, conf, want in self.conn.execute(sql + where)
        }

    def last_label_rowid(self) -> int:
        """A position in the labels' append order that every label stored so far is at or
        before (`labels_since` reads after it). SQLite: the newest label's row (labels are
        only appended, one writer at a time, so a reader that sees this row sees all before
        it). PostgreSQL: the oldest transaction still running, as `hub.store.pg.feed` reads."""
        if self.postgres:
            from .pg.feed import position

            return position(self.conn.raw)
        return int(self._one("SELECT coalesce(max(rowid), 0) FROM labels"))

    def labels_upto(self, upto: int | None, alias: str = "") -> str:
        """A condition (` AND …`, or "" for all) that keeps the labels at or before position
        `upto` (`last_label_rowid`); `alias`: the labels table's alias in the query."""
        if upto is None:
            return ""
        if self.postgres:  # a position of hub.store.pg.feed: transactions before it
            return f" AND {alias}txid < '{int(upto)}'::xid8"
        return f" AND {alias}rowid <= {int(upto)}"

    def labels_since(self, rowid: int) -> tuple[int, list[str], list[str], list[str]]:
        """(position reached, clips, operators, values): one vote per value of each label
        stored after position `rowid` and not retracted, in the order they came."""
        if self.postgres:
            from .pg.feed import labels_since

            return labels_since(self.conn.raw, rowid)
        rows = self.conn.execute(
            'SELECT rowid, clip, operator, "values" FROM labels WHERE rowid > ? '
            "AND retracted = 0 ORDER BY rowid",
            (rowid,),
        ).fetchall()
        # nothing new (or only retracted ones): look past those too
        last = rows[-1][0] if rows else max(rowid, self.last_label_rowid())
        tasks, workers, values = long_votes(row[1:] for row in rows)
        return last, tasks, workers, values

    def set_consensus(self, rows: Iterable[tuple[str | None, float, int, str]]) -> None:
        """(consensus, confidence, want, clip) per clip (PostgreSQL: in one statement)."""
        rows = list(rows)
        if not rows:
            return
        with self.transaction():
            if self.postgres:
                from .pg.consensus import set_consensus

                set_consensus(self.conn.piped, rows)
                return
            self.conn.executemany(
                "UPDATE clips SET consensus = ?, confidence = ?, want = ? WHERE sha256 = ?", rows
            )

    def clip_votes_many(self, clips: Iterable[str]) -> dict[str, dict[str, int]]:
        """`clip_votes` of several clips in one query per `IN_CHUNK` clips."""
        votes: dict[str, dict[str, int]] = {}
        elements = self.dialect.elements('l."values"')
        if self.postgres:  # per clip, a LATERAL lookup of its labels, planned for each call
            from .pg.labels import VOTES

            for clip, value, n in self.conn.piped.execute(VOTES, (list(clips),), prepare=False):
                votes.setdefault(clip, {})[value] = n
            return votes
        for part in chunks(list(clips)):
            for clip, value, n in self.conn.execute(
                f"SELECT l.clip, j.value, count(*) FROM labels l, {elements} j "
                f"WHERE l.clip IN ({marks(len(part))}) AND l.retracted = 0 "
                "GROUP BY l.clip, j.value",
                part,
            ):
                votes.setdefault(clip, {})[value] = n
        return votes
