"""Where the assign (and heartbeat) latency of a `load.py --trace DIR` run goes.

    python -m benchmarks.trace_report DIR [--slow MS]

Each client RequestWork (sent → Assign received) is matched with the hub's record of the
same kiosk's RequestWork (the first read from the socket after it was sent) and split into:
to_hub (sent → read by the router: socket, libzmq's I/O thread, the router busy with
an earlier batch), in_batch (read → its slice begins: frames ahead of it in the router's backlog),
slice (its slice's work and commit), send (replies handed to libzmq), back (libzmq encrypts
and delivers, the client process notices). For the slow ones: what the hub was doing.
"""

from __future__ import annotations

import argparse
import bisect
import collections
import json
import sys
from pathlib import Path

from benchmarks.common import pct

PARTS = ("to_hub", "in_batch", "slice", "send", "back")


def load(folder: Path) -> tuple[dict, dict]:
    return json.loads((folder / "hub.json").read_text()), json.loads(
        (folder / "clients.json").read_text()
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("folder", type=Path)
    p.add_argument("--slow", type=float, default=20.0, help="ms: list requests slower than this")
    p.add_argument("--kind", default="assign", choices=["assign", "hb"])
    p.add_argument("--show", type=int, default=15)
    args = p.parse_args(argv)
    hub, clients = load(args.folder)
    tag = {"assign": "request_work", "hb": "hb"}[args.kind]
    seen: dict[str, list[tuple[float, int]]] = collections.defaultdict(list)
    slices = hub["slices"]
    for n, (_began, _committed, _sent, frames) in enumerate(slices):
        for kiosk, t, read_at in frames:
            if t == tag:
                seen[kiosk].append((read_at, n))
    for v in seen.values():
        v.sort()
    rows = []
    for kind, kiosk, sent, got, working in clients["trace"]:
        if kind != args.kind or not working:
            continue
        cand = seen.get(kiosk, [])
        i = bisect.bisect_left(cand, (sent - 0.0005, -1))
        if i == len(cand) or cand[i][0] > got:
            continue
        read_at, n = cand[i]
        began, committed, hub_sent, frames = slices[n]
        rows.append(
            {
                "total": (got - sent) * 1000,
                "to_hub": (read_at - sent) * 1000,
                "in_batch": (began - read_at) * 1000,
                "slice": (committed - began) * 1000,
                "send": (hub_sent - committed) * 1000,
                "back": (got - hub_sent) * 1000,
                "sent": sent,
                "slice_n": n,
                "frames": len(frames),
            }
        )
    if not rows:
        print("no matched requests")
        return 1
    t0 = clients["window"][0]
    totals = [r["total"] for r in rows]
    print(
        f"{len(rows)} {args.kind} requests matched; total p50 {pct(totals, 50):.1f} "
        f"p99 {pct(totals, 99):.1f} ms"
    )
    for part in PARTS:
        vals = [r[part] for r in rows]
        print(
            f"  {part:9s} p50 {pct(vals, 50):6.2f}  p95 {pct(vals, 95):6.2f}  "
            f"p99 {pct(vals, 99):6.2f}  max {max(vals):6.1f}"
        )
    slow = sorted((r for r in rows if r["total"] > args.slow), key=lambda r: -r["total"])
    print(
        f"{len(slow)} slower than {args.slow:g} ms; share of their time: "
        + ", ".join(
            f"{part} {sum(r[part] for r in slow) / max(1e-9, sum(r['total'] for r in slow)):.0%}"
            for part in PARTS
        )
    )
    # hub-wide view
    lens = [(c - b) * 1000 for b, c, _, _ in slices]
    gaps = [(slices[i + 1][0] - slices[i][2]) * 1000 for i in range(len(slices) - 1)]
    print(
        f"slices: {len(slices)}; work+commit p50 {pct(lens, 50):.2f} p99 {pct(lens, 99):.2f} "
        f"max {max(lens):.1f} ms; gap to next slice p99 {pct(gaps, 99):.2f} max "
        f"{max(gaps):.1f} ms"
    )
    lag = hub["lag"]
    print(
        f"loop lag events > 2 ms: {len(lag)}; max {max((x[1] for x in lag), default=0) * 1000:.1f} ms"
    )
    for name in ("fit", "write", "checkpoint"):
        spans = hub.get(name, [])
        d = [(b - a) * 1000 for a, b, *_ in spans]
        if d:
            cpu = sum(x[2] for x in spans if len(x) > 2) * 1000
            print(
                f"{name}: {len(d)} × p50 {pct(d, 50):.1f} max {max(d):.1f} ms (thread CPU {cpu:.0f} ms in all); at "
                + " ".join(f"{a - t0:.1f}" for a, *_ in spans if a >= t0 - 1)[:200]
            )
    cpu = [x for x in hub["cpu"] if x[0] >= t0]
    wall, used, queued = (sum(x[i] for x in cpu) for i in (1, 2, 3))
    print(
        f"router slices in the window: wall {wall:.2f} s = CPU {used:.2f} + run queue "
        f"{queued:.2f} + blocked (GIL, I/O) {wall - used - queued:.2f}"
    )
    print(
        "hub threads (CPU s, run-queue wait s): "
        + ", ".join(
            f"{k.split(' ', 1)[1]} {v[0]:.2f}/{v[1]:.2f}" for k, v in hub.get("threads", {}).items()
        )
    )
    gcs = [x for x in hub["gc"] if x[0] >= t0]
    for gen in (0, 1, 2):
        d = [(b - a) * 1000 for a, b, g, _ in gcs if g == gen]
        if d:
            print(f"gc generation {gen}: {len(d)} × max {max(d):.1f} ms, total {sum(d):.0f} ms")
    for r in slow[: args.show]:
        at = r["sent"] - t0
        n = r["slice_n"]
        near = [x for x in slices if r["sent"] - 0.001 <= x[0] <= r["sent"] + r["total"] / 1000]
        kinds = collections.Counter(t for x in near for _, t, _ in x[3])
        overl = [
            name
            for name in ("fit", "write", "checkpoint", "gc")
            for a, b, *_ in hub.get(name, [])
            if a <= r["sent"] + r["total"] / 1000 and b >= r["sent"]
        ]
        lags = [
            round(late * 1000, 1)
            for t, late in lag
            if r["sent"] - 0.01 <= t <= r["sent"] + r["total"] / 1000
        ]
        print(
            f"  at {at:6.2f}s total {r['total']:6.1f}: "
            + " ".join(f"{part} {r[part]:.1f}" for part in PARTS)
            + f" | slice#{n} {r['frames']} frames; meanwhile {len(near)} slices {dict(kinds)}"
            + (f" overlaps {overl}" if overl else "")
            + (f" lag {lags}" if lags else "")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
