"""The kiosk's own SQLite: label outbox, work queue (leases), clip cache index, schema, roster.

A label is committed here (synchronous=FULL) before the screen moves on (invariant 1).

Plain `sqlite3`, not sqlite-utils: the kiosk's queries are hand-written SQL anyway, and
sqlite-utils brings pluggy, dateutil and a scan of every installed package's metadata for
plugins into the kiosk process (≈ 2.5 MiB RSS on a machine where every MiB counts).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec

from protocol import messages as m

MIGRATIONS = [
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE roster (operator TEXT PRIMARY KEY, name TEXT NOT NULL, pin_hash TEXT NOT NULL);
    CREATE TABLE queue (
        operator TEXT NOT NULL, sha256 TEXT NOT NULL, lease_id TEXT NOT NULL,
        expires_at REAL NOT NULL, clip TEXT NOT NULL, position INTEGER NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending', done_at REAL,
        PRIMARY KEY (operator, sha256));
    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, uuid TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL, frame BLOB NOT NULL, created_at REAL NOT NULL);
    CREATE TABLE sent (
        uuid TEXT PRIMARY KEY, operator TEXT NOT NULL, sha256 TEXT NOT NULL,
        acked_at REAL NOT NULL);
    CREATE TABLE cache (
        sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, complete INTEGER NOT NULL DEFAULT 0,
        last_used REAL NOT NULL);
    """,
    # held_clips looks up each labelled clip's acknowledged label
    "CREATE INDEX sent_clip ON sent (operator, sha256);",
]

_label_decoder = msgspec.msgpack.Decoder(
    m.Label | m.Retract | m.Alert | m.BreakTaken | m.OfflineLogin | m.Logout
)
_encoder = msgspec.msgpack.Encoder()


class KioskStore:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        # it holds the kiosk's secret key and the operators' verifiers: owner only, whatever
        # the umask (the folder too: the clip cache and SQLite's -wal file live beside it)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.parent.stat().st_uid == os.getuid():
            os.chmod(self.path.parent, 0o700)
        if not self.path.exists():
            self.path.touch(mode=0o600)
        for p in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
            if p.exists() and p.stat().st_mode & 0o077:
                os.chmod(p, 0o600)
        # autocommit mode (isolation_level=None): transactions are explicit (`transaction()`)
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("PRAGMA busy_timeout=5000")
        (current,) = self.conn.execute("PRAGMA user_version").fetchone()
        for number, script in enumerate(MIGRATIONS, start=1):
            if number > current:
                self.conn.executescript(
                    f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
                )

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self.conn.in_transaction:
            yield
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # ---- meta: schema, hub -------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def hub_capabilities(self) -> list[str]:
        """What the hub listed in its last Welcome (kept across restarts, for what is done
        offline until the next one)."""
        return json.loads(self.get_meta("hub_capabilities") or "[]")

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def save_welcome(self, welcome: m.Welcome) -> None:
        with self.transaction():
            self.set_meta("hub_id", welcome.hub_id)
            self.set_meta("hub_capabilities", json.dumps(welcome.capabilities))
            self.set_meta("schema", msgspec.json.encode(welcome.project).decode())
            self.conn.execute("DELETE FROM roster")
            self.conn.executemany(
                "INSERT INTO roster VALUES (?, ?, ?)",
                [(r.operator, r.name, r.pin_hash) for r in welcome.roster],
            )

    def keypair(self) -> tuple[bytes, bytes]:
        """This kiosk's CurveZMQ key pair, made on first use (the database is owner-only)."""
        public, secret = self.get_meta("public_key"), self.get_meta("secret_key")
        if public and secret:
            return public.encode(), secret.encode()
        import zmq

        pub, sec = zmq.curve_keypair()
        with self.transaction():
            self.set_meta("public_key", pub.decode())
            self.set_meta("secret_key", sec.decode())
        return pub, sec

    def pinned_hub_key(self) -> str | None:
        return self.get_meta("hub_public_key")

    def pin_hub_key(self, key: str) -> None:
        self.set_meta("hub_public_key", key)

    def schema(self) -> m.ProjectSchema | None:
        raw = self.get_meta("schema")
        return None if raw is None else msgspec.json.decode(raw, type=m.ProjectSchema)

    def roster_entry(self, operator: str) -> tuple[str, str] | None:
        row = self.conn.execute(
            "SELECT name, pin_hash FROM roster WHERE operator = ?", (operator,)
        ).fetchone()
        return None if row is None else (row[0], row[1])

    # ---- queue (leased work) -----------------------------------------------------------

    def add_assignment(self, assign: m.Assign) -> list[m.ClipRef]:
        added = []
        with self.transaction():
            (pos,) = self.conn.execute("SELECT coalesce(max(position), 0) FROM queue").fetchone()
            for clip in assign.clips:
                pos += 1
                cur = self.conn.execute(
                    "INSERT OR IGNORE INTO queue (operator, sha256, lease_id, expires_at, clip, "
                    "position) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        assign.operator,
                        clip.sha256,
                        assign.lease_id,
                        assign.expires_at,
                        msgspec.json.encode(clip).decode(),
                        pos,
                    ),
                )
                if cur.rowcount == 1:
                    added.append(clip)
        return added

    def pending(self, operator: str) -> list[tuple[m.ClipRef, str]]:
        """(clip, lease id) not yet labelled or skipped, in order."""
        rows = self.conn.execute(
            "SELECT clip, lease_id FROM queue WHERE operator = ? AND state = 'pending' "
            "ORDER BY position",
            (operator,),
        ).fetchall()
        return [(msgspec.json.decode(r[0], type=m.ClipRef), r[1]) for r in rows]

    def held_clips(self, operator: str) -> list[str]:
        """Clips the hub must not assign this operator again that it may not know of: those
        still to label (or skipped) here, and those labelled whose label the hub has not
        acknowledged yet. A clip whose label the hub acknowledged is on its record; leaving
        those out keeps a RequestWork small however long the shift (200 clips: 13 KB, which
        on a slow link queued in front of everything else)."""
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT q.sha256 FROM queue q WHERE q.operator = ? AND (q.state != 'labelled' "
                "OR NOT EXISTS (SELECT 1 FROM sent s WHERE s.operator = q.operator "
                "AND s.sha256 = q.sha256))",
                (operator,),
            )
        ]

    def needed_shas(self) -> set[str]:
        """Clips some operator still has to label here: never evicted from the cache."""
        return {r[0] for r in self.conn.execute("SELECT sha256 FROM queue WHERE state='pending'")}

    def set_queue_state(self, operator: str, sha256: str, state: str) -> None:
        with self.transaction():
            self.conn.execute(
                "UPDATE queue SET state = ?, done_at = ? WHERE operator = ? AND sha256 = ?",
                (state, time.time() if state != "pending" else None, operator, sha256),
            )

    def done_count(self, operator: str, since: float = 0.0) -> int:
        (n,) = self.conn.execute(
            "SELECT count(*) FROM queue WHERE operator = ? AND state = 'labelled' AND done_at >= ?",
            (operator, since),
        ).fetchone()
        return int(n)

    # ---- outbox ------------------------------------------------------------------------

    def record_label(self, label: m.Label) -> None:
        """Durable before return: the label in the outbox and the clip marked done, atomically."""
        with self.transaction():
            self.conn.execute(
                "INSERT INTO outbox (uuid, kind, frame, created_at) VALUES (?, 'label', ?, ?)",
                (label.uuid, _encoder.encode(label), label.created_at),
            )
            self.conn.execute(
                "UPDATE queue SET state = 'labelled', done_at = ? WHERE operator = ? AND sha256 = ?",
                (label.created_at, label.operator, label.clip),
            )

    def record_message(self, uuid: str, kind: str, msg: msgspec.Struct) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO outbox (uuid, kind, frame, created_at) VALUES (?, ?, ?, ?)",
                (uuid, kind, _encoder.encode(msg), time.time()),
            )

    def undo_label(self, uuid: str) -> m.Label | None:
        """Take back a label that has not left the kiosk; returns it, or None if already sent."""
        with self.transaction():
            row = self.conn.execute(
                "SELECT frame FROM outbox WHERE uuid = ? AND kind = 'label'", (uuid,)
            ).fetchone()
            if row is None:
                return None
            label = _label_decoder.decode(row[0])
            self.conn.execute("DELETE FROM outbox WHERE uuid = ?", (uuid,))
            self.conn.execute(
                "UPDATE queue SET state = 'pending', done_at = NULL "
                "WHERE operator = ? AND sha256 = ?",
                (label.operator, label.clip),
            )
            return label

    def outbox(self, limit: int = 1000) -> list[Any]:
        return [msg for _seq, _nbytes, msg in self.outbox_after(0, limit)]

    def outbox_after(self, seq: int, limit: int = 200) -> list[tuple[int, int, Any]]:
        """(seq, frame bytes, message) of outbox items queued after `seq`, oldest first."""
        rows = self.conn.execute(
            "SELECT seq, length(frame), frame FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
            (seq, limit),
        ).fetchall()
        return [(s, n, _label_decoder.decode(f)) for s, n, f in rows]

    def outbox_count(self) -> int:
        (n,) = self.conn.execute("SELECT count(*) FROM outbox").fetchone()
        return int(n)

    def acked(self, uuids: list[str]) -> int:
        with self.transaction():
            removed = 0
            for uuid in uuids:
                row = self.conn.execute(
                    "SELECT frame FROM outbox WHERE uuid = ?", (uuid,)
                ).fetchone()
                if row is None:
                    continue
                msg = _label_decoder.decode(row[0])
                self.conn.execute("DELETE FROM outbox WHERE uuid = ?", (uuid,))
                if isinstance(msg, m.Label):
                    self.conn.execute(
                        "INSERT OR IGNORE INTO sent VALUES (?, ?, ?, ?)",
                        (uuid, msg.operator, msg.clip, time.time()),
                    )
                removed += 1
        return removed

    # ---- cache index -------------------------------------------------------------------

    def cache_touch(self, sha256: str, size: int, complete: bool) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO cache VALUES (?, ?, ?, ?) ON CONFLICT(sha256) DO UPDATE SET "
                "size = excluded.size, complete = excluded.complete, last_used = excluded.last_used",
                (sha256, size, int(complete), time.time()),
            )

    def cache_forget(self, sha256: str) -> None:
        with self.transaction():
            self.conn.execute("DELETE FROM cache WHERE sha256 = ?", (sha256,))

    def cache_entries(self) -> list[dict[str, Any]]:
        cur = self.conn.execute("SELECT * FROM cache ORDER BY last_used")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur]

    def cache_bytes(self) -> int:
        (n,) = self.conn.execute("SELECT coalesce(sum(size), 0) FROM cache").fetchone()
        return int(n)
