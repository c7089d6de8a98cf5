"""Label Studio import file: one task per clip, the consensus as a prediction and every
raw label as an annotation; plus the matching labelling config (XML)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .source import LabelDef

FROM_NAME = "label"
TO_NAME = "video"


def labelling_config(kind: str, labels: Sequence[LabelDef], classes: Sequence[str]) -> str:
    by_value = {x.value: x for x in labels}
    choice = "single-radio" if kind == "single" else "multiple"
    lines = [
        "<View>",
        f'  <Video name="{TO_NAME}" value="$video"/>',
        f'  <Choices name="{FROM_NAME}" toName="{TO_NAME}" choice="{choice}" showInline="true">',
    ]
    for value in classes:
        d = by_value.get(value)
        hint = f"{d.nl} / {d.en}" if d else value
        lines.append(f"    <Choice value={quoteattr(value)} hint={quoteattr(hint)}/>")
    lines += ["  </Choices>", "</View>", ""]
    return "\n".join(lines)


def _choices(values: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "from_name": FROM_NAME,
            "to_name": TO_NAME,
            "type": "choices",
            "value": {"choices": values},
        }
    ]


def tasks(
    clips: pa.Table,
    annotations: pa.Table,
    value_codes: np.ndarray,
    value_sets: Sequence[list[str]],
    model_version: str,
) -> list[dict[str, Any]]:
    """`annotations` row i chose `value_sets[value_codes[i]]`."""
    clip_ids = clips.column("clip_id").to_pylist()
    position = {c: i for i, c in enumerate(clip_ids)}
    ann_clip = np.fromiter(
        (position[c] for c in annotations.column("clip_id").to_pylist()),
        dtype=np.int64,
        count=annotations.num_rows,
    )
    order = np.argsort(ann_clip, kind="stable")
    bounds = np.searchsorted(ann_clip[order], np.arange(len(clip_ids) + 1))
    results = [_choices(v) for v in value_sets]  # shared: identical choices, one object
    a_result = [results[i] for i in value_codes.tolist()]
    a_created = pc.strftime(annotations.column("created_at"), format="%Y-%m-%dT%H:%M:%SZ")
    a_created = a_created.to_pylist()
    a_lead = annotations.column("time_to_label_s").to_pylist()
    c = {name: clips.column(name).to_pylist() for name in clips.column_names}
    out = []
    for i, clip_id in enumerate(clip_ids):
        anns = []
        for j in order[bounds[i] : bounds[i + 1]].tolist():
            ann: dict[str, Any] = {
                "result": a_result[j],
                "created_at": a_created[j],
                "ground_truth": False,
            }
            if a_lead[j] is not None:
                ann["lead_time"] = a_lead[j]
            anns.append(ann)
        task: dict[str, Any] = {
            "data": {
                "video": c["name"][i],
                "clip_id": clip_id,
                "source_id": c["source_id"][i],
                "source_name": c["source_name"][i],
                "start": c["start"][i],
                "end": c["end"][i],
                "split": c["split"][i],
                "gold_label": c["gold_label"][i],
            },
            "annotations": anns,
            "predictions": [],
        }
        if c["labels"][i]:
            task["predictions"].append(
                {
                    "model_version": model_version,
                    "score": c["confidence"][i],
                    "result": _choices(c["labels"][i]),
                }
            )
        out.append(task)
    return out


def write_labelstudio(
    folder: Path,
    clips: pa.Table,
    annotations: pa.Table,
    value_codes: np.ndarray,
    value_sets: Sequence[list[str]],
    model_version: str,
    kind: str,
    labels: Sequence[LabelDef],
    classes: Sequence[str],
) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    tasks_path = folder / "labelstudio-tasks.json"
    tasks_path.write_bytes(
        msgspec.json.encode(tasks(clips, annotations, value_codes, value_sets, model_version))
    )
    config_path = folder / "labelstudio-config.xml"
    config_path.write_text(labelling_config(kind, labels, classes), encoding="utf-8")
    return [tasks_path, config_path]
