"""Helpers for fault tests and the chaos run: headless kiosk processes and invariant checks."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class KioskProc:
    kiosk_id: str
    data: Path
    args: list[str]
    netns: str | None = None
    proc: subprocess.Popen[str] | None = None
    events: list[dict] = field(default_factory=list)
    #: the program (`tests.previous_kiosk`: one that names its connection as kiosks of the
    #: previous release did)
    module: str = "kiosk.headless"

    def start(self) -> KioskProc:
        cmd = [
            sys.executable,
            "-m",
            self.module,
            "--kiosk-id",
            self.kiosk_id,
            "--data",
            str(self.data),
            *self.args,
        ]
        if self.netns:
            cmd = ["ip", "netns", "exec", self.netns, *cmd]
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                self.events.append(json.loads(line))
            except json.JSONDecodeError:
                self.events.append({"event": "text", "line": line.rstrip()})

    def count(self, event: str) -> int:
        return sum(1 for e in list(self.events) if e.get("event") == event)

    def wait_event(self, event: str, n: int = 1, timeout: float = 30.0) -> None:
        end = time.monotonic() + timeout
        while self.count(event) < n:
            if time.monotonic() > end:
                raise AssertionError(f"{self.kiosk_id}: {event}×{n} not seen; {self.tail()}")
            if self.proc is not None and self.proc.poll() is not None and self.count(event) < n:
                time.sleep(0.2)
                if self.count(event) < n:
                    raise AssertionError(f"{self.kiosk_id} exited: {self.tail()}")
            time.sleep(0.02)

    def tail(self, n: int = 15) -> str:
        return "\n".join(json.dumps(e) for e in self.events[-n:])

    def kill(self, sig: int = signal.SIGKILL, timeout: float = 180.0) -> None:
        """Signal the kiosk and wait; after SIGTERM it drains its outbox first."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)

    def wait(self, timeout: float = 60.0) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)


def kiosk_labels(data: Path) -> tuple[set[str], set[str]]:
    """(every label the kiosk made and still knows of, those acknowledged by the hub)."""
    db = sqlite3.connect(data / "kiosk.db")
    try:
        outbox = {r[0] for r in db.execute("SELECT uuid FROM outbox WHERE kind = 'label'")}
        acked = {r[0] for r in db.execute("SELECT uuid FROM sent")}
    finally:
        db.close()
    return outbox | acked, acked


@dataclass
class Verdict:
    labels: int
    lost: int
    duplicated: int
    repeated_for_operator: int

    def line(self, faults: int) -> str:
        return (
            f"labels={self.labels} lost={self.lost} duplicated={self.duplicated} "
            f"repeated_for_operator={self.repeated_for_operator} faults={faults}"
        )

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and self.repeated_for_operator == 0


def check(hub_db: Path | str, kiosk_dirs: list[Path], acked_only: bool = False) -> Verdict:
    """Invariants 2 and 3 over the hub database (a SQLite file or a PostgreSQL URL) and the
    kiosks' own stores.

    lost: a label a kiosk made (or, with acked_only, one the hub acknowledged) that the hub
    does not hold. duplicated: a clip's vote counter that differs from its stored labels, or
    one label stored twice. repeated_for_operator: an operator with two labels on one clip.
    """
    from hub.store import Store

    store = Store(hub_db, readonly=True)
    db = store.conn
    try:
        at_hub = [r[0] for r in db.execute("SELECT uuid FROM labels")]
        repeated = db.execute(
            "SELECT count(*) FROM (SELECT operator, clip FROM labels WHERE retracted = 0 "
            "GROUP BY operator, clip HAVING count(*) > 1) AS twice"
        ).fetchone()[0]
        counter_off = db.execute(
            "SELECT count(*) FROM clips c WHERE c.n_labels != (SELECT count(*) FROM labels l "
            "WHERE l.clip = c.sha256 AND l.retracted = 0)"
        ).fetchone()[0]
    finally:
        store.close()
    hub_set = set(at_hub)
    lost = 0
    for data in kiosk_dirs:
        made, acked = kiosk_labels(data)
        lost += len((acked if acked_only else made) - hub_set)
    duplicated = (len(at_hub) - len(hub_set)) + counter_off
    return Verdict(len(hub_set), lost, duplicated, repeated)


def seed_clips(
    hub_data: Path, n: int, size: int, want: int = 3, seed: int = 0, db: str | None = None
) -> list[str]:
    """Put `n` clips of random bytes straight into a hub's media store and database (`db`:
    a PostgreSQL URL; default the SQLite file in `hub_data`).

    The fault tests move bytes and labels; what the bytes show does not matter to them.
    """
    import hashlib
    import random

    from hub.store import Store

    rng = random.Random(seed)
    store = Store(db or hub_data / "hub.db")
    shas = []
    try:
        with store.transaction():
            for i in range(n):
                data = rng.randbytes(size)
                sha = hashlib.sha256(data).hexdigest()
                folder = hub_data / "media" / sha[:2]
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"{sha}.mp4").write_bytes(data)
                store.add_clip(sha, size, 1.0, f"fake {i:04d}", want=want)
                shas.append(sha)
    finally:
        store.close()
    return shas


def write_project(path: Path, lease_minutes: float = 30.0, redundancy: int = 3) -> Path:
    base = (ROOT / "projects" / "geweld.toml").read_text()
    base = base.replace("lease_minutes = 30", f"lease_minutes = {lease_minutes}")
    base = base.replace("redundancy = 3", f"redundancy = {redundancy}")
    path.write_text(base)
    return path
