"""Ingest files and folders of video: check, cut, store, and say what happened.

No database here: :func:`ingest` returns records and the caller stores them.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import click

from .cut import DEFAULT_METHOD, Method, Segment, cut_video, plan_cuts
from .media import MediaStore, sha256_file
from .probe import FFPROBE, IngestError, Probe, probe


@dataclass(frozen=True)
class SourceRecord:
    """A source video that was ingested."""

    sha256: str
    path: str
    name: str
    duration: float
    size: int


@dataclass(frozen=True)
class ClipRecord:
    """A stored clip and where it comes from (seconds into the source)."""

    sha256: str
    size: int
    duration: float
    name: str
    source_sha256: str
    source_name: str
    start: float
    end: float


@dataclass(frozen=True)
class IngestErrorEntry:
    path: str
    reason: str


@dataclass
class IngestReport:
    clips: list[ClipRecord] = field(default_factory=list)
    errors: list[IngestErrorEntry] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    sources: list[SourceRecord] = field(default_factory=list)
    # Clips whose content equals a clip made earlier in this run (not reported twice).
    duplicate_clips: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [
            f"Ingested {_count(len(self.sources), 'source')} "
            f"into {_count(len(self.clips), 'clip')}."
        ]
        if self.errors:
            named = "; ".join(f"{Path(e.path).name}: {e.reason}" for e in self.errors)
            parts.append(f"{_count(len(self.errors), 'error')} ({named}).")
        else:
            parts.append("0 errors.")
        if self.duplicates:
            named = ", ".join(Path(d).name for d in self.duplicates)
            parts.append(f"{_count(len(self.duplicates), 'duplicate')} skipped ({named}).")
        else:
            parts.append("0 duplicates.")
        if self.duplicate_clips:
            parts.append(
                f"{_count(len(self.duplicate_clips), 'clip')} identical to another clip, "
                "stored once."
            )
        return " ".join(parts)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def format_time(seconds: float, long: bool = False) -> str:
    """``mm:ss``, or ``h:mm:ss`` when ``long`` (the source lasts an hour or more)."""
    total = int(seconds + 0.5)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if long or hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes:02d}:{secs:02d}"


def clip_name(source: Path, start: float, end: float, source_duration: float) -> str:
    long = source_duration >= 3600
    return f"{source.stem} {format_time(start, long)}–{format_time(end, long)}"


# --- finding the files ---------------------------------------------------------------


def _hidden(name: str) -> bool:
    return name.startswith(".")


def _inside(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def discover(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[Path], list[IngestErrorEntry]]:
    """Expand files and folders (recursively, sorted, hidden names skipped).

    A symlink found inside a folder is followed only when its target lies inside
    that folder. A file named twice is listed once.
    """
    files: list[Path] = []
    errors: list[IngestErrorEntry] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found, errs = _walk(path)
            files += found
            errors += errs
        elif path.exists() or path.is_symlink():
            files.append(path)
        else:
            errors.append(IngestErrorEntry(str(path), "no such file or folder"))
    seen: set[Path] = set()
    unique: list[Path] = []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique, errors


def _walk(folder: Path) -> tuple[list[Path], list[IngestErrorEntry]]:
    root = folder.resolve()
    files: list[Path] = []
    errors: list[IngestErrorEntry] = []

    def outside(link: Path) -> bool:
        target = link.resolve()
        if _inside(target, root):
            return False
        errors.append(IngestErrorEntry(str(link), f"symlink points outside {folder}; refused"))
        return True

    def on_error(exc: OSError) -> None:
        errors.append(IngestErrorEntry(str(exc.filename), f"cannot read folder: {exc.strerror}"))

    for dirpath, dirnames, filenames in os.walk(folder, onerror=on_error):
        here = Path(dirpath)
        keep = []
        for d in sorted(dirnames):
            if _hidden(d):
                continue
            if (here / d).is_symlink():
                outside(here / d)  # inside targets are walked anyway; outside ones refused
                continue
            keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            if _hidden(name):
                continue
            path = here / name
            if path.is_symlink():
                if not path.exists():
                    errors.append(IngestErrorEntry(str(path), "broken symlink"))
                    continue
                if outside(path):
                    continue
            files.append(path)
    files.sort(key=lambda p: p.relative_to(folder).parts)
    return files, errors


# --- the run -------------------------------------------------------------------------


class _Progress:
    """A click progress bar over the seconds of video to process, or nothing."""

    def __init__(self, total: float, enabled: bool) -> None:
        self.current = ""
        self._done = 0
        self._base = 0.0
        self._bar = (
            click.progressbar(
                length=max(1, int(total)),
                label="Ingest",
                file=sys.stderr,
                show_eta=True,
                show_percent=True,
                item_show_func=lambda _: self.current or None,
            )
            if enabled
            else None
        )

    def __enter__(self) -> _Progress:
        if self._bar is not None:
            self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)

    def start(self, name: str, base: float) -> None:
        self.current = name
        self._base = base
        self._advance_to(base)

    def at(self, seconds: float) -> None:
        self._advance_to(self._base + seconds)

    def _advance_to(self, seconds: float) -> None:
        whole = int(seconds)
        if self._bar is not None and whole > self._done:
            self._bar.update(whole - self._done, self.current)
            self._done = whole


@contextmanager
def _scratch(media: MediaStore, workdir: Path | None) -> Iterator[Path]:
    base = Path(workdir) if workdir is not None else media.temp_dir()
    base.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="ingest-", dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _require_tools() -> None:
    for tool in ("ffmpeg", FFPROBE):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is not installed (apt install ffmpeg)")


def ingest(
    paths: Iterable[str | os.PathLike[str]],
    media: MediaStore,
    *,
    clip_seconds: float = 10.0,
    proxy_height: int | None = 480,
    known_sources: Callable[[str], bool] | None = None,
    progress: bool = False,
    workdir: Path | None = None,
    on_source: Callable[[SourceRecord, list[ClipRecord]], None] | None = None,
    method: Method = DEFAULT_METHOD,
    jobs: int | None = None,
) -> IngestReport:
    """Check, cut and store every video under ``paths``; return what happened.

    A bad file becomes an entry in ``report.errors`` and the run goes on. A source
    already known (``known_sources(sha256)``) or seen earlier in the run is skipped
    as a duplicate. ``on_source(source, clips)`` is called as each source finishes,
    so a caller that commits there loses nothing to an interrupted run; a rerun
    (with ``known_sources`` reflecting those commits) picks up where it stopped.

    Sources up to 1.5 × ``clip_seconds`` make one clip, named after the file; longer
    ones are cut (see :func:`~hub.ingest.cut.plan_cuts`). ``proxy_height`` is the
    proxy's height (never upscaled); ``None`` keeps the source's streams as they are.
    Scratch files go to ``workdir`` (default: a hidden folder in the media root,
    removed afterwards). ``method``/``jobs``: see :mod:`hub.ingest.cut`.
    """
    if clip_seconds <= 0:
        raise ValueError("clip_seconds must be positive")
    if proxy_height is not None and proxy_height < 2:
        raise ValueError("proxy_height must be at least 2 pixels (or None for no proxy)")
    _require_tools()
    report = IngestReport()
    files, errors = discover(paths)
    report.errors += errors
    probed = _probe_all(files, report, progress)
    media.clean_temp()
    try:
        _process(
            probed, media, report,
            known_sources=known_sources, on_source=on_source, progress=progress,
            clip_seconds=clip_seconds, proxy_height=proxy_height, workdir=workdir,
            method=method, jobs=jobs,
        )  # fmt: skip
    finally:
        if workdir is None:
            media.remove_temp_dir()
    order = {str(path): i for i, path in enumerate(files)}
    report.errors.sort(key=lambda e: order.get(e.path, -1))
    return report


def _probe_all(files: list[Path], report: IngestReport, progress: bool) -> list[tuple[Path, Probe]]:
    probed: list[tuple[Path, Probe]] = []
    bar = click.progressbar(files, label="Check", file=sys.stderr) if progress else None
    with bar if bar is not None else nullcontext(files) as items:
        for path in items:
            try:
                probed.append((path, probe(path)))
            except IngestError as exc:
                report.errors.append(IngestErrorEntry(str(path), exc.reason))
    return probed


def _process(
    probed: list[tuple[Path, Probe]],
    media: MediaStore,
    report: IngestReport,
    *,
    known_sources: Callable[[str], bool] | None,
    on_source: Callable[[SourceRecord, list[ClipRecord]], None] | None,
    progress: bool,
    clip_seconds: float,
    proxy_height: int | None,
    workdir: Path | None,
    method: Method,
    jobs: int | None,
) -> None:
    seen_sources: set[str] = set()
    seen_clips: set[str] = set()
    total = sum(p.duration for _, p in probed)
    with _Progress(total, progress) as bar:
        base = 0.0
        for path, p in probed:
            bar.start(path.name, base)
            base += p.duration
            try:
                sha256, size = sha256_file(path)
            except OSError as exc:
                report.errors.append(IngestErrorEntry(str(path), f"cannot read it: {exc}"))
                continue
            if sha256 in seen_sources or (known_sources is not None and known_sources(sha256)):
                report.duplicates.append(str(path))
                continue
            source = SourceRecord(sha256, str(path), path.name, p.duration, size)
            try:
                clips = _make_clips(
                    path, p, source, media,
                    clip_seconds=clip_seconds, proxy_height=proxy_height, workdir=workdir,
                    method=method, jobs=jobs, on_time=bar.at,
                )  # fmt: skip
            except IngestError as exc:
                report.errors.append(IngestErrorEntry(str(path), exc.reason))
                continue
            seen_sources.add(sha256)
            fresh = []
            for clip in clips:
                if clip.sha256 in seen_clips:
                    report.duplicate_clips.append(clip.name)
                else:
                    seen_clips.add(clip.sha256)
                    fresh.append(clip)
            report.sources.append(source)
            report.clips += fresh
            if on_source is not None:
                on_source(source, fresh)
        bar.start("", total)


def _make_clips(
    path: Path,
    p: Probe,
    source: SourceRecord,
    media: MediaStore,
    *,
    clip_seconds: float,
    proxy_height: int | None,
    workdir: Path | None,
    method: Method,
    jobs: int | None,
    on_time: Callable[[float], None],
) -> list[ClipRecord]:
    single = len(plan_cuts(p.duration, clip_seconds)) == 1
    if single and proxy_height is None:
        sha256, size, _ = media.put_file(path)
        return [_record(sha256, size, path.name, source, 0.0, p.duration)]
    with _scratch(media, workdir) as scratch:
        segments: list[Segment] = cut_video(
            path, scratch,
            clip_seconds=clip_seconds, proxy_height=proxy_height, p=p,
            method=method, jobs=jobs, on_time=on_time,
        )  # fmt: skip
        records = []
        for seg in segments:
            sha256, size, _ = media.put_file(seg.path)
            name = path.name if single else clip_name(path, seg.start, seg.end, p.duration)
            records.append(_record(sha256, size, name, source, seg.start, seg.end))
        return records


def _record(
    sha256: str, size: int, name: str, source: SourceRecord, start: float, end: float
) -> ClipRecord:
    return ClipRecord(
        sha256=sha256,
        size=size,
        duration=round(end - start, 6),
        name=name,
        source_sha256=source.sha256,
        source_name=source.name,
        start=round(start, 6),
        end=round(end, 6),
    )
