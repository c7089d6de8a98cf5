"""The walking skeleton's export: one JSONL and one CSV row per clip, majority label and votes."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

from ..store import Store


def majority_rows(store: Store, label_order: list[str]) -> list[dict]:
    votes: dict[str, Counter[str]] = {}
    for label in store.labels():
        for value in label["values"]:
            votes.setdefault(label["clip"], Counter())[value] += 1
    rank = {v: i for i, v in enumerate(label_order)}
    rows = []
    for clip in store.clips():
        counts = votes.get(clip["sha256"], Counter())
        best = (
            min(counts, key=lambda v: (-counts[v], rank.get(v, len(rank)), v)) if counts else None
        )
        rows.append(
            {
                "clip_id": clip["sha256"],
                "name": clip["name"],
                "source": clip["source_name"],
                "start": clip["start"],
                "end": clip["end"],
                "label": best,
                "n_votes": sum(counts.values()),
                "votes": {v: counts[v] for v in label_order if counts[v]},
            }
        )
    return rows


def export_basic(store: Store, label_order: list[str], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    rows = majority_rows(store, label_order)
    jsonl = out / "clips.jsonl"
    with jsonl.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    csv_path = out / "clips.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["clip_id"])
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "votes": json.dumps(row["votes"], ensure_ascii=False)})
    return [jsonl, csv_path]
