"""What an export snapshot reads: the project's versions, the clips and the labels, in one
read snapshot (writers go on meanwhile)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .base import StoreBase

#: Label columns of an export, in this order.
EXPORT_LABEL_COLUMNS = (
    'uuid, operator, clip, kiosk, schema_version, "values", segments, telemetry, created_at, '
    "review, site"
)


class ExportReads(StoreBase):
    @contextmanager
    def export_rows(self) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], Any]]:
        """(project versions oldest first: version, name, toml, schema_json; clips in the
        order they were added: sha256, name, source_sha256, source_name, start, end,
        duration, gold; a cursor over the labels not retracted, in arrival order), all from
        one snapshot that lasts while the block runs."""
        with self.snapshot():
            project = self.conn.execute(
                "SELECT version, name, toml, schema_json FROM project_versions ORDER BY version"
            ).fetchall()
            clips = self.conn.execute(
                'SELECT sha256, name, source_sha256, source_name, start, "end", duration, gold '
                "FROM clips ORDER BY seq"
            ).fetchall()
            labels = self.conn.execute(
                f"SELECT {EXPORT_LABEL_COLUMNS} FROM labels WHERE retracted = 0 "
                # arrival order, as Store.labels(), without a sort
                f"ORDER BY {self.dialect.label_order}"
            )
            yield project, clips, labels
