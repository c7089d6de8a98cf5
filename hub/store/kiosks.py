"""Kiosks: pairing codes, keys, what each kiosk reports, logins seen, refused messages."""

from __future__ import annotations

import secrets
import time
from typing import Any

from .base import StoreBase
from .records import StoreError

#: Pairing codes: open for five minutes unless staff say otherwise (at most a day), six
#: digits unless staff ask for more.
PAIR_CODE_TTL = 300.0
MAX_PAIR_CODE_TTL = 86400.0
MIN_CODE_DIGITS, MAX_CODE_DIGITS = 6, 12


class Kiosks(StoreBase):
    def create_pair_code(
        self, ttl: float = PAIR_CODE_TTL, digits: int = 6, kiosk: str | None = None
    ) -> str:
        """A one-time code of `digits` digits, open for `ttl` seconds, for this site's hub
        (another site's hub refuses it). With `kiosk`, it re-pairs that kiosk id (with a new
        key) and pairs nothing else."""
        if not MIN_CODE_DIGITS <= digits <= MAX_CODE_DIGITS:
            raise StoreError(f"a pairing code has {MIN_CODE_DIGITS} to {MAX_CODE_DIGITS} digits")
        if ttl > MAX_PAIR_CODE_TTL:
            raise StoreError(f"a pairing code lives up to {MAX_PAIR_CODE_TTL:.0f} seconds")
        code = f"{secrets.randbelow(10**digits):0{digits}d}"
        now, site = time.time(), self.site
        with self.transaction():
            self.conn.execute(
                "INSERT INTO pair_codes (code, created_at, expires_at, kiosk, site) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(code) DO UPDATE SET "
                "created_at = excluded.created_at, expires_at = excluded.expires_at, "
                "kiosk = excluded.kiosk, site = excluded.site, used_by = NULL, used_at = NULL",
                (code, now, now + ttl, kiosk, site),
            )
        return code

    def use_pair_code(self, code: str, kiosk_id: str, public_key: str | None = None) -> bool:
        return self.claim_pair_code(code, kiosk_id, public_key) == ""

    def claim_pair_code(self, code: str, kiosk_id: str, public_key: str | None = None) -> str:
        """Pair `kiosk_id` with `public_key` using `code`. Returns '' when paired, else why
        not: 'wrong' (no such open code), 'in_use' (the kiosk id is paired with another key
        and the code is not one staff made for re-pairing it), 'other_kiosk' (the code
        re-pairs another kiosk id). Only 'wrong' is a guess; the others leave the code open."""
        now, site = time.time(), self.site
        with self.transaction():
            row = self.conn.execute(
                "SELECT kiosk FROM pair_codes WHERE code = ? AND used_by IS NULL "
                "AND expires_at > ? AND (site IS NULL OR site = ?)",
                (code, now, site),
            ).fetchone()
            if row is None:
                return "wrong"
            for_kiosk = row[0]
            if for_kiosk is not None and for_kiosk != kiosk_id:
                return "other_kiosk"
            existing = self.kiosk(kiosk_id)
            if (
                for_kiosk is None
                and existing is not None
                and existing["active"]
                and (existing["public_key"] or "") != (public_key or "")
            ):
                return "in_use"
            self.conn.execute(
                "UPDATE pair_codes SET used_by = ?, used_at = ? WHERE code = ?",
                (kiosk_id, now, code),
            )
            self.pair_kiosk(kiosk_id, public_key)
        return ""

    def withdraw_pair_codes(self, now: float | None = None) -> int:
        """Expire every open pairing code (too many wrong codes were tried). Returns how many."""
        now = time.time() if now is None else now
        with self.transaction():
            cur = self.conn.execute(
                "UPDATE pair_codes SET expires_at = ? WHERE used_by IS NULL AND expires_at > ?",
                (now, now),
            )
        return cur.rowcount

    def pair_kiosk(self, kiosk_id: str, public_key: str | None = None) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO kiosks (id, paired_at, public_key, site) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET active = 1, public_key = excluded.public_key, "
                "site = excluded.site",
                (kiosk_id, time.time(), public_key, self.site),
            )

    def unpair_kiosk(self, kiosk_id: str) -> None:
        with self.transaction():
            self.conn.execute("UPDATE kiosks SET active = 0 WHERE id = ?", (kiosk_id,))

    def is_key_paired(self, public_key: str) -> bool:
        return (
            self._one("SELECT 1 FROM kiosks WHERE public_key = ? AND active = 1", [public_key])
            is not None
        )

    def kiosk(self, kiosk_id: str) -> dict[str, Any] | None:
        rows = list(self._rows("SELECT * FROM kiosks WHERE id = ?", [kiosk_id]))
        return rows[0] if rows else None

    def is_paired(self, kiosk_id: str) -> bool:
        return bool(self._one("SELECT active FROM kiosks WHERE id = ?", [kiosk_id]))

    def kiosk_seen(
        self,
        kiosk_id: str,
        *,
        version: str | None = None,
        operator: str | None = None,
        outbox: int | None = None,
        cache_bytes: int | None = None,
    ) -> None:
        report: dict[str, Any] = {"last_seen": time.time()}
        for column, value in (
            ("version", version),
            ("operator", operator),
            ("outbox", outbox),
            ("cache_bytes", cache_bytes),
        ):
            if value is not None:
                report[column] = value
        if self.postgres and self._writing:
            # noted now, written with the transaction's COMMIT (no round trip of its own)
            self._seen.setdefault(kiosk_id, {}).update(report)
            return
        report["site"] = self.site  # a kiosk may move to another site's hub
        sets = ", ".join(f"{column} = ?" for column in report)
        with self.transaction():
            self.conn.execute(
                f"UPDATE kiosks SET {sets} WHERE id = ?", [*report.values(), kiosk_id]
            )

    def note_kiosk_login(self, kiosk_id: str, operator: str, at: float | None = None) -> float:
        """The hub has seen `operator` log in at `kiosk_id` (online, or a proven offline one).
        Returns the latest such login now on record (an older `at` does not move it back)."""
        with self.transaction():
            (latest,) = self.conn.execute(
                "INSERT INTO kiosk_logins (kiosk, operator, at) VALUES (?, ?, ?) "
                "ON CONFLICT(kiosk, operator) DO UPDATE SET "
                f"at = {self.dialect.greatest}(kiosk_logins.at, excluded.at) RETURNING at",
                (kiosk_id, operator, time.time() if at is None else at),
            ).fetchone()
        return float(latest)

    def kiosk_login_at(self, kiosk_id: str, operator: str) -> float | None:
        """When the hub last saw `operator` log in at `kiosk_id` (None: never)."""
        return self._one(
            "SELECT at FROM kiosk_logins WHERE kiosk = ? AND operator = ?", [kiosk_id, operator]
        )

    def refuse(self, kiosk_id: str, reason: str, detail: str = "", n: int = 1) -> None:
        """Count `n` messages from a kiosk the hub refused for `reason` (shown to staff)."""
        with self.transaction():
            self.conn.execute(
                "INSERT INTO refusals (kiosk, reason, n, last_at, last_detail) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(kiosk, reason) DO UPDATE SET "
                "n = refusals.n + excluded.n, last_at = excluded.last_at, "
                "last_detail = excluded.last_detail",
                (kiosk_id, reason, n, time.time(), detail[:200]),
            )

    def refusals(self) -> list[dict[str, Any]]:
        return list(self._rows("SELECT * FROM refusals ORDER BY last_at DESC"))

    def kiosks(self) -> list[dict[str, Any]]:
        return list(self._rows("SELECT * FROM kiosks ORDER BY id"))
