"""Ingest into the store: runs `hub.ingest` and records sources and clips.

Each source is committed as soon as its clips are stored, so an interrupted ingest keeps
every finished source and a rerun skips them (known sources)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..store import Store
from .media import MediaStore
from .run import ClipRecord, IngestReport, SourceRecord, ingest


def ingest_into(
    store: Store,
    media_root: Path,
    paths: Iterable[Path],
    *,
    want: int,
    clip_seconds: float = 10.0,
    proxy_height: int | None = 480,
    progress: bool = False,
) -> IngestReport:
    def record(source: SourceRecord, clips: list[ClipRecord]) -> None:
        with store.transaction():
            for clip in clips:
                store.add_clip(
                    clip.sha256,
                    clip.size,
                    clip.duration,
                    clip.name,
                    want=want,
                    source_sha256=clip.source_sha256,
                    source_name=clip.source_name,
                    start=clip.start,
                    end=clip.end,
                )
            store.add_source(
                source.sha256, source.name, str(source.path), source.duration, source.size
            )

    return ingest(
        list(paths),
        MediaStore(media_root),
        clip_seconds=clip_seconds,
        proxy_height=proxy_height,
        known_sources=store.has_source,
        progress=progress,
        on_source=record,
    )
