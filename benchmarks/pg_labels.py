"""Label batches into PostgreSQL: hub/store/pg's `insert_labels` against a raw multi-row
INSERT and COPY of the same rows into the same schema, on a throwaway server (tests/pg.py).

    python -m benchmarks.pg_labels --labels 40000 --batch 200 --rounds 3 [--statements]

Each round gives every method a fresh database (schema + clips) and the same label rows,
in batches of `--batch`, one commit per batch (as the hub acks a batch after its commit);
methods alternate within a round, medians over rounds. Printed: rows/s per method, µs per
label, and insert_labels' ratio to raw INSERT and to COPY (the issue's target for the whole
hub path is ≥ 0.25× raw). Single connection, no hub process, no network: this is the
store's share of the cost only. `--fsync on` (default) makes commits durable as a site's
server would; the tests run with fsync off.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
import uuid as uuidlib

import psycopg

from benchmarks.common import machine, median
from hub.store import NewLabel
from hub.store.pg.schema import apply_schema
from hub.store.records import label_row
from tests.hub.store_pg.conftest import insert_labels
from tests.pg import PgServer

#: The label rows and nothing else: no uuid check, no clip or assignment rows moved.
RAW_INSERT = """
INSERT INTO labels (uuid, operator, clip, kiosk, lease_id, schema_version, "values",
                    segments, telemetry, created_at, received_at, review, site)
SELECT *, %s::text FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
                     %s::integer[], %s::text[], %s::text[], %s::text[],
                     %s::double precision[], %s::double precision[], %s::integer[])
"""
COLUMNS = (
    'uuid, operator, clip, kiosk, lease_id, schema_version, "values", segments, telemetry, '
    "created_at, received_at, review"
)


def make_labels(n: int, clips: list[str]) -> list[NewLabel]:
    telemetry = json.dumps({"time_to_label_s": 2.5, "replays": 0, "player": "mpv"})
    return [
        NewLabel(
            uuid=str(uuidlib.UUID(int=i + 1)),
            operator=f"op{i % 50}",
            clip=clips[i % len(clips)],
            schema_version=1,
            values='["gewelddadig"]',
            segments="[]",
            telemetry=telemetry,
            created_at=1_700_000_000.0 + i,
        )
        for i in range(n)
    ]


def fresh(server: PgServer, clips: list[str]) -> str:
    url = server.create_database("bench")
    with psycopg.connect(url) as conn:
        apply_schema(conn)
        conn.execute(
            "INSERT INTO clips (sha256, size, duration, name, want, added_at) "
            "SELECT s, 1, 1.0, 'c', 3, 0 FROM unnest(%s::text[]) AS s",
            (clips,),
        )
    return url


def rows(batch: list[NewLabel], now: float) -> list[tuple]:
    return [label_row(x, "k", now + i * 1e-6) for i, x in enumerate(batch)]


def run_ours(conn: psycopg.Connection, batches: list[list[NewLabel]]) -> None:
    for batch in batches:
        status, _ = insert_labels(conn, "k", batch)
        conn.commit()
        assert status.count("stored") == len(batch)


def run_raw(conn: psycopg.Connection, batches: list[list[NewLabel]]) -> None:
    for batch in batches:
        columns = [list(c) for c in zip(*rows(batch, time.time()), strict=True)]
        conn.execute(RAW_INSERT, ["site", *columns])
        conn.commit()


def run_copy(conn: psycopg.Connection, batches: list[list[NewLabel]]) -> None:
    for batch in batches:
        with conn.cursor().copy(f"COPY labels ({COLUMNS}) FROM STDIN") as copy:
            for row in rows(batch, time.time()):
                copy.write_row(row)
        conn.commit()


METHODS = {"insert_labels": run_ours, "raw INSERT": run_raw, "COPY": run_copy}


def statement_costs(url: str, batches: list[list[NewLabel]], n: int) -> None:
    """insert_labels once more, with the wall time of each statement it runs added up and
    printed per label; the rest is Python and the commit (at the end of insert_labels' own
    transaction block, not through `execute`)."""
    spent: dict[str, float] = {}
    original = psycopg.Connection.execute

    def timed(self, query, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        started = time.perf_counter()
        try:
            return original(self, query, *args, **kwargs)
        finally:
            key = " ".join(str(query).split()[:3])[:32]
            spent[key] = spent.get(key, 0.0) + time.perf_counter() - started

    psycopg.Connection.execute = timed  # type: ignore[method-assign]
    try:
        with psycopg.connect(url) as conn:
            started = time.perf_counter()
            for batch in batches:
                insert_labels(conn, "k", batch)  # commits at the end of its own block
            total = time.perf_counter() - started
    finally:
        psycopg.Connection.execute = original  # type: ignore[method-assign]
    print("insert_labels per statement (wall time per label, client included):")
    for key, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {key:<34} {seconds / n * 1e6:6.1f} µs")
    rest = total - sum(spent.values())
    print(f"  {'the rest: Python, the commit':<34} {rest / n * 1e6:6.1f} µs")
    print(f"  {'all':<34} {total / n * 1e6:6.1f} µs")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--labels", type=int, default=40_000)
    p.add_argument("--batch", type=int, default=200)
    p.add_argument("--clips", type=int, default=20_000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--fsync", choices=("on", "off"), default="on")
    p.add_argument(
        "--statements", action="store_true", help="also: insert_labels' cost per statement"
    )
    args = p.parse_args(argv)
    clips = [hashlib.sha256(f"c{i}".encode()).hexdigest() for i in range(args.clips)]
    labels = make_labels(args.labels, clips)
    batches = [labels[i : i + args.batch] for i in range(0, len(labels), args.batch)]
    server = PgServer.create(fsync=args.fsync == "on")
    try:
        with psycopg.connect(server.url()) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
        print(
            f"machine: {machine()}; PostgreSQL {version} (throwaway, Unix socket, fsync "
            f"{args.fsync}, synchronous_commit on), psycopg {psycopg.__version__}"
        )
        print(
            f"{args.labels:,} labels in batches of {args.batch}, one commit per batch, "
            f"{args.clips:,} clips; {args.rounds} rounds, methods alternating"
        )
        rates: dict[str, list[float]] = {name: [] for name in METHODS}
        for r in range(args.rounds):
            order = list(METHODS) if r % 2 == 0 else list(reversed(METHODS))
            for name in order:
                url = fresh(server, clips)
                with psycopg.connect(url) as conn:
                    started = time.perf_counter()
                    METHODS[name](conn, batches)
                    elapsed = time.perf_counter() - started
                    (n,) = conn.execute("SELECT count(*) FROM labels").fetchone()
                    assert n == args.labels, (name, n)
                rates[name].append(args.labels / elapsed)
        for name, values in rates.items():
            m = median(values)
            print(
                f"{name:>14}: {m:,.0f} labels/s median ({', '.join(f'{v:,.0f}' for v in values)})"
                f"; {1e6 / m:.1f} µs per label"
            )
        if args.statements:
            statement_costs(fresh(server, clips), batches, args.labels)
        ours = median(rates["insert_labels"])
        print(
            f"insert_labels / raw INSERT: {ours / median(rates['raw INSERT']):.2f}×; "
            f"insert_labels / COPY: {ours / median(rates['COPY']):.2f}×"
        )
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
