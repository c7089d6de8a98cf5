"""Ingest throughput: clips per second for a long synthetic source cut into 480p proxies.

    .venv/bin/python benchmarks/ingest.py [--minutes 30] [--size 1280x720]
        [--methods segment,clips] [--proxy-height 480] [--cache DIR]

Makes a synthetic broadcast-like source (testsrc2 + a tone, H.264/AAC), runs
``hub.ingest.ingest`` on it with each cutting method into a fresh media store,
and prints clips/s, the real-time factor, and the machine it ran on. "load" is the
5-minute load average at the end of each run: other work on the machine slows it;
"CPU s" (ffmpeg's user+system time) depends much less on such other work.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hub.ingest import MediaStore, ingest, probe  # noqa: E402
from hub.ingest.cut import default_jobs  # noqa: E402
from scripts.samples import make_long_video  # noqa: E402


def machine() -> list[str]:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem = float("nan")
    ffmpeg = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout
    return [
        f"machine: {cpu}, {os.cpu_count()} logical CPUs, {mem:.0f} GiB RAM",
        f"system: {platform.platform()}",
        f"python: {platform.python_version()}; {ffmpeg.splitlines()[0] if ffmpeg else 'no ffmpeg'}",
    ]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def source_video(cache: Path, minutes: float, size: str) -> tuple[Path, float]:
    path = cache / f"synthetic-{minutes:g}min-{size}.mp4"
    if path.exists():
        try:
            probe(path)
            return path, 0.0
        except Exception:
            path.unlink()
    started = time.perf_counter()
    make_long_video(path, minutes * 60, size=size)
    return path, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--size", default="1280x720", help="source size")
    parser.add_argument("--proxy-height", type=int, default=480)
    parser.add_argument("--clip-seconds", type=float, default=10.0)
    parser.add_argument("--methods", default="segment,clips")
    parser.add_argument("--jobs", type=int, default=None, help="parallel ffmpeg runs (clips)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds over the methods")
    parser.add_argument("--cache", type=Path, default=None, help="keep the source here")
    args = parser.parse_args()

    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    for line in machine():
        print(line)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        cache = args.cache or Path(tmp)
        cache.mkdir(parents=True, exist_ok=True)
        src, made = source_video(cache, args.minutes, args.size)
        p = probe(src)
        print(
            f"source: {p.duration:.0f} s, {p.width}x{p.height} {p.codec} {p.fps:g} fps, "
            f"audio {p.audio_codec or 'none'}, {src.stat().st_size / 2**20:.0f} MiB"
            + (f" (made in {made:.1f} s)" if made else " (cached)")
        )
        print(f"proxy: {args.proxy_height}p H.264 veryfast, clips of {args.clip_seconds:g} s\n")
        print(
            "| method | clips | wall s | clips/s | × real time | CPU s | CPU s/clip "
            "| proxy MiB | kbit/s | load |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        runs = [m for _ in range(args.repeat) for m in args.methods.split(",")]
        for i, method in enumerate(runs):
            store = MediaStore(Path(tmp) / f"media-{i}")
            cpu0 = _children_cpu()
            started = time.perf_counter()
            report = ingest(
                [src],
                store,
                clip_seconds=args.clip_seconds,
                proxy_height=args.proxy_height,
                method=method,  # type: ignore[arg-type]
                jobs=args.jobs,
            )
            wall = time.perf_counter() - started
            cpu = _children_cpu() - cpu0
            if report.errors:
                raise SystemExit(report.summary())
            size = sum(c.size for c in report.clips)
            n = len(report.clips)
            jobs = args.jobs or default_jobs()
            label = f"clips ({jobs} at a time)" if method == "clips" else method
            print(
                f"| {label} | {n} | {wall:.1f} | {n / wall:.2f} | {p.duration / wall:.1f} "
                f"| {cpu:.0f} | {cpu / n:.2f} "
                f"| {size / 2**20:.0f} | {size * 8 / p.duration / 1000:.0f} "
                f"| {os.getloadavg()[1]:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
