"""`straat-hub db copy` of a big SQLite hub: labels/s into PostgreSQL and into SQLite, against
a raw COPY of the same label rows in the same run.

    python -m benchmarks.db_copy [--labels 1000000] [--clips 100000] [--rounds 2] [--keep DIR]

A SQLite hub at the schema version this code's PostgreSQL schema has
(`hub.store.pg.schema.SQLITE_VERSION`) is built with bulk SQL: `--clips` clips, `--labels`
labels by 1,000 operators with the kiosks' JSON (values, segments, telemetry) as text.
A throwaway PostgreSQL server (tests/pg.py) with `fsync on` (durable, as a site's).

Per round, in alternating order, each into a fresh empty target:
- `copy -> PostgreSQL`: `copy_database` as the command runs it: schema, COPY of every table
  with the source's checksum computed on the way, sequences, every table read back and
  checksummed, commit.
- `raw COPY labels`: the baseline: the same label rows read from the same SQLite file and
  written with psycopg's `cursor.copy()` into a database with the schema already made; no
  checksum, no read-back, only the labels table.
- `copy -> SQLite`: `copy_database` into a new SQLite file.

Printed: seconds and labels/s per method (median over rounds), the copy's split into
writing and reading back, and the copy's ratio to the raw COPY.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

import psycopg

from benchmarks.common import machine, median
from hub.store.copy import copy_database
from hub.store.pg.schema import SQLITE_VERSION, apply_schema
from hub.store.schema import migrate
from tests.pg import PgServer

LABEL_COLUMNS = [
    "rowid",
    "uuid",
    "operator",
    "clip",
    "kiosk",
    "lease_id",
    "schema_version",
    "values",
    "segments",
    "telemetry",
    "created_at",
    "received_at",
    "retracted",
    "review",
]


def build(path: Path, clips: int, labels: int) -> None:
    conn = sqlite3.connect(path)
    conn.isolation_level = None
    migrate(conn, upto=SQLITE_VERSION)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("BEGIN")
    shas = [hashlib.sha256(f"clip-{i}".encode()).hexdigest() for i in range(clips)]
    per_clip = max(1, labels // clips)
    conn.executemany(
        'INSERT INTO clips (sha256, size, duration, name, source_sha256, start, "end", want, '
        "n_labels, added_at, confidence, consensus) VALUES (?, ?, 10.0, ?, 'src', ?, ?, ?, ?, "
        "?, ?, ?)",
        (
            (
                sha,
                1_500_000 + i,
                f"clip_{i:07d}.mp4",
                i * 10.0,
                i * 10.0 + 10.0,
                per_clip,
                per_clip,
                1.7e9 + i / 3,
                0.8 + (i % 7) / 50,
                "gewelddadig",
            )
            for i, sha in enumerate(shas)
        ),
    )
    operators = 1000
    conn.executemany(
        "INSERT INTO operators (id, name, pin_hash, created_at, passed_training) "
        "VALUES (?, ?, 'x', 1.7e9, 1.7e9)",
        ((f"op{i:04d}", f"Operator {i}") for i in range(operators)),
    )
    telemetry = json.dumps({"time_to_label_s": 2.345, "replays": 0, "player": "mpv", "keys": 1})
    conn.executemany(
        'INSERT INTO labels (uuid, operator, clip, kiosk, lease_id, schema_version, "values", '
        "segments, telemetry, created_at, received_at) VALUES (?, ?, ?, ?, ?, 1, ?, '[]', ?, ?, ?)",
        (
            (
                f"{i:08x}-0000-4000-8000-{i:012x}",
                f"op{(i * 7919) % operators:04d}",
                shas[i % clips],
                f"kiosk-{i % 50:02d}",
                f"lease-{i // 20}",
                '["gewelddadig"]' if i % 3 else '["niet_gewelddadig"]',
                telemetry,
                1.7e9 + i * 0.01,
                1.7e9 + i * 0.01 + 0.25,
            )
            for i in range(labels)
        ),
    )
    conn.execute("COMMIT")
    conn.close()


def raw_copy(source: Path, url: str) -> None:
    with psycopg.connect(url) as conn:
        apply_schema(conn)
    src = sqlite3.connect(source.resolve().as_uri() + "?mode=ro", uri=True)
    names = ", ".join("seq" if c == "rowid" else f'"{c}"' for c in LABEL_COLUMNS)
    select = ", ".join("rowid" if c == "rowid" else f'"{c}"' for c in LABEL_COLUMNS)
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY labels ({names}) FROM STDIN") as copy:
            rows = src.execute(f"SELECT {select} FROM labels")
            while batch := rows.fetchmany(10_000):
                for row in batch:
                    copy.write_row(row)
    src.close()


def note(marks: list[float], line: str) -> None:
    """The copy's progress line that starts its read-back: the time it came."""
    if line.startswith("reading the target back"):
        marks.append(time.monotonic())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=int, default=1_000_000)
    ap.add_argument("--clips", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--keep", type=Path, default=None, help="build the source here once, reuse")
    args = ap.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="straat-dbcopy-"))
    folder = args.keep or work
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / f"hub-{args.labels}.db"
    if not source.exists():
        t = time.monotonic()
        build(source, args.clips, args.labels)
        print(
            f"built {source} ({source.stat().st_size / 2**20:.0f} MiB) in "
            f"{time.monotonic() - t:.0f} s"
        )
    server = PgServer.create(fsync=True)
    times: dict[str, list[float]] = {
        "copy -> PostgreSQL": [],
        "raw COPY labels": [],
        "copy -> SQLite": [],
    }
    split: list[tuple[float, float]] = []
    try:
        with psycopg.connect(server.url()) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        print(f"machine: {machine()}; PostgreSQL {version} (throwaway, Unix socket, fsync on)")
        print(
            f"source: {args.labels:,} labels, {args.clips:,} clips, SQLite schema {SQLITE_VERSION}"
        )
        for r in range(args.rounds):
            order = list(times)
            if r % 2:
                order.reverse()
            for name in order:
                if name == "copy -> SQLite":
                    target = str(work / f"copy-{r}.db")
                else:
                    target = server.create_database("bench")
                marks: list[float] = []
                t = time.monotonic()
                if name == "raw COPY labels":
                    raw_copy(source, target)
                else:
                    copy_database(
                        str(source),
                        target,
                        progress=functools.partial(note, marks),
                    )
                took = time.monotonic() - t
                times[name].append(took)
                if name == "copy -> PostgreSQL" and marks:
                    split.append((marks[0] - t, t + took - marks[0]))
                print(
                    f"  round {r + 1}: {name}: {took:.1f} s ({args.labels / took:,.0f} labels/s)",
                    flush=True,
                )
                if name == "copy -> SQLite":
                    Path(target).unlink()
        print()
        print("| method | seconds (median) | labels/s |")
        print("|---|---|---|")
        for name, values in times.items():
            m = median(values)
            print(
                f"| {name} | {m:.1f} ({', '.join(f'{v:.1f}' for v in values)}) | "
                f"{args.labels / m:,.0f} |"
            )
        copy_pg, raw = median(times["copy -> PostgreSQL"]), median(times["raw COPY labels"])
        print(f"\ncopy -> PostgreSQL / raw COPY of the labels alone: {raw / copy_pg:.2f}x the rate")
        if split:
            w = median([s[0] for s in split])
            b = median([s[1] for s in split])
            print(
                f"copy -> PostgreSQL split: schema + COPY + source checksums {w:.1f} s, "
                f"read back + target checksums + commit {b:.1f} s"
            )
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
