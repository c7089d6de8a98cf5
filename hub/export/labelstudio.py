"""Label Studio import file: one task per clip, the consensus as a prediction and every
raw label as an annotation; plus the matching labelling config (XML).

What Label Studio keeps when it imports a task (its bulk task import): the task's
`data` and `meta`; per annotation `result`, `lead_time`, `ground_truth`,
`was_cancelled` and `completed_by` (a member's id or `{"email": …}`; an unknown email
is refused unless Label Studio runs with `ALLOW_IMPORT_TASKS_WITH_UNKNOWN_EMAILS`);
per prediction `result`, `score` and `model_version`. An annotation's `created_at` is
dropped. So:

- `data.video` is the clip's URL under `media_url` when the lead gives one (the clip
  file is `<clip_id>.mp4`), else the clip's file name; `data.clip_id` is the sha256;
- the pseudonymous operator, kiosk, label uuid and label time of every annotation are
  in `meta.annotations` (same order as `annotations`), which Label Studio keeps;
- with `annotator_domain`, each annotation is `completed_by` the Label Studio user
  `<pseudonymous operator>@<domain>` (the snapshot lists them in
  `labelstudio-annotators.csv`), so that Label Studio counts distinct annotators;
- the prediction's `score` is the consensus confidence of the export.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
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
TASKS_FILE = "labelstudio-tasks.json"
CONFIG_FILE = "labelstudio-config.xml"
ANNOTATORS_FILE = "labelstudio-annotators.csv"
MEDIA_DIR = "media"
MEDIA_SUFFIX = ".mp4"
_DOMAIN = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$"
)


@dataclass(frozen=True)
class LabelStudioOptions:
    """How the Label Studio tasks point at media and name annotators.

    `media_url`: the clips' base URL; a clip's URL is the base followed by
    `<clip_id>.mp4` (a `/` is put between unless the base ends in `/` or `=`, so a
    Label Studio local-files base `/data/local-files/?d=exports/v3/media/` works too).
    `annotator_domain`: mail domain of the Label Studio users named after the
    pseudonymous operators (`op-…@domain`), or None for no `completed_by`.
    """

    media_url: str | None = None
    annotator_domain: str | None = None

    def __post_init__(self) -> None:
        url = self.media_url
        if url is not None and (not url.strip() or any(c.isspace() for c in url)):
            raise ValueError(f"media URL {url!r}: give a base URL without spaces")
        domain = self.annotator_domain
        if domain is not None and not _DOMAIN.fullmatch(domain):
            raise ValueError(
                f"annotator domain {domain!r}: give a mail domain such as labelers.example"
            )

    def video(self, clip_id: str, name: str) -> str:
        if self.media_url is None:
            return name
        base = self.media_url
        sep = "" if base.endswith(("/", "=")) else "/"
        return f"{base}{sep}{clip_id}{MEDIA_SUFFIX}"

    def email(self, operator_id: str) -> str:
        return f"{operator_id}@{self.annotator_domain}"


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
    options: LabelStudioOptions | None = None,
) -> list[dict[str, Any]]:
    """`annotations` row i chose `value_sets[value_codes[i]]`."""
    options = options or LabelStudioOptions()
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
    a_uuid = annotations.column("annotation_id").to_pylist()
    a_operator = annotations.column("operator_id").to_pylist()
    a_kiosk = annotations.column("kiosk_id").to_pylist()
    c = {name: clips.column(name).to_pylist() for name in clips.column_names}
    out = []
    for i, clip_id in enumerate(clip_ids):
        anns = []
        provenance = []
        for j in order[bounds[i] : bounds[i + 1]].tolist():
            ann: dict[str, Any] = {
                "result": a_result[j],
                "created_at": a_created[j],
                "ground_truth": False,
                "was_cancelled": False,
            }
            if a_lead[j] is not None:
                ann["lead_time"] = a_lead[j]
            if options.annotator_domain is not None:
                ann["completed_by"] = {"email": options.email(a_operator[j])}
            anns.append(ann)
            provenance.append(
                {
                    "annotation_id": a_uuid[j],
                    "operator_id": a_operator[j],
                    "kiosk_id": a_kiosk[j],
                    "created_at": a_created[j],
                }
            )
        task: dict[str, Any] = {
            "data": {
                "video": options.video(clip_id, c["name"][i]),
                "clip_id": clip_id,
                "clip_name": c["name"][i],
                "source_id": c["source_id"][i],
                "source_name": c["source_name"][i],
                "start": c["start"][i],
                "end": c["end"][i],
                "split": c["split"][i],
                "gold_label": c["gold_label"][i],
            },
            "meta": {"annotations": provenance},
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
    options: LabelStudioOptions | None = None,
) -> list[Path]:
    options = options or LabelStudioOptions()
    folder.mkdir(parents=True, exist_ok=True)
    tasks_path = folder / TASKS_FILE
    tasks_path.write_bytes(
        msgspec.json.encode(
            tasks(clips, annotations, value_codes, value_sets, model_version, options)
        )
    )
    config_path = folder / CONFIG_FILE
    config_path.write_text(labelling_config(kind, labels, classes), encoding="utf-8")
    files = [tasks_path, config_path]
    if options.annotator_domain is not None:
        operators = sorted(set(annotations.column("operator_id").to_pylist()))
        people = folder / ANNOTATORS_FILE
        people.write_text(
            "email\n" + "".join(options.email(o) + "\n" for o in operators), encoding="utf-8"
        )
        files.append(people)
    return files
