"""Growth: does the cost of assigning work stay flat as the project and its history grow?

Two hub databases of the same shape are built with bulk SQL straight on a `Store`'s
connection: SMALL clips (default 10 000) and BIG clips (default 1 000 000) with LABELS labels
in the big one (default 3 000 000, a few minutes on 2 cores; the issue's 10 000 000 takes
about 5 minutes to build: `--labels 10000000 --keep DIR` builds once and reuses) and the
same labels per clip in the small one. Shape:
`--done` of the clips (default 90 %) are finished (each labelled by `labels / done clips`
distinct operators, `want` = that number), the rest want 3 votes and have none; 0.5 % of
the finished clips are gold; every operator has passed training and has a history of labels.

Measured in-process (no sockets, so only the hub's own work): the hub's whole RequestWork
path (`HubService.handle`: expire leases, training and gold policy, `Store.assign`), then
`Store.assign` alone, then a LabelBatch of 20 labels (one `Store.add_labels` call). Both
databases are open in the same process and take turns sample by sample (and turns at going
first), so that a shared machine's load falls on both alike (measured one after the other,
minutes apart, the ratio would move with the load).
Each latency is p50/p95/p99 over `--samples` requests of `--count` clips, spread over 50
operators. Target: assign at BIG ≤ 1.5× at SMALL.

Every SQL statement the RequestWork and LabelBatch paths run on the big database is caught
with `set_trace_callback` and run through EXPLAIN QUERY PLAN: a `SCAN <table>` that uses no
index is a full scan and is listed.

    python -m benchmarks.growth [--small 10000] [--big 1000000] [--labels 3000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid as uuidlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import machine, pct
from protocol import messages as m

PIN = "2468"
ROOT = Path(__file__).resolve().parents[1]
#: One finished clip in GOLD_EVERY is gold (≈ 0.5 %), and the project's gold rate matches.
#: Prime and coprime to the operator count: clip i is labelled by operators (i * 7919 + j) %
#: operators, so gold clips at multiples of 199 spread over every operator (at multiples of
#: 200 they went to 10 operators of 1000, and every other operator was always owed gold: the
#: big project's requests then asked for 9 gold clips of 20 and the small one's for none).
GOLD_EVERY = 199


def build(path: Path, clips: int, labels: int, operators: int, done: float) -> dict[str, Any]:
    """A hub database at `path` with the shape described above; returns what it holds."""
    from hub.store import Store
    from protocol.pins import hash_pin

    store = Store(path)
    conn = store.conn
    started = time.perf_counter()
    done_clips = max(1, int(clips * done))
    per_clip = max(1, min(operators, -(-labels // done_clips)))  # ceil: at least `labels`
    t0 = time.time() - 86_400 * 30
    conn.execute("PRAGMA journal_mode=OFF")  # a throw-away build: no journal, no syncs
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-500000")
    # secondary indexes of the big tables are dropped for the load and made again after
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('labels', 'assignments')"
    ).fetchall()
    conn.execute("BEGIN")
    for name, _sql in indexes:
        conn.execute(f"DROP INDEX {name}")
    pin_hash = hash_pin(PIN, n=2**10)
    conn.executemany(
        "INSERT INTO operators (id, name, pin_hash, created_at, passed_training) "
        "VALUES (?, ?, ?, ?, ?)",
        [(f"op{i:04d}", f"Operator {i}", pin_hash, t0, t0) for i in range(operators)],
    )
    # clips: random 64-hex ids like real sha256s; finished ones first (the usual history)
    conn.execute(
        "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?) "
        "INSERT INTO clips (seq, sha256, size, duration, name, want, n_labels, added_at, gold) "
        "SELECT i, lower(hex(randomblob(32))), 1000000, 10.0, printf('clip %08d', i), "
        "CASE WHEN i <= ? THEN ? ELSE 3 END, CASE WHEN i <= ? THEN ? ELSE 0 END, ?, "
        "CASE WHEN i % ? = 0 AND i <= ? THEN 'gewelddadig' END FROM s",
        (clips, done_clips, per_clip, done_clips, per_clip, t0, GOLD_EVERY, done_clips),
    )
    # labels: clip i labelled by operators (i * 7919 + j) % operators, j < per_clip
    conn.execute(
        "WITH RECURSIVE k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j + 1 < ?) "
        'INSERT INTO labels (uuid, operator, clip, kiosk, lease_id, schema_version, "values", '
        "segments, telemetry, created_at, received_at) "
        "SELECT printf('%08x-%04x-4000-8000-000000000000', c.seq, k.j), "
        "printf('op%04d', (c.seq * 7919 + k.j) % ?), c.sha256, printf('kiosk-%03d', c.seq % 200), "
        "NULL, 1, CASE WHEN (c.seq + k.j) % 3 THEN '[\"niet_gewelddadig\"]' "
        "ELSE '[\"gewelddadig\"]' END, '[]', '{\"time_to_label_s\": 3.2}', "
        "? + c.seq * 0.5 + k.j, ? + c.seq * 0.5 + k.j "
        "FROM clips c JOIN k WHERE c.seq <= ? ORDER BY c.seq, k.j",
        (per_clip, operators, t0, t0, done_clips),
    )
    conn.execute(
        "INSERT INTO assignments (operator, clip, lease_id, assigned_at, state) "
        "SELECT operator, clip, '', created_at, 'labelled' FROM labels ORDER BY operator, clip"
    )
    for _name, sql in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    n_labels = conn.execute("SELECT count(*) FROM labels").fetchone()[0]
    store.close()
    return {
        "clips": clips,
        "labels": n_labels,
        "per_clip": per_clip,
        "done": done_clips,
        "operators": operators,
        "seconds": time.perf_counter() - started,
        "mib": path.stat().st_size / 2**20,
    }


def open_service(data: Path) -> tuple[Any, Any]:
    from hub.site.server import HubConfig, open_hub
    from tests.faults import write_project

    project = write_project(data / "project.toml", redundancy=3)
    # the project's gold rate matches the databases' gold share (0.5 %), so that an
    # operator's gold quota is the steady-state one (a gold clip now and then)
    text = re.sub(r"(?m)^gold_rate = .*$", f"gold_rate = {GOLD_EVERY**-1}", project.read_text())
    project.write_text(text)
    store, _project, service = open_hub(HubConfig(project=project, data=data, open_pairing=True))
    # as the hub runs it (hub/site/server.py): commits never checkpoint; without this a commit now
    # and then copies the freshly built database's WAL (a 370 ms "request" at 1M clips)
    store.checkpoint("TRUNCATE")
    store.defer_checkpoints()
    return store, service


def sessions(service: Any, n: int) -> list[tuple[str, str]]:
    """n kiosks said Hello and logged an operator in; returns (kiosk, operator) pairs."""
    pairs = []
    for i in range(n):
        kiosk, op = f"growth-{i:03d}", f"op{i * 7:04d}"
        with service.store.transaction():
            service.handle(kiosk, m.Hello(kiosk_id=kiosk, version="growth"), "")
            reply = service.handle(kiosk, m.Login(operator=op, pin=PIN), "")
        assert isinstance(reply[0], m.LoginResult) and reply[0].ok, reply
        pairs.append((kiosk, op))
    return pairs


class Site:
    """One hub database opened as the hub opens it, with 50 kiosks logged in, and the paths
    measured on it."""

    def __init__(self, data: Path, count: int) -> None:
        self.store, self.service = open_service(data)
        self.pairs = sessions(self.service, 50)
        self.count = count
        self.assigned: list[tuple[str, str, str, str]] = []  # kiosk, operator, clip, lease
        self.release()  # a reused database starts with no open leases

    def request_work(self, i: int) -> None:
        kiosk, op = self.pairs[i % len(self.pairs)]
        with self.store.transaction():
            reply = self.service.handle(kiosk, m.RequestWork(operator=op, count=self.count), "")
        assert isinstance(reply[0], m.Assign), reply
        # a project out of work would answer fast and empty: that is not the cost measured
        assert len(reply[0].clips) == self.count, (
            f"{len(reply[0].clips)} clips left: fewer --samples, or more clips (--small)"
        )
        self.assigned.extend((kiosk, op, c.sha256, reply[0].lease_id) for c in reply[0].clips)

    def store_assign(self, i: int) -> None:
        kiosk, op = self.pairs[(i + 17) % len(self.pairs)]
        _lease, _expires, clips = self.store.assign(op, kiosk, self.count, 1800.0)
        assert len(clips) == self.count, (
            f"{len(clips)} clips left: fewer --samples, or more clips (--small)"
        )

    def label_batch_20(self, i: int) -> None:
        batch = self.assigned[i * 20 : (i + 1) * 20]
        if not batch:
            return
        kiosk = batch[0][0]
        labels = [
            m.Label(
                uuid=str(uuidlib.uuid4()),
                operator=op,
                clip=clip,
                schema_version=self.service.schema.version,
                values=["gewelddadig"],
                telemetry={"time_to_label_s": 3.0},
                created_at=time.time(),
                lease_id=lease,
            )
            for k, op, clip, lease in batch
            if k == kiosk
        ]
        with self.store.transaction():
            reply = self.service.handle(kiosk, m.LabelBatch(labels=labels), "")
        assert isinstance(reply[0], m.Ack), reply

    def release(self) -> None:
        """Expire this run's leases so that the next path finds the same pool of work."""
        # ended now, not at 0: the sweep only looks at leases that expired since the last one
        now = time.time()
        with self.store.transaction():
            self.store.conn.execute(
                "UPDATE leases SET expires_at = ? WHERE expires_at > ?", (now, now)
            )
        self.store.expire_leases()

    def close(self) -> None:
        self.store.close()


PATHS = ("request_work", "store_assign", "label_batch_20")


def timed_pair(
    small: Callable[[int], Any], big: Callable[[int], Any], samples: int, budget: float
) -> tuple[list[float], list[float]]:
    """Latencies (ms) of up to `samples` calls on each site, the two taking turns (and
    turns at going first) so that both see the same moments of a shared machine; stops
    early once `budget` seconds are spent."""
    out: tuple[list[float], list[float]] = ([], [])
    end = time.perf_counter() + budget
    for i in range(samples):
        order = ((0, small), (1, big)) if i % 2 == 0 else ((1, big), (0, small))
        for k, fn in order:
            t = time.perf_counter()
            fn(i)
            out[k].append((time.perf_counter() - t) * 1000)
        if time.perf_counter() > end:
            break
    return out


def measure(
    small: Site, big: Site, samples: int, budget: float
) -> dict[str, dict[str, list[float]]]:
    got: dict[str, dict[str, list[float]]] = {"small": {}, "big": {}}
    for name in PATHS:
        fs, fb = getattr(small, name), getattr(big, name)
        fs(0)  # warm the page cache for this path
        fb(0)
        n = samples
        if name == "label_batch_20":  # labels on what request_work assigned
            n = min(samples, len(small.assigned) // 20, len(big.assigned) // 20)
        got["small"][name], got["big"][name] = timed_pair(fs, fb, n, budget)
        small.release()  # the next path finds the same pool of work (labels on an expired
        big.release()  # lease still count: the label batches use request_work's clips)
    return got


def plans(data: Path) -> list[tuple[str, list[str], bool]]:
    """(statement, plan lines, full scan?) for every statement of RequestWork + LabelBatch."""
    store, service = open_service(data)
    (kiosk, op), *_ = sessions(service, 1)
    seen: list[str] = []
    store.conn.set_trace_callback(seen.append)
    with store.transaction():
        reply = service.handle(kiosk, m.RequestWork(operator=op, count=5), "")
    clips = reply[0].clips
    labels = [
        m.Label(
            uuid=str(uuidlib.uuid4()),
            operator=op,
            clip=c.sha256,
            schema_version=service.schema.version,
            values=["gewelddadig"],
            created_at=time.time(),
            lease_id=reply[0].lease_id,
        )
        for c in clips
    ]
    with store.transaction():
        service.handle(kiosk, m.LabelBatch(labels=labels), "")
    store.conn.set_trace_callback(None)
    out: list[tuple[str, list[str], bool]] = []
    done: set[str] = set()
    for sql in seen:
        head = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
        if head not in ("SELECT", "UPDATE", "DELETE", "INSERT", "WITH"):
            continue
        shape = re.sub(r"'[^']*'|\b\d+(\.\d+)?\b", "?", sql)
        if shape in done:
            continue
        done.add(shape)
        try:
            rows = store.conn.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
        except sqlite3.Error as e:
            out.append((shape, [f"(not explained: {e})"], False))
            continue
        lines = [r[3] for r in rows]
        full = any(re.match(r"SCAN \w+$", x) for x in lines)
        out.append((shape, lines, full))
    store.close()
    return out


def line(name: str, values: list[float]) -> str:
    return (
        f"{name:<16} p50 {pct(values, 50):8.3f}  p95 {pct(values, 95):8.3f}  "
        f"p99 {pct(values, 99):8.3f} ms  (n={len(values)})"
    )


def show(name: str, values: list[float]) -> None:
    print(f"  {line(name, values)}", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--small", type=int, default=10_000, help="clips in the small project")
    p.add_argument("--big", type=int, default=1_000_000, help="clips in the big project")
    p.add_argument(
        "--labels", type=int, default=3_000_000, help="labels in the big database (issue: 10M)"
    )
    p.add_argument("--operators", type=int, default=1000)
    p.add_argument("--done", type=float, default=0.9, help="share of clips already finished")
    p.add_argument("--samples", type=int, default=100)
    p.add_argument("--count", type=int, default=20, help="clips per RequestWork")
    p.add_argument(
        "--budget", type=float, default=20.0, help="seconds at most per measured path and size"
    )
    p.add_argument("--keep", type=Path, default=None, help="build (or reuse) the DBs here")
    args = p.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="bench-growth-") as tmp,
        tempfile.TemporaryDirectory(prefix="bench-growth-run-") as run_dir,
    ):
        root = args.keep or Path(tmp)
        scratch = Path(run_dir)
        print(f"machine: {machine()}")
        print(f"sqlite {sqlite3.sqlite_version}; {args.samples} samples of {args.count} clips")
        per_clip_labels = args.labels / max(1, int(args.big * args.done))
        for name, clips in (("small", args.small), ("big", args.big)):
            data = root / name
            labels = args.labels if name == "big" else round(per_clip_labels * clips * args.done)
            if not (data / "hub.db").exists():
                data.mkdir(parents=True, exist_ok=True)
                info = build(data / "hub.db", clips, labels, args.operators, args.done)
                print(
                    f"{name}: {info['clips']:,} clips ({info['done']:,} finished, "
                    f"{info['per_clip']} labels each), {info['labels']:,} labels, "
                    f"{info['operators']} operators; built in {info['seconds']:.0f} s, "
                    f"{info['mib']:,.0f} MiB"
                )
            else:
                print(f"{name}: reusing {data / 'hub.db'}")
        # measured on copies: the label batches use up work, a kept database stays as built
        for name in ("small", "big"):
            shutil.rmtree(scratch / name, ignore_errors=True)
            shutil.copytree(root / name, scratch / name)
        small, big = Site(scratch / "small", args.count), Site(scratch / "big", args.count)
        try:
            got = measure(small, big, args.samples, args.budget)
        finally:
            small.close()
            big.close()
        print("(the two sites take turns, sample by sample, in one process)")
        for name in ("small", "big"):
            print(f"{name}:")
            for key, values in got[name].items():
                show(key, values)
        print("ratio big / small (p50, p99):")
        for key in got["small"]:
            s, b = got["small"][key], got["big"][key]
            r50 = pct(b, 50) / pct(s, 50)
            r99 = pct(b, 99) / pct(s, 99)
            print(f"  {key:<16} {r50:6.2f}×  {r99:6.2f}×")
        r = pct(got["big"]["request_work"], 50) / pct(got["small"]["request_work"], 50)
        verdict = "met" if r <= 1.5 else "NOT met"
        print(f"target assign(1M) ≤ 1.5× assign(10k), hub RequestWork p50: {r:.2f}× — {verdict}")
        print("query plans on the big database (RequestWork + LabelBatch, every statement):")
        full = 0
        for sql, lines, is_full in plans(scratch / "big"):
            full += is_full
            flag = "FULL SCAN  " if is_full else "ok         "
            print(f"  {flag}{sql[:150]}")
            for x in lines:
                print(f"             {x}")
        print(f"full_scans={full}")
        if args.keep is None:
            print(json.dumps({"note": "databases removed; --keep DIR to keep them"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
