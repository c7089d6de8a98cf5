"""The 1M-label path: our aggregate() on integer ids beside crowd-kit on the same integers.

    .venv/bin/python -m benchmarks.consensus_1m [--clips 200000] [--operators 1000]
        [--classes 5] [--per-clip 5] [--seed 7] [--repeat 3]

The simulated crowd of ``benchmarks.consensus`` (1,000,000 labels by default). Ours:
``aggregate(clip, operator, label)`` given three integer numpy arrays (as the hub
has them), encoding and the result (columnar: label index, posterior, vote counts)
included. crowd-kit: ``MajorityVote().fit`` / ``DawidSkene(n_iter=100).fit`` on a
ready pandas DataFrame of the same integers (building the frame not counted).
The runs alternate (ours, theirs, ours, ...); medians are printed. ``ours ds tol 1e-5``
is the fit stopped at ``tol=1e-5`` as before ``tol_converged`` (the cost of running EM
on to convergence once operators have many labels); ``ours ds point`` the EM point
estimate's posteriors without the predictive E-step (``predictive=False``).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
from collections.abc import Callable

import numpy as np

from benchmarks.consensus import simulate
from hub.consensus import aggregate


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--clips", type=int, default=200_000)
    ap.add_argument("--operators", type=int, default=1_000)
    ap.add_argument("--classes", type=int, default=5)
    ap.add_argument("--per-clip", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    import pandas as pd
    from crowdkit.aggregation import DawidSkene as CKDS
    from crowdkit.aggregation import MajorityVote as CKMV

    clip, op, lab, truth, _ = simulate(
        args.clips, args.operators, args.classes, args.per_clip, args.seed
    )
    frame = pd.DataFrame({"task": clip, "worker": op, "label": lab})
    print(
        f"# 1M-label path: {len(clip):,} labels, {args.clips:,} clips, {args.operators:,} operators, "
        f"{args.classes} classes; load average {os.getloadavg()[0]:.1f} at start; medians of {args.repeat}"
    )
    runs: dict[str, list[float]] = {
        "ours mv": [],
        "crowd-kit mv": [],
        "ours ds": [],
        "ours ds tol 1e-5": [],
        "ours ds point": [],
        "crowd-kit ds": [],
    }
    iters: dict[str, int] = {}
    acc: dict[str, float] = {}
    for _ in range(args.repeat):
        t, r = timed(lambda: aggregate(clip, op, lab, method="mv"))
        runs["ours mv"].append(t)
        acc["ours mv"] = float(np.mean(truth[np.asarray(r.tasks)] == r.label_index))
        t, ck = timed(lambda: CKMV().fit(frame))
        runs["crowd-kit mv"].append(t)
        acc["crowd-kit mv"] = float(np.mean(ck.labels_.sort_index().to_numpy() == truth))
        t, r = timed(lambda: aggregate(clip, op, lab, method="ds"))
        runs["ours ds"].append(t)
        acc["ours ds"] = float(np.mean(truth[np.asarray(r.tasks)] == r.label_index))
        iters["ours ds"] = r.model.n_iter_
        t, r = timed(lambda: aggregate(clip, op, lab, method="ds", tol_converged=1e-5))
        runs["ours ds tol 1e-5"].append(t)
        acc["ours ds tol 1e-5"] = float(np.mean(truth[np.asarray(r.tasks)] == r.label_index))
        iters["ours ds tol 1e-5"] = r.model.n_iter_
        t, r = timed(lambda: aggregate(clip, op, lab, method="ds", predictive=False))
        runs["ours ds point"].append(t)
        acc["ours ds point"] = float(np.mean(truth[np.asarray(r.tasks)] == r.label_index))
        iters["ours ds point"] = r.model.n_iter_
        t, ck = timed(lambda: CKDS(n_iter=100).fit(frame))
        runs["crowd-kit ds"].append(t)
        acc["crowd-kit ds"] = float(np.mean(ck.labels_.sort_index().to_numpy() == truth))
    med = {k: statistics.median(v) for k, v in runs.items()}
    for k, v in runs.items():
        it = f"  EM iterations {iters[k]}" if k in iters else ""
        print(
            f"{k:16s} median {med[k]:7.3f} s  runs {' '.join(f'{x:.3f}' for x in v)}  "
            f"accuracy {acc[k]:.4f}{it}"
        )
    print(
        f"\nDS: crowd-kit / ours = {med['crowd-kit ds'] / med['ours ds']:.1f}x (target >= 10x); "
        f"MV: crowd-kit / ours = {med['crowd-kit mv'] / med['ours mv']:.1f}x (target >= 1x)"
    )


if __name__ == "__main__":
    main()
