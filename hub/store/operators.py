"""Operators: the roster, PIN lock-out, sessions, training and gold history."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable
from typing import Any

from .base import StoreBase, chunks

LOCKOUT_AFTER = 5
LOCKOUT_BASE_SECONDS = 30.0


class Operators(StoreBase):
    def operator_history(self, operator_id: str) -> tuple[int, int, list[bool], bool]:
        """(labels since training, of those on gold, correct/wrong per gold answer oldest
        first, passed training)."""
        passed_at = float(
            self._one("SELECT passed_training FROM operators WHERE id = ?", [operator_id]) or 0
        )
        rows = self.conn.execute(
            'SELECT l."values", c.gold, l.received_at FROM labels l '
            "JOIN clips c ON c.sha256 = l.clip WHERE l.operator = ? AND l.retracted = 0 "
            "ORDER BY l.received_at",
            (operator_id,),
        ).fetchall()
        results = [json.loads(v) == [g] for v, g, _ in rows if g is not None]
        after = [g for _v, g, at in rows if passed_at and at > passed_at]
        gold_after = sum(1 for g in after if g is not None)
        return len(after), gold_after, results, passed_at > 0

    def set_passed_training(self, operator_id: str, at: float | None = None) -> None:
        """Mark training passed `at` (default now): labels received after it count."""
        with self.transaction():
            self.conn.execute(
                "UPDATE operators SET passed_training = ? WHERE id = ?",
                (time.time() if at is None else at, operator_id),
            )

    def add_operator(self, operator_id: str, name: str, pin_hash: str) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO operators (id, name, pin_hash, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET name = excluded.name, "
                "pin_hash = excluded.pin_hash, active = 1, failed = 0, locked_until = 0",
                (operator_id, name, pin_hash, time.time()),
            )

    def operator(self, operator_id: str) -> dict[str, Any] | None:
        rows = list(self._rows("SELECT * FROM operators WHERE id = ?", [operator_id]))
        return rows[0] if rows else None

    def operators(self) -> list[dict[str, Any]]:
        return list(self._rows("SELECT * FROM operators ORDER BY id"))

    def roster(self) -> list[tuple[str, str, str]]:
        return [
            (r["id"], r["name"], r["pin_hash"])
            for r in self._rows("SELECT * FROM operators WHERE active = 1 ORDER BY id")
        ]

    def set_operator_active(self, operator_id: str, active: bool) -> None:
        with self.transaction():
            self.conn.execute(
                "UPDATE operators SET active = ? WHERE id = ?", (int(active), operator_id)
            )

    def record_login(self, operator_id: str, ok: bool, now: float | None = None) -> float:
        """Count a login attempt; returns the time until which the operator is locked (0 = not)."""
        now = time.time() if now is None else now
        with self.transaction():
            if ok:
                self.conn.execute(
                    "UPDATE operators SET failed = 0, locked_until = 0 WHERE id = ?",
                    (operator_id,),
                )
                return 0.0
            # one atomic increment: two hub processes counting at once both count (a read
            # then a write would lose one under PostgreSQL's read committed)
            failed = self._one(
                "UPDATE operators SET failed = failed + 1 WHERE id = ? RETURNING failed",
                [operator_id],
            )
            if failed is None:  # no such operator
                return 0.0
            locked = 0.0
            if failed >= LOCKOUT_AFTER:
                locked = now + LOCKOUT_BASE_SECONDS * 2 ** (failed - LOCKOUT_AFTER)
                self.conn.execute(
                    "UPDATE operators SET locked_until = ? WHERE id = ?", (locked, operator_id)
                )
            return locked

    def log_session(self, operator_id: str, kiosk: str, kind: str) -> None:
        with self.transaction():
            self._log_event(operator_id, kiosk, kind, time.time())

    def _log_event(self, operator_id: str, kiosk: str, kind: str, at: float) -> None:
        self.conn.execute(
            "INSERT INTO sessions_log (operator, kiosk, kind, at) VALUES (?, ?, ?, ?)",
            (operator_id, kiosk, kind, at),
        )

    def end_session(self, kiosk_id: str, operator_id: str, at: float) -> float | None:
        """A logout of `operator_id` at `kiosk_id` at `at` (the kiosk's time), if that session
        is still open (`open_session`'s rule). The logout is logged at `at`, but not before
        the login as the session log has it (hours pair them in time order) and not after
        now. Returns the time logged; None, and nothing logged, when no such session is open
        (a logout sent again, or a session another login ended already)."""
        with self.transaction():
            login = self._open_login(kiosk_id, operator_id)
            if login is None:
                return None
            now = time.time()
            when = min(max(float(at), login[0]), now) if math.isfinite(at) else now
            self._log_event(operator_id, kiosk_id, "logout", when)
            return when

    def open_session(self, kiosk_id: str, operator_id: str, since: float = 0.0) -> float | None:
        """When the hub saw `operator_id` log in at `kiosk_id`, if that session is still open
        and that login is not older than `since`: the latest session event of this kiosk and
        of this operator is this operator's login at this kiosk (no logout since, no other
        operator's login at this kiosk, no login of this operator at another kiosk). None
        when it is not. The earlier of the two records of that login (the session log's, and
        `kiosk_logins`', which keeps an offline login's own time)."""
        login = self._open_login(kiosk_id, operator_id, since)
        return None if login is None else min(login)

    def _open_login(
        self, kiosk_id: str, operator_id: str, since: float = 0.0
    ) -> tuple[float, float] | None:
        """(the session log's time, `kiosk_logins`' time) of this operator's still open login
        at this kiosk (`open_session`'s rule), if `kiosk_logins`' is not older than `since`.

        `kiosk_logins` (keyed by kiosk and operator) answers first: the session log, not
        indexed by kiosk or operator, is read only for a recent login, newest event first,
        and the read stops at that login at the latest (not the whole log for a pair that
        never met)."""
        seen = self._one(
            "SELECT at FROM kiosk_logins WHERE kiosk = ? AND operator = ?", [kiosk_id, operator_id]
        )
        if seen is None or float(seen) < since:
            return None
        row = self.conn.execute(
            "SELECT kiosk, operator, kind, at FROM sessions_log "
            "WHERE kiosk = ? OR operator = ? ORDER BY id DESC LIMIT 1",
            (kiosk_id, operator_id),
        ).fetchone()
        if row is None or (row[0], row[1], row[2]) != (kiosk_id, operator_id, "login"):
            return None
        return float(row[3]), float(seen)

    def known_operators(self, operator_ids: Iterable[str]) -> set[str]:
        """Which of these operator ids exist (active or not). Operators are never deleted, so
        an id found once is not looked up again by this handle."""
        wanted = set(operator_ids)
        found = wanted & self._operators_seen
        for part in chunks(list(wanted - found)):
            found.update(
                o
                for (o,) in self.conn.execute(
                    f"SELECT id FROM operators WHERE id IN ({','.join('?' * len(part))})", part
                )
            )
        self._operators_seen.update(found)
        return found
