"""Versioned dataset snapshots: `EXPORTS/v1`, `EXPORTS/v2`, … never overwritten.

A snapshot is built in a hidden temporary folder beside the others and renamed into
place when complete, under an exclusive lock on the exports folder, so a reader sees
either no `vN` or a whole one, and two exports at once get different numbers.

Layout of `vN/`:

    README.md              dataset card (YAML front matter for Hugging Face `datasets`)
    SHA256SUMS             `sha256sum -c` format, every other file
    snapshot.json          manifest: version, time, settings, counts, agreement, files
    data/clips.parquet     all clips; data/clips-{train,validation,test}.parquet per split
    data/annotations.parquet
    data/predictions.parquet   only when the hub holds model predictions
    clips.jsonl, annotations.jsonl, clips.csv, annotations.csv (predictions.* likewise)
    labelstudio-tasks.json, labelstudio-config.xml
    labelstudio-annotators.csv   with an annotator domain (see `hub.export.labelstudio`)
    media/<clip_id>.mp4    only with `include_media`: every clip's file, for Label Studio
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.compute as pc

from ..store import Store
from .card import ANNOTATIONS_PATH, CLIPS_PATH, PREDICTIONS_PATH, clip_split_path, render_card
from .labelstudio import MEDIA_DIR, MEDIA_SUFFIX, LabelStudioOptions, write_labelstudio
from .prepare import prepare
from .source import gc_paused, read_export_data
from .splits import DEFAULT_RATIOS, SPLITS
from .stats import compute_stats
from .tables import BuiltTable, annotations_table, clips_table
from .votes import clip_consensus
from .writers import write_csv, write_jsonl, write_parquet, write_sha256sums

log = logging.getLogger(__name__)

FORMATS = ("parquet", "jsonl", "csv", "labelstudio")
VERSION_DIR = re.compile(r"^v([1-9][0-9]*)$")
MANIFEST = "snapshot.json"
LOCK = ".export.lock"


class ExportError(ValueError):
    """A request the exporter refuses (unknown format, …); the message says why."""


@dataclass(frozen=True)
class Snapshot:
    version: int
    path: Path
    manifest: dict[str, Any]


def parse_formats(formats: Iterable[str] | str | None) -> list[str]:
    """Formats from a list and/or comma lists; Parquet is always written (the card points
    at it). Unknown names raise `ExportError`."""
    if formats is None:
        return list(FORMATS)
    items = [formats] if isinstance(formats, str) else list(formats)
    wanted = {p.strip().lower() for item in items for p in str(item).split(",") if p.strip()}
    unknown = sorted(wanted - set(FORMATS))
    if unknown:
        raise ExportError(
            f"unknown export format {', '.join(unknown)}; choose from {', '.join(FORMATS)}"
        )
    wanted.add("parquet")
    return [f for f in FORMATS if f in wanted]


def versions(root: Path) -> list[int]:
    if not root.is_dir():
        return []
    found = (VERSION_DIR.match(p.name) for p in root.iterdir() if p.is_dir())
    return sorted(int(m.group(1)) for m in found if m)


def list_snapshots(root: Path) -> list[dict[str, Any]]:
    """Manifests of the finished snapshots, oldest first."""
    out = []
    for version in versions(root):
        try:
            out.append(json.loads((root / f"v{version}" / MANIFEST).read_text(encoding="utf-8")))
        except (OSError, ValueError):
            out.append({"version": version, "path": f"v{version}", "error": "no manifest"})
    return out


@contextmanager
def export_lock(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with (root / LOCK).open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def predictions_for_export(store: Store, classes: list[str]) -> BuiltTable | None:
    """Model predictions (`hub.export.predictions_table`) when that module and
    its tables are there and hold rows; else None."""
    try:
        from .predictions_table import predictions_csv_table, predictions_table
    except ImportError:
        return None
    table = predictions_table(store, classes)
    if not table.num_rows:
        return None
    csv = predictions_csv_table(table)
    return BuiltTable(table, {"scores": lambda: csv.column("scores").combine_chunks()})


def copy_media(folder: Path, clip_ids: list[str], media_root: Path) -> dict[Path, str]:
    """Every clip's file from the hub's media store to `folder/media/<clip_id>.mp4`;
    returns {copied path: sha256}. A clip without its file raises `ExportError`."""
    from ..ingest.media import MediaStore

    media = MediaStore(media_root)
    missing = [c for c in clip_ids if not media.has(c)]
    if missing:
        raise ExportError(
            f"{len(missing)} clip(s) have no file in {media_root} (first: {missing[0]}); "
            "export without --include-media or restore the media folder"
        )
    out = folder / MEDIA_DIR
    out.mkdir()
    copied = {}
    for clip_id in clip_ids:
        dest = out / f"{clip_id}{MEDIA_SUFFIX}"
        shutil.copyfile(media.path_for(clip_id), dest)
        copied[dest] = clip_id  # content-addressed: the id is the file's sha256
    return copied


def _write_all(
    folder: Path,
    store: Store,
    formats: list[str],
    seed: int,
    method: str,
    version: int,
    labelstudio: LabelStudioOptions,
    media_root: Path | None,
) -> dict[str, Any]:
    started = time.perf_counter()
    data = read_export_data(store)
    ratios = dict(DEFAULT_RATIOS)
    prep = prepare(data, seed, ratios)
    cons = clip_consensus(data, prep, method)
    clips = clips_table(data, prep, cons)
    annotations = annotations_table(data, prep)

    files = [write_parquet(clips.table, folder / CLIPS_PATH)]
    for split in SPLITS:
        part = clips.table.filter(pc.equal(clips.table.column("split"), split))
        if part.num_rows or (split == "train" and not clips.table.num_rows):
            files.append(write_parquet(part, folder / clip_split_path(split)))
    files.append(write_parquet(annotations.table, folder / ANNOTATIONS_PATH))
    predictions = predictions_for_export(store, cons.classes)
    tables = {"clips": clips, "annotations": annotations}
    if predictions is not None:
        files.append(write_parquet(predictions.table, folder / PREDICTIONS_PATH))
        tables["predictions"] = predictions
    for name, built in tables.items():
        if "jsonl" in formats:
            files.append(write_jsonl(built.table, folder / f"{name}.jsonl"))
        if "csv" in formats:
            files.append(write_csv(built, folder / f"{name}.csv"))
    if "labelstudio" in formats:
        known = prep.label_clip >= 0
        files += write_labelstudio(
            folder,
            clips.table,
            annotations.table,
            prep.value_codes[known],
            prep.value_sets,
            f"annotatiestraat-{cons.method}-v{version}",
            data.project.kind,
            data.project.labels,
            cons.classes,
            labelstudio,
        )
    media = {} if media_root is None else copy_media(folder, data.clips["sha256"], media_root)

    stats = compute_stats(data, prep, cons)
    stats["predictions"] = 0 if predictions is None else predictions.table.num_rows
    created = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    names = sorted([p.relative_to(folder).as_posix() for p in files] + [MANIFEST, "README.md"])
    manifest = {
        "version": version,
        "path": f"v{version}",
        "created_at": created,
        "hub_id": data.hub_id,
        "project": data.project.name,
        "kind": data.project.kind,
        "schema_version": data.project.schema_version,
        "classes": cons.classes,
        "seed": seed,
        "split_ratios": ratios,
        "formats": formats,
        "consensus_method": cons.method,
        "media": {"folder": MEDIA_DIR, "clips": len(media)} if media else None,
        "labelstudio": {
            "media_url": labelstudio.media_url,
            "annotator_domain": labelstudio.annotator_domain,
        }
        if "labelstudio" in formats
        else None,
        "stats": stats,
        "files": names,
        "build_seconds": round(time.perf_counter() - started, 3),
    }
    (folder / MANIFEST).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    card = render_card(
        project=data.project,
        version=version,
        created_at=created,
        hub_id=data.hub_id,
        seed=seed,
        ratios=ratios,
        stats=stats,
        files=[*names, "SHA256SUMS"],
    )
    (folder / "README.md").write_text(card, encoding="utf-8")
    write_sha256sums(folder, [folder / n for n in names], media)
    return manifest


def _seal(folder: Path) -> None:
    """Files read-only and on disk before the rename makes the snapshot visible."""
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as f:
                os.fsync(f.fileno())
            path.chmod(0o444)


def create_snapshot(
    store: Store,
    root: Path,
    formats: Iterable[str] | str | None = None,
    seed: int = 0,
    method: str = "ds",
    labelstudio: LabelStudioOptions | None = None,
    media_root: Path | None = None,
) -> Snapshot:
    """Write the next snapshot `root/vN` from the store and return it. With
    `media_root` (the hub's media folder) every clip's file is copied into `vN/media/`."""
    wanted = parse_formats(formats)
    labelstudio = labelstudio or LabelStudioOptions()
    root = Path(root)
    with export_lock(root):
        for stale in root.glob(".tmp-v*"):  # left by a crash: no other export runs now
            shutil.rmtree(stale, ignore_errors=True)
        version = (versions(root) or [0])[-1] + 1
        tmp = root / f".tmp-v{version}-{secrets.token_hex(4)}"
        tmp.mkdir()
        try:
            with gc_paused():  # millions of small objects, none of them cyclic
                manifest = _write_all(
                    tmp, store, wanted, seed, method, version, labelstudio, media_root
                )
            _seal(tmp)
            final = root / f"v{version}"
            os.rename(tmp, final)  # atomic; fails rather than replace an existing vN
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return Snapshot(version, final, manifest)


def export_command(
    data_dir: Path,
    out: Path | None,
    formats: list[str],
    seed: int,
    media_url: str | None = None,
    annotator_domain: str | None = None,
    include_media: bool = False,
    db: str | None = None,
) -> Path:
    """`straat-hub export`: a new snapshot of the hub in `data_dir` (its database: `db`, a
    SQLite path or a PostgreSQL URL; default `data_dir/hub.db`) under `out` (default
    `data_dir/exports`); returns the snapshot folder. Raises `ExportError` for bad input."""
    data_dir = Path(data_dir)
    if db is None:
        if not (data_dir / "hub.db").exists():
            raise ExportError(f"{data_dir}: no hub database here (hub.db)")
        db = str(data_dir / "hub.db")
    try:
        options = LabelStudioOptions(media_url, annotator_domain)
    except ValueError as e:
        raise ExportError(str(e)) from None
    media_root = data_dir / "media" if include_media else None
    store = Store(db)
    try:
        root = out or data_dir / "exports"
        return create_snapshot(store, root, formats, seed, "ds", options, media_root).path
    finally:
        store.close()
