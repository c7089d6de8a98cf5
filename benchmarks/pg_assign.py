"""Assignment in PostgreSQL as a project grows: hub/store/pg's `assign_work` at 10k and at 1M
clips, on a throwaway server (tests/pg.py).

    python -m benchmarks.pg_assign --sizes 10000 1000000 10000 1000000 --requests 400

Each size gets a fresh database whose oldest clips are done (labels = want, as a long-running
project has them) and whose newest `--free` clips (default 10,000: the same at every size)
still want votes; operators ask in turn for 20
clips each (a RequestWork), one transaction per request, and label nothing (so every request
walks past the clips it already holds). Printed per size: assign latency p50/p95/p99 and the
ratio of p50 at the largest size to the smallest (the issue's target: ≤ 1.5×). One
connection, no hub process: the store's share of a request only.
"""

from __future__ import annotations

import argparse
import time

import psycopg

from benchmarks.common import machine, median, pct
from hub.store.pg.schema import apply_schema
from tests.hub.store_pg.conftest import assign_work
from tests.pg import PgServer


def fill(url: str, clips: int, free: int, want: int = 3) -> None:
    done = max(0, clips - free)
    with psycopg.connect(url) as conn:
        apply_schema(conn)
        conn.execute(
            "INSERT INTO clips (sha256, size, duration, name, want, n_labels, added_at) "
            "SELECT md5(i::text) || md5((-i)::text), 1, 1.0, 'c', %s, "
            "CASE WHEN i <= %s THEN %s ELSE 0 END, 0 FROM generate_series(1, %s) AS i",
            (want, done, want, clips),
        )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE clips")


def measure(url: str, requests: int, operators: int = 50, count: int = 20) -> list[float]:
    times: list[float] = []
    with psycopg.connect(url, autocommit=True) as conn:
        for i in range(requests):
            started = time.perf_counter()
            got = assign_work(conn, f"op{i % operators}", "k", count, 600.0)[2]
            times.append((time.perf_counter() - started) * 1000)
            assert len(got) == count, (i, len(got))
    return times


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[10_000, 1_000_000, 10_000, 1_000_000],
        help="clips per database, in this order (repeat sizes to alternate)",
    )
    p.add_argument("--requests", type=int, default=400)
    p.add_argument("--free", type=int, default=10_000, help="clips still wanting votes")
    args = p.parse_args(argv)
    server = PgServer.create(fsync=True)
    try:
        with psycopg.connect(server.url()) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
        print(f"machine: {machine()}; PostgreSQL {version} (throwaway, fsync on)")
        p50: dict[int, list[float]] = {}
        for size in args.sizes:
            url = server.create_database("growth")
            started = time.perf_counter()
            fill(url, size, args.free)
            filled = time.perf_counter() - started
            times = measure(url, args.requests)
            p50.setdefault(size, []).append(pct(times, 50))
            print(
                f"{size:>10,} clips (filled in {filled:.1f} s): assign of 20, {args.requests} "
                f"requests, ms p50 {pct(times, 50):.2f}  p95 {pct(times, 95):.2f}  "
                f"p99 {pct(times, 99):.2f}  max {max(times):.1f}"
            )
        lo, hi = min(p50), max(p50)
        ratio = median(p50[hi]) / median(p50[lo])
        print(
            f"p50 at {hi:,} / at {lo:,} clips (medians over the runs of each size): "
            f"{ratio:.2f}× (target ≤ 1.5×)"
        )
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
