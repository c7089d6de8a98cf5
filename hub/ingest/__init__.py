"""Hub ingest: check videos with ffprobe, cut them into proxy clips, store them by sha256.

`ingest` returns records and touches no database; `catalog.ingest_into` runs it and records
the sources and clips in the hub's store.
"""

from .cut import Segment, cut_video, plan_cuts
from .media import MediaStore, sha256_file
from .probe import IngestError, Probe, probe
from .run import (
    ClipRecord,
    IngestErrorEntry,
    IngestReport,
    SourceRecord,
    clip_name,
    discover,
    ingest,
)

__all__ = [
    "ClipRecord",
    "IngestError",
    "IngestErrorEntry",
    "IngestReport",
    "MediaStore",
    "Probe",
    "Segment",
    "SourceRecord",
    "clip_name",
    "cut_video",
    "discover",
    "ingest",
    "plan_cuts",
    "probe",
    "sha256_file",
]
