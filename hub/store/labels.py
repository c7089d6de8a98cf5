"""Labels (a batch in one commit), retractions, alerts and breaks."""

from __future__ import annotations

import json
import time
from typing import Any

from .base import chunks, marks
from .consensus import Consensus
from .records import RETRY, STORED, UNKNOWN_CLIP, BatchOutcome, Decide, NewLabel, label_row

#: A label row's columns as `Store.labels` gives them (the same on every backend).
LABEL_COLUMNS = (
    'uuid, operator, clip, kiosk, lease_id, schema_version, "values", segments, telemetry, '
    "created_at, received_at, retracted, review, site"
)


class Labels(Consensus):
    def add_labels(
        self,
        kiosk: str,
        labels: list[NewLabel],
        now: float | None = None,
        decide: Decide | None = None,
    ) -> BatchOutcome:
        """Store a batch of labels in one transaction: a uuid already stored (or earlier in
        the batch) is a retry and changes nothing; a label on an unknown clip is refused; the
        others are inserted, and per new label the clip's counters move (`n_labels` + 1,
        `n_open` - 1 when it fills an open slot of a work clip) and the operator's assignment
        becomes `labelled` (one is recorded for a label that came without: the operator never
        gets that clip again). Labels get increasing `received_at` (`now` + 1 µs per
        position) so their order is kept.

        `decide(clip, votes, n_labels)`, if given, is asked for each non-gold clip that got a
        new label, with its votes and label count after this batch, and returns (consensus,
        confidence, wanted votes) to store with the counters in the same row update (or None
        to leave them)."""
        now = time.time() if now is None else now
        received = [now + i * 1e-6 for i in range(len(labels))]
        with self.transaction():
            clips: dict[str, tuple[str | None, int]] = {}
            rowids: dict[str, int] = {}
            states: dict[tuple[str, str], str] | None = None
            votes_before: dict[str, dict[str, int]] | None = None  # before the batch
            shas = list({x.clip for x in labels})
            if self.postgres:  # clips, insert and assignment states in one statement
                from .pg.labels import store_batch

                rows = [label_row(x, kiosk, at) for x, at in zip(labels, received, strict=True)]
                votes_before = {} if decide is not None else None
                known, stored, states = store_batch(
                    self.conn.piped, self.site, shas, rows, votes=votes_before
                )
            else:
                known = self._known_clips(shas)
            for sha, gold, n, seq in known:
                clips[sha] = (gold, n)
                rowids[sha] = seq
            first: dict[str, int] = {}  # uuid -> its first position among known clips' labels
            for i, x in enumerate(labels):
                if x.clip in clips and x.uuid not in first:
                    first[x.uuid] = i
            if not self.postgres:
                stored = self._insert_labels(
                    kiosk, [(labels[i], received[i]) for i in first.values()]
                )
            status = [
                UNKNOWN_CLIP
                if x.clip not in clips
                else STORED
                if first[x.uuid] == i and x.uuid in stored
                else RETRY
                for i, x in enumerate(labels)
            ]
            new = [x for i, x in enumerate(labels) if status[i] == STORED]
            if not new:
                return BatchOutcome(status, received, clips)
            if states is None:
                states = self._assignment_states(new)
            d_labels: dict[str, int] = {}
            d_open: dict[str, int] = {}
            new_assignments: list[tuple[str, str, str, float]] = []
            labelled: list[tuple[str, str]] = []
            for x in new:
                key = (x.operator, x.clip)
                state = states.get(key)
                d_labels[x.clip] = d_labels.get(x.clip, 0) + 1
                if state == "open" and clips[x.clip][0] is None:
                    d_open[x.clip] = d_open.get(x.clip, 0) + 1
                if state is None:
                    # a label with no assignment (e.g. a lease the hub lost): record it so
                    # that the operator never gets this clip again
                    new_assignments.append((x.operator, x.clip, x.lease_id or "", now))
                elif state != "labelled":
                    labelled.append(key)
                states[key] = "labelled"
            decided: dict[str, tuple[str | None, float, int]] = {}
            if decide is not None:
                touched = [clip for clip in d_labels if clips[clip][0] is None]
                if votes_before is None:
                    after = self.clip_votes_many(touched)
                else:  # the votes read ahead of the insert, and this batch's new labels
                    after = {clip: dict(votes_before.get(clip, {})) for clip in touched}
                    for x in new:
                        if x.clip in after:
                            votes = after[x.clip]
                            for value in json.loads(x.values):
                                votes[value] = votes.get(value, 0) + 1
                    after = {clip: votes for clip, votes in after.items() if votes}
                for clip, votes in after.items():
                    verdict = decide(clip, votes, clips[clip][1] + d_labels[clip])
                    if verdict is not None:
                        decided[clip] = verdict
            # rows in one order (by seq) in every transaction: two hub processes updating the
            # same clips at once wait for each other instead of deadlocking
            counters = sorted(
                (
                    (n, d_open.get(clip, 0), rowids[clip])
                    for clip, n in d_labels.items()
                    if clip not in decided
                ),
                key=lambda c: c[2],
            )
            verdicts = sorted(
                (
                    (d_labels[clip], d_open.get(clip, 0), *verdict, rowids[clip])
                    for clip, verdict in decided.items()
                ),
                key=lambda c: c[-1],
            )
            if self.postgres:
                from .pg.labels import move_counters

                move_counters(self.conn.piped, counters, verdicts, new_assignments, labelled)
            else:
                self._move_counters(counters, verdicts, new_assignments, labelled)
        for clip, n in d_labels.items():
            gold, before = clips[clip]
            clips[clip] = (gold, before + n)
        return BatchOutcome(status, received, clips)

    def _known_clips(self, shas: list[str]) -> list[tuple[str, str | None, int, int]]:
        """(sha256, gold, n_labels, seq) of those of `shas` that are clips (SQLite; on
        PostgreSQL `hub.store.pg.labels.STORE` reads them with the insert)."""
        found: list[tuple[str, str | None, int, int]] = []
        for part in chunks(shas):
            found += self.conn.execute(
                f"SELECT sha256, gold, n_labels, seq FROM clips WHERE sha256 IN ({marks(len(part))})",
                part,
            ).fetchall()
        return found

    def _move_counters(
        self,
        counters: list[tuple[int, int, int]],
        verdicts: list[tuple[Any, ...]],
        new_assignments: list[tuple[str, str, str, float]],
        labelled: list[tuple[str, str]],
    ) -> None:
        """Clip counters (n, open slots filled, seq), the same with a consensus verdict
        (n, filled, consensus, confidence, want, seq), assignments recorded `labelled`
        (operator, clip, lease, at) and assignments that become `labelled`, row by row
        (SQLite: one writer, statements in process; `hub.store.pg.labels.move_counters` does
        the same on PostgreSQL in one statement each)."""
        if counters:
            self.conn.executemany(
                "UPDATE clips SET n_labels = n_labels + ?, n_open = n_open - ? WHERE seq = ?",
                counters,
            )
        if verdicts:
            self.conn.executemany(
                "UPDATE clips SET n_labels = n_labels + ?, n_open = n_open - ?, "
                "consensus = ?, confidence = ?, want = ? WHERE seq = ?",
                verdicts,
            )
        if new_assignments:
            self.conn.executemany(
                "INSERT INTO assignments (operator, clip, lease_id, assigned_at, state) "
                "VALUES (?, ?, ?, ?, 'labelled') ON CONFLICT DO NOTHING",
                new_assignments,
            )
        if labelled:
            self.conn.executemany(
                "UPDATE assignments SET state = 'labelled' WHERE operator = ? AND clip = ?",
                labelled,
            )

    def _insert_labels(self, kiosk: str, batch: list[tuple[NewLabel, float]]) -> set[str]:
        """Insert these labels (uuids distinct), skipping uuids already stored; returns the
        uuids inserted (SQLite, one writer; on PostgreSQL `hub.store.pg.labels.STORE`)."""
        if not batch:
            return set()
        rows = [label_row(x, kiosk, at) for x, at in batch]
        site = self.site
        seen: set[str] = set()  # one writer: look up, then insert the rest
        for part in chunks([x.uuid for x, _ in batch]):
            seen.update(
                u
                for (u,) in self.conn.execute(
                    f"SELECT uuid FROM labels WHERE uuid IN ({marks(len(part))})", part
                )
            )
        if seen:
            rows = [r for r in rows if r[0] not in seen]
        self.conn.executemany(
            "INSERT INTO labels (uuid, operator, clip, kiosk, lease_id, schema_version, "
            '"values", segments, telemetry, created_at, received_at, review, site) '
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*r, site) for r in rows],
        )
        return {r[0] for r in rows}

    def _assignment_states(self, new: list[NewLabel]) -> dict[tuple[str, str], str]:
        """(operator, clip) -> assignment state, for the pairs of these labels (SQLite; on
        PostgreSQL `hub.store.pg.labels.STORE` reads them with the insert, the rows locked to
        the end of the transaction)."""
        wanted: dict[str, set[str]] = {}
        for x in new:
            wanted.setdefault(x.operator, set()).add(x.clip)
        states: dict[tuple[str, str], str] = {}
        for operator in sorted(wanted):
            for part in chunks(sorted(wanted[operator])):
                states.update(
                    ((operator, clip), state)
                    for clip, state in self.conn.execute(
                        "SELECT clip, state FROM assignments WHERE operator = ? AND clip IN "
                        f"({marks(len(part))})",
                        [operator, *part],
                    )
                )
        return states

    def retract_label(self, uuid: str, operator: str, kiosk: str | None = None) -> bool:
        """Take back a label of `operator` (made at `kiosk`, when given)."""
        with self.transaction():
            row = self.conn.execute(
                "UPDATE labels SET retracted = 1 WHERE uuid = ? AND operator = ? AND retracted = 0"
                " AND (CAST(? AS TEXT) IS NULL OR kiosk = ?) RETURNING clip",
                (uuid, operator, kiosk, kiosk),
            ).fetchone()
            if row is None:
                return False
            (clip,) = row
            self.conn.execute("UPDATE clips SET n_labels = n_labels - 1 WHERE sha256 = ?", (clip,))
        return True

    def labels(self, include_retracted: bool = False) -> list[dict[str, Any]]:
        where = "" if include_retracted else "WHERE retracted = 0"
        rows = self._rows(f"SELECT {LABEL_COLUMNS} FROM labels {where} ORDER BY received_at, uuid")
        for row in rows:
            row["values"] = json.loads(row["values"])
            row["segments"] = json.loads(row["segments"])
            row["telemetry"] = json.loads(row["telemetry"])
        return rows

    def exposure_minutes(self, operator_id: str, since: float) -> float:
        """Minutes of clips shown to an operator since `since` (from label telemetry)."""
        value = self._one(
            f"SELECT coalesce(sum({self.dialect.number('telemetry', 'time_to_label_s')}), 0) "
            "FROM labels "
            "WHERE operator = ? AND created_at >= ?",
            [operator_id, since],
        )
        return float(value or 0.0) / 60.0

    def count_labels(self) -> int:
        return int(self._one("SELECT count(*) FROM labels WHERE retracted = 0"))

    def add_alert(self, uuid: str, operator: str, clip: str, kiosk: str, created_at: float) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO alerts (uuid, operator, clip, kiosk, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (uuid, operator, clip, kiosk, created_at),
            )

    def alerts(self) -> list[dict[str, Any]]:
        return self._rows("SELECT * FROM alerts ORDER BY created_at")

    def add_break(
        self,
        uuid: str,
        operator: str,
        kiosk: str,
        started_at: float,
        seconds: float,
        enforced: bool,
        kind: str = "",
    ) -> bool:
        """Record a break a kiosk reported; False when this uuid is already here (a resend)."""
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO breaks (uuid, operator, kiosk, started_at, seconds, "
                "enforced, kind, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (uuid, operator, kiosk, started_at, seconds, int(enforced), kind, time.time()),
            )
        return cur.rowcount == 1

    def breaks(self, operator: str | None = None) -> list[dict[str, Any]]:
        where, params = ("WHERE operator = ?", [operator]) if operator else ("", [])
        return self._rows(f"SELECT * FROM breaks {where} ORDER BY started_at", params)
