"""What an export reads from the store: one consistent read, columns as plain lists.

The SQL here reads the store's tables directly, column by column and with the JSON
fields left as text, because `Store.labels()` (a dict per row, three `json.loads`
per row) is the slowest part of a million-label export. It only reads, apart from
creating the pseudonym key once. TODO(store owner): move `read_export_data` into
`hub/store` as `Store.export_rows()` so that every SQL statement lives there.
"""

from __future__ import annotations

import gc
import json
import secrets
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from ..store import Store

PSEUDONYM_KEY = "export_pseudonym_key"

CLIP_COLUMNS = (
    "sha256",
    "name",
    "source_sha256",
    "source_name",
    "start",
    "end",
    "duration",
    "gold",
)
LABEL_COLUMNS: dict[str, pa.DataType] = {
    "uuid": pa.string(),
    "operator": pa.string(),
    "clip": pa.string(),
    "kiosk": pa.string(),
    "schema_version": pa.int64(),
    "values": pa.string(),
    "segments": pa.string(),
    "telemetry": pa.string(),
    "created_at": pa.float64(),
    "review": pa.int64(),
    "site": pa.string(),
}
CHUNK = 64 * 1024


@dataclass
class LabelDef:
    value: str
    nl: str
    en: str
    key: str


@dataclass
class ProjectInfo:
    name: str = "annotatiestraat"
    kind: str = "single"
    labels: list[LabelDef] = field(default_factory=list)
    schema_version: int | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # redundancy, gold_rate, …
    versions: list[int] = field(default_factory=list)


@dataclass
class ExportData:
    """Clips (Python lists) and non-retracted labels (Arrow arrays, JSON fields as text)."""

    hub_id: str
    project: ProjectInfo
    pseudonym_key: bytes
    clips: dict[str, list[Any]]
    labels: dict[str, pa.ChunkedArray]

    @property
    def n_clips(self) -> int:
        return len(self.clips["sha256"])

    @property
    def n_labels(self) -> int:
        return len(self.labels["uuid"])


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic GC while millions of short-lived tuples are made (a third faster)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def pseudonym_key(store: Store) -> bytes:
    """The per-hub secret behind pseudonymous operator ids; made once, kept in `meta`."""
    return bytes.fromhex(store.meta_once(PSEUDONYM_KEY, secrets.token_hex(32)))


def _columns(rows: list[tuple[Any, ...]], names: tuple[str, ...]) -> dict[str, list[Any]]:
    if not rows:
        return {name: [] for name in names}
    return {name: list(col) for name, col in zip(names, zip(*rows, strict=True), strict=True)}


def _arrow_columns(cursor: Any, spec: dict[str, pa.DataType]) -> dict[str, pa.ChunkedArray]:
    """Fetch in chunks, each turned into Arrow at once (no million-row Python lists, and
    the chunks are kept as they are: combining them would copy every string again)."""
    chunks: dict[str, list[pa.Array]] = {name: [] for name in spec}
    with gc_paused():
        while rows := cursor.fetchmany(CHUNK):
            for (name, kind), col in zip(spec.items(), zip(*rows, strict=True), strict=True):
                chunks[name].append(pa.array(col, kind))
    return {name: pa.chunked_array(chunks[name], kind) for name, kind in spec.items()}


def _project(rows: list[tuple[Any, ...]]) -> ProjectInfo:
    if not rows:
        return ProjectInfo()
    version, name, toml_text, schema_json = rows[-1]
    schema = json.loads(schema_json)
    try:
        settings = tomllib.loads(toml_text)
    except tomllib.TOMLDecodeError:
        settings = {}
    settings.pop("labels", None)
    return ProjectInfo(
        name=schema.get("name") or name,
        kind=schema.get("kind", "single"),
        labels=[
            LabelDef(str(x["value"]), str(x.get("nl", "")), str(x.get("en", "")), str(x["key"]))
            for x in schema.get("labels", [])
        ],
        schema_version=int(version),
        settings=settings,
        versions=[int(r[0]) for r in rows],
    )


def read_export_data(store: Store) -> ExportData:
    key = pseudonym_key(store)
    hub_id = store.hub_id()
    with store.export_rows() as (project, clips, label_rows):
        labels = _arrow_columns(label_rows, LABEL_COLUMNS)
    return ExportData(
        hub_id=hub_id,
        project=_project(project),
        pseudonym_key=key,
        clips=_columns(clips, CLIP_COLUMNS),
        labels=labels,
    )
