"""benchmarks/load.py in several set-ups in one run, alternated, with medians: the hub on
SQLite from this tree and from an earlier commit (A/B), and on PostgreSQL with 1, 2, 4… hub
processes, all with the same load arguments.

    python -m benchmarks.load_matrix --rounds 3 --base db11533 --pg-base REV --hubs 1 2 4 -- \
        --kiosks 50 --rate 0 --batch 200 --duration 15 --clips 120000 --fetch-ratio 0

The "before" trees run this tree's load generator (benchmarks/load.py, load_pg.py), so
that only the hub differs. Each round runs every set-up once, in an order that alternates
from round to round (so that a change in the machine's load falls on all of them). The PostgreSQL set-ups share one
throwaway server started here with `fsync=on` (tests/pg.py; or `--db URL`), each run in a
fresh database of its own. Printed per run: acked labels/s, ours/raw (and ours/COPY on
PostgreSQL), assign p99, missed beats, hub and PostgreSQL CPU, client CPU, load average,
invariants; then the medians per set-up. Every run's whole output is kept in `--out`.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks.common import machine, median, source_tree

ROOT = Path(__file__).resolve().parent.parent
#: The load generator's own files: a "before" tree runs with this tree's (same clients and
#: options, e.g. `--outbox`), so that only the hub differs.
CLIENT_FILES = ("load.py", "load_pg.py")

FIGURES = {
    "labels/s": r"acked labels/s \(durable: acked after commit\): ([\d,]+) mean",
    "ours/raw": r"ours / raw: ([\d.]+)×",
    "ours/COPY": r"ours / COPY: ([\d.]+)×",
    "raw rows/s": r"(?:insert of the same [\d,]+ label rows.*?: ([\d,]+) rows/s|"
    r"multi-row INSERT \(unnest\) ([\d,]+) rows/s)",
    "COPY rows/s": r"COPY ([\d,]+) rows/s",
    "assign p50": r"assign latency ms \(RequestWork → Assign\): p50 ([\d.]+)",
    "assign p99": r"assign latency ms \(RequestWork → Assign\): p50 [\d.]+\s+p95 [\d.]+\s+p99 ([\d.]+)",
    "missed beats": r"heartbeats: \d+ sent, missed (\d+)",
    "hub CPU %": r"hub: CPU (\d+) %",
    "pg CPU %": r"PostgreSQL: CPU (\d+) %",
    "pg rtt p50": r"PostgreSQL round trip ms .*?: p50 ([\d.]+)",
    "pg rtt p99": r"PostgreSQL round trip ms .*?: p50 [\d.]+\s+p95 [\d.]+\s+p99 ([\d.]+)",
    "client CPU %": r"clients: CPU (\d+) %",
    "load start": r"load average \(1 min\) at start ([\d.]+)",
    "load end": r"at end ([\d.]+) \(other work",
    "over_assigned": r"over_assigned=(\d+)",
    "lost": r"lost=(\d+)",
    "errors": r"errors: (\d+)",
}


def figures(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, pattern in FIGURES.items():
        m = re.search(pattern, text)
        if m:
            value = next(g for g in m.groups() if g is not None)
            out[name] = float(value.replace(",", ""))
    return out


@contextlib.contextmanager
def pg_url(given: str | None) -> Iterator[str]:
    if given:
        yield given
        return
    from benchmarks.load_pg import throwaway_server

    server = throwaway_server()  # the same settings as `benchmarks.load --db pg`
    try:
        yield server.url()
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--base", default=None, help="git revision for the SQLite 'before' run")
    p.add_argument(
        "--pg-base", default=None, help="git revision for 'before' runs of the PostgreSQL set-ups"
    )
    p.add_argument("--sqlite", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--hubs", type=int, nargs="*", default=[1, 2, 4], help="PostgreSQL set-ups")
    p.add_argument("--db", default=None, help="a PostgreSQL server URL (default: a throwaway)")
    p.add_argument("--out", type=Path, default=Path("/tmp/load-matrix"))
    p.add_argument("load_args", nargs=argparse.REMAINDER, help="-- then benchmarks.load's")
    args = p.parse_args(argv)
    load_args = [a for a in args.load_args if a != "--"]
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}")
    print(f"load arguments: {' '.join(load_args)}")
    with contextlib.ExitStack() as stack:
        base = stack.enter_context(source_tree(args.base)) if args.base else None
        pg_base = stack.enter_context(source_tree(args.pg_base)) if args.pg_base else None
        for tree in (base, pg_base):  # the hub from REV, measured by this tree's load generator
            for name in CLIENT_FILES if tree is not None else ():
                shutil.copy2(ROOT / "benchmarks" / name, tree / "benchmarks" / name)
        url = stack.enter_context(pg_url(args.db)) if args.hubs else None
        setups: list[tuple[str, Path, list[str]]] = []
        if base is not None:
            setups.append((f"sqlite @{args.base}", base, []))
        if args.sqlite:
            setups.append(("sqlite", ROOT, []))
        for n in args.hubs:
            pg = ["--db", str(url), "--hubs", str(n)]
            if pg_base is not None:
                setups.append((f"pg ×{n} @{args.pg_base}", pg_base, pg))
            setups.append((f"pg ×{n}", ROOT, pg))
        results: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in setups}
        for r in range(args.rounds):
            order = setups if r % 2 == 0 else list(reversed(setups))
            for name, tree, extra in order:
                cmd = [sys.executable, "-m", "benchmarks.load", *load_args, *extra]
                started = time.time()
                done = subprocess.run(cmd, cwd=tree, capture_output=True, text=True)
                text = done.stdout + done.stderr
                slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
                (args.out / f"round{r}-{slug}.txt").write_text(text)
                f = figures(done.stdout)
                results[name].append(f)
                print(
                    f"round {r} {name:>16} ({time.time() - started:.0f} s, rc {done.returncode}): "
                    + ", ".join(f"{k} {v:g}" for k, v in f.items()),
                    flush=True,
                )
    print("\nmedians over rounds:")
    keys = [k for k in FIGURES if any(k in f for fs in results.values() for f in fs)]
    print("| set-up | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for name, fs in results.items():
        cells = []
        for k in keys:
            values = [f[k] for f in fs if k in f]
            cells.append(f"{median(values):g}" if values else "–")
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
