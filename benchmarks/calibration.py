"""Calibration benchmark: is a consensus confidence of 0.9 right 9 times in 10?

    .venv/bin/python -m benchmarks.calibration [--sizes 20,50,200,2000,20000,200000]
        [--operators 20] [--clips-per-size 8000] [--no-crowdkit] [--no-real] [--curves]

Binary simulated crowds (the crowd of ``benchmarks.consensus.simulate``: every operator
a seeded accuracy from Beta(6, 2), the class balance from Dirichlet(4, 4)), 3 votes per
clip. For every crowd size, as many seeds as give about ``--clips-per-size`` clips in
total (at least 2, the largest sizes fewer clips); the expected calibration error
(10 equal bins of the confidence of the chosen label) and the accuracy are pooled over
the seeds. Three aggregators on the same crowds in the same run:

- ``before``: ``DawidSkene(class_prior=0, sample_limit=0, tol_converged=1e-5)``, the
  model as it was (MAP-EM stopped at ``tol=1e-5``, diagonal prior 1, maximum-likelihood
  class distribution);
- ``ours``: ``DawidSkene()`` with today's defaults;
- ``crowd-kit``: crowd-kit's ``DawidSkene(n_iter=100)``.

Then the same by labels per operator (a fixed crowd size, fewer or more operators),
the public truth-inference sets (``$STRAAT_TRUTH_INFERENCE``, default
``/work/shared/data/truth-inference``; accuracy and ECE on the items with truth), and
with ``--curves`` the reliability curves (per bin: clips, mean confidence, accuracy).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.consensus import simulate
from hub.consensus.calibration import Reliability, calibration
from hub.consensus.dawid_skene import DawidSkene

#: The model before the calibration work: no class prior, no pooled prior, no sampling,
#: EM always stopped at tol=1e-5, the MAP-EM posteriors as they are.
BEFORE = {
    "class_prior": 0.0,
    "sample_limit": 0,
    "tol_converged": 1e-5,
    "pool_prior": 0.0,
    "predictive": False,
}

Fit = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def ours(**params: float | bool) -> Fit:
    def fit(clip: np.ndarray, op: np.ndarray, lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = DawidSkene(**params).fit(clip.tolist(), op.tolist(), lab.tolist())  # type: ignore[arg-type]
        tasks = np.array([int(t) for t in m.tasks_])
        classes = np.array([int(c) for c in m.classes_])
        order = np.argsort(tasks)
        full = np.zeros((len(tasks), 2))
        full[:, classes] = m.probas_
        return tasks[order], full[order]

    return fit


def crowdkit() -> Fit:
    import pandas as pd
    from crowdkit.aggregation import DawidSkene as CK

    def fit(clip: np.ndarray, op: np.ndarray, lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        frame = pd.DataFrame({"task": clip, "worker": op, "label": lab})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p = CK(n_iter=100).fit_predict_proba(frame)
        p = p.reindex(columns=[0, 1]).fillna(0.0).sort_index()
        return p.index.to_numpy(), p.to_numpy()

    return fit


def score(conf: list[np.ndarray], hit: list[np.ndarray]) -> Reliability:
    return calibration(np.concatenate(conf).tolist(), np.concatenate(hit).tolist())


def run_size(
    methods: dict[str, Fit], n_clips: int, n_ops: int, seeds: int, first_seed: int = 1000
) -> dict[str, tuple[Reliability, float]]:
    conf: dict[str, list[np.ndarray]] = {m: [] for m in methods}
    hit: dict[str, list[np.ndarray]] = {m: [] for m in methods}
    took = dict.fromkeys(methods, 0.0)
    for seed in range(seeds):
        clip, op, lab, truth, _ = simulate(n_clips, n_ops, 2, 3, first_seed + seed)
        for name, fit in methods.items():
            t0 = time.perf_counter()
            tasks, probas = fit(clip, op, lab)
            took[name] += time.perf_counter() - t0
            chosen = np.argmax(probas >= probas.max(axis=1, keepdims=True) - 1e-9, axis=1)
            conf[name].append(probas[np.arange(len(tasks)), chosen])
            hit[name].append(chosen == truth[tasks])
    return {m: (score(conf[m], hit[m]), took[m] / seeds) for m in methods}


def table(rows: list[tuple[str, dict[str, tuple[Reliability, float]]]], names: list[str]) -> None:
    head = f"{'crowd':34s}" + "".join(f" {n + ' ECE':>14s} {n + ' acc':>14s}" for n in names)
    print(head + "   s/fit " + " ".join(f"{n:>8s}" for n in names))
    for label, res in rows:
        line = f"{label:34s}"
        for n in names:
            cal = res[n][0]
            acc = sum(b.n * (b.accuracy or 0) for b in cal.bins) / cal.n
            line += f" {cal.ece:14.4f} {acc:14.4f}"
        print(line + "         " + " ".join(f"{res[n][1]:8.3f}" for n in names), flush=True)


def curves(label: str, res: dict[str, tuple[Reliability, float]]) -> None:
    print(f"\nreliability, {label} (bin: clips / mean confidence / accuracy)")
    for name, (cal, _) in res.items():
        cells = []
        for b in cal.bins:
            if b.n:
                cells.append(f"{b.lo:.1f}: {b.n} / {b.confidence:.3f} / {b.accuracy:.3f}")
        print(f"  {name:10s} " + "; ".join(cells))


def real_sets(methods: dict[str, Fit]) -> None:
    import csv

    root = Path(os.environ.get("STRAAT_TRUTH_INFERENCE", "/work/shared/data/truth-inference"))
    if not root.is_dir():
        print(f"\n(no truth-inference data at {root})")
        return
    print("\npublic truth-inference sets (items with truth): ECE / accuracy")
    names = list(methods)
    print(
        f"{'set':36s} {'labels':>8s}"
        + "".join(f" {n + ' ECE':>14s} {n + ' acc':>14s}" for n in names)
    )
    for folder in sorted(p for p in root.iterdir() if (p / "answer.csv").is_file()):
        with (folder / "answer.csv").open(newline="") as fh:
            rows = [r for r in list(csv.reader(fh))[1:] if r]
        with (folder / "truth.csv").open(newline="") as fh:
            truth_rows = [r for r in list(csv.reader(fh))[1:] if r]
        t_codes = {t: i for i, t in enumerate(sorted({r[0].strip() for r in rows}))}
        w_codes = {w: i for i, w in enumerate(sorted({r[1].strip() for r in rows}))}
        classes = sorted({r[2].strip() for r in rows} | {r[1].strip() for r in truth_rows})
        c_codes = {c: i for i, c in enumerate(classes)}
        clip = np.array([t_codes[r[0].strip()] for r in rows])
        op = np.array([w_codes[r[1].strip()] for r in rows])
        lab = np.array([c_codes[r[2].strip()] for r in rows])
        truth = np.full(len(t_codes), -1)
        for r in truth_rows:
            if r[0].strip() in t_codes:
                truth[t_codes[r[0].strip()]] = c_codes[r[1].strip()]
        line = f"{folder.name:36s} {len(rows):8d}"
        for name in names:
            tasks, probas = (
                methods[name](clip, op, lab)
                if name != "crowd-kit"
                else _ck_multi(clip, op, lab, len(classes))
            )
            if probas.shape[1] < len(classes):
                probas = np.hstack(
                    [probas, np.zeros((len(probas), len(classes) - probas.shape[1]))]
                )
            chosen = np.argmax(probas >= probas.max(axis=1, keepdims=True) - 1e-9, axis=1)
            keep = truth[tasks] >= 0
            cal = calibration(
                probas[np.arange(len(tasks)), chosen][keep].tolist(),
                (chosen == truth[tasks])[keep].tolist(),
            )
            acc = float(np.mean((chosen == truth[tasks])[keep]))
            line += f" {cal.ece:14.4f} {acc:14.4f}"
        print(line, flush=True)


def _ck_multi(
    clip: np.ndarray, op: np.ndarray, lab: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd
    from crowdkit.aggregation import DawidSkene as CK

    frame = pd.DataFrame({"task": clip, "worker": op, "label": lab})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = CK(n_iter=100).fit_predict_proba(frame)
    p = p.reindex(columns=list(range(k))).fillna(0.0).sort_index()
    return p.index.to_numpy(), p.to_numpy()


def _multi(**params: float | bool) -> Fit:
    def fit(clip: np.ndarray, op: np.ndarray, lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = DawidSkene(**params).fit(clip.tolist(), op.tolist(), lab.tolist())  # type: ignore[arg-type]
        tasks = np.array([int(t) for t in m.tasks_])
        classes = np.array([int(c) for c in m.classes_])
        full = np.zeros((len(tasks), int(lab.max()) + 1))
        full[:, classes] = m.probas_
        order = np.argsort(tasks)
        return tasks[order], full[order]

    return fit


def parse_candidate(text: str) -> tuple[str, dict[str, float]]:
    """``NAME:KEY=VALUE,...`` to (name, DawidSkene parameters)."""
    name, _, rest = text.partition(":")
    params = {}
    for item in filter(None, rest.split(",")):
        key, _, value = item.partition("=")
        params[key.strip()] = float(value)
    return name.strip(), params


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", default="20,50,200,2000,20000,200000")
    ap.add_argument("--operators", type=int, default=20)
    ap.add_argument("--clips-per-size", type=int, default=8000)
    ap.add_argument(
        "--per-operator-size",
        type=int,
        default=200,
        help="crowd size of the labels-per-operator table",
    )
    ap.add_argument("--labels-per-operator", default="5,10,30,150")
    ap.add_argument("--no-crowdkit", action="store_true")
    ap.add_argument("--no-real", action="store_true")
    ap.add_argument("--no-per-operator", action="store_true")
    ap.add_argument("--curves", action="store_true", help="print reliability curves")
    ap.add_argument("--first-seed", type=int, default=1000, help="seed of the first crowd")
    ap.add_argument(
        "--try",
        dest="candidates",
        action="append",
        default=[],
        metavar="NAME:KEY=VALUE,...",
        help="one more column: DawidSkene with these parameters, e.g. t7:tol=1e-7",
    )
    args = ap.parse_args()

    methods: dict[str, Fit] = {"before": ours(**BEFORE), "ours": ours()}
    candidates = {name: params for name, params in map(parse_candidate, args.candidates)}
    for name, params in candidates.items():
        methods[name] = ours(**params)
    if not args.no_crowdkit:
        methods["crowd-kit"] = crowdkit()
    names = list(methods)
    load = os.getloadavg()[0]
    print(
        f"# calibration benchmark (binary crowds, 3 votes per clip; load average {load:.1f} at start)"
    )
    print(f"## by crowd size, {args.operators} operators\n")
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        seeds = max(2, args.clips_per_size // n) if n < 100_000 else 1
        res = run_size(methods, n, args.operators, seeds, args.first_seed)
        label = f"{n:,} clips x {seeds} seeds"
        rows.append((label, res))
        table([rows[-1]], names) if len(rows) == 1 else table([rows[-1]], names)
        if args.curves:
            curves(label, res)
    if not args.no_per_operator:
        n = args.per_operator_size
        print(f"\n## by labels per operator, {n} clips\n")
        for lpo in [int(s) for s in args.labels_per_operator.split(",")]:
            n_ops = max(6, round(3 * n / lpo))
            seeds = max(2, args.clips_per_size // n)
            res = run_size(methods, n, n_ops, seeds)
            table([(f"{lpo} labels/op ({n_ops} ops) x {seeds}", res)], names)
            if args.curves:
                curves(f"{lpo} labels per operator", res)
    if not args.no_real:
        real = {"before": _multi(**BEFORE), "ours": _multi()}
        for name, params in candidates.items():
            real[name] = _multi(**params)
        if not args.no_crowdkit:
            real["crowd-kit"] = crowdkit()
        real_sets(real)


if __name__ == "__main__":
    main()
