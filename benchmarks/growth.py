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
`Store.assign` alone, a LabelBatch of 20 labels (one `Store.add_labels` call), and the
RequestWork path again with operator statistics precomputed, lease expiry at most once a
second and the page cache set in-process (`request_patched`: the hub does all of these
since issue 10's first patches, so it now matches `request_work`). Each latency is p50/p95/p99 over `--samples` requests of `--count`
clips, spread over 50 operators. Target (issue 10): assign at BIG ≤ 1.5× at SMALL.

Every SQL statement the RequestWork and LabelBatch paths run on the big database is caught
with `set_trace_callback` and run through EXPLAIN QUERY PLAN: a `SCAN <table>` that uses no
index is a full scan and is listed.

    python -m benchmarks.growth [--small 10000] [--big 1000000] [--labels 3000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import re
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
#: One finished clip in GOLD_EVERY is gold (0.5 %), and the project's gold rate matches.
GOLD_EVERY = 200
#: Proposed for Store.__init__: SQLite's own page cache (default 2 MB) and memory-mapped reads.
CACHE_KIB = 256 * 1024
MMAP_BYTES = 4 * 2**30


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
    from hub.server import HubConfig, open_hub
    from tests.faults import write_project

    project = write_project(data / "project.toml", redundancy=3)
    # the project's gold rate matches the databases' gold share (0.5 %), so that an
    # operator's gold quota is the steady-state one (a gold clip now and then)
    text = re.sub(r"(?m)^gold_rate = .*$", f"gold_rate = {GOLD_EVERY**-1}", project.read_text())
    project.write_text(text)
    store, _project, service = open_hub(HubConfig(project=project, data=data, open_pairing=True))
    # as the hub runs it (hub/server.py): commits never checkpoint; without this a commit now
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


def timed(fn: Callable[[int], Any], samples: int, budget: float) -> list[float]:
    """Latencies (ms) of up to `samples` calls; stops early once `budget` seconds are spent."""
    out: list[float] = []
    end = time.perf_counter() + budget
    for i in range(samples):
        t = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t) * 1000)
        if time.perf_counter() > end:
            break
    return out


def measure(
    data: Path, samples: int, count: int, budget: float, report: Callable[[str, list[float]], None]
) -> dict[str, list[float]]:
    store, service = open_service(data)
    pairs = sessions(service, 50)
    lease_s = 1800.0
    results: dict[str, list[float]] = {}
    assigned: list[tuple[str, str, str, str]] = []  # kiosk, operator, clip, lease

    def request(i: int) -> None:
        kiosk, op = pairs[i % len(pairs)]
        with store.transaction():
            reply = service.handle(kiosk, m.RequestWork(operator=op, count=count), "")
        assert isinstance(reply[0], m.Assign), reply
        assigned.extend((kiosk, op, c.sha256, reply[0].lease_id) for c in reply[0].clips)

    def assign_only(i: int) -> None:
        kiosk, op = pairs[(i + 17) % len(pairs)]
        store.assign(op, kiosk, count, lease_s)

    def label_batch(i: int) -> None:
        batch = assigned[i * 20 : (i + 1) * 20]
        if not batch:
            return
        kiosk = batch[0][0]
        labels = [
            m.Label(
                uuid=str(uuidlib.uuid4()),
                operator=op,
                clip=clip,
                schema_version=service.schema.version,
                values=["gewelddadig"],
                telemetry={"time_to_label_s": 3.0},
                created_at=time.time(),
                lease_id=lease,
            )
            for k, op, clip, lease in batch
            if k == kiosk
        ]
        with store.transaction():
            reply = service.handle(kiosk, m.LabelBatch(labels=labels), "")
        assert isinstance(reply[0], m.Ack), reply

    def release() -> None:
        """Expire this run's leases so that the next path finds the same pool of work."""
        # ended now, not at 0: the sweep only looks at leases that expired since the last one
        now = time.time()
        with store.transaction():
            store.conn.execute("UPDATE leases SET expires_at = ? WHERE expires_at > ?", (now, now))
        store.expire_leases()

    release()  # a reused database starts with no open leases
    for name, fn in (("request_work", request), ("store_assign", assign_only)):
        fn(0)  # warm the page cache for this path
        results[name] = timed(fn, samples, budget)
        report(name, results[name])
        release()
    # the same RequestWork path with the proposed store patches applied in-process: the work
    # query in the form the planner runs on `clips_free` (a no-op once the store has it),
    # operator statistics kept (here: computed once per operator, as counters in the store
    # would give them), and a bigger page cache with mmap
    unseen = store._unseen
    store._unseen = lambda sql, *a: unseen(  # type: ignore[method-assign]
        sql.replace("c.n_labels + c.n_open < c.want", "c.n_labels + c.n_open - c.want < 0"), *a
    )
    stats = {op: service.operator_stats(op) for _k, op in pairs}
    service.operator_stats = stats.__getitem__
    # lease expiry at most once a second (housekeeping does it too), not on every request
    expire = store.expire_leases
    last = [time.monotonic()]

    def expire_at_most_every_second(now: float | None = None) -> int:
        if time.monotonic() - last[0] < 1.0:
            return 0
        last[0] = time.monotonic()
        return expire(now)

    store.expire_leases = expire_at_most_every_second  # type: ignore[method-assign]
    # and a page cache in the process instead of a 2 MB one (proposed for Store.__init__)
    store.conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    store.conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
    request(0)
    results["request_patched"] = timed(lambda i: request(i + 7), samples, budget)
    report("request_patched", results["request_patched"])
    store._unseen = unseen  # type: ignore[method-assign]
    store.expire_leases = expire  # type: ignore[method-assign]
    del service.operator_stats
    release()
    results["label_batch_20"] = timed(label_batch, min(samples, len(assigned) // 20), budget)
    report("label_batch_20", results["label_batch_20"])
    store.close()
    return results


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
    with tempfile.TemporaryDirectory(prefix="bench-growth-") as tmp:
        root = args.keep or Path(tmp)
        print(f"machine: {machine()}")
        print(f"sqlite {sqlite3.sqlite_version}; {args.samples} samples of {args.count} clips")
        got: dict[str, dict[str, list[float]]] = {}
        big_dir = root / "big"
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
            got[name] = measure(data, args.samples, args.count, args.budget, show)
        print("ratio big / small (p50, p99):")
        for key in got["small"]:
            s, b = got["small"][key], got["big"][key]
            r50 = pct(b, 50) / pct(s, 50)
            r99 = pct(b, 99) / pct(s, 99)
            print(f"  {key:<16} {r50:6.2f}×  {r99:6.2f}×")
        for key, what in (("request_work", "as is"), ("request_patched", "with the patches")):
            r = pct(got["big"][key], 50) / pct(got["small"][key], 50)
            verdict = "met" if r <= 1.5 else "NOT met"
            print(
                f"target assign(1M) ≤ 1.5× assign(10k), hub RequestWork p50 {what}: "
                f"{r:.2f}× — {verdict}"
            )
        print("query plans on the big database (RequestWork + LabelBatch, every statement):")
        full = 0
        for sql, lines, is_full in plans(big_dir):
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
