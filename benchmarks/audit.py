"""The end-of-run database checks of benchmarks/load.py: the old over-assignment query against
hub/store/audit.py's, on a hub database shaped like a load run's end (one label wanted per
clip: every clip labelled once, its assignment `labelled`, one lease per 20 clips; plus
open assignments on live leases and a few expired ones).

    python -m benchmarks.audit --labels 13000 55000 --runs 3 --old-limit 120

Prints per size the old query's and the new checks' time (alternating, medians of `--runs`)
and their results, which must agree. The old query is stopped after `--old-limit` seconds
(SQLite's progress handler) and shown as "> limit".
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import tempfile
import time
from pathlib import Path

from benchmarks.common import machine, median

#: The over-assignment query benchmarks/load.py ran before hub/store/audit.py.
OLD_OVER_ASSIGNED = (
    "WITH l AS (SELECT clip, count(*) AS n FROM labels WHERE retracted = 0 "
    "  GROUP BY clip), "
    "o AS (SELECT a.clip, count(*) AS n FROM assignments a JOIN leases s "
    "  ON s.id = a.lease_id WHERE a.state = 'open' AND s.expires_at > ? GROUP BY a.clip), "
    "e AS (SELECT DISTINCT clip FROM assignments WHERE state = 'expired'), "
    "t AS (SELECT clip FROM l UNION SELECT clip FROM o) "
    "SELECT count(*) FROM t JOIN clips c ON c.sha256 = t.clip "
    "LEFT JOIN l ON l.clip = t.clip LEFT JOIN o ON o.clip = t.clip "
    "WHERE coalesce(l.n, 0) + coalesce(o.n, 0) > c.want "
    "AND t.clip NOT IN (SELECT clip FROM e)"
)


def build(path: Path, labels: int, operators: int = 50, open_clips: int = 1000) -> float:
    """A hub database (the real schema) with `labels` labelled clips wanting one label each,
    `open_clips` more on live leases, 1 % of the labelled ones reassigned after an
    expired lease and one in 1,000 labelled twice (over-assigned: the checks must find them). Returns the `now` to check at."""
    from hub.store import Store

    now = time.time()
    store = Store(path)
    shas = [hashlib.sha256(f"c{i}".encode()).hexdigest() for i in range(labels + open_clips)]
    with store.transaction():
        c = store.conn
        c.executemany(
            "INSERT INTO clips (sha256, size, duration, name, want, n_labels, n_open, added_at) "
            "VALUES (?, 1, 1.0, 'c', 1, ?, ?, ?)",
            [
                (s, int(i < labels) + int(i < labels and i % 1000 == 3), int(i >= labels), now)
                for i, s in enumerate(shas)
            ],
        )
        leases, assignments, rows = [], [], []
        for i, sha in enumerate(shas):
            op = f"op{i % operators}"
            lease = f"lease-{i // 20}"
            if i % 20 == 0:
                leases.append((lease, op, "k", now - 60, now + 600))
            state = "labelled" if i < labels else "open"
            if i < labels and i % 100 == 7:  # an expired lease, then someone else labelled
                assignments.append((f"op{(i + 1) % operators}x", sha, "gone", now - 900, "expired"))
            assignments.append((op, sha, lease, now - 60, state))
            if i < labels:
                rows.append((f"u{i}", op, sha, "k", lease, 1, '["a"]', "[]", "{}", now, now + i))
            if i < labels and i % 1000 == 3:  # a double label: over-assigned (want 1)
                rows.append(
                    (f"v{i}", f"op{i + 1}", sha, "k", None, 1, '["a"]', "[]", "{}", now, now)
                )
        c.executemany("INSERT OR IGNORE INTO leases VALUES (?, ?, ?, ?, ?)", leases)
        c.executemany(
            "INSERT INTO leases VALUES ('gone', 'x', 'k', ?, ?)", [(now - 999, now - 900)]
        )
        c.executemany("INSERT INTO assignments VALUES (?, ?, ?, ?, ?)", assignments)
        c.executemany(
            "INSERT INTO labels (uuid, operator, clip, kiosk, lease_id, schema_version, "
            '"values", segments, telemetry, created_at, received_at) '
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    store.close()
    return now


def time_old(path: Path, now: float, limit: float) -> tuple[float, int | None]:
    conn = sqlite3.connect(path)
    started = time.perf_counter()
    conn.set_progress_handler(lambda: int(time.perf_counter() - started > limit), 100_000)
    try:
        result: int | None = conn.execute(OLD_OVER_ASSIGNED, (now,)).fetchone()[0]
    except sqlite3.OperationalError:  # interrupted at the limit
        result = None
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed, result


def time_new(path: Path, now: float) -> tuple[float, float, dict[str, int]]:
    """(seconds for the over-assignment query alone, seconds for all checks, results)."""
    from hub.store.audit import OVER_ASSIGNED, audit

    conn = sqlite3.connect(path)
    started = time.perf_counter()
    conn.execute(OVER_ASSIGNED, {"now": now}).fetchone()
    one = time.perf_counter() - started
    conn.close()
    started = time.perf_counter()
    result = audit(path, now)
    return one, time.perf_counter() - started, result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--labels", type=int, nargs="+", default=[13_000, 55_000])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--old-limit", type=float, default=120.0, help="seconds before stopping it")
    args = p.parse_args(argv)
    print(f"machine: {machine()}; sqlite {sqlite3.sqlite_version}")
    for n in args.labels:
        with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
            path = Path(tmp) / "hub.db"
            now = build(path, n)
            old_t, new_one, new_all, old_r, new_r = [], [], [], None, {}
            stopped = False
            for _ in range(args.runs):  # alternate old and new
                if not stopped:  # a query stopped at the limit is not run again
                    t, old_r = time_old(path, now, args.old_limit)
                    old_t.append(t)
                    stopped = old_r is None
                one, every, new_r = time_new(path, now)
                new_one.append(one)
                new_all.append(every)
            old_text = (
                f"> {args.old_limit:g} s (stopped)"
                if old_r is None
                else f"{median(old_t):.3f} s (over_assigned={old_r})"
            )
            print(
                f"{n:,} labels (want 1), {n + 1000:,} clips: old over-assignment query "
                f"{old_text}; new {median(new_one) * 1000:.1f} ms (over_assigned="
                f"{new_r['over_assigned']}), all checks {median(new_all) * 1000:.1f} ms "
                f"{new_r}; runs {len(new_all)}"
            )
            if old_r is not None and old_r != new_r["over_assigned"]:
                print("MISMATCH between the old and the new query")
                return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
