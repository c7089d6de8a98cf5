"""Cut a video into clips with ffmpeg, re-encoded as small H.264 proxies.

Two ways to the same clips (benchmarks/RESULTS-ingest.md compares them):

* ``"segment"`` (default, the faster and cheaper in CPU in every measurement):
  one ffmpeg run per source; keyframes are forced at the cut points and the
  segment muxer starts a new file at each of them. x264 runs multi-threaded, so
  encoding the same source twice may give clips that differ in a few bytes.
* ``"clips"``: one ffmpeg run per clip (``-ss``/``-t``), ``jobs`` at a time, each
  with a single x264 thread: the same frames always give the same bytes, so the
  same footage in two differently packaged files yields identical clips.

With ``proxy_height=None`` the streams are copied, not re-encoded; cuts then
fall on the source's own keyframes and the clip times are measured afterwards.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from .probe import FFPROBE, IngestError, Probe, ffmpeg_input, probe

FFMPEG = "ffmpeg"
Method = Literal["segment", "clips"]
DEFAULT_METHOD: Method = "segment"

# A cut result may end this much short of the source before we call it truncated.
_TOLERANCE = 1.0


def default_jobs() -> int:
    """Parallel ffmpeg runs for the ``"clips"`` method: one per CPU, at most 8."""
    return max(1, min(8, os.cpu_count() or 1))


@dataclass(frozen=True)
class Segment:
    """One clip file made from a source, and where it lies in the source (seconds)."""

    path: Path
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


def plan_cuts(duration: float, clip_seconds: float) -> list[tuple[float, float]]:
    """Split ``[0, duration]`` into clips of ``clip_seconds``.

    A source no longer than 1.5 clips stays whole; a tail shorter than half a clip
    is added to the clip before it, so every clip lasts between 0.5 and 1.5 clips.
    """
    if clip_seconds <= 0:
        raise ValueError("clip_seconds must be positive")
    if duration <= clip_seconds * 1.5:
        return [(0.0, duration)]
    full = int(duration // clip_seconds)
    if duration - full * clip_seconds < clip_seconds / 2:
        full -= 1
    bounds = [round(k * clip_seconds, 6) for k in range(full + 1)] + [duration]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def proxy_size(p: Probe, proxy_height: int) -> int:
    """Target height: never upscaled, always even."""
    height = min(proxy_height, p.height)
    return max(2, height - height % 2)


def _video_filter(p: Probe, proxy_height: int) -> str:
    height = proxy_size(p, proxy_height)
    scale = f"scale=w='round(oh*dar/2)*2':h={height}"
    return f"yadif=deint=interlaced,{scale},setsar=1,format=yuv420p"


def _audio_args(p: Probe) -> list[str]:
    """AAC is copied (encoding it costs as much as the video); anything else becomes AAC."""
    if p.audio_codec == "aac" and p.audio_channels <= 2:
        return ["-c:a", "copy"]
    args = ["-c:a", "aac", "-b:a", "96k"]
    return args + (["-ac", "2"] if p.audio_channels > 2 else [])


def _encode_args(p: Probe, proxy_height: int, crf: int, threads: int = 0) -> list[str]:
    """ffmpeg output options of a proxy; ``threads=1`` makes x264 byte-for-byte repeatable."""
    return [
        "-map", "0:v:0", "-map", "0:a:0?", "-sn", "-dn",
        "-map_metadata", "-1", "-map_chapters", "-1",
        "-vf", _video_filter(p, proxy_height),
        "-c:v", "libx264", "-preset", "veryfast", "-crf", str(crf), "-threads:v", str(threads),
        "-pix_fmt", "yuv420p",
        *_audio_args(p),
    ]  # fmt: skip


def _tail(f: IO[bytes], limit: int = 4000) -> str:
    f.seek(0, os.SEEK_END)
    size = f.tell()
    f.seek(max(0, size - limit))
    lines = [ln.strip() for ln in f.read().decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1] if lines else "no message"


def _start(args: Sequence[str], err: IO[bytes], progress: bool) -> subprocess.Popen[bytes]:
    cmd = [FFMPEG, "-nostdin", "-hide_banner", "-v", "error", "-y"]
    if progress:
        cmd += ["-progress", "pipe:1", "-nostats"]
    return subprocess.Popen(
        [*cmd, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE if progress else subprocess.DEVNULL,
        stderr=err,
    )


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def run_ffmpeg(
    src: Path, args: Sequence[str], on_time: Callable[[float], None] | None = None
) -> None:
    """Run ffmpeg; report output time (s) while it works; IngestError on failure.

    The child is killed if anything (Ctrl+C included) interrupts the wait.
    """
    with tempfile.TemporaryFile() as err:
        proc = _start(args, err, on_time is not None)
        try:
            if on_time is not None and proc.stdout is not None:
                for line in proc.stdout:
                    if line.startswith(b"out_time_us="):
                        try:
                            on_time(max(0, int(line.split(b"=", 1)[1])) / 1e6)
                        except ValueError:
                            pass
            code = proc.wait()
        except BaseException:
            _kill(proc)
            raise
        if code != 0:
            raise IngestError(src, f"ffmpeg could not convert it: {_tail(err)}")


def _video_duration(path: Path) -> float:
    proc = subprocess.run(
        [FFPROBE, "-v", "error", "-select_streams", "v:0", "-show_entries",
         "stream=duration:format=duration", "-of", "default=nw=1:nk=1", "-i", ffmpeg_input(path)],
        stdin=subprocess.DEVNULL, capture_output=True, check=False, timeout=60,
    )  # fmt: skip
    for token in proc.stdout.decode().split():
        try:
            return float(token)
        except ValueError:
            continue
    return 0.0


def _check_complete(
    src: Path, p: Probe, plan: list[tuple[float, float]], files: list[Path]
) -> None:
    if len(files) < len(plan):
        done = plan[len(files) - 1][1] if files else 0.0
        raise IngestError(
            src,
            f"truncated or corrupt: only about {done:.0f} s of {p.duration:.0f} s could be read",
        )
    last = _video_duration(files[-1])
    start, end = plan[-1]
    if last < (end - start) - _TOLERANCE:
        raise IngestError(
            src,
            f"truncated or corrupt: only about {start + last:.0f} s of "
            f"{p.duration:.0f} s could be read",
        )


def encode_single(
    src: Path,
    p: Probe,
    out: Path,
    *,
    proxy_height: int,
    crf: int = 23,
    threads: int = 0,
    on_time: Callable[[float], None] | None = None,
) -> Segment:
    """Re-encode a whole (short) source as one proxy clip."""
    encode = _encode_args(p, proxy_height, crf, threads)
    args = ["-i", ffmpeg_input(src), *encode, "-movflags", "+faststart"]
    run_ffmpeg(src, [*args, "-f", "mp4", str(out)], on_time)
    plan = [(0.0, p.duration)]
    _check_complete(src, p, plan, [out] if out.exists() else [])
    return Segment(out, 0.0, p.duration)


def _segment(
    src: Path,
    p: Probe,
    out_dir: Path,
    plan: list[tuple[float, float]],
    proxy_height: int | None,
    crf: int,
    on_time: Callable[[float], None] | None,
) -> list[Path]:
    cuts = ",".join(f"{start:.6f}" for start, _ in plan[1:])
    if proxy_height is None:
        codec = ["-map", "0:v:0", "-map", "0:a:0?", "-map_metadata", "-1", "-c", "copy"]
    else:
        codec = [*_encode_args(p, proxy_height, crf), "-force_key_frames", cuts]
    args = [
        "-i", ffmpeg_input(src), *codec,
        "-f", "segment", "-segment_times", cuts, "-segment_format", "mp4",
        "-segment_format_options", "movflags=+faststart", "-reset_timestamps", "1",
        str(out_dir / "clip%05d.mp4"),
    ]  # fmt: skip
    run_ffmpeg(src, args, on_time)
    return sorted(out_dir.glob("clip*.mp4"))


def _clips(
    src: Path,
    p: Probe,
    out_dir: Path,
    plan: list[tuple[float, float]],
    proxy_height: int,
    crf: int,
    jobs: int,
    on_time: Callable[[float], None] | None,
) -> list[Path]:
    pending = list(enumerate(plan))
    running: dict[subprocess.Popen[bytes], tuple[int, IO[bytes]]] = {}
    files: dict[int, Path] = {}
    done_seconds = 0.0
    try:
        while pending or running:
            while pending and len(running) < jobs:
                k, (start, end) = pending.pop(0)
                out = out_dir / f"clip{k:05d}.mp4"
                args = [
                    "-ss", f"{start:.6f}", "-t", f"{end - start:.6f}", "-i", ffmpeg_input(src),
                    *_encode_args(p, proxy_height, crf, threads=1), "-movflags", "+faststart",
                    "-f", "mp4", str(out),
                ]  # fmt: skip
                err = tempfile.TemporaryFile()
                running[_start(args, err, False)] = (k, err)
                files[k] = out
            finished = [proc for proc in running if proc.poll() is not None]
            if not finished:
                time.sleep(0.02)
                continue
            for proc in finished:
                k, err = running.pop(proc)
                with err:
                    if proc.returncode != 0:
                        raise IngestError(src, f"ffmpeg could not convert it: {_tail(err)}")
                done_seconds += plan[k][1] - plan[k][0]
                if on_time is not None:
                    on_time(done_seconds)
    finally:
        for proc, (_, err) in running.items():
            _kill(proc)
            err.close()
    return [files[k] for k in sorted(files) if files[k].exists() and files[k].stat().st_size]


def cut_video(
    src: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    clip_seconds: float = 10.0,
    proxy_height: int | None = 480,
    p: Probe | None = None,
    method: Method = DEFAULT_METHOD,
    jobs: int | None = None,
    crf: int = 23,
    on_time: Callable[[float], None] | None = None,
) -> list[Segment]:
    """Cut ``src`` into clips in ``out_dir`` (which must exist); return them in order.

    ``on_time(seconds)`` is called with how far into the source the work is.
    Raises :class:`IngestError` when ffmpeg fails or the source turns out shorter
    than its header says.
    """
    src, out_dir = Path(src), Path(out_dir).absolute()
    p = p or probe(src)
    plan = plan_cuts(p.duration, clip_seconds)
    if proxy_height is not None and proxy_height < 2:
        raise ValueError("proxy_height must be at least 2 pixels")
    if len(plan) == 1 and proxy_height is not None:
        threads = 1 if method == "clips" else 0
        return [encode_single(src, p, out_dir / "clip00000.mp4", proxy_height=proxy_height,
                              crf=crf, threads=threads, on_time=on_time)]  # fmt: skip
    if proxy_height is None:
        files = _segment(src, p, out_dir, plan, None, crf, on_time)
        return _measured(src, p, files)
    if method == "clips":
        workers = default_jobs() if jobs is None else max(1, jobs)
        files = _clips(src, p, out_dir, plan, proxy_height, crf, workers, on_time)
    elif method == "segment":
        files = _segment(src, p, out_dir, plan, proxy_height, crf, on_time)
    else:
        raise ValueError(f"unknown method {method!r}")
    _check_complete(src, p, plan, files)
    if len(files) != len(plan):
        raise IngestError(src, f"ffmpeg made {len(files)} clips where {len(plan)} were planned")
    return [Segment(f, start, end) for f, (start, end) in zip(files, plan, strict=True)]


def _measured(src: Path, p: Probe, files: list[Path]) -> list[Segment]:
    """Clip times of a stream copy, where cuts fall on the source's keyframes."""
    if not files:
        raise IngestError(src, "ffmpeg made no clips")
    segments: list[Segment] = []
    start = 0.0
    for f in files:
        length = _video_duration(f)
        segments.append(Segment(f, start, start + length))
        start += length
    if start < p.duration - _TOLERANCE:
        raise IngestError(
            src,
            f"truncated or corrupt: only about {start:.0f} s of {p.duration:.0f} s could be read",
        )
    last = segments[-1]
    segments[-1] = Segment(last.path, last.start, max(last.start, p.duration))
    return segments
