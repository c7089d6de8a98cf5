"""Model predictions in: CSV, JSONL, JSON or Parquet, per model and version.

One row per prediction. A row names its clip in one of two ways:

- ``clip`` (or ``clip_id``): the clip's id (its sha256);
- ``source`` (or ``source_sha256`` / ``source_name`` / ``video``): the source video by
  sha256 or file name, with ``start`` and ``end`` in seconds: the prediction goes to every
  clip of that video that overlaps ``[start, end]`` (by at least ``min_overlap`` of the
  clip's length). A clip hit by several such rows gets their overlap-weighted mean.

and carries ``label`` and/or scores: ``score_<label>`` columns, or a ``scores`` column
holding an object (JSON text in CSV) ``{"<label>": 0.8, …}``; each score in [0, 1]. With
scores and no label, the label is the best-scored one. Other columns are ignored.

Bad rows (row number + reason) and rows naming clips or videos the hub does not have are
reported; every other row is imported. A clip named by its id twice: the first row counts.

Versions: without a version, the next number of that model — unless exactly these
predictions were imported for the model before, which then changes nothing (re-importing
a file is safe). With a version, the rows are merged into it (a model service may post a
version in batches); the same rows again change nothing.

`prepare` is pure (bytes and the hub's clips in, predictions and a report out);
`import_predictions` reads a file and writes the store.
"""

from __future__ import annotations

import bisect
import csv
import functools
import hashlib
import io
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

import numpy as np

from ..store import Store
from ..store import predictions as sql
from .scores import join_labels, label_from_scores, probabilities, split_label

__all__ = [
    "FORMATS",
    "ImportFailed",
    "ImportReport",
    "Prediction",
    "Prepared",
    "RowProblem",
    "apply_prepared",
    "check_model_name",
    "detect_format",
    "import_predictions",
    "prepare",
    "read_records",
]

FORMATS = ("csv", "jsonl", "json", "parquet")
#: Problems listed one by one in a report; more are only counted.
MAX_LISTED = 200
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

CLIP_KEYS = ("clip", "clip_id", "clip_sha256")
SOURCE_KEYS = ("source", "source_sha256", "source_name", "source_id", "video")
SCORE_PREFIX = "score_"
SUFFIXES = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
}
CONTENT_TYPES = {
    "text/csv": "csv",
    "application/csv": "csv",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/x-jsonlines": "jsonl",
    "application/json": "json",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
}


class ImportFailed(ValueError):
    """The input as a whole cannot be used (unknown format, not Parquet, bad model name)."""


@dataclass(frozen=True)
class RowProblem:
    """Row `row` (1-based record number; `line` in the file for CSV and JSONL) and why."""

    row: int
    reason: str
    line: int | None = None
    key: str = ""  # the clip id or source the row named, if any

    def where(self) -> str:
        if self.line is not None and self.line != self.row:
            return f"row {self.row} (line {self.line})"
        return f"row {self.row}"

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "line": self.line, "key": self.key, "reason": self.reason}


@dataclass(frozen=True)
class Prediction:
    label: str
    scores: dict[str, float]


@dataclass
class Prepared:
    """The result of reading and mapping rows, before anything is stored."""

    predictions: dict[str, Prediction]  # clip id → prediction, in clip order
    rows: int = 0  # records read
    rows_used: int = 0  # records behind at least one prediction
    problems: list[RowProblem] = field(default_factory=list)  # bad rows (first MAX_LISTED)
    unknown: list[RowProblem] = field(default_factory=list)  # clips/videos not in the hub
    n_problems: int = 0
    n_unknown: int = 0
    combined: int = 0  # clips whose prediction combines several time-range rows

    @property
    def fingerprint(self) -> str:
        """The same predictions give the same fingerprint, whatever the file format."""
        digest = hashlib.sha256()
        for clip in sorted(self.predictions):
            p = self.predictions[clip]
            digest.update(json.dumps([clip, p.label, sorted(p.scores.items())]).encode())
        return digest.hexdigest()


@dataclass
class ImportReport:
    model: str
    version: int | None  # None: nothing imported
    source: str
    rows: int
    rows_used: int
    clips: int  # clips with a prediction from this import
    problems: list[RowProblem]
    unknown: list[RowProblem]
    n_problems: int
    n_unknown: int
    combined: int = 0
    already_imported: bool = False  # exactly these predictions were there: nothing changed
    new_version: bool = False

    @property
    def ok(self) -> bool:
        return self.clips > 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "source": self.source,
            "rows": self.rows,
            "rows_imported": self.rows_used,
            "clips": self.clips,
            "combined_clips": self.combined,
            "already_imported": self.already_imported,
            "new_version": self.new_version,
            "bad_rows": self.n_problems,
            "unknown_rows": self.n_unknown,
            "problems": [p.as_dict() for p in self.problems],
            "unknown": [p.as_dict() for p in self.unknown],
            "listed_at_most": MAX_LISTED,
        }

    def summary(self) -> str:
        lines = []
        if self.version is None:
            lines.append(f"{self.model}: nothing imported from {self.source or 'the input'}")
        elif self.already_imported:
            lines.append(
                f"{self.model} v{self.version}: already imported ({self.clips} clips), "
                "nothing changed"
            )
        else:
            what = "new version" if self.new_version else "merged into"
            lines.append(f"{self.model} v{self.version} ({what}): {self.clips} clips")
        lines.append(
            f"rows: {self.rows} read, {self.rows_used} imported, {self.n_problems} bad, "
            f"{self.n_unknown} for clips or videos the hub does not have"
        )
        if self.combined:
            lines.append(f"{self.combined} clips combine several time-range rows")
        for title, items, total in (
            ("bad rows", self.problems, self.n_problems),
            ("unknown clips or videos", self.unknown, self.n_unknown),
        ):
            if not total:
                continue
            lines.append(f"{title}:")
            lines += [f"  {p.where()}: {p.reason}" for p in items]
            if total > len(items):
                lines.append(f"  … and {total - len(items)} more")
        return "\n".join(lines)


# ---- reading -------------------------------------------------------------------------------


def check_model_name(model: str) -> str:
    if not isinstance(model, str) or not MODEL_NAME.match(model):
        raise ImportFailed(
            "a model name is 1 to 64 letters, digits, '.', '_' or '-', starting with a "
            f"letter or digit: {model!r}"
        )
    return model


def detect_format(
    name: str | None = None, data: bytes | None = None, content_type: str | None = None
) -> str:
    """The format from a file name, else a content type, else the first bytes."""
    if name:
        fmt = SUFFIXES.get(PurePath(name).suffix.lower())
        if fmt:
            return fmt
    if content_type:
        fmt = CONTENT_TYPES.get(content_type.split(";")[0].strip().lower())
        if fmt:
            return fmt
    if data is not None:
        if data[:4] == b"PAR1":
            return "parquet"
        head = data.lstrip()[:1]
        if head == b"[":
            return "json"
        if head == b"{":
            first = data.lstrip().split(b"\n", 1)[0].strip()
            try:
                record = json.loads(first)
            except (ValueError, RecursionError):
                return "json"  # an object over several lines
            wrapped = isinstance(record, dict) and any(
                isinstance(record.get(k), list) for k in ("rows", "predictions")
            )
            return "json" if wrapped else "jsonl"
        return "csv"
    raise ImportFailed("cannot tell the format: give it (csv, jsonl, json or parquet)")


Record = tuple[int, int | None, Any]  # row, line, the record (a dict, or a problem text)


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ImportFailed(f"not UTF-8 text (byte {e.start})") from None


def read_records(data: bytes, fmt: str) -> Iterator[Record]:
    """(row, line, record) per record; a record that is not an object comes as a text."""
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(_text(data), newline=""))
        try:
            if not reader.fieldnames:
                return
            for row, record in enumerate(reader, start=1):
                if None in record:
                    yield row, reader.line_num, "more fields than the header has"
                else:
                    yield row, reader.line_num, record
        except csv.Error as e:  # e.g. a field over csv.field_size_limit()
            raise ImportFailed(f"CSV line {reader.line_num}: {e}") from None
    elif fmt == "jsonl":
        row = 0
        for line, text in enumerate(_text(data).splitlines(), start=1):
            if not text.strip():
                continue
            row += 1
            try:
                record = json.loads(text)
            except ValueError as e:
                yield row, line, f"not JSON: {getattr(e, 'msg', e)}"
                continue
            except RecursionError:
                yield row, line, "not JSON: nested too deeply"
                continue
            yield row, line, record if isinstance(record, dict) else "not a JSON object"
    elif fmt == "json":
        try:
            body = json.loads(_text(data))
        except (ValueError, RecursionError) as e:
            raise ImportFailed(f"not JSON: {e or 'nested too deeply'}") from None
        yield from json_records(body)
    elif fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(io.BytesIO(data))
        except (pa.ArrowException, OSError, ValueError) as e:
            raise ImportFailed(f"not a Parquet file: {e}") from None
        for row, record in enumerate(table.to_pylist(), start=1):
            yield row, None, record
    else:
        raise ImportFailed(f"unknown format {fmt!r}: choose from {', '.join(FORMATS)}")


def json_records(body: Any) -> Iterator[Record]:
    """Records of a JSON body: a list of objects, or an object with `rows` (or
    `predictions`) holding that list."""
    if isinstance(body, dict):
        body = body.get("rows", body.get("predictions"))
    if not isinstance(body, list):
        raise ImportFailed("JSON must be a list of rows or an object with a 'rows' list")
    for row, record in enumerate(body, start=1):
        yield row, None, record if isinstance(record, dict) else "not a JSON object"


# ---- one row -------------------------------------------------------------------------------


class _Bad(Exception):
    pass


@dataclass(frozen=True)
class _Row:
    clip: str | None
    source: str | None
    start: float
    end: float
    label: str
    scores: dict[str, float]


def _missing(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, float) and math.isnan(value))
    )


def _str(value: Any) -> str | None:
    return None if _missing(value) else str(value).strip()


def _number(value: Any, what: str) -> float | None:
    if _missing(value):
        return None
    if isinstance(value, bool):
        raise _Bad(f"{what} is not a number: {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _Bad(f"{what} is not a number: {value!r}") from None
    if not math.isfinite(number):
        raise _Bad(f"{what} is not a finite number: {value!r}")
    return number


def _score(label: str, value: Any) -> float | None:
    number = _number(value, f"score for {label!r}")
    if number is not None and not 0.0 <= number <= 1.0:
        raise _Bad(f"score for {label!r} is {number:g}, not in [0, 1]")
    return number


def _pick(record: Mapping[str, Any], lower: Mapping[str, str], names: Sequence[str]) -> Any:
    for name in names:
        key = lower.get(name)
        if key is not None and not _missing(record[key]):
            return record[key]
    return None


def _label_text(value: Any, kind: str) -> str | None:
    if isinstance(value, list | tuple):
        parts = [str(v).strip() for v in value if not _missing(v)]
        return join_labels(parts)
    text = _str(value)
    if text is not None and kind == "multi":
        return join_labels(split_label(text))
    return text


@functools.lru_cache(maxsize=64)
def _keys(keys: tuple[Any, ...]) -> tuple[dict[str, Any], tuple[tuple[Any, str], ...]]:
    """(lower-case name → key, (key, label) of the score_<label> columns) of a record's
    keys (the same for every row of a CSV or Parquet file)."""
    lower = {str(k).strip().lower(): k for k in keys if k is not None}
    score_columns = tuple(
        (key, str(key).strip()[len(SCORE_PREFIX) :])
        for low, key in lower.items()
        if low.startswith(SCORE_PREFIX) and len(low) > len(SCORE_PREFIX)
    )
    return lower, score_columns


def parse_record(record: Mapping[str, Any], classes: Sequence[str], kind: str) -> _Row:
    """One record as a row; raises `_Bad` with the reason."""
    lower, score_columns = _keys(tuple(record))
    scores: dict[str, float] = {}
    raw_scores = _pick(record, lower, ("scores",))
    if raw_scores is not None:
        if isinstance(raw_scores, str):
            try:
                raw_scores = json.loads(raw_scores)
            except ValueError:
                raise _Bad("scores is not a JSON object") from None
        if isinstance(raw_scores, list):  # Parquet map<string, double> comes as pairs
            try:
                raw_scores = dict(raw_scores)
            except (TypeError, ValueError):
                raise _Bad("scores is not an object of label: score") from None
        if not isinstance(raw_scores, dict):
            raise _Bad("scores is not an object of label: score")
        for label, value in raw_scores.items():
            number = _score(str(label), value)
            if number is not None:
                scores[str(label)] = number
    for key, label in score_columns:
        number = _score(label, record[key])
        if number is not None:
            scores[label] = number
    if classes:
        unknown = sorted(set(scores) - set(classes))
        if unknown:
            raise _Bad(
                f"score for a label not in the project: {', '.join(map(repr, unknown))} "
                f"(labels: {', '.join(classes)})"
            )
    label = _label_text(_pick(record, lower, ("label",)), kind)
    if label is None:
        if not scores:
            raise _Bad("no label and no scores")
        label = label_from_scores(scores, classes, kind)
    elif classes:
        parts = split_label(label) if kind == "multi" else [label]
        wrong = [p for p in parts if p not in classes]
        if wrong:
            raise _Bad(
                f"label {', '.join(map(repr, wrong))} is not in the project "
                f"(labels: {', '.join(classes)})"
            )
    clip = _str(_pick(record, lower, CLIP_KEYS))
    if clip is not None:
        return _Row(clip.lower(), None, 0.0, 0.0, label, scores)
    source = _str(_pick(record, lower, SOURCE_KEYS))
    if source is None:
        raise _Bad("no clip id and no source video")
    start = _number(_pick(record, lower, ("start",)), "start")
    end = _number(_pick(record, lower, ("end",)), "end")
    if start is None or end is None:
        raise _Bad("a source video needs start and end (seconds)")
    if start < 0 or end <= start:
        raise _Bad(f"the time range [{start:g}, {end:g}] is empty or negative")
    return _Row(None, source, start, end, label, scores)


# ---- clips ---------------------------------------------------------------------------------


class ClipIndex:
    """The hub's clips by id and by source video (sha256 or name) with their time range."""

    def __init__(self, clips: Sequence[Mapping[str, Any]]) -> None:
        self.order: dict[str, int] = {}
        self.length: dict[str, float] = {}
        self._spans: dict[str, list[tuple[float, float, str]]] = {}
        names: dict[str, set[str]] = {}
        for i, clip in enumerate(clips):
            sha = str(clip["sha256"]).lower()
            self.order[sha] = i
            src = clip.get("source_sha256")
            if not src:
                continue
            src = str(src).lower()
            start = float(clip.get("start") or 0.0)
            end = float(clip.get("end") or 0.0)
            if end <= start:
                end = start + float(clip.get("duration") or 0.0)
            self.length[sha] = end - start
            self._spans.setdefault(src, []).append((start, end, sha))
            name = clip.get("source_name")
            if name:
                for key in {str(name), PurePath(str(name)).name}:
                    names.setdefault(key, set()).add(src)
        self._names = names
        self._starts: dict[str, tuple[list[float], float]] = {}
        for src, spans in self._spans.items():
            spans.sort()
            longest = max(e - s for s, e, _ in spans)
            self._starts[src] = ([s for s, _, _ in spans], longest)

    def has(self, clip: str) -> bool:
        return clip in self.order

    def source(self, value: str) -> str:
        """The source sha256 for a sha256 or a file name; raises `_Bad` if unknown or
        ambiguous (two videos with that name)."""
        if value.lower() in self._spans:
            return value.lower()
        found = self._names.get(value) or self._names.get(PurePath(value).name)
        if not found:
            raise _Bad(f"unknown source video {value!r}")
        if len(found) > 1:
            raise _Bad(f"source name {value!r} fits {len(found)} videos: give its sha256")
        return next(iter(found))

    def overlapping(
        self, source: str, start: float, end: float, min_overlap: float
    ) -> list[tuple[str, float]]:
        """(clip, seconds of overlap) of the clips of `source` that `[start, end]` covers
        by more than 0 and at least `min_overlap` of the clip's length."""
        spans = self._spans.get(source)
        if not spans:
            return []
        starts, longest = self._starts[source]
        out = []
        # clips starting before `end`, from the first that could still reach `start`
        lo = bisect.bisect_left(starts, start - longest)
        hi = bisect.bisect_left(starts, end)
        for c_start, c_end, sha in spans[lo:hi]:
            overlap = min(end, c_end) - max(start, c_start)
            if overlap > 0 and overlap >= min_overlap * (c_end - c_start):
                out.append((sha, overlap))
        return out


# ---- all rows ------------------------------------------------------------------------------


def _combine(parts: list[tuple[float, _Row]], classes: Sequence[str], kind: str) -> Prediction:
    """The overlap-weighted mean of several rows' scores (a row without scores counts as
    certain of its label); the label follows the mean."""
    if len(parts) == 1:
        row = parts[0][1]
        return Prediction(row.label, dict(row.scores))
    labels = list(classes) or sorted(
        {c for _, r in parts for c in [*r.scores, *split_label(r.label)]}
        if kind == "multi"
        else {c for _, r in parts for c in [*r.scores, r.label]}
    )
    total = sum(w for w, _ in parts)
    if not any(r.scores for _, r in parts):
        weight: dict[str, float] = {}
        for w, r in parts:
            weight[r.label] = weight.get(r.label, 0.0) + w
        rank = {c: i for i, c in enumerate(labels)}
        label = min(weight, key=lambda c: (-weight[c], rank.get(c, len(rank)), c))
        return Prediction(label, {})
    mean = np.zeros(len(labels))
    for w, r in parts:
        if kind == "multi":
            chosen = set(split_label(r.label))
            vec = np.array(
                [r.scores.get(c, 1.0 if c in chosen else 0.0) for c in labels], dtype=float
            )
        else:
            p = probabilities(r.scores, labels) if r.scores else None
            vec = np.array(p if p is not None else [1.0 if c == r.label else 0.0 for c in labels])
        mean += w * vec
    mean /= total
    scores = {c: round(float(s), 6) for c, s in zip(labels, mean, strict=True)}
    return Prediction(label_from_scores(scores, labels, kind), scores)


def prepare(
    data: bytes,
    fmt: str,
    clips: Sequence[Mapping[str, Any]],
    classes: Sequence[str] = (),
    kind: str = "single",
    min_overlap: float = 0.0,
    records: Iterator[Record] | None = None,
) -> Prepared:
    """Read `data` (or the given `records`) and map each row onto the hub's `clips`
    (`predictions.clip_rows`). `classes` (the project's label values) checks labels and
    scores; empty accepts any. Raises `ImportFailed` if the input cannot be read at all."""
    if not 0.0 <= min_overlap <= 1.0:
        raise ImportFailed("min_overlap is a share of the clip, in [0, 1]")
    index = ClipIndex(clips)
    out = Prepared(predictions={})
    explicit: dict[str, tuple[int, _Row]] = {}
    ranged: dict[str, list[tuple[float, _Row, int]]] = {}

    def problem(target: list[RowProblem], row: int, line: int | None, reason: str, key: str):
        if len(target) < MAX_LISTED:
            target.append(RowProblem(row, reason, line, key))

    for row_no, line, record in records if records is not None else read_records(data, fmt):
        out.rows += 1
        if isinstance(record, str):
            out.n_problems += 1
            problem(out.problems, row_no, line, record, "")
            continue
        try:
            row = parse_record(record, classes, kind)
        except _Bad as e:
            out.n_problems += 1
            problem(out.problems, row_no, line, str(e), "")
            continue
        if row.clip is not None:
            if not index.has(row.clip):
                out.n_unknown += 1
                problem(out.unknown, row_no, line, f"unknown clip id {row.clip!r}", row.clip)
            elif row.clip in explicit:
                out.n_problems += 1
                first = explicit[row.clip][0]
                problem(out.problems, row_no, line, f"clip already given in row {first}", row.clip)
            else:
                explicit[row.clip] = (row_no, row)
            continue
        assert row.source is not None
        try:
            source = index.source(row.source)
        except _Bad as e:
            out.n_unknown += 1
            problem(out.unknown, row_no, line, str(e), row.source)
            continue
        hits = index.overlapping(source, row.start, row.end, min_overlap)
        if not hits:
            out.n_unknown += 1
            problem(
                out.unknown,
                row_no,
                line,
                f"no clip of {row.source!r} overlaps [{row.start:g}, {row.end:g}]",
                row.source,
            )
            continue
        for clip, overlap in hits:
            ranged.setdefault(clip, []).append((overlap, row, row_no))

    used: set[int] = set()
    found: dict[str, Prediction] = {}
    for clip, (row_no, row) in explicit.items():
        found[clip] = Prediction(row.label, dict(row.scores))
        used.add(row_no)
    for clip, parts in ranged.items():
        if clip in found:
            continue  # a row naming the clip itself wins over time ranges
        found[clip] = _combine([(w, r) for w, r, _ in parts], classes, kind)
        used.update(n for _, _, n in parts)
        out.combined += len(parts) > 1
    out.predictions = dict(sorted(found.items(), key=lambda kv: index.order[kv[0]]))
    out.rows_used = len(used)
    return out


# ---- into the store ------------------------------------------------------------------------


def apply_prepared(
    store: Store, prepared: Prepared, model: str, version: int | None = None, source: str = ""
) -> ImportReport:
    """Store prepared predictions as `model` `version` (None: a new version, unless these
    very predictions are there already)."""
    check_model_name(model)
    if version is not None and (
        not isinstance(version, int) or isinstance(version, bool) or version < 1
    ):
        raise ImportFailed(f"a version is a whole number from 1: {version!r}")
    report = ImportReport(
        model=model,
        version=None,
        source=source,
        rows=prepared.rows,
        rows_used=prepared.rows_used,
        clips=len(prepared.predictions),
        problems=prepared.problems,
        unknown=prepared.unknown,
        n_problems=prepared.n_problems,
        n_unknown=prepared.n_unknown,
        combined=prepared.combined,
    )
    if not prepared.predictions:
        return report
    fingerprint = prepared.fingerprint
    with store.transaction():
        existing = sql.find_import(store, model, fingerprint, version)
        if existing is not None:
            report.version, report.already_imported = existing, True
            return report
        if version is None:
            version = sql.next_version(store, model)
        report.new_version = version >= sql.next_version(store, model)
        report.version = version
        sql.write_predictions(
            store,
            model,
            version,
            ((c, p.label, p.scores) for c, p in prepared.predictions.items()),
            fingerprint=fingerprint,
            source=source,
            n_rows=prepared.rows,
        )
    return report


def import_predictions(
    store: Store,
    data: bytes | Path | str,
    model: str,
    *,
    version: int | None = None,
    fmt: str | None = None,
    source: str | None = None,
    classes: Sequence[str] | None = None,
    kind: str | None = None,
    min_overlap: float = 0.0,
) -> ImportReport:
    """Import a prediction file (a path) or its bytes. `classes` and `kind` default to
    the store's current project schema. See the module doc for rows and versions."""
    check_model_name(model)
    name = None
    if isinstance(data, str | Path):
        path = Path(data)
        try:
            data = path.read_bytes()
        except OSError as e:
            raise ImportFailed(f"{path}: cannot read: {e.strerror}") from None
        name = path.name
    fmt = (fmt or detect_format(name, data)).lower()
    schema_classes, schema_kind = sql.schema_info(store)
    prepared = prepare(
        data,
        fmt,
        sql.clip_rows(store),
        schema_classes if classes is None else classes,
        schema_kind if kind is None else kind,
        min_overlap,
    )
    return apply_prepared(store, prepared, model, version, source or name or "")
