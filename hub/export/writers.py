"""File writers: Parquet, JSON Lines, CSV, SHA256SUMS."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import msgspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .tables import BuiltTable

ROW_GROUP = 128 * 1024
BATCH = 64 * 1024


def write_parquet(table: pa.Table, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, row_group_size=ROW_GROUP)
    return path


def iso_timestamps(table: pa.Table) -> pa.Table:
    """Timestamp columns as RFC 3339 text (`2024-05-01T12:00:00.000000Z`), in C++."""
    for i, f in enumerate(table.schema):
        if pa.types.is_timestamp(f.type):
            text = pc.strftime(table.column(i), format="%Y-%m-%dT%H:%M:%SZ")
            table = table.set_column(i, f.name, text)
    return table


def write_jsonl(table: pa.Table, path: Path) -> Path:
    """One JSON object per row; lists and structs stay nested; timestamps as RFC 3339."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = iso_timestamps(table)
    encoder = msgspec.json.Encoder()
    with path.open("wb") as f:
        for batch in table.to_batches(max_chunksize=BATCH):
            f.write(encoder.encode_lines(batch.to_pylist()))
    return path


#: A cell starting with one of these is a formula to a spreadsheet (=, +, -, @, and tab or
#: carriage return before them): OWASP's CSV-injection advice is to put a ' in front.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value: str) -> str:
    """`value` as a spreadsheet shows it as text, never runs it."""
    return "'" + value if value.startswith(FORMULA_START) else value


def _formula_safe_column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    import pyarrow.compute as pc

    risky = pc.match_substring_regex(column, r"^[=+\-@\t\r]")
    quoted = pc.binary_join_element_wise(pa.scalar("'"), column, pa.scalar(""))
    return pc.if_else(risky, quoted, column)


def csv_table(built: BuiltTable) -> pa.Table:
    """Nested columns replaced by their JSON text; text that a spreadsheet would run as a
    formula starts with ' (`formula_safe`)."""
    table = built.table
    for name, text in built.json_text.items():
        if name in table.column_names:
            table = table.set_column(table.column_names.index(name), name, text())
    for i, f in enumerate(table.schema):
        if pa.types.is_nested(f.type):  # anything left nested: JSON per value
            values = [
                None if v is None else msgspec.json.encode(v).decode()
                for v in table.column(i).to_pylist()
            ]
            table = table.set_column(i, f.name, pa.array(values, pa.string()))
    for i, f in enumerate(table.schema):
        if pa.types.is_string(f.type) or pa.types.is_large_string(f.type):
            table = table.set_column(i, f.name, _formula_safe_column(table.column(i)))
    return table


def write_csv(built: BuiltTable, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(csv_table(built), path)
    return path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def write_sha256sums(
    folder: Path, files: Iterable[Path], known: dict[Path, str] | None = None
) -> Path:
    """`sha256sum -c SHA256SUMS` format: hash, two spaces, path relative to `folder`.
    `known` gives hashes already known (content-addressed clips), not read again."""
    known = known or {}
    every = [*files, *known]
    lines = [
        f"{known.get(p) or sha256_file(p)}  {p.relative_to(folder).as_posix()}\n"
        for p in sorted(every, key=lambda p: p.relative_to(folder).as_posix())
    ]
    out = folder / "SHA256SUMS"
    out.write_text("".join(lines), encoding="utf-8")
    return out
