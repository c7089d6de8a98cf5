"""Model in the loop: predictions in, uncertain clips first, the model
measured against the people.

- :mod:`.importer` — prediction files (CSV, JSONL, JSON, Parquet) per model and version;
- :mod:`.priority` — the order of work by model uncertainty, disagreement with the
  consensus, or stratified by predicted label (pure);
- :mod:`.evaluate` — accuracy, precision/recall/F1, calibration, confusion against
  consensus and gold, learning curve; text and HTML (pure);
- :mod:`.runtime` — the same over a hub `Store` (priorities, evaluation, review-mode
  suggestions);
- :mod:`.simulate` — a simulated labelling loop (operators, a model that learns) for the
  tests and ``benchmarks/active.py``.

SQL lives in :mod:`hub.store.predictions`; the HTTP API in :mod:`hub.web.model_routes`;
the export table in :mod:`hub.export.predictions_table`.
"""

from __future__ import annotations

from .importer import ImportFailed, ImportReport, import_predictions
from .priority import ClipInput, Priority, PriorityConfig, prioritise

__all__ = [
    "ClipInput",
    "ImportFailed",
    "ImportReport",
    "Priority",
    "PriorityConfig",
    "import_predictions",
    "prioritise",
]
