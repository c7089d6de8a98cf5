"""Handing out work: leases on clips, gold mixed in, expiry of leases."""

from __future__ import annotations

import time
import uuid as uuidlib
from collections.abc import Iterable
from typing import Any

from .base import StoreBase


class Work(StoreBase):
    def expire_leases(self, now: float | None = None) -> int:
        """Free the open slots of expired leases; late labels on them still count.

        Only leases that expired since the last sweep are looked at (a range of
        `leases_expiry`), not every open assignment: this runs on the RequestWork path."""
        now = time.time() if now is None else now
        with self.transaction():
            if self._swept_to is None:
                rows = self.conn.execute(
                    "SELECT a.operator, a.clip FROM assignments a "
                    "JOIN leases l ON l.id = a.lease_id "
                    "WHERE a.state = 'open' AND l.expires_at <= ?",
                    (now,),
                ).fetchall()
            else:
                rows = self.conn.execute(
                    "SELECT a.operator, a.clip FROM leases l JOIN assignments a "
                    "ON a.lease_id = l.id AND a.state = 'open' "
                    "WHERE l.expires_at > ? AND l.expires_at <= ?",
                    (self._swept_to, now),
                ).fetchall()
            freed = 0
            # `AND state = 'open'`: another hub process on the same database may expire (or
            # a label fill) the same assignment at this moment; only the one whose update
            # changed the row frees the slot. Rows in one order against deadlocks.
            for operator_id, clip in sorted(rows):
                cur = self.conn.execute(
                    "UPDATE assignments SET state = 'expired' WHERE operator = ? AND clip = ? "
                    "AND state = 'open'",
                    (operator_id, clip),
                )
                if cur.rowcount != 1:
                    continue
                freed += 1
                self.conn.execute(
                    "UPDATE clips SET n_open = n_open - 1 WHERE sha256 = ? AND gold IS NULL",
                    (clip,),
                )
            self._swept_to = max(now, self._swept_to or now)
        return freed

    def _unseen(
        self, sql: str, operator_id: str, count: int, excluded: set[str], *more: Any
    ) -> list[dict[str, Any]]:
        chosen: list[dict[str, Any]] = []
        if count <= 0:
            return chosen
        params: tuple[Any, ...] = (operator_id, *more)
        if self.postgres:  # psycopg reads the whole result at once: only what may be taken
            sql, params = f"{sql} LIMIT ?", (*params, count + len(excluded))
        cursor = self.conn.execute(sql, params)
        cols = [d[0] for d in cursor.description]
        for row in cursor:
            record = dict(zip(cols, row, strict=True))
            if record["sha256"] in excluded:
                continue
            chosen.append(record)
            if len(chosen) >= count:
                break
        return chosen

    _GOLD_UNSEEN = (
        "SELECT c.* FROM clips c WHERE c.gold IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
        "assignments a WHERE a.operator = ? AND a.clip = c.sha256) AND c.seq {} ? ORDER BY c.seq"
    )

    def _unseen_gold(
        self, operator_id: str, count: int, excluded: set[str]
    ) -> list[dict[str, Any]]:
        """Gold clips this operator never had, in `seq` order from just after the last one it
        got (then from the start): each request looks at the gold it has not been past yet,
        instead of walking past every gold clip it has seen since its first day."""
        start = self._gold_from.get(operator_id, 0)
        golds = self._unseen(self._GOLD_UNSEEN.format(">="), operator_id, count, excluded, start)
        if len(golds) < count and start > 0:  # wrap around: gold added or skipped earlier
            more = self._unseen(
                self._GOLD_UNSEEN.format("<"), operator_id, count - len(golds), excluded, start
            )
            golds += more
        if golds:
            self._gold_from[operator_id] = golds[-1]["seq"] + 1
        return golds

    def assign(
        self,
        operator_id: str,
        kiosk_id: str,
        count: int,
        lease_seconds: float,
        exclude: Iterable[str] = (),
        gold: int = 0,
        training: bool = False,
    ) -> tuple[str, float, list[dict[str, Any]]]:
        """Lease up to `count` clips this operator has never had: work clips that still want
        votes, with `gold` gold clips mixed in (only gold while `training`).
        Returns (lease, expiry, clips)."""
        now = time.time()
        lease_id = str(uuidlib.uuid4())
        expires = now + lease_seconds
        excluded = set(exclude)
        if self.postgres and not training:
            return self._assign_postgres(
                operator_id, kiosk_id, count, now, expires, lease_id, excluded, gold
            )
        with self.transaction():
            work: list[dict[str, Any]] = []
            if not training:
                work = self._unseen(
                    # written as the partial index clips_free_priority is, so SQLite uses it:
                    # most urgent (model priority) first, then oldest
                    "SELECT c.* FROM clips c WHERE c.n_labels + c.n_open - c.want < 0 "
                    "AND c.gold IS NULL AND NOT EXISTS (SELECT 1 FROM assignments a "
                    "WHERE a.operator = ? AND a.clip = c.sha256) "
                    "ORDER BY c.priority DESC, c.seq",
                    operator_id,
                    count,
                    excluded,
                )
            golds: list[dict[str, Any]] = []
            if training or work:  # no gold without real work to go with it
                golds = self._unseen_gold(operator_id, count if training else gold, excluded)
            work = work[: count - len(golds)]  # gold takes its share; work fills the rest
            chosen = self._spread(work, golds)
            if not chosen:
                return lease_id, expires, []
            self._lease(operator_id, kiosk_id, lease_id, now, expires, chosen)
            # by rowid: one B-tree descent fewer per clip than through the sha256 index
            self.conn.executemany(
                "UPDATE clips SET n_open = n_open + 1 WHERE seq = ?",
                [(record["seq"],) for record in chosen if record["gold"] is None],
            )
        return lease_id, expires, chosen

    def _assign_postgres(
        self,
        operator_id: str,
        kiosk_id: str,
        count: int,
        now: float,
        expires: float,
        lease_id: str,
        excluded: set[str],
        gold: int,
    ) -> tuple[str, float, list[dict[str, Any]]]:
        """`assign` (not training) where several hub processes hand out work at once: the
        gold share is chosen first (reads), then one statement picks the work clips and takes
        their slots (`hub.store.pg.work.PICK`: FOR UPDATE SKIP LOCKED, only as many as are
        kept) and writes the lease and the assignments."""
        from .pg.work import has_work

        golds = self._unseen_gold(operator_id, min(gold, count), excluded) if gold > 0 else []
        need = count - len(golds)
        # gold without work only when the gold fills the whole request and work is there
        alone = bool(golds) and need <= 0 and has_work(self.conn.piped, operator_id)
        work = self._lease_work_once(
            operator_id,
            kiosk_id,
            max(need, 0),
            excluded,
            (lease_id, now, expires),
            [g["sha256"] for g in golds],
            alone,
        )
        if not work and not alone:
            golds = []  # no gold without real work to go with it
        chosen = self._spread(work, golds)
        if chosen and self._swept_to is not None and expires <= self._swept_to:
            self._swept_to = None  # swept ahead of the clock (tests): sweep it all again
        return lease_id, expires, chosen

    def _lease_work_once(self, operator_id: str, *args: Any) -> list[dict[str, Any]]:
        """`hub.store.pg.work.lease_work` in a savepoint, run a second time if it clashed with
        a request for the same operator that another hub process committed meanwhile: the
        pick's snapshot is taken when the statement starts, so it cannot see that
        assignment, and the primary key of `assignments` refuses the second one. The second
        run's snapshot sees it. Nothing is ever assigned twice; the clash costs one retry."""
        import psycopg

        from .pg.work import lease_work

        try:
            with self.transaction():
                return lease_work(self.conn.piped, operator_id, *args)
        except psycopg.errors.UniqueViolation:
            with self.transaction():
                return lease_work(self.conn.piped, operator_id, *args)

    @staticmethod
    def _spread(work: list[dict[str, Any]], golds: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Gold at spread positions among the work, not all at the end."""
        chosen = work + golds
        if golds and work:
            step = max(1, len(chosen) // (len(golds) + 1))
            chosen = list(work)
            for i, g in enumerate(golds):
                chosen.insert(min(len(chosen), (i + 1) * step + i), g)
        return chosen

    def _lease(
        self,
        operator_id: str,
        kiosk_id: str,
        lease_id: str,
        now: float,
        expires: float,
        chosen: list[dict[str, Any]],
    ) -> None:
        """The lease row and one open assignment per chosen clip."""
        if not chosen:
            return
        self.conn.execute(
            "INSERT INTO leases (id, operator, kiosk, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (lease_id, operator_id, kiosk_id, now, expires),
        )
        if self._swept_to is not None and expires <= self._swept_to:
            self._swept_to = None  # swept ahead of the clock (tests): sweep it all again
        self.conn.executemany(
            "INSERT INTO assignments (operator, clip, lease_id, assigned_at, state) "
            "VALUES (?, ?, ?, ?, 'open')",
            [(operator_id, record["sha256"], lease_id, now) for record in chosen],
        )

    def open_assignments(self, operator_id: str) -> list[dict[str, Any]]:
        """Clips leased to this operator, not yet labelled, lease still running."""
        return list(
            self._rows(
                "SELECT c.*, a.lease_id, l.expires_at FROM assignments a "
                "JOIN clips c ON c.sha256 = a.clip JOIN leases l ON l.id = a.lease_id "
                "WHERE a.operator = ? AND a.state = 'open' AND l.expires_at > ? "
                "ORDER BY a.assigned_at, c.seq",
                [operator_id, time.time()],
            )
        )
