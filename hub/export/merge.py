"""Merge several hubs' export snapshots into one dataset (pure pyarrow).

Each site's hub writes versioned snapshots (`hub.export.snapshot`): `snapshot.json`,
`data/clips.parquet` (one row per clip, `clip_id` = the clip's sha256) and
`data/annotations.parquet` (one row per label, `annotation_id` = the kiosk's uuid4). Merging:

- ids stay what they were: a clip is its sha256 everywhere, so the same clip ingested at
  two sites is one row (with `sites` listing both); annotation ids are uuid4s and stay
  unique (the same id from two snapshots of one hub is kept once; from two different
  hubs it is an error);
- every annotation gets `site` (the hub id); operator pseudonyms are per hub, so a worker
  for consensus is `(site, operator_id)`;
- consensus is recomputed over the union of annotations: `hub.consensus.aggregate`
  (Dawid–Skene by default) when importable, else a majority vote (ties to the first class);
  multi-choice and segment projects: per value, the share of annotations that chose it
  (in the consensus at ≥ ½), as the hub's own export does; gold clips keep their answer;
- splits are recomputed from the source id with the snapshots' seed
  (`hub.export.splits.split_of`), so a source video lands in one split across sites.

Output: `OUT/data/clips.parquet`, `OUT/data/annotations.parquet`, `OUT/merge.json` and a
small `OUT/README.md` (with the equivalent DuckDB query). `straat-hub merge` calls
`merge_command`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

MANIFEST = "snapshot.json"
CLIPS = "data/clips.parquet"
ANNOTATIONS = "data/annotations.parquet"


class MergeError(ValueError):
    """Snapshots that cannot be merged; the message says which and why."""


@dataclass
class Source:
    path: Path
    site: str
    version: int
    manifest: dict[str, Any]
    clips: pa.Table
    annotations: pa.Table


@dataclass
class MergeResult:
    out: Path
    clips: int
    annotations: int
    sites: list[str]
    method: str


# ---- reading -----------------------------------------------------------------------------


def resolve(path: Path) -> Path:
    """A snapshot folder; an exports folder (`v1`, `v2`, …) stands for its newest snapshot."""
    path = Path(path)
    if (path / MANIFEST).is_file():
        return path
    found = sorted(
        (int(p.name[1:]), p)
        for p in path.glob("v*")
        if p.name[1:].isdigit() and (p / MANIFEST).is_file()
    )
    if not found:
        raise MergeError(f"{path}: not a snapshot (no {MANIFEST}) nor a folder of snapshots")
    return found[-1][1]


def read_source(path: Path) -> Source:
    folder = resolve(path)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise MergeError(f"{folder}: unreadable {MANIFEST}: {e}") from None
    site = str(manifest.get("hub_id") or "")
    if not site:
        raise MergeError(f"{folder}: {MANIFEST} names no hub_id")
    try:
        clips = pq.read_table(folder / CLIPS)
        annotations = pq.read_table(folder / ANNOTATIONS)
    except (OSError, pa.ArrowException) as e:
        raise MergeError(f"{folder}: cannot read its Parquet tables: {e}") from None
    for table, name, column in ((clips, CLIPS, "clip_id"), (annotations, ANNOTATIONS, "clip_id")):
        if column not in table.column_names:
            raise MergeError(f"{folder}: {name} has no {column} column")
    if "annotation_id" not in annotations.column_names:
        raise MergeError(f"{folder}: {ANNOTATIONS} has no annotation_id column")
    return Source(folder, site, int(manifest.get("version") or 0), manifest, clips, annotations)


def _check_compatible(sources: Sequence[Source]) -> None:
    for key in ("project", "kind"):
        seen = {str(s.manifest.get(key)) for s in sources}
        if len(seen) > 1:
            raise MergeError(f"snapshots of different {key}s cannot be merged: {sorted(seen)}")


# ---- annotations -------------------------------------------------------------------------


def merge_annotations(sources: Sequence[Source]) -> pa.Table:
    """The union with `site` and `snapshot` columns; one row per annotation id. `site` is
    the one the snapshot's labels carry (the site hub that stored each, when several sites
    share a database), else the snapshot's hub id."""
    parts = []
    for s in sources:
        t = s.annotations
        if "site" not in t.column_names:
            t = t.append_column("site", pa.array([s.site] * t.num_rows, pa.string()))
        t = t.append_column("snapshot", pa.array([s.version] * t.num_rows, pa.int32()))
        parts.append(t)
    table = pa.concat_tables(parts, promote_options="permissive")
    # newest snapshot first, so that a re-exported annotation is kept from the newest one
    order = pc.sort_indices(
        table, [("site", "ascending"), ("snapshot", "descending"), ("annotation_id", "ascending")]
    )
    table = table.take(order)
    ids = table.column("annotation_id").to_numpy(zero_copy_only=False)
    sites = table.column("site").to_numpy(zero_copy_only=False)
    _, first = np.unique(ids, return_index=True)
    keep = np.sort(first)
    if len(keep) != len(ids):
        kept_site = dict(zip(ids[keep].tolist(), sites[keep].tolist(), strict=True))
        clash = [(i, s) for i, s in zip(ids.tolist(), sites.tolist(), strict=True)]
        clash = [(i, s) for i, s in clash if kept_site[i] != s]
        if clash:
            i, s = clash[0]
            raise MergeError(
                f"annotation id {i} is at two hubs ({kept_site[i]} and {s}): ids must be unique"
            )
        table = table.take(pa.array(keep, pa.int64()))
    order = (
        pc.sort_indices(
            table,
            [("site", "ascending"), ("created_at", "ascending"), ("annotation_id", "ascending")],
        )
        if "created_at" in table.column_names
        else pc.sort_indices(table, [("annotation_id", "ascending")])
    )
    return table.take(order)


# ---- clips -------------------------------------------------------------------------------

#: Per-clip columns recomputed here (the snapshots' values were one site's view).
RECOMPUTED = {"label", "labels", "confidence", "posterior", "n_votes", "vote_counts", "split"}


def merge_clips(sources: Sequence[Source]) -> tuple[pa.Table, pa.Array]:
    """One row per clip id (metadata from the first site, by hub id, that has it) and the
    sites holding each clip."""
    ordered = sorted(sources, key=lambda s: (s.site, -s.version))
    parts = []
    for s in ordered:
        keep = [c for c in s.clips.column_names if c not in RECOMPUTED]
        t = s.clips.select(keep)
        parts.append(t.append_column("site", pa.array([s.site] * t.num_rows, pa.string())))
    table = pa.concat_tables(parts, promote_options="permissive")
    ids = table.column("clip_id").to_numpy(zero_copy_only=False)
    unique, first = np.unique(ids, return_index=True)  # sorted by clip id
    pairs = pa.table({"clip_id": table.column("clip_id"), "site": table.column("site")})
    grouped = pairs.group_by("clip_id").aggregate([("site", "distinct")])
    lookup = dict(
        zip(
            grouped.column("clip_id").to_pylist(),
            grouped.column("site_distinct").to_pylist(),
            strict=True,
        )
    )
    sites = pa.array([sorted(lookup[c]) for c in unique.tolist()], pa.list_(pa.string()))
    clips = table.take(pa.array(first, pa.int64())).drop_columns(["site"])
    return clips, sites


# ---- consensus ---------------------------------------------------------------------------


def _classes(sources: Sequence[Source], values: list[list[str]]) -> list[str]:
    classes: list[str] = []
    for s in sources:
        for c in s.manifest.get("classes") or []:
            if c not in classes:
                classes.append(str(c))
    for vs in values:
        for v in vs:
            if v not in classes:
                classes.append(v)
    return classes


def _majority(tasks: list[str], labels: list[str], classes: list[str]) -> dict[str, np.ndarray]:
    index = {c: j for j, c in enumerate(classes)}
    counts: dict[str, np.ndarray] = {}
    for t, label in zip(tasks, labels, strict=True):
        row = counts.setdefault(t, np.zeros(len(classes)))
        row[index[label]] += 1
    return {t: row / row.sum() for t, row in counts.items()}


def consensus(
    clip_ids: list[str],
    annotations: pa.Table,
    classes: list[str],
    kind: str,
    gold: dict[str, list[str]],
    method: str,
) -> tuple[dict[str, Any], str]:
    """Columns label, labels, confidence, n_votes, vote_counts, posterior per clip."""
    n, k = len(clip_ids), len(classes)
    row_of = {c: i for i, c in enumerate(clip_ids)}
    index = {c: j for j, c in enumerate(classes)}
    a_clip = annotations.column("clip_id").to_pylist()
    a_values = annotations.column("values").to_pylist()
    a_worker = [
        f"{s}/{o}"
        for s, o in zip(
            annotations.column("site").to_pylist(),
            annotations.column("operator_id").to_pylist(),
            strict=True,
        )
    ]
    counts = np.zeros((n, k), dtype=np.int64)
    n_votes = np.zeros(n, dtype=np.int64)
    for clip, values in zip(a_clip, a_values, strict=True):
        row = row_of.get(clip)
        if row is None:
            continue
        n_votes[row] += 1
        for v in values or []:
            counts[row, index[v]] += 1
    posterior = np.full((n, k), np.nan)
    used = method
    if kind == "single":
        picked = [
            (c, w, vs[0])
            for c, w, vs in zip(a_clip, a_worker, a_values, strict=True)
            if c in row_of and vs and len(vs) == 1
        ]
        tasks = [p[0] for p in picked]
        workers = [p[1] for p in picked]
        labels = [p[2] for p in picked]
        single_gold = {c: g[0] for c, g in gold.items() if len(g) == 1 and g[0] in index}
        try:
            from hub.consensus import aggregate
        except ImportError:
            aggregate = None  # type: ignore[assignment]
        if aggregate is not None and tasks:
            result = aggregate(tasks, workers, labels, classes, single_gold or None, method)
            used = str(result.method)
            post = np.asarray(result.posterior, dtype=np.float64)
            cols = [index[c] for c in result.classes]
            for t, p in zip(result.tasks, post, strict=True):
                posterior[row_of[t]] = 0.0
                posterior[row_of[t], cols] = p
        else:
            used = "mv"
            for t, p in _majority(tasks, labels, classes).items():
                posterior[row_of[t]] = p
    else:
        used = "share"
        has = n_votes > 0
        posterior[has] = counts[has] / n_votes[has, None]
    for clip, answer in gold.items():
        row = row_of.get(clip)
        values = [v for v in answer if v in index]
        if row is not None and values:
            posterior[row] = 0.0
            posterior[row, [index[v] for v in values]] = 1.0

    label: list[str | None] = [None] * n
    label_sets: list[list[str]] = [[] for _ in range(n)]
    confidence = np.full(n, np.nan)
    for row in range(n):
        p = posterior[row]
        if k == 0 or np.isnan(p).any():
            continue
        best = int(np.argmax(p >= p.max() - 1e-9))  # ties to the first class
        if kind == "single":
            label[row] = classes[best]
            label_sets[row] = [classes[best]]
            confidence[row] = float(p[best])
        else:
            label_sets[row] = [c for c, x in zip(classes, p, strict=True) if x >= 0.5]
            label[row] = classes[best] if p.max() > 0 else None
            confidence[row] = float(np.maximum(p, 1.0 - p).min())
    known = ~np.isnan(confidence)
    columns: dict[str, Any] = {
        "label": pa.array(label, pa.string()),
        "labels": pa.array(label_sets, pa.list_(pa.string())),
        "confidence": pa.array(confidence, pa.float64(), mask=~known),
        "n_votes": pa.array(n_votes, pa.int32()),
    }
    if k:
        columns["vote_counts"] = pa.StructArray.from_arrays(
            [pa.array(counts[:, j], pa.int32()) for j in range(k)], names=classes
        )
        columns["posterior"] = pa.StructArray.from_arrays(
            [pa.array(np.nan_to_num(posterior[:, j]), pa.float64()) for j in range(k)],
            names=classes,
            mask=pa.array(~known),
        )
    return columns, used


# ---- the merge ---------------------------------------------------------------------------


def _splits(clips: pa.Table, seed: int) -> pa.Array | None:
    try:
        from hub.export.splits import split_of
    except ImportError:
        return None
    if "source_id" not in clips.column_names:
        return None
    cache: dict[str, str] = {}
    out = []
    for source, clip in zip(
        clips.column("source_id").to_pylist(), clips.column("clip_id").to_pylist(), strict=True
    ):
        key = source or f"clip:{clip}"
        if key not in cache:
            cache[key] = split_of(seed, key)
        out.append(cache[key])
    return pa.array(out, pa.string())


def _gold(clips: pa.Table) -> dict[str, list[str]]:
    if "gold_label" not in clips.column_names:
        return {}
    out = {}
    for clip, answer in zip(
        clips.column("clip_id").to_pylist(), clips.column("gold_label").to_pylist(), strict=True
    ):
        if answer:
            out[clip] = [a for a in str(answer).split(",") if a]
    return out


def merge(
    snapshots: Sequence[Path], out: Path, method: str = "ds", seed: int | None = None
) -> MergeResult:
    """Merge the snapshot folders into `out` (which must not exist yet or be empty)."""
    if not snapshots:
        raise MergeError("no snapshots to merge")
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise MergeError(f"{out}: exists and is not empty")
    sources = [read_source(Path(p)) for p in snapshots]
    _check_compatible(sources)
    kind = str(sources[0].manifest.get("kind") or "single")
    seeds = {s.manifest.get("seed") for s in sources}
    if seed is None:
        seed = int(seeds.pop()) if len(seeds) == 1 and None not in seeds else 0

    annotations = merge_annotations(sources)
    clips, sites = merge_clips(sources)
    known = set(clips.column("clip_id").to_pylist())
    orphans = [c for c in set(annotations.column("clip_id").to_pylist()) if c not in known]
    if orphans:
        raise MergeError(f"{len(orphans)} annotations name clips no snapshot holds")
    classes = _classes(sources, annotations.column("values").to_pylist())
    clip_ids = clips.column("clip_id").to_pylist()
    columns, used = consensus(clip_ids, annotations, classes, kind, _gold(clips), method)
    split = _splits(clips, seed)
    if split is not None:
        clips = clips.append_column("split", split)
    for name, column in columns.items():
        clips = clips.append_column(name, column)
    clips = clips.append_column("sites", sites)
    clips = clips.append_column("n_sites", pc.list_value_length(sites).cast(pa.int32()))
    if "split" in annotations.column_names and split is not None:
        by_clip = dict(zip(clip_ids, split.to_pylist(), strict=True))
        annotations = annotations.set_column(
            annotations.column_names.index("split"),
            "split",
            pa.array([by_clip[c] for c in annotations.column("clip_id").to_pylist()], pa.string()),
        )

    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    (tmp / "data").mkdir(parents=True, exist_ok=False)
    pq.write_table(clips, tmp / CLIPS)
    pq.write_table(annotations, tmp / ANNOTATIONS)
    site_list = sorted({s.site for s in sources})
    manifest = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "project": sources[0].manifest.get("project"),
        "kind": kind,
        "classes": classes,
        "consensus_method": used,
        "seed": seed,
        "clips": clips.num_rows,
        "annotations": annotations.num_rows,
        "sources": [
            {
                "site": s.site,
                "snapshot": s.version,
                "path": str(s.path),
                "clips": s.clips.num_rows,
                "annotations": s.annotations.num_rows,
            }
            for s in sources
        ],
    }
    (tmp / "merge.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    (tmp / "README.md").write_text(readme(manifest, site_list), encoding="utf-8")
    if out.exists():
        out.rmdir()
    os.rename(tmp, out)
    return MergeResult(out, clips.num_rows, annotations.num_rows, site_list, used)


def merge_command(
    snapshots: Sequence[Path], out: Path, method: str = "ds", seed: int | None = None
) -> MergeResult:
    """`straat-hub merge SNAPSHOT... --out DIR`."""
    return merge(snapshots, out, method, seed)


DUCKDB_QUERY = """\
-- DuckDB (optional; `pip install duckdb`): the same union straight from the snapshots.
CREATE VIEW annotations AS
SELECT m.hub_id AS site, a.* EXCLUDE (filename)
FROM read_parquet([{annotation_files}], filename = true, union_by_name = true) a
JOIN read_json_auto([{manifest_files}], filename = true) m
  ON a.filename = regexp_replace(m.filename, 'snapshot\\.json$', '') || 'data/annotations.parquet';
-- majority vote over the union (single choice; a tie goes to either value)
SELECT clip_id, arg_max(value, n) AS label,
       max(n) / sum(n) AS confidence, sum(n) AS n_votes
FROM (SELECT clip_id, "values"[1] AS value, count(*) AS n FROM annotations
      WHERE len("values") = 1 GROUP BY ALL)
GROUP BY clip_id;
"""


def duckdb_query(folders: Sequence[Path]) -> str:
    ann = ", ".join(f"'{Path(f) / ANNOTATIONS}'" for f in folders)
    man = ", ".join(f"'{Path(f) / MANIFEST}'" for f in folders)
    return DUCKDB_QUERY.format(annotation_files=ann, manifest_files=man)


def readme(manifest: dict[str, Any], sites: list[str]) -> str:
    rows = "\n".join(
        f"| {s['site']} | v{s['snapshot']} | {s['clips']} | {s['annotations']} |"
        for s in manifest["sources"]
    )
    folders = [Path(s["path"]) for s in manifest["sources"]]
    return f"""---
configs:
- config_name: clips
  data_files:
  - split: train
    path: {CLIPS}
- config_name: annotations
  data_files:
  - split: full
    path: {ANNOTATIONS}
---

# {manifest["project"]}: merged from {len(sites)} sites

Made {manifest["created_at"]} by `straat-hub merge`. {manifest["clips"]} clips,
{manifest["annotations"]} annotations; consensus recomputed over the union
(`{manifest["consensus_method"]}`); splits by source video with seed {manifest["seed"]}.

| site (hub id) | snapshot | clips | annotations |
|---|---|---|---|
{rows}

- `clip_id` is the clip's sha256 and `annotation_id` the kiosk's uuid, as in each site's
  snapshot: ids are stable, and a clip held by several sites is one row (`sites`).
- `site` on every annotation is the hub it came from; operator pseudonyms are per hub.
- `merge.json` lists the source snapshots.

Equivalent DuckDB query over the source snapshots:

```sql
{duckdb_query(folders)}```
"""
