"""The hub's label path in one process, without sockets: where each label's time goes, and
how far SQLite alone would go.

50 kiosks (one operator each) take turns: ten RequestWork of 20 clips in one transaction,
then one LabelBatch of 200 labels on those clips (msgpack-decoded as the router decodes it,
handled by `HubService.handle` in one transaction, the replies encoded), as
`benchmarks/load.py --rate 0 --batch 200 --fetch-ratio 0` drives a hub over ZeroMQ. The
project has a fixed overlap of 3 (as in load.py). Times are CPU seconds of this process
(`time.process_time`), so other work on a shared machine disturbs them less than wall time.

Printed per label: the RequestWork share and the LabelBatch path, and of that the time in
SQL calls (`execute`/`executemany`/COMMIT, each timed), by statement: the SQL part alone is
what this data model costs in SQLite on this machine, and 1 / (SQL per label) is the most
labels/s one core could store even if every line of Python were free. Beside it,
in the same run: the raw baseline load.py prints (the same label rows inserted with one
executemany per 1000 rows into a fresh database with the same schema).

    python -m benchmarks.label_path [--clips 200000] [--warm 100] [--rounds 100]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import re
import sys
import tempfile
import time
import uuid as uuidlib
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.common import machine
from protocol import codec
from protocol import messages as m

KIOSKS = 50
REQUESTS = 10  # RequestWork of COUNT clips per round: one LabelBatch of REQUESTS * COUNT
COUNT = 20
VALUES = ["gewelddadig", "niet_gewelddadig"]
CHECKPOINT_EVERY = 10  # rounds (≈ 2 000 labels; the hub: every second)
TELEMETRY = {"time_to_label_s": 2.5, "watched_fraction": 1.0, "replays": 0}


class TimedConnection:
    """A sqlite3 connection whose `execute`/`executemany` add their CPU time per statement."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self.seconds: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def _timed(self, key: str, fn: Any, *args: Any) -> Any:
        t = time.process_time()
        try:
            return fn(*args)
        finally:
            self.seconds[key] += time.process_time() - t
            self.calls[key] += 1

    def execute(self, sql: str, *args: Any) -> Any:
        return self._timed(" ".join(sql.split())[:72], self._conn.execute, sql, *args)

    def executemany(self, sql: str, *args: Any) -> Any:
        key = "many: " + " ".join(sql.split())[:66]
        return self._timed(key, self._conn.executemany, sql, *args)


def setup(work: Path, clips: int) -> Any:
    from hub.project import load_project, to_schema
    from hub.service import HubService
    from hub.store import Store
    from protocol.pins import hash_pin
    from tests.faults import write_project

    store = Store(work / "hub.db")
    store.defer_checkpoints()  # as the hub runs: a thread checkpoints, commits never do
    now = time.time()
    with store.transaction():
        pin = hash_pin("1234", n=2**10)
        store.conn.executemany(
            "INSERT INTO operators (id, name, pin_hash, created_at) VALUES (?, ?, ?, ?)",
            [(f"op{i}", f"Operator {i}", pin, now) for i in range(KIOSKS)],
        )
        store.conn.executemany(
            "INSERT INTO clips (sha256, size, duration, name, want, added_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (hashlib.sha256(str(i).encode()).hexdigest(), 2048, 1.0, f"c{i}", 3, now)
                for i in range(clips)
            ],
        )
    path = write_project(work / "project.toml", redundancy=3)
    text = path.read_text()
    for key, value in (("max_votes", 3), ("gold_rate", 0)):
        text = re.sub(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
    path.write_text(text.replace("[[labels]]", "min_votes = 3\n\n[[labels]]", 1))
    project, _ = load_project(path)
    service = HubService(store, work, project, to_schema(project, 1))
    for i in range(KIOSKS):
        store.pair_kiosk(f"k{i}")
        service.handle(f"k{i}", m.Hello(kiosk_id=f"k{i}", version="bench"))
        assert service.handle(f"k{i}", m.Login(operator=f"op{i}", pin="1234"))[0].ok
    for session in service.sessions.values():
        session.bucket.take = lambda now: True  # no rate limit: this is one process's loop
    return service


class Rounds:
    def __init__(self, service: Any) -> None:
        self.service = service
        self.rng = random.Random(1)
        self.request_s = 0.0
        self.label_s = 0.0
        self.labels = 0

    def one(self, k: int) -> None:
        store, kiosk, operator = self.service.store, f"k{k}", f"op{k}"
        t = time.process_time()
        leased: list[tuple[str, str]] = []
        assigns: list[Any] = []
        with store.transaction():
            for _ in range(REQUESTS):
                request = codec.decode(codec.encode(m.RequestWork(operator=operator, count=COUNT)))
                assigns += self.service.handle(kiosk, request)
        for reply in assigns:
            assert isinstance(reply, m.Assign) and len(reply.clips) == COUNT, reply
            codec.encode(reply)
            leased += [(c.sha256, reply.lease_id) for c in reply.clips]
        self.request_s += time.process_time() - t
        frames = codec.encode(
            m.LabelBatch(
                labels=[
                    m.Label(
                        uuid=str(uuidlib.uuid4()),
                        operator=operator,
                        clip=sha,
                        schema_version=1,
                        values=[self.rng.choice(VALUES)],
                        telemetry=TELEMETRY,
                        created_at=time.time(),
                        lease_id=lease,
                    )
                    for sha, lease in leased
                ]
            )
        )
        t = time.process_time()
        msg = codec.decode(frames)
        with store.transaction():
            replies = self.service.handle(kiosk, msg)
        for reply in replies:
            codec.encode(reply)
        self.label_s += time.process_time() - t
        assert isinstance(replies[0], m.Ack) and len(replies[0].uuids) == len(leased), replies
        self.labels += len(leased)

    def run(self, n: int, start: int = 0) -> None:
        for i in range(start, start + n):
            self.one(i % KIOSKS)
            if i % CHECKPOINT_EVERY == CHECKPOINT_EVERY - 1:  # past the timed connection
                conn = self.service.store.conn
                getattr(conn, "_conn", conn).execute("PRAGMA wal_checkpoint(PASSIVE)")


def raw_insert(hub_db: Path, work: Path) -> tuple[int, float]:
    """load.py's baseline: the hub's label rows into a fresh store, 1000 per commit."""
    from benchmarks.load import raw_baseline

    return raw_baseline(hub_db, work)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--clips", type=int, default=200_000)
    p.add_argument("--warm", type=int, default=100, help="rounds before measuring")
    p.add_argument("--rounds", type=int, default=100, help="measured rounds (each pass)")
    args = p.parse_args(argv)
    need = (args.warm + args.rounds) * REQUESTS * COUNT / 3 + KIOSKS * REQUESTS * COUNT
    if args.clips < need:
        p.error(f"--clips {args.clips} runs out of work: at least {int(need)}")
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="bench-label-path-") as tmp:
        work = Path(tmp)
        service = setup(work, args.clips)
        rounds = Rounds(service)
        rounds.run(args.warm)
        service.store.checkpoint("TRUNCATE")
        timed = TimedConnection(service.store.conn)
        service.store.conn = timed
        rounds = Rounds(service)
        rounds.run(args.rounds, start=args.warm)
        service.store.conn = timed._conn
        n = rounds.labels
        req_us, lab_us = rounds.request_s / n * 1e6, rounds.label_s / n * 1e6
        total_us = req_us + lab_us
        sql_us = sum(timed.seconds.values()) / n * 1e6
        print(
            f"{n} labels in {args.rounds} rounds of {REQUESTS} RequestWork × {COUNT} clips + one "
            f"LabelBatch of {REQUESTS * COUNT}, after {args.warm} rounds of warm-up; a WAL "
            f"checkpoint every {CHECKPOINT_EVERY} rounds (the hub's thread does it each second), "
            "not counted"
        )
        print(
            f"CPU per label: RequestWork share {req_us:.1f} µs + LabelBatch path {lab_us:.1f} µs "
            f"= {total_us:.1f} µs → {1e6 / total_us:,.0f} labels/s on one core (no sockets)"
        )
        print(
            f"of which SQL (every execute/executemany/COMMIT timed): {sql_us:.1f} µs per label "
            f"({sql_us / total_us:.0%}) → at most {1e6 / sql_us:,.0f} labels/s on one core if "
            "all Python were free"
        )
        for key, seconds in timed.seconds.most_common(12):
            print(f"  {seconds / n * 1e6:6.2f} µs/label  {timed.calls[key]:6d}×  {key}")
        service.store.close()
        rows, raw = raw_insert(work / "hub.db", work)
        print(
            f"raw baseline (load.py's): {rows:,} label rows inserted 1000 per commit, same schema: "
            f"{raw:,.0f} rows/s = {1e6 / raw:.1f} µs per row (wall time)"
        )
        print(
            f"ours / raw: {1e6 / total_us / raw:.2f}×; SQL-only ceiling / raw: "
            f"{1e6 / sql_us / raw:.2f}×"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
