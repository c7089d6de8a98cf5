"""The live view of the dataset (`/api/v1/export/clips.jsonl|csv`): one row per clip with the
current majority label and its votes, computed by the consensus engine (majority vote, ties to
the project's first label). Versioned datasets are `hub.export.snapshot`'s job."""

from __future__ import annotations

from ..consensus import aggregate
from ..store import Store


def majority_rows(store: Store, label_order: list[str]) -> list[dict]:
    tasks: list[str] = []
    workers: list[str] = []
    values: list[str] = []
    for label in store.labels():
        for value in label["values"]:  # a multi-choice label is one vote per value chosen
            tasks.append(label["clip"])
            workers.append(label["operator"])
            values.append(value)
    extra = sorted(set(values) - set(label_order))  # values of an older schema version
    classes = [*label_order, *extra]
    by_clip: dict[str, tuple[str, dict[str, int]]] = {}
    if tasks:
        result = aggregate(tasks, workers, values, classes=classes, method="mv")
        for task, best, votes in zip(result.tasks, result.label, result.votes, strict=True):
            by_clip[task] = best, {v: int(votes[v]) for v in classes if votes.get(v)}
    rows = []
    for clip in store.clips():
        best, votes = by_clip.get(clip["sha256"], (None, {}))
        rows.append(
            {
                "clip_id": clip["sha256"],
                "name": clip["name"],
                "source": clip["source_name"],
                "start": clip["start"],
                "end": clip["end"],
                "label": best,
                "n_votes": sum(votes.values()),
                "votes": votes,
            }
        )
    return rows
