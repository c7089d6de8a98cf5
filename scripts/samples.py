"""Test videos made with ffmpeg's lavfi generators: sample clips, long videos, broken files.

``python -m scripts.samples OUT_DIR [--count 6] [--seconds 4] [--size 320x180]``
"""

from __future__ import annotations

import functools
import random
import shutil
import subprocess
from pathlib import Path

import click

FFMPEG = "ffmpeg"
RATE = 25

# (name, lavfi source with {size}, {rate} and {seconds} filled in); all deterministic.
GENERATORS: list[tuple[str, str]] = [
    ("testsrc2", "testsrc2=size={size}:rate={rate}:duration={seconds}"),
    ("mandelbrot", "mandelbrot=size={size}:rate={rate},trim=duration={seconds}"),
    ("smptebars", "smptebars=size={size}:rate={rate}:duration={seconds}"),
    ("life", "life=size={size}:rate={rate}:seed=7:mold=10:death_color=#202060,"
             "trim=duration={seconds}"),
    ("rgbtestsrc", "rgbtestsrc=size={size}:rate={rate}:duration={seconds}"),
    ("cellauto", "cellauto=size={size}:rate={rate}:rule=110:seed=11,trim=duration={seconds}"),
]  # fmt: skip


def _run(args: list[str]) -> None:
    cmd = [FFMPEG, "-nostdin", "-hide_banner", "-v", "error", "-y", *args]
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(f"ffmpeg failed: {message[-1] if message else proc.returncode}")


@functools.cache
def drawtext_available() -> bool:
    """True if this ffmpeg has drawtext and can find a font to draw with."""
    if shutil.which(FFMPEG) is None:
        return False
    try:
        _run(["-f", "lavfi", "-i", "color=size=64x64:duration=0.04", "-vf",
              "drawtext=text=1:fontsize=32", "-f", "null", "-"])  # fmt: skip
    except RuntimeError:
        return False
    return True


def _size(size: str) -> tuple[int, int]:
    width, _, height = size.lower().partition("x")
    try:
        w, h = int(width), int(height)
    except ValueError:
        raise ValueError(f"size must look like 320x180, not {size!r}") from None
    if w < 16 or h < 16 or w % 2 or h % 2:
        raise ValueError(f"size must be even and at least 16x16, not {size!r}")
    return w, h


def _h264(extra: list[str] | None = None) -> list[str]:
    return [
        "-map_metadata", "-1", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
        "-threads", "1", *(extra or []),
    ]  # fmt: skip


def make_sample_clips(
    out_dir: Path,
    count: int = 6,
    seconds: float = 4.0,
    size: str = "320x180",
    *,
    audio: bool = True,
) -> list[Path]:
    """Make ``count`` short clips that look clearly different, numbered 1, 2, … on screen.

    The same arguments give the same bytes (single-threaded encode, fixed seeds,
    no metadata). Beyond six clips the patterns repeat with their hue turned.
    """
    w, h = _size(size)
    if count < 0:
        raise ValueError("count must not be negative")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    text = drawtext_available()
    paths = []
    for i in range(count):
        name, pattern = GENERATORS[i % len(GENERATORS)]
        source = pattern.format(size=f"{w}x{h}", rate=RATE, seconds=seconds)
        filters = []
        if i >= len(GENERATORS):
            filters.append(f"hue=h={(i // len(GENERATORS)) * 67 % 360}")
        if text:
            filters.append(
                f"drawtext=text={i + 1}:fontsize={int(h * 0.6)}:fontcolor=white:"
                "borderw=6:bordercolor=black:x=(w-text_w)/2:y=(h-text_h)/2"
            )
        filters.append("format=yuv420p")
        path = out_dir / f"sample-{i + 1:02d}-{name}.mp4"
        args = ["-f", "lavfi", "-i", source]
        if audio:
            tone = f"sine=frequency={220 * (i + 1)}:sample_rate=44100:duration={seconds}"
            args += ["-f", "lavfi", "-i", tone]
        args += ["-vf", ",".join(filters), *_h264(["-g", str(RATE * 2)])]
        if audio:
            args += ["-c:a", "aac", "-b:a", "64k", "-shortest"]
        _run([*args, "-movflags", "+faststart", str(path)])
        paths.append(path)
    return paths


def make_long_video(
    path: Path,
    seconds: float,
    *,
    size: str = "160x90",
    rate: int = RATE,
    audio: bool = True,
    faststart: bool = True,
) -> Path:
    """A long test video (testsrc2 and a tone), encoded as fast as x264 goes."""
    w, h = _size(size)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    args = ["-f", "lavfi", "-i", f"testsrc2=size={w}x{h}:rate={rate}:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={seconds}"]
    args += ["-map_metadata", "-1", "-c:v", "libx264", "-preset", "ultrafast",
             "-pix_fmt", "yuv420p"]  # fmt: skip
    if audio:
        args += ["-c:a", "aac", "-b:a", "64k", "-shortest"]
    if faststart:
        args += ["-movflags", "+faststart"]
    _run([*args, "-f", "mp4", str(path)])
    return path


def make_corrupt_video(path: Path, kind: str = "truncated") -> Path:
    """A broken video file.

    ``truncated``: an MP4 cut in half before its index (ffprobe cannot open it);
    ``cut``: an MP4 whose index is intact but whose data stops half way;
    ``garbage``: an MP4 header followed by random bytes (fixed seed).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "garbage":
        rng = random.Random(1234)
        header = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
        path.write_bytes(header + rng.randbytes(64 * 1024))
        return path
    if kind not in {"truncated", "cut"}:
        raise ValueError(f"unknown kind {kind!r}")
    whole = path.with_name(f".{path.name}.whole.mp4")
    try:
        make_long_video(whole, 8.0, audio=False, faststart=kind == "cut")
        data = whole.read_bytes()
    finally:
        whole.unlink(missing_ok=True)
    path.write_bytes(data[: len(data) // 2])
    return path


@click.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--count", default=6, show_default=True, help="How many clips.")
@click.option("--seconds", default=4.0, show_default=True, help="Length of each clip.")
@click.option("--size", default="320x180", show_default=True, help="WIDTHxHEIGHT, even.")
def main(out_dir: Path, count: int, seconds: float, size: str) -> None:
    """Make short, visibly different sample clips in OUT_DIR."""
    for path in make_sample_clips(out_dir, count=count, seconds=seconds, size=size):
        click.echo(path)
    if not drawtext_available():
        click.echo("note: this ffmpeg cannot draw text; clips are not numbered", err=True)


if __name__ == "__main__":
    main()
