"""`make bench`: run every benchmark in benchmarks/ with sizes for 2 cores / 24 GB in under
20 minutes, and write benchmarks/RESULTS.md.

Each benchmark runs as its own subprocess (`python -m benchmarks.NAME ARGS`) with a time
limit; its printed output is kept whole in the results, and the lines that carry its figures
and in-run baselines (ratio, ours/raw, target, …) are pulled into a summary table.

RESULTS.md has two parts, split by the line `<!-- generated below -->`:

- above the marker: hand-written notes (context, analysis, runs made by hand). `make bench`
  keeps them as they are; a RESULTS.md without the marker is kept whole, above it (so the
  marker must not appear in the hand-written text itself);
- below the marker: date, command, machine, the summary table and a section per benchmark.
  `make bench` rewrites this part, after each benchmark, so an interrupted run still leaves
  the finished ones.

    python -m benchmarks.run_all [--only load,growth] [--out benchmarks/RESULTS.md]
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.common import machine

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MARKER = "<!-- generated below -->"
HEADER = """# Benchmark results

Written by `make bench` (`python -m benchmarks.run_all`). Everything above the HTML comment
line "generated below" is hand-written and kept as it is; everything below that line is
rewritten by each run. Sizes are chosen for a 2-core / 24 GB machine, the whole run in
under 20 minutes; each benchmark's module docstring says how to run it at full size, and
benchmarks/RESULTS-*.md keep the full-size runs.

"""


@dataclass
class Bench:
    name: str  # a run's title (one module may run more than once)
    module: str
    args: list[str]
    timeout: float  # seconds
    what: str  # what the figure is, and its in-run baseline
    highlights: list[str] = field(default_factory=list)  # regexes for the summary lines


#: In run order; the budget adds up to well under 20 minutes of wall time. transfer runs
#: three rounds (one kiosk id per round) and reports medians.
BENCHES: list[Bench] = [
    Bench(
        "transfer",
        "transfer",
        ["--clips", "5", "--size-mb", "10", "--labels", "10000", "--rounds", "3"],
        300,
        "clip transfer over ZeroMQ vs a raw TCP copy of the same bytes; outbox drain",
        [r"ratio", r"ours", r"drain"],
    ),
    Bench(
        "consensus",
        "consensus",
        ["--clips", "100000", "--repeat", "1"],
        300,
        "our Dawid–Skene vs crowd-kit's on the same simulated crowd",
        [r"ratio", r"×", r"accuracy", r"faster"],
    ),
    Bench(
        "export",
        "export",
        ["--clips", "50000", "--labels", "250000"],
        300,
        "snapshot export vs a direct pyarrow write of the same label rows",
        [r"ratio", r"×", r"direct", r"target"],
    ),
    Bench(
        "kiosk_latency",
        "kiosk_latency",
        ["--clips", "40"],
        420,
        "key press to next clip playing, at the kiosk",
        [r"p50|p95|p99", r"target"],
    ),
    Bench(
        "ingest",
        "ingest",
        ["--minutes", "1"],
        240,
        "clips per second cutting a synthetic source into proxies",
        [r"clips/s", r"real-time"],
    ),
    Bench(
        "load (50 kiosks, throughput)",
        "load",
        ["--kiosks", "50", "--rate", "0", "--batch", "200", "--duration", "20"],
        300,
        "durable labels/s acked by the hub vs a raw batched SQLite insert of the same rows",
        [r"^acked labels/s", r"^ours / raw", r"^raw baseline", r"^assign latency", r"^hub:"],
    ),
    Bench(
        "label path (in-process)",
        "label_path",
        [],
        120,
        "CPU per label of the hub's RequestWork + LabelBatch paths without sockets, the SQL "
        "part alone (the most one SQLite writer could store), vs the same raw insert",
        [r"^CPU per label", r"^of which SQL", r"^raw baseline", r"^ours / raw"],
    ),
    Bench(
        "load (200 kiosks)",
        "load",
        ["--kiosks", "200", "--rate", "5", "--duration", "20", "--pin"],
        300,
        "assign latency with 200 kiosks connected (hub on a CPU of its own); heartbeats; hub RSS",
        [r"^assign latency", r"^heartbeats", r"^hub:", r"over_assigned", r"^acked labels/s"],
    ),
    Bench(
        "growth",
        "growth",
        ["--big", "1000000", "--labels", "3000000", "--samples", "100", "--budget", "20"],
        600,
        "assign latency at 1M clips vs 10k clips; query plans",
        [r"^target", r"request_work +\d", r"full_scans", r"FULL SCAN"],
    ),
    Bench(
        "active",
        "active",
        ["--seeds", "3"],
        240,
        "labels to reach the target model accuracy, uncertainty-first vs random order",
        [r"labels", r"×", r"ratio", r"saves"],
    ),
    Bench(
        "fuzz",
        "fuzz",
        ["--frames", "20000"],
        240,
        "garbage frames against a live hub while a kiosk labels",
        [r"frames/s", r"RSS", r"labels="],
    ),
    Bench(
        "chaos (short)",
        "chaos",
        ["--duration", "20", "--kiosks", "3"],
        180,
        "invariants under random kills (and cable cuts where namespaces exist)",
        [r"^labels="],
    ),
]


@dataclass
class Outcome:
    bench: Bench
    command: str
    code: int | None  # None: not run
    seconds: float
    output: str
    note: str = ""


def run_one(bench: Bench) -> Outcome:
    cmd = [sys.executable, "-m", f"benchmarks.{bench.module}", *bench.args]
    shown = "python -m " + shlex.join(cmd[2:])
    started = time.perf_counter()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # its own process group: on time-out the benchmark and what it started (hub, kiosks)
    # are stopped together, and nothing left behind holds the output pipes open
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    note = ""
    try:
        stdout, stderr = proc.communicate(timeout=bench.timeout)
    except subprocess.TimeoutExpired:
        note = f"stopped after its {bench.timeout:.0f} s limit"
        _kill_group(proc, signal.SIGTERM)
        try:
            stdout, stderr = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            _kill_group(proc, signal.SIGKILL)
            stdout, stderr = proc.communicate()
    _kill_group(proc, signal.SIGKILL)  # anything it left running
    out = stdout + (f"\n[stderr]\n{stderr.strip()}\n" if stderr.strip() else "")
    code = -1 if note else proc.returncode
    return Outcome(bench, shown, code, time.perf_counter() - started, out, note)


def _kill_group(proc: subprocess.Popen[str], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def highlights(o: Outcome) -> list[str]:
    if o.code is None:
        return []
    stdout = o.output.split("\n[stderr]\n", 1)[0]
    lines = [x.strip() for x in stdout.splitlines() if x.strip()]
    picked = [x for x in lines if any(re.search(p, x) for p in o.bench.highlights)]
    return picked[:6]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(
    outcomes: list[Outcome],
    command: str,
    started: datetime,
    missing: list[str],
    unlisted: list[str],
) -> str:
    parts = [
        MARKER,
        "",
        f"## Run of {started.isoformat(timespec='seconds').replace('+00:00', 'Z')}",
        "",
        f"- command: `{command}`",
        f"- machine: {machine()}",
        f"- load average at the start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"- total: {sum(o.seconds for o in outcomes) / 60:.1f} min",
        "",
        "| benchmark | result | figures (beside their in-run baseline) | seconds |",
        "|---|---|---|---|",
    ]
    for o in outcomes:
        if o.code is None:
            status = "not run"
        elif o.code == 0:
            status = "ok"
        else:
            status = f"exit {o.code}" + (f" ({o.note})" if o.note else "")
        figures = "<br>".join(_cell(x) for x in highlights(o)) or _cell(o.note or "—")
        parts.append(f"| {o.bench.name} | {status} | {figures} | {o.seconds:.0f} |")
    if missing:
        parts += ["", f"Not in benchmarks/ yet, so not run: {', '.join(missing)}."]
    if unlisted:
        parts += [
            "",
            f"In benchmarks/ but with no sizes in run_all.BENCHES: {', '.join(unlisted)}.",
        ]
    for o in outcomes:
        if o.code is None:
            continue
        parts += [
            "",
            f"### {o.bench.name}",
            "",
            f"{o.bench.what}.",
            "",
            f"`{o.command}` — exit {o.code}, {o.seconds:.0f} s" + (f", {o.note}" if o.note else ""),
            "",
            "```",
            o.output.rstrip() or "(no output)",
            "```",
        ]
    return "\n".join(parts) + "\n"


def write(path: Path, generated: str) -> None:
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if MARKER in old:
        kept = old.split(MARKER, 1)[0]
    elif old.strip():
        kept = old.rstrip() + "\n\n"
    else:
        kept = HEADER
    path.write_text(kept + generated, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--only", default="", help="comma-separated modules to run (default: all)")
    p.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = p.parse_args(argv)
    only = {x.strip() for x in args.only.split(",") if x.strip()}
    started = datetime.now(UTC)
    command = (
        "make bench"
        if not argv and len(sys.argv) == 1
        else shlex.join(
            ["python", "-m", "benchmarks.run_all", *(argv if argv is not None else sys.argv[1:])]
        )
    )
    present = {p.stem for p in HERE.glob("*.py")}
    chosen = [b for b in BENCHES if not only or b.module in only]
    missing = sorted({b.module for b in chosen if b.module not in present})
    unlisted = sorted(present - {b.module for b in BENCHES} - {"__init__", "common", "run_all"})
    outcomes: list[Outcome] = []
    failed = 0
    for bench in chosen:
        if bench.module not in present:
            continue
        print(
            f"== {bench.name}: python -m benchmarks.{bench.module} {shlex.join(bench.args)}",
            flush=True,
        )
        outcome = run_one(bench)
        outcomes.append(outcome)
        failed += outcome.code != 0
        print(f"   exit {outcome.code} in {outcome.seconds:.0f} s", flush=True)
        for line in highlights(outcome):
            print(f"   {line}", flush=True)
        write(args.out, render(outcomes, command, started, missing, unlisted))
    if unlisted:
        print(f"modules with no sizes in run_all.BENCHES, not run: {', '.join(unlisted)}")
    print(f"wrote {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
