"""Versioned snapshots from a real SQLite store: files, readers, splits, card, checksums."""

from __future__ import annotations

import hashlib
import json
import math
import random
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from hub.consensus.agreement import krippendorff_alpha, pairwise_agreement
from hub.export.snapshot import (
    ExportError,
    create_snapshot,
    export_command,
    list_snapshots,
    parse_formats,
)
from hub.export.splits import split_of
from hub.project import load_project, to_schema
from hub.store import Store
from protocol.pins import hash_pin
from tests.conftest import PROJECTS
from tests.labelling import add_label

from .conftest import close_after_test

OPERATORS = {f"opzq{i}": f"Zwartmaker {i}" for i in range(1, 6)}  # never in an export
SEGMENT_CLIP = 5


def clip_sha(n: int) -> str:
    return hashlib.sha256(f"clip-{n}".encode()).hexdigest()


def source_sha(n: int) -> str:
    return hashlib.sha256(f"source-{n}".encode()).hexdigest()


def build_store(
    path: Path, project: str = "geweld.toml", sources: int = 40, per_source: int = 3
) -> Store:
    """A hub store with clips and labels as kiosks leave them (no media needed).

    Clip 0 is gold, clip 1 has no labels, clip 2 is contested (2 : 1), one label is
    retracted, one is a review label, one has segments, one has unreadable telemetry.
    """
    rng = random.Random(42)
    config, text = load_project(PROJECTS / project)
    store = Store(path / "hub.db")
    store.project_version(config.name, text, json.dumps(msgspec.to_builtins(to_schema(config, 0))))
    for op, name in OPERATORS.items():
        store.add_operator(op, name, hash_pin("2468", n=2**10))
    values = [x.value for x in config.labels]
    ops = list(OPERATORS)
    n = 0
    for s in range(sources):
        for c in range(per_source):
            sha = clip_sha(n)
            store.add_clip(
                sha,
                1000 + n,
                10.0,
                f"bron{s}_{c:03d}.mp4",
                want=3,
                source_sha256=source_sha(s),
                source_name=f"bron{s}.mp4",
                start=10.0 * c,
                end=10.0 * (c + 1),
                gold=values[0] if n == 0 else None,
            )
            truth = values[n % len(values)]
            if n != 1:
                for k, op in enumerate(rng.sample(ops, 3)):
                    if config.kind == "single":
                        chosen = [truth] if (n != 2 or k < 2) else [values[1]]
                    else:
                        chosen = sorted({truth, values[(n + k) % len(values)]})
                    telemetry = {
                        "time_to_label_s": 1.5 + k,
                        "first_key_s": 0.5,
                        "watched_fraction": 1.0,
                        "replays": k,
                        "seeks": 0,
                        "speed": 1.0,
                    }
                    if n == 7 and k == 0:
                        telemetry = {"speed": "fast", "replays": "many"}
                    add_label(
                        store,
                        uuid=str(uuid.UUID(int=rng.getrandbits(128))),
                        operator=op,
                        clip=sha,
                        kiosk=f"kiosk-{k + 1}",
                        schema_version=1,
                        values=chosen,
                        segments=[[0.5, 2.25, truth]] if (n == SEGMENT_CLIP and k == 0) else [],
                        telemetry=telemetry,
                        created_at=1_700_000_000.0 + n * 60 + k,
                        review=(n == 4 and k == 2),
                    )
            n += 1
    # an operator's undo: labelled clip 3 once more, then took it back
    extra = "00000000-0000-4000-8000-000000000003"
    add_label(
        store,
        uuid=extra,
        operator="opzq-undo",
        clip=clip_sha(3),
        kiosk="kiosk-9",
        schema_version=1,
        values=[values[-1]],
        segments=[],
        telemetry={},
        created_at=1_700_100_000.0,
    )
    assert store.retract_label(extra, "opzq-undo")
    return store


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Path, Path]]:
    tmp = tmp_path_factory.mktemp("export")
    store = build_store(tmp)
    snap = create_snapshot(store, tmp / "exports", None, seed=0)
    yield store, tmp / "exports", snap.path
    store.close()


def test_layout_and_every_format_reads(exported: tuple[Store, Path, Path]) -> None:
    store, root, v1 = exported
    assert v1 == root / "v1"
    names = {p.relative_to(v1).as_posix() for p in v1.rglob("*") if p.is_file()}
    assert {
        "README.md",
        "SHA256SUMS",
        "snapshot.json",
        "data/clips.parquet",
        "data/clips-train.parquet",
        "data/clips-validation.parquet",
        "data/clips-test.parquet",
        "data/annotations.parquet",
        "clips.jsonl",
        "clips.csv",
        "annotations.jsonl",
        "annotations.csv",
        "labelstudio-tasks.json",
        "labelstudio-config.xml",
    } == names

    clips = pd.read_parquet(v1 / "data/clips.parquet")
    annotations = pd.read_parquet(v1 / "data/annotations.parquet")
    assert len(clips) == len(store.clips()) == 120
    assert len(annotations) == store.count_labels() == 119 * 3
    assert "00000000-0000-4000-8000-000000000003" not in set(annotations.annotation_id)

    for name in ("clips", "annotations"):
        whole = pq.read_table(v1 / f"data/{name}.parquet")
        jsonl = [json.loads(x) for x in (v1 / f"{name}.jsonl").read_text().splitlines()]
        csv = pd.read_csv(v1 / f"{name}.csv")
        assert len(jsonl) == len(csv) == whole.num_rows
        assert list(csv.columns) == whole.column_names == list(jsonl[0])

    schema = pq.read_schema(v1 / "data/clips.parquet")
    assert schema.field("labels").type == pa.list_(pa.string())
    assert schema.field("posterior").type == pa.struct(
        [("gewelddadig", pa.float64()), ("niet_gewelddadig", pa.float64())]
    )
    assert schema.field("vote_counts").type.num_fields == 2
    assert schema.field("gold").type == pa.bool_()
    schema = pq.read_schema(v1 / "data/annotations.parquet")
    assert schema.field("values").type == pa.list_(pa.string())
    assert schema.field("segments").type == pa.list_(
        pa.struct([("start", pa.float64()), ("end", pa.float64()), ("label", pa.string())])
    )
    assert schema.field("created_at").type == pa.timestamp("us", tz="UTC")

    # CSV keeps nested columns as JSON text
    csv = pd.read_csv(v1 / "clips.csv").set_index("clip_id")
    row = csv.loc[clip_sha(0)]
    assert json.loads(row["labels"]) == ["gewelddadig"]
    assert json.loads(row["vote_counts"]) == {"gewelddadig": 3, "niet_gewelddadig": 0}


def test_clip_rows_hold_consensus_votes_and_provenance(
    exported: tuple[Store, Path, Path],
) -> None:
    _, _, v1 = exported
    clips = pq.read_table(v1 / "data/clips.parquet").to_pylist()
    by_id = {r["clip_id"]: r for r in clips}
    gold = by_id[clip_sha(0)]
    assert gold["gold"] and gold["gold_label"] == "gewelddadig"
    assert gold["label"] == "gewelddadig" and gold["confidence"] == 1.0
    empty = by_id[clip_sha(1)]
    assert empty["n_votes"] == 0 and empty["label"] is None and empty["labels"] == []
    assert empty["posterior"] is None and empty["confidence"] is None
    contested = by_id[clip_sha(2)]
    assert contested["n_votes"] == 3
    assert contested["vote_counts"] == {"gewelddadig": 2, "niet_gewelddadig": 1}
    assert contested["label"] == "gewelddadig"
    assert sum(contested["posterior"].values()) == pytest.approx(1.0)
    assert contested["confidence"] == pytest.approx(max(contested["posterior"].values()))
    clear = by_id[clip_sha(4)]
    assert (clear["source_id"], clear["source_name"]) == (source_sha(1), "bron1.mp4")
    assert (clear["start"], clear["end"]) == (10.0, 20.0)
    assert clear["schema_version"] == 1 and clear["label"] == "gewelddadig"
    assert clear["labels"] == ["gewelddadig"]
    manifest = json.loads((v1 / "snapshot.json").read_text())
    assert manifest["consensus_method"] in ("ds", "mv")


def test_annotations_are_pseudonymous_and_complete(exported: tuple[Store, Path, Path]) -> None:
    store, _, v1 = exported
    rows = pq.read_table(v1 / "data/annotations.parquet").to_pylist()
    pseudonyms = {r["operator_id"] for r in rows}
    assert len(pseudonyms) == len(OPERATORS)
    assert all(p.startswith("op-") and len(p) == 19 for p in pseudonyms)
    for path in v1.rglob("*"):  # neither operator ids nor names anywhere in the snapshot
        if path.is_file():
            data = path.read_bytes()
            assert b"opzq" not in data and b"Zwartmaker" not in data, path
    by_id = {r["annotation_id"]: r for r in rows}
    for label in store.labels():
        row = by_id[label["uuid"]]
        assert row["clip_id"] == label["clip"] and row["kiosk_id"] == label["kiosk"]
        assert row["values"] == label["values"]
        assert json.loads(row["telemetry"]) == label["telemetry"]
        assert row["created_at"].timestamp() == pytest.approx(label["created_at"])
        assert row["review"] == bool(label["review"])
    seg = [r for r in rows if r["segments"]]
    assert len(seg) == 1 and seg[0]["clip_id"] == clip_sha(SEGMENT_CLIP)
    assert seg[0]["segments"] == [{"start": 0.5, "end": 2.25, "label": "niet_gewelddadig"}]
    typed = [r for r in rows if r["clip_id"] == clip_sha(4)]
    assert sorted(r["replays"] for r in typed) == [0, 1, 2]
    assert {r["time_to_label_s"] for r in typed} == {1.5, 2.5, 3.5}
    odd = [r for r in rows if r["clip_id"] == clip_sha(7) and r["replays"] is None]
    assert len(odd) == 1 and odd[0]["speed"] is None  # unreadable fields become null


def test_splits_group_by_source_video(exported: tuple[Store, Path, Path]) -> None:
    _, _, v1 = exported
    sources: dict[str, set[str]] = {}
    total = 0
    for split in ("train", "validation", "test"):
        part = pd.read_parquet(v1 / f"data/clips-{split}.parquet")
        assert len(part) > 0 and set(part.split) == {split}
        sources[split] = set(part.source_id)
        total += len(part)
    assert total == 120
    assert not sources["train"] & sources["validation"]
    assert not sources["train"] & sources["test"]
    assert not sources["validation"] & sources["test"]
    clips = pd.read_parquet(v1 / "data/clips.parquet").set_index("clip_id")
    ann = pd.read_parquet(v1 / "data/annotations.parquet")
    assert (ann.split.values == clips.loc[ann.clip_id, "split"].values).all()


def test_split_rule_is_deterministic_and_stable() -> None:
    keys = [f"source-{i}" for i in range(4000)]
    first = {k: split_of(7, k) for k in keys}
    assert first == {k: split_of(7, k) for k in reversed(keys)}  # order does not matter
    more = {k: split_of(7, k) for k in keys + [f"new-{i}" for i in range(500)]}
    assert all(more[k] == first[k] for k in keys)  # new sources move nothing
    shares = {s: sum(v == s for v in first.values()) / len(keys) for s in set(first.values())}
    assert shares["train"] == pytest.approx(0.8, abs=0.03)
    assert shares["validation"] == pytest.approx(0.1, abs=0.02)
    assert shares["test"] == pytest.approx(0.1, abs=0.02)
    assert sum(first[k] != split_of(8, k) for k in keys) > 500  # the seed matters


def test_sha256sums_verifies_with_sha256sum(exported: tuple[Store, Path, Path]) -> None:
    _, _, v1 = exported
    listed = [line.split("  ", 1)[1] for line in (v1 / "SHA256SUMS").read_text().splitlines()]
    on_disk = sorted(
        p.relative_to(v1).as_posix()
        for p in v1.rglob("*")
        if p.is_file() and p.name != "SHA256SUMS"
    )
    assert sorted(listed) == on_disk
    done = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=v1, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count(": OK") == len(on_disk)


def test_dataset_card(exported: tuple[Store, Path, Path]) -> None:
    _, _, v1 = exported
    text = (v1 / "README.md").read_text()
    assert text.startswith("---\n")
    front = yaml.safe_load(text.split("---\n")[1])
    clips, annotations = front["configs"]
    assert clips["config_name"] == "clips" and clips["default"] is True
    assert clips["data_files"] == [
        {"split": s, "path": f"data/clips-{s}.parquet"} for s in ("train", "validation", "test")
    ]
    assert annotations["data_files"] == [{"split": "full", "path": "data/annotations.parquet"}]
    assert set(front["language"]) == {"nl", "en"}
    for words in ("gewelddadig", "niet gewelddadig", "violent", "not violent"):
        assert words in text
    manifest = json.loads((v1 / "snapshot.json").read_text())
    alpha = manifest["stats"]["agreement"]["krippendorff_alpha"]
    assert alpha is not None and f"{alpha:.3f}" in text
    assert "| **all** | 120 | 119 | 40 | 357 |" in text
    assert "Krippendorff" in text and "gold accuracy" in text
    assert manifest["stats"]["agreement"]["gold_accuracy"] == 1.0


def test_label_studio_file(exported: tuple[Store, Path, Path]) -> None:
    _, _, v1 = exported
    tasks = json.loads((v1 / "labelstudio-tasks.json").read_text())
    assert len(tasks) == 120
    by_id = {t["data"]["clip_id"]: t for t in tasks}
    contested = by_id[clip_sha(2)]
    assert len(contested["annotations"]) == 3
    choices = sorted(a["result"][0]["value"]["choices"][0] for a in contested["annotations"])
    assert choices == ["gewelddadig", "gewelddadig", "niet_gewelddadig"]
    (pred,) = contested["predictions"]
    assert pred["result"][0]["value"]["choices"] == ["gewelddadig"]
    assert pred["result"][0]["from_name"] == "label" and pred["result"][0]["to_name"] == "video"
    assert by_id[clip_sha(1)]["predictions"] == [] and by_id[clip_sha(1)]["annotations"] == []
    assert sum(len(t["annotations"]) for t in tasks) == 357
    config = ET.fromstring((v1 / "labelstudio-config.xml").read_text())
    assert [c.get("value") for c in config.iter("Choice")] == ["gewelddadig", "niet_gewelddadig"]


def test_hugging_face_datasets_loads_the_folder(
    exported: tuple[Store, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    import datasets  # reads the environment at import

    # in case something imported it before the environment was set
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True)

    _, _, v1 = exported
    clips = datasets.load_dataset(str(v1), "clips", cache_dir=str(tmp_path / "cache"))
    assert set(clips) == {"train", "validation", "test"}
    for split, part in clips.items():
        assert len(part) == pq.read_metadata(v1 / f"data/clips-{split}.parquet").num_rows
        assert set(part["split"]) == {split}
    row = clips["train"][0]
    assert set(row["posterior"] or {}) <= {"gewelddadig", "niet_gewelddadig"}
    ann = datasets.load_dataset(str(v1), "annotations", cache_dir=str(tmp_path / "cache"))
    assert len(ann["full"]) == 357


def test_a_new_export_is_the_next_version_and_leaves_the_old_alone(tmp_path: Path) -> None:
    store = close_after_test(build_store(tmp_path, sources=12))
    root = tmp_path / "exports"
    v1 = create_snapshot(store, root, ["parquet", "jsonl"], seed=3).path
    before = {p: p.read_bytes() for p in v1.rglob("*") if p.is_file()}
    first = pd.read_parquet(v1 / "data/clips.parquet").set_index("clip_id")

    for i in range(200, 206):  # new clips from a new source and an old one, new labels
        store.add_clip(
            clip_sha(i), 10, 10.0, f"n{i}.mp4", want=3, source_sha256=source_sha(i % 2 + 99)
        )
        store.add_clip(clip_sha(i + 50), 10, 10.0, f"o{i}.mp4", want=3, source_sha256=source_sha(0))
    v2 = create_snapshot(store, root, "parquet", seed=3)
    assert v2.version == 2 and v2.path == root / "v2"
    assert {p: p.read_bytes() for p in v1.rglob("*") if p.is_file()} == before
    second = pd.read_parquet(v2.path / "data/clips.parquet").set_index("clip_id")
    assert len(second) == len(first) + 12
    assert (second.loc[first.index, "split"] == first.split).all()  # nothing moved
    assert [s["version"] for s in list_snapshots(root)] == [1, 2]
    assert not list(root.glob(".tmp*"))
    ops1 = set(pd.read_parquet(v1 / "data/annotations.parquet").operator_id)
    ops2 = set(pd.read_parquet(v2.path / "data/annotations.parquet").operator_id)
    assert ops1 == ops2  # pseudonyms are stable across snapshots
    assert not (v2.path / "clips.jsonl").exists()


def test_a_failed_export_leaves_no_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = close_after_test(build_store(tmp_path, sources=3))
    root = tmp_path / "exports"

    def boom(*args: object, **kw: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("hub.export.snapshot.write_sha256sums", boom)
    with pytest.raises(OSError):
        create_snapshot(store, root)
    assert list_snapshots(root) == [] and not list(root.glob(".tmp*"))
    monkeypatch.undo()
    assert create_snapshot(store, root).version == 1


def test_multi_choice_project(tmp_path: Path) -> None:
    store = close_after_test(build_store(tmp_path, project="geweldstypen.toml", sources=6))
    snap = create_snapshot(store, tmp_path / "exports", ["parquet", "csv"])
    clips = pq.read_table(snap.path / "data/clips.parquet")
    assert clips.schema.field("posterior").type.names[:2] == ["abuse", "car_accident"]
    rows = {r["clip_id"]: r for r in clips.to_pylist()}
    for row in rows.values():
        if row["n_votes"] and not row["gold"]:
            shares = {k: v / row["n_votes"] for k, v in row["vote_counts"].items()}
            assert row["posterior"] == pytest.approx(shares)
            assert row["labels"] == [k for k, v in shares.items() if v >= 0.5]
    assert snap.manifest["consensus_method"] == "share"
    assert "mishandeling" in (snap.path / "README.md").read_text()


def test_majority_vote_when_the_consensus_package_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = close_after_test(build_store(tmp_path, sources=4))
    monkeypatch.setitem(sys.modules, "hub.consensus", None)  # import fails
    snap = create_snapshot(store, tmp_path / "exports", "parquet")
    assert snap.manifest["consensus_method"] == "mv"
    rows = {r["clip_id"]: r for r in pq.read_table(snap.path / "data/clips.parquet").to_pylist()}
    contested = rows[clip_sha(2)]
    assert contested["label"] == "gewelddadig"
    assert contested["posterior"] == pytest.approx(
        {"gewelddadig": 2 / 3, "niet_gewelddadig": 1 / 3}
    )
    assert contested["confidence"] == pytest.approx(2 / 3)


def test_export_command(tmp_path: Path) -> None:
    build_store(tmp_path, sources=2).close()
    path = export_command(tmp_path, None, ["parquet,jsonl"], 0)
    assert path == tmp_path / "exports" / "v1"
    rows = [json.loads(x) for x in (path / "clips.jsonl").read_text().splitlines()]
    assert {"clip_id", "label", "n_votes"} <= set(rows[0])  # what the end-to-end tests read
    assert export_command(tmp_path, tmp_path / "elsewhere", [], 1) == tmp_path / "elsewhere/v1"
    with pytest.raises(ExportError, match="unknown export format xml"):
        export_command(tmp_path, None, ["parquet", "xml"], 0)
    with pytest.raises(ExportError, match="no hub database"):
        export_command(tmp_path / "nothing", None, [], 0)
    assert parse_formats("csv") == ["parquet", "csv"]


def test_agreement_figures() -> None:
    import krippendorff
    import numpy as np

    counts = np.array([[3, 0], [2, 1], [0, 3], [1, 1], [1, 0]])
    expected = krippendorff.alpha(value_counts=counts, level_of_measurement="nominal")
    assert krippendorff_alpha(counts) == pytest.approx(expected)
    # pairs: clip 1: 3/3, clip 2: 1/3, clip 3: 3/3, clip 4: 0/1; clip 5 has one label
    assert pairwise_agreement(counts) == pytest.approx((1 + 1 / 3 + 1 + 0) / 4)
    assert math.isnan(krippendorff_alpha(np.array([[1, 0], [0, 1]])))  # the card says null


def test_exports_at_the_same_time_get_different_versions(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    build_store(tmp_path, sources=6).close()
    root = tmp_path / "exports"

    def one(_: int) -> int:
        store = Store(tmp_path / "hub.db")  # a connection per thread, as the web API does
        try:
            return create_snapshot(store, root, "parquet").version
        finally:
            store.close()

    with ThreadPoolExecutor(3) as pool:
        got = sorted(pool.map(one, range(3)))
    assert got == [1, 2, 3]
    assert [s["version"] for s in list_snapshots(root)] == [1, 2, 3]
    sums = {(root / f"v{v}" / "data/clips.parquet").read_bytes() for v in got}
    assert len(sums) == 1  # same data, same clips table


def test_model_predictions_join_the_snapshot_when_there_are_any(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hub.export.tables import BuiltTable

    store = close_after_test(build_store(tmp_path, sources=2))
    scores = pa.array([{"gewelddadig": 0.9, "niet_gewelddadig": 0.1}])
    table = pa.table(
        {
            "model": ["m"],
            "version": pa.array([1], pa.int32()),
            "clip_id": [clip_sha(0)],
            "scores": scores,
        }  # fmt: skip
    )
    text = pa.array(['{"gewelddadig":0.9,"niet_gewelddadig":0.1}'])
    monkeypatch.setattr(
        "hub.export.snapshot.predictions_for_export",
        lambda store, classes: BuiltTable(table, {"scores": lambda: text}),
    )
    snap = create_snapshot(store, tmp_path / "exports", ["jsonl", "csv"])
    assert pq.read_table(snap.path / "data/predictions.parquet").equals(table)
    assert json.loads(pd.read_csv(snap.path / "predictions.csv").scores[0])["gewelddadig"] == 0.9
    assert (snap.path / "predictions.jsonl").exists()
    card = (snap.path / "README.md").read_text()
    configs = yaml.safe_load(card.split("---\n")[1])["configs"]
    assert configs[-1] == {
        "config_name": "predictions",
        "data_files": [{"split": "full", "path": "data/predictions.parquet"}],
    }
    assert snap.manifest["stats"]["predictions"] == 1
    # without predictions (the module's tables are not in this hub): no file, no config
    monkeypatch.undo()
    plain = create_snapshot(store, tmp_path / "exports", "parquet")
    assert not (plain.path / "data/predictions.parquet").exists()
    assert "predictions" not in (plain.path / "README.md").read_text().split("---\n")[1]
