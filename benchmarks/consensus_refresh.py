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
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import msgspec

import hub.consensus.dawid_skene as dsm
from benchmarks.consensus import simulate
from hub.project import load_project, to_schema
from hub.service import HubService
from hub.store import Store
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
    args = ap.parse_args()
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


if __name__ == "__main__":
    main()
