"""The hub's labels as the consensus engine's long format, and the quality report from them."""

from __future__ import annotations

import json

from .consensus.report import QualityReport
from .store import Store, long_votes


def long_format(store: Store, upto: int | None = None) -> tuple[list[str], list[str], list[str]]:
    """(clip, operator, value) per vote; a multi-choice label gives one vote per value.
    `upto`: only labels up to that row (`Store.last_label_rowid`)."""
    bound = "" if upto is None else f" AND rowid <= {int(upto)}"
    return long_votes(
        store.conn.execute(
            f'SELECT clip, operator, "values" FROM labels WHERE retracted = 0{bound} '
            "ORDER BY received_at"
        )
    )


def schema_classes(store: Store) -> list[str]:
    raw = store.current_schema_json()
    return [label["value"] for label in json.loads(raw)["labels"]] if raw else []


def gold_answers(store: Store) -> dict[str, str]:
    return {
        r[0]: r[1]
        for r in store.conn.execute("SELECT sha256, gold FROM clips WHERE gold IS NOT NULL")
    }


def quality_from_store(store: Store, method: str = "ds") -> tuple[QualityReport, str]:
    from .consensus import quality_report
    from .render.quality_report import render_html

    tasks, workers, values = long_format(store)
    report = quality_report(
        tasks,
        workers,
        values,
        schema_classes(store) or None,
        gold_answers(store) or None,
        method=method,
    )
    return report, render_html(report)
