"""The dataset card: README.md with YAML front matter that Hugging Face `datasets` reads
(configs `clips` with train/validation/test and `annotations`), then the text."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .source import ProjectInfo
from .splits import SPLITS

ANNOTATIONS_SPLIT = "full"


def clip_split_path(split: str) -> str:
    return f"data/clips-{split}.parquet"


CLIPS_PATH = "data/clips.parquet"
ANNOTATIONS_PATH = "data/annotations.parquet"
PREDICTIONS_PATH = "data/predictions.parquet"


def _q(text: Any) -> str:
    """A YAML scalar: JSON strings are valid YAML double-quoted scalars."""
    return json.dumps(text, ensure_ascii=False)


def size_category(n: int) -> str:
    for upper, name in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
    ):
        if n < upper:
            return name
    return "10M<n<100M"


def front_matter(
    project: ProjectInfo,
    version: int,
    n_clips: int,
    splits: Sequence[str] = SPLITS,
    predictions: bool = False,
) -> str:
    """`splits`: the clip splits that have rows (`datasets` cannot read an empty
    Parquet split), in order. `predictions`: add the `predictions` config."""
    lines = [
        "---",
        f"pretty_name: {_q(f'{project.name} (annotatiestraat, snapshot v{version})')}",
        "language:",
        "- nl",
        "- en",
        "license: other",
        "task_categories:",
        "- video-classification",
        "annotations_creators:",
        "- crowdsourced",
        "tags:",
        "- annotatiestraat",
        "- video",
        "- human-annotated",
        "size_categories:",
        f"- {size_category(n_clips)}",
        "configs:",
        "- config_name: clips",
        "  default: true",
        "  data_files:",
    ]
    for split in splits or ["train"]:
        lines += [f"  - split: {split}", f"    path: {clip_split_path(split)}"]
    lines += [
        "- config_name: annotations",
        "  data_files:",
        f"  - split: {ANNOTATIONS_SPLIT}",
        f"    path: {ANNOTATIONS_PATH}",
    ]
    if predictions:
        lines += [
            "- config_name: predictions",
            "  data_files:",
            f"  - split: {ANNOTATIONS_SPLIT}",
            f"    path: {PREDICTIONS_PATH}",
        ]
    return "\n".join([*lines, "---", ""])


def _fmt(x: Any) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.3f}"
    return str(x)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_fmt(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return out + [""]


METHODS = {
    "ds": "Dawid–Skene (per-operator confusion matrices, EM); `confidence` is the posterior "
    "of the consensus label",
    "mv": "majority vote (ties go to the label listed first in the schema); `confidence` is "
    "the consensus label's share of the votes",
    "share": "per label, the share of operators who chose it; a label is in `labels` when at "
    "least half chose it; `confidence` is the smallest per-label margin max(p, 1 − p)",
}

CLIP_COLUMNS = [
    ("clip_id", "string", "SHA-256 of the clip file (stable across snapshots and sites)"),
    ("name", "string", "clip file name"),
    ("source_id", "string", "SHA-256 of the source video (the split key)"),
    ("source_name", "string", "source video file name"),
    ("start, end, duration", "float64", "position in the source video, seconds"),
    ("split", "string", "train / validation / test"),
    ("label", "string", "most likely label value (null: no votes)"),
    ("labels", "list<string>", "consensus label value(s)"),
    ("confidence", "float64", "see *How the labels were made*"),
    ("posterior", "struct<value: float64>", "probability per label value"),
    ("n_votes", "int32", "number of labels given to the clip"),
    ("vote_counts", "struct<value: int32>", "votes per label value"),
    ("gold", "bool", "a gold item (known answer, used to check operators)"),
    ("gold_label", "string", "the known answer of a gold item"),
    ("schema_version", "int32", "newest project schema version among the clip's labels"),
]
ANNOTATION_COLUMNS = [
    ("annotation_id", "string", "UUID of the label (its idempotency key)"),
    ("clip_id, source_id, split", "string", "as in `clips`"),
    ("operator_id", "string", "pseudonymous operator id (see *Privacy*)"),
    ("kiosk_id", "string", "workstation the label was made at"),
    ("site", "string", "site whose hub stored the label (one per site sharing the database)"),
    ("schema_version", "int32", "project schema version the operator saw"),
    ("values", "list<string>", "the label value(s) chosen"),
    ("segments", "list<struct<start, end, label>>", "marked time ranges, seconds"),
    ("created_at", "timestamp[us, UTC]", "when the operator pressed the key"),
    ("review", "bool", "made in review mode"),
    (
        "time_to_label_s, first_key_s, watched_fraction, replays, seeks, speed",
        "float64 / int32",
        "typed copies of common telemetry fields",
    ),
    ("telemetry", "string", "all telemetry the kiosk recorded, as JSON text"),
]


def render_card(
    *,
    project: ProjectInfo,
    version: int,
    created_at: str,
    hub_id: str,
    seed: int,
    ratios: dict[str, float],
    stats: dict[str, Any],
    files: Sequence[str],
) -> str:
    s = project.settings
    kind = {"single": "single choice", "multi": "multi choice", "segments": "segments"}.get(
        project.kind, project.kind
    )
    lines = [
        front_matter(
            project,
            version,
            stats["clips"],
            [name for name in SPLITS if stats["splits"][name]["clips"]],
            bool(stats.get("predictions")),
        ),
        f"# {project.name} — annotatiestraat dataset, snapshot v{version}",
        "",
        f"Video clips labelled by people ({kind}): {stats['clips']} clips from "
        f"{stats['sources']} source videos, {stats['annotations']} labels by "
        f"{stats['operators']} operators. Made on hub `{hub_id}` at {created_at}.",
        "",
        f"*Nederlands:* videoclips, met de hand gelabeld door AI-operators in een "
        f"annotatiestraat: {stats['clips']} clips, {stats['annotations']} labels.",
        "",
        "## Labels",
        "",
    ]
    defs = {x.value: x for x in project.labels}
    rows = []
    for value, figures in stats["labels"].items():
        d = defs.get(value)
        rows.append(
            [
                f"`{value}`",
                d.nl if d else "–",
                d.en if d else "(not in the current schema)",
                d.key if d else "–",
                figures["consensus_clips"],
                figures["votes"],
            ]
        )
    lines += _table(["value", "Nederlands", "English", "key", "clips (consensus)", "votes"], rows)
    method = stats["consensus_method"]
    lines += [
        "## How the labels were made",
        "",
        "AI operators (job seekers gaining work experience) watched each clip at a kiosk "
        "and pressed one key per label. Operators work independently and never see a clip "
        "twice; each clip is meant to get "
        f"{s.get('redundancy', '?')} labels (up to {s.get('max_votes', '?')} when "
        "operators disagree). Gold items with a known answer are mixed in "
        f"(rate {s.get('gold_rate', '?')}) to check operators.",
        "",
        f"- Project schema version {project.schema_version} (versions in this hub: "
        f"{', '.join(map(str, project.versions)) or '–'}); each label keeps its version.",
        f"- Consensus: {METHODS.get(method, method)}. Gold items take their known answer.",
        "- Retracted labels (an operator's undo) are left out.",
        "",
        "## Counts",
        "",
    ]
    lines += _table(
        ["split", "clips", "labelled clips", "source videos", "annotations"],
        [
            [name, x["clips"], x["labelled_clips"], x["sources"], x["annotations"]]
            for name, x in stats["splits"].items()
        ]
        + [
            [
                "**all**",
                stats["clips"],
                stats["labelled_clips"],
                stats["sources"],
                stats["annotations"],
            ]
        ],
    )
    votes = stats["votes_per_clip"]
    a = stats["agreement"]
    lines += [
        f"Votes per labelled clip: mean {_fmt(votes['mean'])}, min {_fmt(votes['min'])}, "
        f"max {_fmt(votes['max'])}. Gold clips: {stats['gold_clips']}. Kiosks: "
        f"{stats['kiosks']}.",
        "",
        "## Agreement",
        "",
    ]
    lines += _table(
        ["measure", "value"],
        [
            ["Krippendorff's alpha (nominal, all labels)", a["krippendorff_alpha"]],
            ["pairwise agreement (share of agreeing label pairs)", a["pairwise_agreement"]],
            ["mean consensus confidence", a["mean_confidence"]],
            [f"gold accuracy ({a['gold_labels']} labels on gold clips)", a["gold_accuracy"]],
        ]
        + [
            [f"Krippendorff's alpha, `{v}` vs. rest", f["krippendorff_alpha"]]
            for v, f in stats["labels"].items()
        ],
    )
    ratio_text = " / ".join(f"{ratios[k]:g}" for k in SPLITS if k in ratios)
    lines += [
        "## Splits",
        "",
        f"Grouped by source video: all clips of a source are in one split, so no source "
        f"video is in two splits. A source's split follows from SHA-256(seed, source id) "
        f"with seed {seed} and ratios train / validation / test = {ratio_text}: the same "
        "seed gives the same splits, and new clips never move existing ones. A split "
        "with no clips has no file and is left out of the configs.",
        "",
        "## Loading",
        "",
        "```python",
        "import datasets, pandas as pd",
        'clips = datasets.load_dataset("path/to/this/folder", "clips")  # train/validation/test',
        'labels = datasets.load_dataset("path/to/this/folder", "annotations")["full"]',
        f'df = pd.read_parquet("path/to/this/folder/{CLIPS_PATH}")',
        "```",
        "",
        "JSON Lines and CSV hold the same tables (`clips.jsonl`, `annotations.csv`, …); "
        "in CSV, list and struct columns are JSON text. `labelstudio-tasks.json` imports "
        "into Label Studio (consensus as predictions, every label as an annotation) with "
        "`labelstudio-config.xml` as the labelling config; set the `video` URLs to where "
        "the clips are served.",
        "",
        "## Columns",
        "",
        "`clips` (one row per clip):",
        "",
    ]
    lines += _table(["column", "type", "meaning"], CLIP_COLUMNS)
    lines += ["`annotations` (one row per label):", ""]
    lines += _table(["column", "type", "meaning"], ANNOTATION_COLUMNS)
    if stats.get("predictions"):
        lines += [
            f"`predictions` ({stats['predictions']} rows): model predictions imported into "
            "the hub, one row per (model, version, clip), joinable with `clips` on "
            "`clip_id`; they play no part in the consensus.",
            "",
        ]
    lines += [
        "## Privacy",
        "",
        "Operators appear only as `operator_id`: HMAC-SHA-256 of their hub id under a "
        "secret key kept on the hub, cut to 64 bits. The id is the same in every "
        "snapshot of this hub, so work by one operator can be followed, but it is not "
        "the name and cannot be turned back into the id without the hub's key.",
        "",
        "## Files",
        "",
        "Every file is listed with its SHA-256 in `SHA256SUMS` (`sha256sum -c SHA256SUMS`).",
        "",
    ]
    lines += [f"- `{f}`" for f in files] + [""]
    return "\n".join(lines)
