"""Prediction import: CSV / JSONL / JSON / Parquet, clip ids and time ranges, bad rows
reported and the rest imported, versions, idempotent re-import; the export table."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hub.export.predictions_table import predictions_csv_table, predictions_table
from hub.models.importer import ImportFailed, detect_format, import_predictions
from hub.project import load_project, to_schema
from hub.store import Store
from hub.store import predictions as sql
from tests.conftest import PROJECTS

V, N = "gewelddadig", "niet_gewelddadig"


def source_sha(s: int) -> str:
    return hashlib.sha256(f"source-{s}".encode()).hexdigest()


def clip_sha(s: int, c: int) -> str:
    return hashlib.sha256(f"clip-{s}-{c}".encode()).hexdigest()


def models_store(
    path: Path,
    sources: int = 2,
    per_source: int = 3,
    project: str = "geweld.toml",
    extra_toml: str = "",
) -> Store:
    """A hub store with the project schema and `sources` videos of `per_source` 10 s clips
    (clip c of video s covers [10c, 10c + 10])."""
    config, text = load_project(PROJECTS / project)
    store = Store(path / "hub.db")
    store.project_version(
        config.name, text + extra_toml, json.dumps(msgspec.to_builtins(to_schema(config, 1)))
    )
    for s in range(sources):
        store.add_source(source_sha(s), f"match{s}.mp4", f"/videos/match{s}.mp4", 30.0, 1000)
        for c in range(per_source):
            store.add_clip(
                clip_sha(s, c),
                100,
                10.0,
                f"match{s}.mp4 #{c}",
                want=config.redundancy,
                source_sha256=source_sha(s),
                source_name=f"match{s}.mp4",
                start=10.0 * c,
                end=10.0 * (c + 1),
            )
    return store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = models_store(tmp_path)
    yield s
    s.close()


def csv_text(rows: list[list[object]], header: list[str]) -> bytes:
    lines = [",".join(header)] + [",".join("" if v is None else str(v) for v in r) for r in rows]
    return ("\n".join(lines) + "\n").encode()


HEADER = ["clip", "source", "start", "end", "label", f"score_{V}", f"score_{N}"]


def broken_csv() -> bytes:
    c = clip_sha
    return csv_text(
        [
            [c(0, 0), None, None, None, V, 0.9, 0.1],  # 1 ok
            [c(0, 1), None, None, None, None, 0.2, 0.8],  # 2 ok: label from the scores
            ["deadbeef" * 8, None, None, None, V, 0.9, 0.1],  # 3 unknown clip
            [c(0, 2), None, None, None, "boos", 0.5, 0.5],  # 4 label not in the project
            [c(1, 2), None, None, None, V, 1.7, 0.1],  # 5 score out of range
            [c(1, 2), None, None, None, None, None, None],  # 6 nothing
            [c(0, 0), None, None, None, N, 0.1, 0.9],  # 7 clip again
            [None, "match1.mp4", 5, 15, V, 0.8, 0.2],  # 8 range: clips (1,0) and (1,1)
            [None, source_sha(1), 12, 18, N, 0.2, 0.8],  # 9 range: clip (1,1) again
            [None, "nope.mp4", 0, 10, V, None, None],  # 10 unknown video
            [None, "match1.mp4", 100, 110, V, None, None],  # 11 no clip there
            [None, "match1.mp4", 5, 3, V, None, None],  # 12 empty range
            [None, "match1.mp4", "x", 3, V, None, None],  # 13 not a number
            [None, None, None, None, V, None, None],  # 14 no clip, no source
        ],
        HEADER,
    )


def test_good_and_broken_rows(store: Store) -> None:
    report = import_predictions(store, broken_csv(), "violence-net", fmt="csv", source="t.csv")
    assert report.ok and report.version == 1 and report.new_version
    assert report.rows == 14
    assert report.clips == 4 and report.rows_used == 4
    bad = {p.row: p.reason for p in report.problems}
    assert set(bad) == {4, 5, 6, 7, 12, 13, 14}
    assert "'boos' is not in the project" in bad[4]
    assert "not in [0, 1]" in bad[5]
    assert bad[6] == "no label and no scores"
    assert bad[7] == "clip already given in row 1"
    assert "empty or negative" in bad[12] and "start is not a number" in bad[13]
    assert bad[14] == "no clip id and no source video"
    unknown = {p.row: p.reason for p in report.unknown}
    assert set(unknown) == {3, 10, 11}
    assert unknown[3].startswith("unknown clip id") and "nope.mp4" in unknown[10]
    assert "no clip of 'match1.mp4' overlaps [100, 110]" == unknown[11]
    # CSV rows carry their line in the file (the header is line 1)
    assert all(p.line == p.row + 1 for p in report.problems + report.unknown)
    text = report.summary()
    assert "row 4 (line 5): label 'boos' is not in the project" in text
    assert "rows: 14 read, 4 imported, 7 bad, 3 for clips or videos the hub does not have" in text

    got = sql.latest_predictions(store, "violence-net")
    assert got[clip_sha(0, 0)].label == V and got[clip_sha(0, 0)].scores == {V: 0.9, N: 0.1}
    assert got[clip_sha(0, 1)].label == N  # from the scores
    assert got[clip_sha(1, 0)].label == V
    # clip (1,1) [10, 20]: 5 s of row 8 (V 0.8) and 6 s of row 9 (V 0.2) → V 0.4727
    combined = got[clip_sha(1, 1)]
    assert combined.scores[V] == pytest.approx((5 * 0.8 + 6 * 0.2) / 11, abs=1e-6)
    assert combined.label == N and report.combined == 1
    assert clip_sha(0, 2) not in got and clip_sha(1, 2) not in got


def test_reimport_is_idempotent_and_versions_count_up(store: Store) -> None:
    first = import_predictions(store, broken_csv(), "m1", fmt="csv")
    again = import_predictions(store, broken_csv(), "m1", fmt="csv")
    assert (again.version, again.already_imported, again.new_version) == (1, True, False)
    # the same predictions in another format are the same import
    jsonl = "\n".join(
        json.dumps({"clip_id": clip, "label": p.label, "scores": p.scores})
        for clip, p in sql.latest_predictions(store, "m1").items()
    ).encode()
    assert import_predictions(store, jsonl, "m1", fmt="jsonl").already_imported
    assert [m.as_dict()["latest"] for m in sql.models(store)] == [1]
    # new predictions: the next version; an explicit version merges, once
    rows = csv_text([[clip_sha(0, 2), None, None, None, V, 0.6, 0.4]], HEADER)
    second = import_predictions(store, rows, "m1", fmt="csv")
    assert (second.version, second.new_version) == (2, True)
    merged = import_predictions(store, broken_csv(), "m1", fmt="csv", version=2)
    assert (merged.version, merged.new_version, merged.already_imported) == (2, False, False)
    assert import_predictions(store, broken_csv(), "m1", fmt="csv", version=2).already_imported
    assert len(sql.version_predictions(store, "m1", 2)) == first.clips + 1
    assert sql.models(store)[0].versions[-1]["clips"] == 5
    # another model counts its own versions
    assert import_predictions(store, rows, "m2", fmt="csv").version == 1


def test_jsonl_json_and_parquet(store: Store, tmp_path: Path) -> None:
    lines = [
        json.dumps({"clip": clip_sha(0, 0), "label": V, "scores": {V: 0.7, N: 0.3}}),
        "{not json",
        "",
        json.dumps(["a list"]),
        json.dumps({"video": "match0.mp4", "start": 10, "end": 30, "scores": {V: 0.1}}),
    ]
    path = tmp_path / "preds.jsonl"
    path.write_text("\n".join(lines) + "\n")
    report = import_predictions(store, path, "jl")
    assert report.source == "preds.jsonl" and report.clips == 3
    assert [(p.row, p.line) for p in report.problems] == [(2, 2), (3, 4)]
    assert report.problems[0].reason.startswith("not JSON")
    assert report.problems[1].reason == "not a JSON object"
    got = sql.latest_predictions(store, "jl")
    assert got[clip_sha(0, 1)].label == N  # one score given: the other class has the rest

    body = {"rows": [{"clip": clip_sha(1, 0), "label": N}, {"clip": 3, "label": V}]}
    report = import_predictions(store, json.dumps(body).encode(), "js")
    assert report.clips == 1 and report.n_unknown == 1  # the id 3 is no clip of ours

    table = pa.table(
        {
            "clip_id": [clip_sha(0, 0), clip_sha(0, 1), None],
            "label": [V, None, N],
            "scores": pa.array(
                [{V: 0.8, N: 0.2}, {V: 0.3, N: 0.7}, None],
                pa.struct([(V, pa.float64()), (N, pa.float64())]),
            ),
        }
    )
    buf = io.BytesIO()
    pq.write_table(table, buf)
    report = import_predictions(store, buf.getvalue(), "pq")
    assert report.clips == 2 and report.n_problems == 1
    assert sql.latest_predictions(store, "pq")[clip_sha(0, 1)].label == N
    with pytest.raises(ImportFailed, match="not a Parquet file"):
        import_predictions(store, b"PAR1 but not really", "pq", fmt="parquet")
    with pytest.raises(ImportFailed, match="model name"):
        import_predictions(store, buf.getvalue(), "../etc")


def test_format_detection() -> None:
    assert detect_format("x.CSV") == "csv"
    assert detect_format(None, b"PAR1....") == "parquet"
    assert detect_format(None, b'[{"clip": 1}]') == "json"
    assert detect_format(None, b'{"clip": 1}\n{"clip": 2}\n') == "jsonl"
    assert detect_format(None, b'{"rows": [\n{"clip": 1}]}') == "json"
    assert detect_format(None, b'{"rows": [{"clip": 1}]}') == "json"
    assert detect_format(None, b"clip,label\n") == "csv"
    assert detect_format(None, b"", "application/x-ndjson; charset=utf-8") == "jsonl"


def test_nothing_importable_writes_nothing(store: Store) -> None:
    rows = csv_text([["deadbeef" * 8, None, None, None, V, None, None]], HEADER)
    report = import_predictions(store, rows, "m", fmt="csv")
    assert not report.ok and report.version is None
    assert sql.models(store) == []
    assert "nothing imported" in report.summary()


def test_predictions_table_for_the_snapshot(store: Store, tmp_path: Path) -> None:
    import_predictions(store, broken_csv(), "m1", fmt="csv")
    rows = csv_text([[clip_sha(0, 2), None, None, None, V, None, None]], HEADER)
    import_predictions(store, rows, "m1", fmt="csv")
    table = predictions_table(store)
    assert table.column_names == [
        "model",
        "version",
        "latest",
        "clip_id",
        "label",
        "score",
        "scores",
        "created_at",
        "version_created_at",
    ]
    assert table.num_rows == 5
    assert table.schema.field("scores").type == pa.struct([(V, pa.float64()), (N, pa.float64())])
    assert table.schema.field("created_at").type == pa.timestamp("us", tz="UTC")
    first = table.slice(0, 1).to_pylist()[0]
    assert (first["model"], first["version"], first["latest"]) == ("m1", 1, False)
    assert (first["clip_id"], first["label"], first["score"]) == (clip_sha(0, 0), V, 0.9)
    last = table.slice(4, 1).to_pylist()[0]
    assert (last["version"], last["latest"], last["scores"], last["score"]) == (2, True, None, None)
    out = tmp_path / "predictions.parquet"
    pq.write_table(table, out)
    assert pq.read_table(out).equals(table)
    flat = predictions_csv_table(table)
    assert json.loads(flat.column("scores")[0].as_py()) == {V: 0.9, N: 0.1}
