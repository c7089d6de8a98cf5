"""A project: the TOML file a project lead writes. Unknown keys are an error naming key and file."""

from __future__ import annotations

import tomllib
from pathlib import Path

import msgspec

from protocol.messages import LabelDef, ProjectSchema


class ProjectError(Exception):
    """A project file that cannot be used; the message names the file and the problem."""


class LabelConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    value: str
    nl: str
    en: str
    key: str


class WellbeingConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    muted: bool = True
    greyscale: bool = False
    blur: bool = False
    break_every_min: float = 50.0
    break_min: float = 10.0
    exposure_budget_min: float = 120.0
    #: after a disturbing clip the kiosk shows a clip known to be calm, when it holds one
    interleave_neutral: bool = False
    #: label values that mean "calm" (the rest mark a clip as disturbing)
    neutral_labels: list[str] = []


class PriorityTable(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """How a model's predictions order the work (`[priority]` in the project TOML)."""

    mode: str = "none"  # none | uncertainty | disagreement | stratified
    measure: str = "entropy"  # entropy | margin | least_confidence
    model: str = ""  # whose predictions order work / review shows; "" = newest
    unscored: str = "last"  # clips without a prediction: last | first


class ProjectConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: str
    kind: str = "single"
    labels: list[LabelConfig]
    redundancy: int = 3
    min_votes: int = 2
    max_votes: int = 5
    confidence: float = 0.9
    gold_rate: float = 0.0
    training_clips: int = 5  # gold answers judged for a new operator; 0 = no training
    training_bar: float = 0.8
    lease_minutes: float = 30.0
    watch_fraction: float = 0.0
    review_mode: bool = False
    wellbeing: WellbeingConfig = msgspec.field(default_factory=WellbeingConfig)
    priority: PriorityTable = msgspec.field(default_factory=PriorityTable)


KINDS = ("single", "multi", "segments")


def load_project(path: Path | str) -> tuple[ProjectConfig, str]:
    """Read and check a project file; returns the config and its text."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ProjectError(f"{path}: cannot read: {e.strerror}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ProjectError(f"{path}: not valid TOML: {e}") from None
    try:
        config = msgspec.convert(raw, ProjectConfig)
    except msgspec.ValidationError as e:
        raise ProjectError(f"{path}: {e}") from None
    problems = check_project(config)
    if problems:
        raise ProjectError(f"{path}: " + "; ".join(problems))
    return config, text


def check_project(config: ProjectConfig) -> list[str]:
    problems = []
    if config.kind not in KINDS:
        problems.append(f"kind must be one of {', '.join(KINDS)}, not {config.kind!r}")
    if not config.labels:
        problems.append("at least one label is needed")
    for field in ("value", "key"):
        seen = [getattr(label, field) for label in config.labels]
        dupes = sorted({v for v in seen if seen.count(v) > 1})
        if dupes:
            problems.append(f"label {field}s must be unique: {', '.join(dupes)}")
    if config.redundancy < 1:
        problems.append("redundancy must be at least 1")
    if config.max_votes < config.redundancy:
        problems.append("max_votes must be at least redundancy")
    if not 1 <= config.min_votes:
        problems.append("min_votes must be at least 1")
    if not 0.0 < config.confidence <= 1.0:
        problems.append("confidence must be in (0, 1]")
    if not 0.0 <= config.gold_rate < 1.0:
        problems.append("gold_rate must be in [0, 1)")
    values = {label.value for label in config.labels}
    unknown = [v for v in config.wellbeing.neutral_labels if v not in values]
    if unknown:
        problems.append(f"wellbeing.neutral_labels not among the labels: {', '.join(unknown)}")
    if config.wellbeing.interleave_neutral and not config.wellbeing.neutral_labels:
        problems.append("wellbeing.interleave_neutral needs wellbeing.neutral_labels")
    from .models.priority import check as check_priority

    problems += check_priority(config.priority)
    return problems


def to_policy(config: ProjectConfig):  # noqa: ANN201 - hub.consensus.assignment.Policy
    from .consensus.assignment import Policy

    return Policy(
        k=config.redundancy,
        min_votes=min(config.min_votes, config.redundancy),
        max_votes=config.max_votes,
        confidence_threshold=config.confidence,
        gold_rate=config.gold_rate,
        training_gold=config.training_clips,
        training_bar=config.training_bar,
    )


def to_schema(config: ProjectConfig, version: int) -> ProjectSchema:
    w = config.wellbeing
    return ProjectSchema(
        name=config.name,
        version=version,
        kind=config.kind,
        labels=[LabelDef(value=x.value, nl=x.nl, en=x.en, key=x.key) for x in config.labels],
        redundancy=config.redundancy,
        watch_fraction=config.watch_fraction,
        muted=w.muted,
        greyscale=w.greyscale,
        blur=w.blur,
        break_every_min=w.break_every_min,
        break_min=w.break_min,
        exposure_budget_min=w.exposure_budget_min,
        review_mode=config.review_mode,
        interleave_neutral=w.interleave_neutral,
        neutral_labels=list(w.neutral_labels),
    )
