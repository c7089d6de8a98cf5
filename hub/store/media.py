"""Source videos and clips (what there is to label)."""

from __future__ import annotations

import time
from typing import Any

from .base import StoreBase


class Media(StoreBase):
    def has_source(self, sha256: str) -> bool:
        return self._one("SELECT 1 FROM sources WHERE sha256 = ?", [sha256]) is not None

    def add_source(self, sha256: str, name: str, path: str, duration: float, size: int) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (sha256, name, path, duration, size, time.time()),
            )

    def add_clip(
        self,
        sha256: str,
        size: int,
        duration: float,
        name: str,
        *,
        want: int,
        source_sha256: str | None = None,
        source_name: str | None = None,
        start: float = 0.0,
        end: float | None = None,
        gold: str | None = None,
    ) -> bool:
        """Add a clip; False if a clip with these bytes is already there."""
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO clips (sha256, size, duration, name, source_sha256, "
                'source_name, start, "end", gold, want, added_at) '
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (
                    sha256,
                    size,
                    duration,
                    name,
                    source_sha256,
                    source_name,
                    start,
                    duration if end is None else end,
                    gold,
                    want,
                    time.time(),
                ),
            )
        return cur.rowcount == 1

    def clip(self, sha256: str) -> dict[str, Any] | None:
        rows = list(self._rows("SELECT * FROM clips WHERE sha256 = ?", [sha256]))
        return rows[0] if rows else None

    def clips(self) -> list[dict[str, Any]]:
        return list(self._rows("SELECT * FROM clips ORDER BY seq"))

    def set_gold(self, sha256: str, answer: str | None, want: int = 0) -> bool:
        """Make a clip gold (a known answer: not work, `want` 0) or ordinary again."""
        with self.transaction():
            cur = self.conn.execute(
                "UPDATE clips SET gold = ?, want = ? WHERE sha256 = ?",
                (answer, 0 if answer is not None else want, sha256),
            )
        return cur.rowcount == 1

    def has_gold(self) -> bool:
        # written as the partial index clips_gold is (WHERE gold IS NOT NULL, by seq), so
        # that both engines read that index, empty without gold, and never the clips table
        # (PostgreSQL without statistics on a just-filled table would scan it)
        return (
            self._one("SELECT 1 FROM clips WHERE gold IS NOT NULL ORDER BY seq LIMIT 1") is not None
        )
