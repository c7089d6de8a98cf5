"""`Store`: SQLite (WAL) through sqlite-utils. Thin methods, one transaction per call site."""

from __future__ import annotations

import json
import os
import secrets
import time
import uuid as uuidlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from .schema import migrate

LOCKOUT_AFTER = 5
#: Size the WAL file is cut back to when it restarts (with `defer_checkpoints`).
WAL_KEEP_BYTES = 64 * 2**20
LOCKOUT_BASE_SECONDS = 30.0
#: Pairing codes: open for five minutes unless staff say otherwise (at most a day), six
#: digits unless staff ask for more.
PAIR_CODE_TTL = 300.0
MAX_PAIR_CODE_TTL = 86400.0
MIN_CODE_DIGITS, MAX_CODE_DIGITS = 6, 12


def private_folder(folder: Path) -> None:
    """Make `folder` (and its parents) if needed, readable by the owner only (0700), whatever
    the umask; the hub's database and key in it are 0600 (`Store`, `hub.site.keys`)."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)


def _private_file(path: Path) -> None:
    """`path` (and SQLite's -wal and -shm beside it) readable by the owner only."""
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if p.exists() and p.stat().st_mode & 0o077:
            os.chmod(p, 0o600)


class StoreError(Exception):
    """A request the store refuses (unknown operator, unknown clip, …)."""


@dataclass(frozen=True)
class LabelOutcome:
    uuid: str
    stored: bool  # False when the uuid was already there (a retry)


#: What `Store.add_labels` did with each label of a batch.
STORED, RETRY, UNKNOWN_CLIP = "stored", "retry", "unknown_clip"
#: Most parameters in one `IN (…)` list.
IN_CHUNK = 500


@dataclass(frozen=True)
class NewLabel:
    """One label for `Store.add_labels` (`values`, `segments`, `telemetry`: JSON text)."""

    uuid: str
    operator: str
    clip: str
    schema_version: int
    values: str
    segments: str
    telemetry: str
    created_at: float
    lease_id: str | None = None
    review: bool = False


#: (clip, votes per value, labels after the batch) -> (consensus, confidence, wanted votes)
Decide = Callable[[str, dict[str, int], int], "tuple[str | None, float, int] | None"]


@dataclass
class BatchOutcome:
    """Per label of the batch (same order): `STORED`, `RETRY` or `UNKNOWN_CLIP`, and the
    `received_at` it was stored with; per clip touched: (gold answer, n_labels after)."""

    status: list[str]
    received_at: list[float]
    clips: dict[str, tuple[str | None, int]]


def long_votes(rows: Iterable[tuple[str, str, str]]) -> tuple[list[str], list[str], list[str]]:
    """(clips, operators, values), one vote per value, from (clip, operator, `values` JSON)
    label rows; each distinct value list is parsed once (a project has a handful)."""
    tasks: list[str] = []
    workers: list[str] = []
    values: list[str] = []
    parsed: dict[str, list[str]] = {}
    for clip, operator, raw in rows:
        chosen = parsed.get(raw)
        if chosen is None:
            chosen = json.loads(raw)
            if len(parsed) < 4096:
                parsed[raw] = chosen
        for value in chosen:
            tasks.append(clip)
            workers.append(operator)
            values.append(value)
    return tasks, workers, values


def _chunks(items: list[Any], size: int = IN_CHUNK) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class Store:
    def __init__(self, path: Path | str, *, readonly: bool = False) -> None:
        self.path = Path(path)
        if not readonly:  # it holds PIN hashes and open pairing codes: owner only
            _private_file(self.path)
        self.db = sqlite_utils.Database(self.path)
        self.conn = self.db.conn
        self.conn.isolation_level = None  # we issue BEGIN/COMMIT ourselves
        self._depth = 0
        #: expire_leases() has handled every lease expiring at or before this (None: not
        #: known, e.g. after a rollback: the next sweep walks all open assignments)
        self._swept_to: float | None = None
        #: per operator, the gold `seq` to look from next (see `_unseen_gold`; in memory, a
        #: restart looks from the start once)
        self._gold_from: dict[str, int] = {}
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA busy_timeout=5000")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.execute("PRAGMA cache_size=-262144")  # 256 MiB of pages (default: 2 MB)
        self.conn.execute("PRAGMA mmap_size=4294967296")  # reads straight from the page cache
        if not readonly:
            migrate(self.conn)

    def close(self) -> None:
        self.conn.close()

    def defer_checkpoints(self) -> None:
        """Commits on this connection never run a WAL checkpoint (they would pay for copying
        pages and an fsync); someone must call `checkpoint` instead (the hub: a thread with
        its own connection, every CHECKPOINT_SECONDS). The WAL file is cut back to
        `WAL_KEEP_BYTES` when it restarts."""
        self.conn.execute("PRAGMA wal_autocheckpoint=0")
        self.conn.execute(f"PRAGMA journal_size_limit={WAL_KEEP_BYTES}")

    def checkpoint(self, mode: str = "PASSIVE") -> tuple[int, int, int]:
        """Copy committed WAL pages into the database: PASSIVE never waits for (nor blocks)
        the writer; TRUNCATE (at shutdown) also empties the WAL file. Returns SQLite's
        (busy, frames in the WAL, frames checkpointed)."""
        if mode not in ("PASSIVE", "FULL", "RESTART", "TRUNCATE"):
            raise ValueError(mode)
        busy, log, done = self.conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        return int(busy), int(log), int(done)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group several calls into one commit (group commit: ack only after this exits).

        Nested use becomes a savepoint, so one failed message in a batch rolls back alone.
        """
        if self.conn.in_transaction:
            self._depth += 1
            name = f"sp{self._depth}"
            self.conn.execute(f"SAVEPOINT {name}")
            try:
                yield
            except BaseException:
                self._swept_to = None  # the rollback may undo a lease sweep
                self.conn.execute(f"ROLLBACK TO {name}")
                self.conn.execute(f"RELEASE {name}")
                raise
            finally:
                self._depth -= 1
            self.conn.execute(f"RELEASE {name}")
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._swept_to = None  # the rollback may undo a lease sweep
            self.conn.execute("ROLLBACK")
            raise
        try:
            self.conn.execute("COMMIT")
        except BaseException:
            self._swept_to = None
            raise

    def _one(self, sql: str, params: Iterable[Any] = ()) -> Any:
        row = self.conn.execute(sql, tuple(params)).fetchone()
        return None if row is None else row[0]

    # ---- meta ----------------------------------------------------------------------------

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

    def hub_id(self) -> str:
        hub_id = self.meta("hub_id")
        if hub_id is None:
            hub_id = "hub-" + secrets.token_hex(4)
            self.set_meta("hub_id", hub_id)
        return hub_id

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
                "INSERT INTO project_versions VALUES (?, ?, ?, ?, ?)",
                (version, name, toml_text, schema_json, time.time()),
            )
        return version

    def current_schema_json(self) -> str | None:
        return self._one("SELECT schema_json FROM project_versions ORDER BY version DESC LIMIT 1")

    # ---- media ---------------------------------------------------------------------------

    def has_source(self, sha256: str) -> bool:
        return self._one("SELECT 1 FROM sources WHERE sha256 = ?", [sha256]) is not None

    def add_source(self, sha256: str, name: str, path: str, duration: float, size: int) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT OR IGNORE INTO sources VALUES (?, ?, ?, ?, ?, ?)",
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
                "INSERT OR IGNORE INTO clips (sha256, size, duration, name, source_sha256, "
                'source_name, start, "end", gold, want, added_at) '
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        rows = list(self.db.query("SELECT * FROM clips WHERE sha256 = ?", [sha256]))
        return rows[0] if rows else None

    def clips(self) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM clips ORDER BY seq"))

    def set_gold(self, sha256: str, answer: str | None, want: int = 0) -> bool:
        """Make a clip gold (a known answer: not work, `want` 0) or ordinary again."""
        with self.transaction():
            cur = self.conn.execute(
                "UPDATE clips SET gold = ?, want = ? WHERE sha256 = ?",
                (answer, 0 if answer is not None else want, sha256),
            )
        return cur.rowcount == 1

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
            for part in _chunks(list(clips)):
                q = f"{sql} WHERE sha256 IN ({','.join('?' * len(part))})"
                for sha, n, label, conf, want in self.conn.execute(q, part):
                    state[sha] = (n, label, conf, want)
            return state
        where = " WHERE n_labels > 0" if labelled_only else ""
        return {
            sha: (n, label, conf, want)
            for sha, n, label, conf, want in self.conn.execute(sql + where)
        }

    def last_label_rowid(self) -> int:
        """The newest label's row: labels are only appended, one writer at a time, so every
        label up to this row is in (a reader sees them all once it sees this one)."""
        return int(self._one("SELECT coalesce(max(rowid), 0) FROM labels"))

    def labels_since(self, rowid: int) -> tuple[int, list[str], list[str], list[str]]:
        """(last row read, clips, operators, values): one vote per value of each label
        stored after label row `rowid` and not retracted, in the order they came."""
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
        """(consensus, confidence, want, clip) per clip."""
        with self.transaction():
            self.conn.executemany(
                "UPDATE clips SET consensus = ?, confidence = ?, want = ? WHERE sha256 = ?", rows
            )

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

    def has_gold(self) -> bool:
        return self._one("SELECT 1 FROM clips WHERE gold IS NOT NULL LIMIT 1") is not None

    # ---- operators -----------------------------------------------------------------------

    def add_operator(self, operator_id: str, name: str, pin_hash: str) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO operators (id, name, pin_hash, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET name = excluded.name, "
                "pin_hash = excluded.pin_hash, active = 1, failed = 0, locked_until = 0",
                (operator_id, name, pin_hash, time.time()),
            )

    def operator(self, operator_id: str) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM operators WHERE id = ?", [operator_id]))
        return rows[0] if rows else None

    def operators(self) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM operators ORDER BY id"))

    def roster(self) -> list[tuple[str, str, str]]:
        return [
            (r["id"], r["name"], r["pin_hash"])
            for r in self.db.query("SELECT * FROM operators WHERE active = 1 ORDER BY id")
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
            failed = (
                self._one("SELECT failed FROM operators WHERE id = ?", [operator_id]) or 0
            ) + 1
            locked = 0.0
            if failed >= LOCKOUT_AFTER:
                locked = now + LOCKOUT_BASE_SECONDS * 2 ** (failed - LOCKOUT_AFTER)
            self.conn.execute(
                "UPDATE operators SET failed = ?, locked_until = ? WHERE id = ?",
                (failed, locked, operator_id),
            )
            return locked

    def log_session(self, operator_id: str, kiosk: str, kind: str) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO sessions_log (operator, kiosk, kind, at) VALUES (?, ?, ?, ?)",
                (operator_id, kiosk, kind, time.time()),
            )

    # ---- kiosks and pairing --------------------------------------------------------------

    def create_pair_code(
        self, ttl: float = PAIR_CODE_TTL, digits: int = 6, kiosk: str | None = None
    ) -> str:
        """A one-time code of `digits` digits, open for `ttl` seconds. With `kiosk`, it re-pairs
        that kiosk id (with a new key) and pairs nothing else."""
        if not MIN_CODE_DIGITS <= digits <= MAX_CODE_DIGITS:
            raise StoreError(f"a pairing code has {MIN_CODE_DIGITS} to {MAX_CODE_DIGITS} digits")
        if ttl > MAX_PAIR_CODE_TTL:
            raise StoreError(f"a pairing code lives up to {MAX_PAIR_CODE_TTL:.0f} seconds")
        code = f"{secrets.randbelow(10**digits):0{digits}d}"
        now = time.time()
        with self.transaction():
            self.conn.execute(
                "INSERT OR REPLACE INTO pair_codes (code, created_at, expires_at, kiosk) "
                "VALUES (?, ?, ?, ?)",
                (code, now, now + ttl, kiosk),
            )
        return code

    def use_pair_code(self, code: str, kiosk_id: str, public_key: str | None = None) -> bool:
        return self.claim_pair_code(code, kiosk_id, public_key) == ""

    def claim_pair_code(self, code: str, kiosk_id: str, public_key: str | None = None) -> str:
        """Pair `kiosk_id` with `public_key` using `code`. Returns '' when paired, else why
        not: 'wrong' (no such open code), 'in_use' (the kiosk id is paired with another key
        and the code is not one staff made for re-pairing it), 'other_kiosk' (the code
        re-pairs another kiosk id). Only 'wrong' is a guess; the others leave the code open."""
        now = time.time()
        with self.transaction():
            row = self.conn.execute(
                "SELECT kiosk FROM pair_codes WHERE code = ? AND used_by IS NULL "
                "AND expires_at > ?",
                (code, now),
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
                "INSERT INTO kiosks (id, paired_at, public_key) VALUES (?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET active = 1, public_key = excluded.public_key",
                (kiosk_id, time.time(), public_key),
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
        rows = list(self.db.query("SELECT * FROM kiosks WHERE id = ?", [kiosk_id]))
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
        sets = ["last_seen = ?"]
        params: list[Any] = [time.time()]
        for column, value in (
            ("version", version),
            ("operator", operator),
            ("outbox", outbox),
            ("cache_bytes", cache_bytes),
        ):
            if value is not None:
                sets.append(f"{column} = ?")
                params.append(value)
        params.append(kiosk_id)
        with self.transaction():
            self.conn.execute(f"UPDATE kiosks SET {', '.join(sets)} WHERE id = ?", params)

    def note_kiosk_login(self, kiosk_id: str, operator: str, at: float | None = None) -> float:
        """The hub has seen `operator` log in at `kiosk_id` (online, or a proven offline one).
        Returns the latest such login now on record (an older `at` does not move it back)."""
        with self.transaction():
            (latest,) = self.conn.execute(
                "INSERT INTO kiosk_logins VALUES (?, ?, ?) ON CONFLICT(kiosk, operator) "
                "DO UPDATE SET at = max(at, excluded.at) RETURNING at",
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
                "n = n + excluded.n, last_at = excluded.last_at, "
                "last_detail = excluded.last_detail",
                (kiosk_id, reason, n, time.time(), detail[:200]),
            )

    def refusals(self) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM refusals ORDER BY last_at DESC"))

    def kiosks(self) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM kiosks ORDER BY id"))

    # ---- work ----------------------------------------------------------------------------

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
            for operator_id, clip in rows:
                self.conn.execute(
                    "UPDATE assignments SET state = 'expired' WHERE operator = ? AND clip = ?",
                    (operator_id, clip),
                )
                self.conn.execute(
                    "UPDATE clips SET n_open = n_open - 1 WHERE sha256 = ? AND gold IS NULL",
                    (clip,),
                )
            self._swept_to = max(now, self._swept_to or now)
        return len(rows)

    def _unseen(
        self, sql: str, operator_id: str, count: int, excluded: set[str], *more: Any
    ) -> list[dict[str, Any]]:
        chosen: list[dict[str, Any]] = []
        if count <= 0:
            return chosen
        cursor = self.conn.execute(sql, (operator_id, *more))
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
            chosen = work + golds
            if golds and work:  # gold at spread positions, not all at the end
                step = max(1, len(chosen) // (len(golds) + 1))
                chosen = list(work)
                for i, g in enumerate(golds):
                    chosen.insert(min(len(chosen), (i + 1) * step + i), g)
            if not chosen:
                return lease_id, expires, []
            self.conn.execute(
                "INSERT INTO leases VALUES (?, ?, ?, ?, ?)",
                (lease_id, operator_id, kiosk_id, now, expires),
            )
            if self._swept_to is not None and expires <= self._swept_to:
                self._swept_to = None  # swept ahead of the clock (tests): sweep it all again
            self.conn.executemany(
                "INSERT INTO assignments VALUES (?, ?, ?, ?, 'open')",
                [(operator_id, record["sha256"], lease_id, now) for record in chosen],
            )
            # by rowid: one B-tree descent fewer per clip than through the sha256 index
            self.conn.executemany(
                "UPDATE clips SET n_open = n_open + 1 WHERE seq = ?",
                [(record["seq"],) for record in chosen if record["gold"] is None],
            )
        return lease_id, expires, chosen

    def open_assignments(self, operator_id: str) -> list[dict[str, Any]]:
        """Clips leased to this operator, not yet labelled, lease still running."""
        return list(
            self.db.query(
                "SELECT c.*, a.lease_id, l.expires_at FROM assignments a "
                "JOIN clips c ON c.sha256 = a.clip JOIN leases l ON l.id = a.lease_id "
                "WHERE a.operator = ? AND a.state = 'open' AND l.expires_at > ? "
                "ORDER BY a.assigned_at, c.seq",
                [operator_id, time.time()],
            )
        )

    # ---- labels --------------------------------------------------------------------------

    def add_label(
        self,
        *,
        uuid: str,
        operator: str,
        clip: str,
        kiosk: str,
        schema_version: int,
        values: list[str],
        segments: list[Any],
        telemetry: dict[str, Any],
        created_at: float,
        lease_id: str | None = None,
        review: bool = False,
    ) -> LabelOutcome:
        """Store a label once: a uuid seen before is a retry and changes nothing."""
        if self._one("SELECT 1 FROM clips WHERE sha256 = ?", [clip]) is None:
            raise StoreError(f"unknown clip {clip[:12]}")
        with self.transaction():
            cur = self.conn.execute(
                "INSERT OR IGNORE INTO labels (uuid, operator, clip, kiosk, lease_id, "
                'schema_version, "values", segments, telemetry, created_at, received_at, review) '
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    uuid,
                    operator,
                    clip,
                    kiosk,
                    lease_id,
                    schema_version,
                    json.dumps(values),
                    json.dumps(segments),
                    json.dumps(telemetry),
                    created_at,
                    time.time(),
                    int(review),
                ),
            )
            if cur.rowcount != 1:
                return LabelOutcome(uuid, stored=False)
            state = self._one(
                "SELECT state FROM assignments WHERE operator = ? AND clip = ?", [operator, clip]
            )
            if state == "open":
                self.conn.execute(
                    "UPDATE clips SET n_open = n_open - (gold IS NULL), n_labels = n_labels + 1 "
                    "WHERE sha256 = ?",
                    (clip,),
                )
            else:
                self.conn.execute(
                    "UPDATE clips SET n_labels = n_labels + 1 WHERE sha256 = ?", (clip,)
                )
            if state is None:
                # a label with no assignment (e.g. a lease the hub lost): record it so that the
                # operator never gets this clip again
                self.conn.execute(
                    "INSERT OR IGNORE INTO assignments VALUES (?, ?, ?, ?, 'labelled')",
                    (operator, clip, lease_id or "", time.time()),
                )
            else:
                self.conn.execute(
                    "UPDATE assignments SET state = 'labelled' WHERE operator = ? AND clip = ?",
                    (operator, clip),
                )
        return LabelOutcome(uuid, stored=True)

    def add_labels(
        self,
        kiosk: str,
        labels: list[NewLabel],
        now: float | None = None,
        decide: Decide | None = None,
    ) -> BatchOutcome:
        """Store a batch of labels in one go, with the outcome of `add_label` for each in turn:
        a uuid already stored (or earlier in the batch) is a retry and changes nothing; a label
        on an unknown clip is refused; the others are inserted with one executemany, and the
        clip counters and assignments move as `add_label` moves them. Labels get increasing
        `received_at` (`now` + 1 µs per position) so their order is kept.

        `decide(clip, votes, n_labels)`, if given, is asked for each non-gold clip that got a
        new label, with its votes and label count after this batch, and returns (consensus,
        confidence, wanted votes) to store with the counters in the same row update (or None
        to leave them)."""
        now = time.time() if now is None else now
        status: list[str] = []
        received: list[float] = []
        with self.transaction():
            clips: dict[str, tuple[str | None, int]] = {}
            rowids: dict[str, int] = {}
            for part in _chunks(list({x.clip for x in labels})):
                for sha, gold, n, seq in self.conn.execute(
                    "SELECT sha256, gold, n_labels, seq FROM clips WHERE sha256 IN "
                    f"({','.join('?' * len(part))})",
                    part,
                ):
                    clips[sha] = (gold, n)
                    rowids[sha] = seq
            known = [x for x in labels if x.clip in clips]
            seen: set[str] = set()
            for part in _chunks(list({x.uuid for x in known})):
                seen.update(
                    u
                    for (u,) in self.conn.execute(
                        f"SELECT uuid FROM labels WHERE uuid IN ({','.join('?' * len(part))})",
                        part,
                    )
                )
            wanted: dict[str, set[str]] = {}
            for x in known:
                if x.uuid not in seen:
                    wanted.setdefault(x.operator, set()).add(x.clip)
            states: dict[tuple[str, str], str] = {}
            for operator, op_clips in wanted.items():
                for part in _chunks(list(op_clips)):
                    states.update(
                        ((operator, clip), state)
                        for clip, state in self.conn.execute(
                            "SELECT clip, state FROM assignments WHERE operator = ? AND clip IN "
                            f"({','.join('?' * len(part))})",
                            [operator, *part],
                        )
                    )
            rows: list[tuple[Any, ...]] = []
            d_labels: dict[str, int] = {}
            d_open: dict[str, int] = {}
            new_assignments: list[tuple[str, str, str, float]] = []
            labelled: list[tuple[str, str]] = []
            for i, x in enumerate(labels):
                at = now + i * 1e-6
                received.append(at)
                if x.clip not in clips:
                    status.append(UNKNOWN_CLIP)
                    continue
                if x.uuid in seen:
                    status.append(RETRY)
                    continue
                seen.add(x.uuid)
                status.append(STORED)
                rows.append(
                    (
                        x.uuid,
                        x.operator,
                        x.clip,
                        kiosk,
                        x.lease_id,
                        x.schema_version,
                        x.values,
                        x.segments,
                        x.telemetry,
                        x.created_at,
                        at,
                        int(x.review),
                    )
                )
                key = (x.operator, x.clip)
                state = states.get(key)
                d_labels[x.clip] = d_labels.get(x.clip, 0) + 1
                if state == "open" and clips[x.clip][0] is None:
                    d_open[x.clip] = d_open.get(x.clip, 0) + 1
                if state is None:
                    # a label with no assignment (e.g. a lease the hub lost): record it so
                    # that the operator never gets this clip again
                    new_assignments.append((x.operator, x.clip, x.lease_id or "", at))
                elif state != "labelled":
                    labelled.append(key)
                states[key] = "labelled"
            if not rows:
                return BatchOutcome(status, received, clips)
            self.conn.executemany(
                "INSERT INTO labels (uuid, operator, clip, kiosk, lease_id, schema_version, "
                '"values", segments, telemetry, created_at, received_at, review) '
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            decided: dict[str, tuple[str | None, float, int]] = {}
            if decide is not None:
                touched = [clip for clip in d_labels if clips[clip][0] is None]
                for clip, votes in self.clip_votes_many(touched).items():
                    verdict = decide(clip, votes, clips[clip][1] + d_labels[clip])
                    if verdict is not None:
                        decided[clip] = verdict
            counters = [
                (n, d_open.get(clip, 0), rowids[clip])
                for clip, n in d_labels.items()
                if clip not in decided
            ]
            if counters:
                self.conn.executemany(
                    "UPDATE clips SET n_labels = n_labels + ?, n_open = n_open - ? WHERE seq = ?",
                    counters,
                )
            if decided:
                self.conn.executemany(
                    "UPDATE clips SET n_labels = n_labels + ?, n_open = n_open - ?, "
                    "consensus = ?, confidence = ?, want = ? WHERE seq = ?",
                    [
                        (d_labels[clip], d_open.get(clip, 0), *verdict, rowids[clip])
                        for clip, verdict in decided.items()
                    ],
                )
            if new_assignments:
                self.conn.executemany(
                    "INSERT OR IGNORE INTO assignments VALUES (?, ?, ?, ?, 'labelled')",
                    new_assignments,
                )
            if labelled:
                self.conn.executemany(
                    "UPDATE assignments SET state = 'labelled' WHERE operator = ? AND clip = ?",
                    labelled,
                )
        for clip, n in d_labels.items():
            gold, before = clips[clip]
            clips[clip] = (gold, before + n)
        return BatchOutcome(status, received, clips)

    def clip_votes_many(self, clips: Iterable[str]) -> dict[str, dict[str, int]]:
        """`clip_votes` of several clips in one query per `IN_CHUNK` clips."""
        votes: dict[str, dict[str, int]] = {}
        for part in _chunks(list(clips)):
            for clip, value, n in self.conn.execute(
                'SELECT l.clip, j.value, count(*) FROM labels l, json_each(l."values") j '
                f"WHERE l.clip IN ({','.join('?' * len(part))}) AND l.retracted = 0 "
                "GROUP BY l.clip, j.value",
                part,
            ):
                votes.setdefault(clip, {})[value] = n
        return votes

    def known_operators(self, operator_ids: Iterable[str]) -> set[str]:
        """Which of these operator ids exist (active or not)."""
        found: set[str] = set()
        for part in _chunks(list(set(operator_ids))):
            found.update(
                o
                for (o,) in self.conn.execute(
                    f"SELECT id FROM operators WHERE id IN ({','.join('?' * len(part))})", part
                )
            )
        return found

    def retract_label(self, uuid: str, operator: str, kiosk: str | None = None) -> bool:
        """Take back a label of `operator` (made at `kiosk`, when given)."""
        with self.transaction():
            cur = self.conn.execute(
                "UPDATE labels SET retracted = 1 WHERE uuid = ? AND operator = ? AND retracted = 0"
                " AND (? IS NULL OR kiosk = ?)",
                (uuid, operator, kiosk, kiosk),
            )
            if cur.rowcount != 1:
                return False
            clip = self._one("SELECT clip FROM labels WHERE uuid = ?", [uuid])
            self.conn.execute("UPDATE clips SET n_labels = n_labels - 1 WHERE sha256 = ?", (clip,))
        return True

    def labels(self, include_retracted: bool = False) -> list[dict[str, Any]]:
        where = "" if include_retracted else "WHERE retracted = 0"
        rows = list(self.db.query(f"SELECT * FROM labels {where} ORDER BY received_at, uuid"))
        for row in rows:
            row["values"] = json.loads(row["values"])
            row["segments"] = json.loads(row["segments"])
            row["telemetry"] = json.loads(row["telemetry"])
        return rows

    def exposure_minutes(self, operator_id: str, since: float) -> float:
        """Minutes of clips shown to an operator since `since` (from label telemetry)."""
        value = self._one(
            "SELECT coalesce(sum(json_extract(telemetry, '$.time_to_label_s')), 0) FROM labels "
            "WHERE operator = ? AND created_at >= ?",
            [operator_id, since],
        )
        return float(value or 0.0) / 60.0

    def count_labels(self) -> int:
        return int(self._one("SELECT count(*) FROM labels WHERE retracted = 0"))

    def add_alert(self, uuid: str, operator: str, clip: str, kiosk: str, created_at: float) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT OR IGNORE INTO alerts (uuid, operator, clip, kiosk, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (uuid, operator, clip, kiosk, created_at),
            )

    def alerts(self) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM alerts ORDER BY created_at"))

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
                "INSERT OR IGNORE INTO breaks (uuid, operator, kiosk, started_at, seconds, "
                "enforced, kind, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (uuid, operator, kiosk, started_at, seconds, int(enforced), kind, time.time()),
            )
        return cur.rowcount == 1

    def breaks(self, operator: str | None = None) -> list[dict[str, Any]]:
        where, params = ("WHERE operator = ?", [operator]) if operator else ("", [])
        return list(self.db.query(f"SELECT * FROM breaks {where} ORDER BY started_at", params))
