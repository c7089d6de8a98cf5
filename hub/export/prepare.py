"""Labels turned into integer arrays once, shared by consensus, tables and statistics.

The JSON text of `values` and `segments` repeats a lot (a binary project has a handful
of distinct `values` strings in a million labels), so each distinct text is parsed
once (Arrow's `dictionary_encode` finds them) and rows point at it by index.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .source import ExportData
from .splits import assign_splits, source_key


@dataclass
class Prepared:
    classes: list[str]  # label values: the schema's, then any others seen, sorted
    clip_index: dict[str, int]
    label_clip: np.ndarray  # per label: row of its clip in the clips table
    value_codes: np.ndarray  # per label: index into value_sets
    value_sets: list[list[str]]  # distinct parsed `values` (order kept, duplicates removed)
    membership: np.ndarray  # (len(value_sets), n_classes) 0/1
    source_ids: list[str]  # per clip
    splits: list[str]  # per clip
    gold: list[list[str]]  # per clip: its gold answer, [] for none


Column = pa.Array | pa.ChunkedArray


def dictionary(texts: Column | list[str]) -> tuple[np.ndarray, list[str]]:
    """(codes, distinct texts) for a column of strings, in C++."""
    if len(texts) == 0:
        return np.zeros(0, dtype=np.int64), []
    array = texts if isinstance(texts, Column) else pa.array(texts, pa.string())
    encoded = pc.dictionary_encode(array)
    if isinstance(encoded, pa.ChunkedArray):  # the chunks share one dictionary
        chunks = [c for c in encoded.chunks if len(c)]
        codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in chunks])
        return codes.astype(np.int64), chunks[0].dictionary.to_pylist()
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, encoded.dictionary.to_pylist()


def parse_values(text: str) -> list[str]:
    try:
        raw = json.loads(text)
    except (TypeError, ValueError):
        return []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        return []
    out: list[str] = []
    for v in raw:
        if v is not None and str(v) not in out:
            out.append(str(v))
    return out


def gold_values(answer: str | None) -> list[str]:
    """A clip's gold answer: one value, or a JSON list / comma list for multi choice."""
    if answer is None or answer == "":
        return []
    if answer.startswith("["):
        return parse_values(answer)
    return [v.strip() for v in answer.split(",") if v.strip()]


def prepare(data: ExportData, seed: int, ratios: dict[str, float] | None = None) -> Prepared:
    clips = data.clips
    clip_index = {sha: i for i, sha in enumerate(clips["sha256"])}
    clip_codes, clip_ids = dictionary(data.labels["clip"])
    lookup = np.array([clip_index.get(c, -1) for c in clip_ids] + [-1], dtype=np.int64)
    label_clip = lookup[clip_codes]
    value_codes, texts = dictionary(data.labels["values"])
    value_sets = [parse_values(t) for t in texts]

    schema_values = [x.value for x in data.project.labels]
    seen = {v for vs in value_sets for v in vs}
    gold = [gold_values(answer) for answer in clips["gold"]]
    for values in gold:
        seen.update(values)
    classes = schema_values + sorted(seen - set(schema_values))
    position = {c: j for j, c in enumerate(classes)}
    membership = np.zeros((len(value_sets), len(classes)), dtype=np.float64)
    for i, vs in enumerate(value_sets):
        for v in vs:
            membership[i, position[v]] = 1.0

    source_ids = [
        source_key(s, n, c)
        for s, n, c in zip(
            clips["source_sha256"], clips["source_name"], clips["sha256"], strict=True
        )
    ]
    by_source = assign_splits(source_ids, seed, *([ratios] if ratios else []))
    return Prepared(
        classes=classes,
        clip_index=clip_index,
        label_clip=label_clip,
        value_codes=value_codes,
        value_sets=value_sets,
        membership=membership,
        source_ids=source_ids,
        splits=[by_source[s] for s in source_ids],
        gold=gold,
    )


def vote_counts(prep: Prepared, n_clips: int) -> tuple[np.ndarray, np.ndarray]:
    """(votes per clip and class, labels per clip). A label counts once per value it names."""
    known = prep.label_clip >= 0
    clip = prep.label_clip[known]
    codes = prep.value_codes[known]
    n_votes = np.bincount(clip, minlength=n_clips).astype(np.int64)
    counts = np.zeros((n_clips, len(prep.classes)), dtype=np.int64)
    for j in range(len(prep.classes)):
        weights = prep.membership[codes, j]
        if weights.any():
            counts[:, j] = np.rint(np.bincount(clip, weights=weights, minlength=n_clips))
    return counts, n_votes


def unique_parse(texts: Column | list[str], parse: Any) -> tuple[np.ndarray, list[Any]]:
    """(codes, parsed distinct texts)."""
    codes, distinct = dictionary(texts)
    return codes, [parse(t) for t in distinct]
