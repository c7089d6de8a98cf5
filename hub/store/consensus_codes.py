"""The consensus fit's reads with clips as their integer `seq`, not their sha256: a big
project's million labels then come out of the database as small integers (what the fit
encodes in O(n)), and a clip's sha256 is read only where a changed consensus is written."""

from __future__ import annotations

from collections.abc import Iterable

from .base import chunks, marks
from .consensus import Consensus
from .records import long_votes

#: Labels that count, with their clip's number (a join on `clips.sha256`, which is unique).
_VOTES = (
    'SELECT c.seq, l.operator, l."values" FROM labels l JOIN clips c ON c.sha256 = l.clip '
    "WHERE l.retracted = 0"
)

#: From this many clips on `clip_sha256s` reads a range of clips instead of lists of seqs.
_RANGE_FROM = 5_000

#: (clip seqs, operators, values), one vote per value of a label.
Votes = tuple[list[int], list[str], list[str]]

#: Stored consensus per clip as columns: seq, labels, consensus, confidence, wanted votes.
StateColumns = tuple[list[int], list[int], list[str | None], list[float | None], list[int]]


class ConsensusCodes(Consensus):
    def votes_by_seq(self, upto: int | None = None) -> Votes:
        """(clip seq, operator, value) per vote of every label that counts, in the order
        the labels were stored; `upto`: only labels up to that position
        (`last_label_rowid`)."""
        bound = self.labels_upto(upto, "l.")
        order = "l.seq" if self.postgres else "l.rowid"
        return long_votes(self.conn.execute(f"{_VOTES}{bound} ORDER BY {order}"))

    def votes_by_seq_since(self, position: int) -> tuple[int, list[int], list[str], list[str]]:
        """`labels_since` with each clip as its seq: (position reached, clip seqs,
        operators, values) of the labels stored after `position`."""
        if self.postgres:
            from .pg.feed import votes_by_seq_since

            return votes_by_seq_since(self.conn.raw, position)
        rows = self.conn.execute(
            f"{_VOTES.replace('SELECT ', 'SELECT l.rowid, ', 1)} AND l.rowid > ? ORDER BY l.rowid",
            (position,),
        ).fetchall()
        last = rows[-1][0] if rows else max(position, self.last_label_rowid())
        seqs, workers, values = long_votes(row[1:] for row in rows)
        return last, seqs, workers, values

    def gold_by_seq(self) -> dict[int, tuple[str, str]]:
        """seq -> (sha256, gold answer) of the clips with a gold answer."""
        return {
            seq: (sha, gold)
            for seq, sha, gold in self.conn.execute(
                "SELECT seq, sha256, gold FROM clips WHERE gold IS NOT NULL"
            )
        }

    def consensus_columns(
        self, labelled_only: bool = False, seqs: Iterable[int] | None = None
    ) -> StateColumns:
        """`consensus_state` as columns keyed by seq, in seq order (no sha256 read): only
        clips with a label if `labelled_only`, only `seqs` if given."""
        sql = "SELECT seq, n_labels, consensus, confidence, want FROM clips"
        if seqs is not None:
            rows = []
            for part in chunks(sorted(set(seqs))):
                rows += self.conn.execute(
                    f"{sql} WHERE seq IN ({marks(len(part))}) ORDER BY seq", part
                ).fetchall()
        else:
            where = " WHERE n_labels > 0" if labelled_only else ""
            rows = self.conn.execute(f"{sql}{where} ORDER BY seq").fetchall()
        if not rows:
            return [], [], [], [], []
        seq, n, label, conf, want = (list(col) for col in zip(*rows, strict=True))
        return seq, n, label, conf, want

    def clip_sha256s(self, seqs: Iterable[int]) -> dict[int, str]:
        """seq -> sha256 of the given clips (unknown seqs left out). Many clips (a first
        refresh writes every one) are read in one range scan of the primary key."""
        wanted = sorted(set(seqs))
        if len(wanted) > _RANGE_FROM:
            keep = set(wanted)
            rows = self.conn.execute(
                "SELECT seq, sha256 FROM clips WHERE seq BETWEEN ? AND ?", (wanted[0], wanted[-1])
            )
            return {seq: sha for seq, sha in rows if seq in keep}
        out: dict[int, str] = {}
        for part in chunks(wanted):
            out.update(
                self.conn.execute(
                    f"SELECT seq, sha256 FROM clips WHERE seq IN ({marks(len(part))})", part
                )
            )
        return out
