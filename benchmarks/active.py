"""Active-learning benchmark: labels needed to reach a target model accuracy against the
people's consensus, uncertainty-first vs random order, same seeds, side by side.

    .venv/bin/python -m benchmarks.active [--seeds 10] [--first-seed 1] [--target 0.97]
        [--max-labels 4500] [--measure entropy|margin|least_confidence] [--batch 20]

The loop is `hub.models.simulate`: simulated operators with their own confusion
matrices label each picked clip k times; Dawid–Skene consensus (`hub.consensus`); a
softmax regression trained on the consensus of the labelled clips; measured against the
confident consensus of a held-out test set (`hub.models.evaluate`); the next batch picked
by `hub.models.priority.prioritise` (uncertainty) or at random. Per seed both strategies
get the same world, the same first batch and the same labels for the same clip.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

import numpy as np

from benchmarks.common import machine
from hub.models.simulate import SimConfig, Trace, make_world, run

BUDGETS = (300, 600, 1200, 2400)


def _need(trace: Trace, target: float, cap: int) -> tuple[int, str]:
    """(labels, shown): labels to the target, or the cap + 1 when never reached."""
    need = trace.labels_to(target)
    return (cap + 1, f"> {cap}") if need is None else (need, str(need))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--target", type=float, default=SimConfig.target)
    parser.add_argument("--max-labels", type=int, default=SimConfig.max_labels)
    parser.add_argument("--measure", default=SimConfig.measure)
    parser.add_argument("--batch", type=int, default=SimConfig.batch)
    args = parser.parse_args(argv)
    base = replace(
        SimConfig(),
        target=args.target,
        max_labels=args.max_labels,
        measure=args.measure,
        batch=args.batch,
    )
    c = base
    print(f"# active-learning benchmark  ({machine()}, numpy {np.__version__})")
    print(
        f"world: {c.pool} pool clips + {c.test} held-out test clips, {c.features} features, "
        f"{c.classes} classes (shares {', '.join(f'{s:.0%}' for s in c.shares)}), "
        f"{c.operators} operators (accuracy {c.accuracy[0]:.2f}-{c.accuracy[1]:.2f}, "
        f"own confusion matrices), {c.k} labels per clip"
    )
    print(
        f"loop: first {c.seed_clips} clips at random, then batches of {c.batch} clips; "
        "Dawid-Skene consensus; softmax regression on the consensus; "
        f"priority: uncertainty ({c.measure}) vs random"
    )
    print(
        f"target: {c.target:.0%} accuracy against the confident (>= {c.threshold}) consensus "
        f"of the test clips; at most {c.max_labels} labels\n"
    )
    print(
        f"{'seed':>4}  {'uncertainty-first':>17}  {'random':>8}  {'random/unc.':>11}  "
        f"{'best accuracy u / r':>19}  seconds u + r"
    )
    needs_u, needs_r, ratios = [], [], []
    at: dict[str, dict[int, list[float]]] = {"u": {b: [] for b in BUDGETS}, "r": {}}
    at["r"] = {b: [] for b in BUDGETS}
    started = time.perf_counter()
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        world = make_world(replace(base, seed=seed))
        first, rand = run(world, "uncertainty"), run(world, "random")
        cap = c.max_labels or c.pool * c.k
        (nu, su), (nr, sr) = _need(first, c.target, cap), _need(rand, c.target, cap)
        needs_u.append(nu)
        needs_r.append(nr)
        if min(nu, nr) <= cap:
            ratios.append(nr / nu)
        for key, trace in (("u", first), ("r", rand)):
            for b in BUDGETS:
                value = trace.accuracy_at(b)
                if value is not None:
                    at[key][b].append(value)
        if min(nu, nr) > cap:
            ratio = "—"
        else:
            ratio = ("≥ " if nr > cap else "") + f"{nr / nu:.1f}x"
        best = f"{max(r.accuracy for r in first.rounds):.3f} / {max(r.accuracy for r in rand.rounds):.3f}"
        print(
            f"{seed:>4}  {su:>17}  {sr:>8}  {ratio:>11}  {best:>19}  "
            f"{first.seconds:.1f} + {rand.seconds:.1f}"
        )
    cap = c.max_labels or c.pool * c.k
    fewer = sum(u < r for u, r in zip(needs_u, needs_r, strict=True))
    print(
        f"\nmedian labels to {c.target:.0%}: uncertainty-first {statistics.median(needs_u):.0f}, "
        f"random {statistics.median(needs_r):.0f} (not reached counted as {cap + 1})"
    )
    print(
        f"reached the target: uncertainty-first {sum(n <= cap for n in needs_u)}/{len(needs_u)}, "
        f"random {sum(n <= cap for n in needs_r)}/{len(needs_r)}; fewer labels with "
        f"uncertainty-first in {fewer}/{len(needs_u)} seeds; median ratio "
        f"{statistics.median(ratios):.1f}x (seeds where one reached it)"
    )
    print("\nmean accuracy against confident consensus at a label budget:")
    print(f"{'labels':>6}  {'uncertainty-first':>17}  {'random':>8}")
    for b in BUDGETS:
        u, r = at["u"][b], at["r"][b]
        print(
            f"{b:>6}  {np.mean(u) if u else float('nan'):>17.3f}  {np.mean(r) if r else float('nan'):>8.3f}"
        )
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
