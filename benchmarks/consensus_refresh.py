"""What the sampled posterior costs the hub's consensus refresh.

    .venv/bin/python -m benchmarks.consensus_refresh [--operators 50,200,1000]
        [--labels-per-operator 45] [--repeat 3]

For each crowd (binary, 3 labels per clip, the crowd of ``benchmarks.consensus``, every
operator with about ``--labels-per-operator`` labels: under ``SAMPLE_BELOW``, so
Dawid–Skene samples) a real SQLite hub store is filled and ``HubService.consensus_rows(
store, full=True)`` is timed as the hub's housekeeping thread runs it (read the labels,
fit, decide the wanted votes): with the sampler (today) and without it
(``SAMPLE_BELOW = 0``: the EM point estimate), alternating, medians printed. Partial fits
(between full fits) never sample, so this is the whole cost.

Then, on one bigger store (``--big-operators`` x ``--big-labels-per-operator``, the EM
path), where a full refresh's time goes: reading the labels (``long_format``: SQL and
the JSON values), encoding the string ids, the fit, and the same fit given the integer
codes (what the hub would save by passing integer clip and operator numbers).

A/B of the hub's refresh against another revision (``--ab REV``, e.g. ``main``):

    .venv/bin/python -m benchmarks.consensus_refresh --ab main [--db sqlite|postgresql]
        [--big-operators 1000] [--big-labels-per-operator 300] [--rounds 5]

One store (SQLite file, or a database on a throwaway PostgreSQL server from tests/pg.py
with ``fsync=on``) with ``--big-operators`` x ``--big-labels-per-operator`` labels plus a last
batch of ``--new-labels``; its stored consensus is that of a fit of all but the last batch
(the steady state of a running hub). Each round starts one process per revision, in turn
(``PYTHONPATH`` = that revision's files, from ``benchmarks.common.source_tree``): a warm-up
fit, then ``--repeat`` times a full refresh (``consensus_rows(full=True)`` on all but the
last batch, from no model) and an incremental one (the last batch into that model). Wall
and CPU time medians over all rounds are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import msgspec

import hub.consensus.dawid_skene as dsm
from benchmarks.common import source_tree
from benchmarks.consensus import simulate
from hub.project import load_project, to_schema
from hub.service import HubService
from hub.store import NewLabel, Store
from tests.labelling import add_label

ROOT = Path(__file__).resolve().parent.parent


def build(folder: Path, n_ops: int, per_op: int) -> HubService:
    config, text = load_project(ROOT / "projects" / "geweld.toml")
    values = [x.value for x in config.labels]
    store = Store(folder / "hub.db")
    store.project_version(config.name, text, json.dumps(msgspec.to_builtins(to_schema(config, 0))))
    n_clips = n_ops * per_op // 3
    clip, op, lab, _, _ = simulate(n_clips, n_ops, 2, 3, 11)
    with store.transaction():
        for c in range(n_clips):
            store.add_clip(f"{c:064x}", 100, 10.0, f"c{c}.mp4", want=3)
        for i, (c, o, y) in enumerate(zip(clip.tolist(), op.tolist(), lab.tolist(), strict=True)):
            add_label(
                store,
                uuid=f"{i:032x}",
                operator=f"op{o}",
                clip=f"{c:064x}",
                kiosk="k",
                schema_version=1,
                values=[values[y]],
                segments=[],
                telemetry={},
                created_at=1_700_000_000.0 + i,
            )
    return HubService(store, folder / "media", config, to_schema(config, 1))


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--operators", default="50,200,1000")
    ap.add_argument("--labels-per-operator", type=int, default=45)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--big-operators", type=int, default=1000)
    ap.add_argument("--big-labels-per-operator", type=int, default=300)
    ap.add_argument("--ab", metavar="REV", help="time the refresh against this git revision")
    ap.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--new-labels", type=int, default=300)
    ap.add_argument(
        "--unsettled",
        action="store_true",
        help="A/B: no consensus stored yet (a first refresh: every labelled clip written)",
    )
    args = ap.parse_args()
    if args.ab:
        ab(args)
        return
    below = dsm.SAMPLE_BELOW
    print(
        f"# consensus refresh (full fit), load average {os.getloadavg()[0]:.1f} at start; "
        f"medians of {args.repeat}"
    )
    print(f"{'operators':>9s} {'labels':>8s} {'sampled s':>10s} {'EM only s':>10s} {'extra s':>8s}")
    for n_ops in [int(x) for x in args.operators.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            svc = build(Path(tmp), n_ops, args.labels_per_operator)
            times: dict[bool, list[float]] = {True: [], False: []}
            for _ in range(args.repeat):
                for sampled in (True, False):
                    dsm.SAMPLE_BELOW = below if sampled else 0
                    svc._fit.model = None  # a fresh full fit, as after a retraction
                    t0 = time.perf_counter()
                    svc.consensus_rows(svc.store, full=True)
                    times[sampled].append(time.perf_counter() - t0)
                    assert svc._fit.model.sampled_ is sampled
            dsm.SAMPLE_BELOW = below
            n = svc.store.last_label_rowid()
            on, off = statistics.median(times[True]), statistics.median(times[False])
            print(f"{n_ops:9d} {n:8d} {on:10.3f} {off:10.3f} {on - off:8.3f}", flush=True)
            svc.store.close()
    with tempfile.TemporaryDirectory() as tmp:
        breakdown(build(Path(tmp), args.big_operators, args.big_labels_per_operator), args.repeat)


def breakdown(svc: HubService, repeat: int) -> None:
    from hub.consensus import aggregate
    from hub.consensus.encode import encode
    from hub.store.dashboard import long_format

    classes = [v.value for v in svc.schema.labels]
    parts: dict[str, list[float]] = {k: [] for k in ("read", "encode", "fit strings", "fit ints")}
    for _ in range(repeat):
        t0 = time.perf_counter()
        tasks, workers, values = long_format(svc.store)
        t1 = time.perf_counter()
        enc = encode(tasks, workers, values, classes)
        t2 = time.perf_counter()
        aggregate(tasks, workers, values, classes, method="ds")
        t3 = time.perf_counter()
        aggregate(enc.task, enc.worker, values, classes, method="ds")
        t4 = time.perf_counter()
        for k, a, b in (("read", t0, t1), ("encode", t1, t2), ("fit strings", t2, t3)):
            parts[k].append(b - a)
        parts["fit ints"].append(t4 - t3)
    n = len(tasks)
    print(f"\nfull refresh of {n:,} labels, {len(set(workers))} operators (medians):")
    for k, v in parts.items():
        print(f"  {k:12s} {statistics.median(v):7.3f} s")
    svc.store.close()


#: What each process of the A/B runs, in the revision's own folder: (location, position
#: before the last batch, repeats) -> JSON {"full": [[wall, cpu], ...], "incremental": ...}.
CHILD = """
import json, sys, time
from pathlib import Path
from hub.project import load_project, to_schema
from hub.service import HubService
from hub.store import Store

location, mid, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
config, _ = load_project(Path("projects/geweld.toml"))
store = Store(location if location.startswith("postgresql") else Path(location))
svc = HubService(store, Path(sys.argv[4]), config, to_schema(config, 1))
out = {"full": [], "incremental": [], "rows": []}
for i in range(repeat + 1):  # the first: warm-up (lazy imports)
    svc._fit.model = None
    store.last_label_rowid = lambda: mid  # the full fit leaves the last batch out
    t, c = time.perf_counter(), time.process_time()
    full = svc.consensus_rows(store, full=True)
    f = (time.perf_counter() - t, time.process_time() - c)
    del store.last_label_rowid
    t, c = time.perf_counter(), time.process_time()
    incremental = svc.consensus_rows(store)
    n = (time.perf_counter() - t, time.process_time() - c)
    if i:
        out["full"].append(f)
        out["incremental"].append(n)
        out["rows"].append((len(full), len(incremental)))
store.close()
print(json.dumps(out))
"""


def fill(
    location: Path | str, n_ops: int, per_op: int, new: int, settled: bool = True
) -> tuple[HubService, int]:
    """A store with `n_ops` x `per_op` labels and then `new` more; its stored consensus is
    a fit without the last `new` (which is returned as a position, `last_label_rowid`), or
    none if not `settled`."""
    config, text = load_project(ROOT / "projects" / "geweld.toml")
    values = [x.value for x in config.labels]
    store = Store(location)
    store.project_version(config.name, text, json.dumps(msgspec.to_builtins(to_schema(config, 0))))
    n_clips = n_ops * per_op // 3
    clip, op, lab, _, _ = simulate(n_clips, n_ops, 2, 3, 11)
    pin = "scrypt$1024$8$1$" + "0" * 32 + "$" + "1" * 64  # never verified here
    with store.transaction():
        for o in range(n_ops):
            store.add_operator(f"op{o}", f"Operator {o}", pin)
        for c in range(n_clips):
            store.add_clip(f"{c:064x}", 100, 10.0, f"c{c}.mp4", want=3)
    labels = [
        NewLabel(
            uuid=f"{i:032x}",
            operator=f"op{o}",
            clip=f"{c:064x}",
            schema_version=1,
            values=json.dumps([values[y]]),
            segments="[]",
            telemetry="{}",
            created_at=1_700_000_000.0 + i,
        )
        for i, (c, o, y) in enumerate(zip(clip.tolist(), op.tolist(), lab.tolist(), strict=True))
    ]
    cut = len(labels) - new
    for start in range(0, cut, 1000):
        store.add_labels("k", labels[start : min(start + 1000, cut)])
    mid = store.last_label_rowid()
    store.add_labels("k", labels[cut:])
    svc = HubService(store, Path(str(location)).parent / "media", config, to_schema(config, 1))
    if settled:
        real = store.last_label_rowid
        store.last_label_rowid = lambda: mid  # type: ignore[method-assign]
        svc.refresh_consensus()
        store.last_label_rowid = real  # type: ignore[method-assign]
    return svc, mid


def ab(args: argparse.Namespace) -> None:
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        if args.db == "postgresql":
            from tests.pg import running_server

            server = stack.enter_context(running_server(fsync="on"))
            location: str = server.create_database("bench")
        else:
            location = str(tmp / "hub.db")
        t0 = time.perf_counter()
        svc, mid = fill(
            location if args.db == "postgresql" else Path(location),
            args.big_operators,
            args.big_labels_per_operator,
            args.new_labels,
            settled=not args.unsettled,
        )
        n = len(svc.store.votes_by_seq()[0])
        svc.store.close()
        print(
            f"# {args.db}: {n:,} labels ({args.new_labels} in the last batch), "
            f"{args.big_operators} operators, {'no' if args.unsettled else 'settled'} stored "
            f"consensus, filled in {time.perf_counter() - t0:.0f} s; "
            f"load average {os.getloadavg()[0]:.1f} at start"
        )
        base = stack.enter_context(source_tree(args.ab))
        trees = {args.ab: base, "working tree": ROOT}
        got: dict[str, dict[str, list]] = {k: {"full": [], "incremental": []} for k in trees}
        rows: dict[str, set] = {k: set() for k in trees}
        for r in range(args.rounds):
            order = list(trees) if r % 2 == 0 else list(reversed(trees))
            for name in order:
                out = subprocess.run(
                    [sys.executable, "-c", CHILD, location, str(mid), str(args.repeat), str(tmp)],
                    cwd=trees[name],
                    env={**os.environ, "PYTHONPATH": str(trees[name])},
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                result = json.loads(out)
                for kind in ("full", "incremental"):
                    got[name][kind] += result[kind]
                rows[name] |= {tuple(x) for x in result["rows"]}
        print(
            f"# medians of {args.rounds} rounds x {args.repeat}, alternating; load average "
            f"{os.getloadavg()[0]:.1f} at the end"
        )
        print(f"{'revision':14s} {'refresh':12s} {'wall s':>8s} {'cpu s':>8s}  rows written")
        for name in trees:
            for kind in ("full", "incremental"):
                wall = statistics.median(x[0] for x in got[name][kind])
                cpu = statistics.median(x[1] for x in got[name][kind])
                print(f"{name:14s} {kind:12s} {wall:8.3f} {cpu:8.3f}  {sorted(rows[name])}")


if __name__ == "__main__":
    main()
