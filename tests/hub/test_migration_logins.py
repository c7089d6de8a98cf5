"""Upgrading a hub keeps the logins it logged: labels still queued at kiosks stay covered."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from hub.store import Store
from hub.store.schema import MIGRATIONS


def test_logins_logged_before_the_upgrade_cover_queued_labels(tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for number, script in enumerate(MIGRATIONS[:8], start=1):  # the previous release's schema
        conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    now = time.time()
    conn.executemany(
        "INSERT INTO sessions_log (operator, kiosk, kind, at) VALUES (?, ?, ?, ?)",
        [("op1", "k1", "login", now - 60), ("op1", "k1", "logout", now - 30),
         ("op2", "k2", "login", now - 10)],
    )  # fmt: skip
    conn.close()
    store = Store(path)
    try:
        assert store.kiosk_login_at("k1", "op1") == now - 60
        assert store.kiosk_login_at("k2", "op2") == now - 10
        assert store.kiosk_login_at("k1", "op2") is None
    finally:
        store.close()
