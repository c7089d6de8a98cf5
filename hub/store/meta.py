"""Site metadata and the project's versions."""

from __future__ import annotations

import secrets
import time

from .base import StoreBase


class Meta(StoreBase):
    def meta(self, key: str, default: str | None = None) -> str | None:
        value = self._one("SELECT value FROM meta WHERE key = ?", [key])
        return default if value is None else value

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def meta_once(self, key: str, value: str) -> str:
        """The value stored under `key`, storing `value` first if there is none (two
        processes at once: both get the one stored first)."""
        with self.transaction():
            self.conn.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING",
                (key, value),
            )
            stored = self._one("SELECT value FROM meta WHERE key = ?", [key])
        return str(stored)

    def hub_id(self) -> str:
        hub_id = self.meta("hub_id")
        if hub_id is None:
            hub_id = self.meta_once("hub_id", "hub-" + secrets.token_hex(4))
        return hub_id

    def sites(self) -> list[str]:
        """Every site that has stored a label or seen a kiosk, and this one, sorted."""
        found = {
            str(s)
            for (s,) in self.conn.execute(
                "SELECT DISTINCT site FROM labels UNION SELECT DISTINCT site FROM kiosks"
            )
        }
        return sorted((found | {self.site}) - {""})

    # ---- project -------------------------------------------------------------------------

    def project_version(self, name: str, toml_text: str, schema_json: str) -> int:
        """The version number of this project text; a changed text gets the next number."""
        row = self.conn.execute(
            "SELECT version, toml FROM project_versions ORDER BY version DESC LIMIT 1"
        ).fetchone()
        if row is not None and row[1] == toml_text:
            return int(row[0])
        version = 1 if row is None else int(row[0]) + 1
        with self.transaction():
            self.conn.execute(
                "INSERT INTO project_versions (version, name, toml, schema_json, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (version, name, toml_text, schema_json, time.time()),
            )
        return version

    def current_schema_json(self) -> str | None:
        return self._one("SELECT schema_json FROM project_versions ORDER BY version DESC LIMIT 1")
