"""The Label Studio round trip: the tasks file against the format Label Studio's task
import accepts, the config against the label values, media reachable under a base URL,
pseudonymous annotators and label times in fields Label Studio keeps, and (only where
Label Studio is installed) an import into a real Label Studio."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pyarrow.parquet as pq
import pytest
from aiohttp import web
from click.testing import CliRunner

from hub.cli import main
from hub.export.labelstudio import LabelStudioOptions
from hub.export.snapshot import create_snapshot
from hub.ingest.media import MediaStore
from hub.project import load_project, to_schema
from hub.store import Store
from tests.conftest import PROJECTS
from tests.hub.test_export_snapshot import OPERATORS, build_store
from tests.labelling import add_label

# ---- the import format, as Label Studio's bulk task import reads it ------------------
# (label_studio/tasks/serializers.py: BaseTaskSerializerBulk; data and meta are kept
# per task; result, lead_time, ground_truth, was_cancelled and completed_by per
# annotation; result, score and model_version per prediction)


class Email(msgspec.Struct, forbid_unknown_fields=True):
    email: str


class ChoiceValue(msgspec.Struct, forbid_unknown_fields=True):
    choices: list[str]


class ResultItem(msgspec.Struct):
    from_name: str
    to_name: str
    type: str
    value: ChoiceValue


class Annotation(msgspec.Struct):
    result: list[ResultItem]
    ground_truth: bool = False
    was_cancelled: bool = False
    lead_time: float | None = None
    completed_by: int | Email | None = None


class Prediction(msgspec.Struct):
    result: list[ResultItem]
    model_version: str
    score: float | None = None


class Task(msgspec.Struct):
    data: dict[str, Any]
    annotations: list[Annotation] = []
    predictions: list[Prediction] = []
    meta: dict[str, Any] = {}


def check_against_config(tasks: list[Task], config_xml: str, kind: str) -> None:
    """What Label Studio needs for the tasks to show in a project made from the config."""
    root = ET.fromstring(config_xml)
    (video,) = root.iter("Video")
    (choices,) = root.iter("Choices")
    assert video.get("value", "").startswith("$")
    variable = video.get("value", "")[1:]
    assert choices.get("toName") == video.get("name")
    assert choices.get("choice") == ("single-radio" if kind == "single" else "multiple")
    values = {c.get("value") for c in choices.iter("Choice")}
    for task in tasks:
        assert isinstance(task.data.get(variable), str) and task.data[variable]
        for item in [r for a in task.annotations for r in a.result] + [
            r for p in task.predictions for r in p.result
        ]:
            assert item.from_name == choices.get("name")
            assert item.to_name == video.get("name")
            assert item.type == "choices"
            assert set(item.value.choices) <= values
            if kind == "single":
                assert len(item.value.choices) == 1
        for p in task.predictions:
            assert p.score is not None and 0.0 <= p.score <= 1.0


def load_tasks(folder: Path) -> list[Task]:
    raw = (folder / "labelstudio-tasks.json").read_bytes()
    assert isinstance(json.loads(raw), list)  # Label Studio takes a list of tasks
    return msgspec.json.decode(raw, type=list[Task])


@pytest.mark.parametrize("project", ["geweld.toml", "geweldstypen.toml"])
def test_tasks_file_is_what_label_studio_imports(tmp_path: Path, project: str) -> None:
    store = build_store(tmp_path, project, sources=8)
    snap = create_snapshot(store, tmp_path / "exports", "labelstudio", seed=0)
    tasks = load_tasks(snap.path)
    config = (snap.path / "labelstudio-config.xml").read_text()
    check_against_config(tasks, config, snap.manifest["kind"])
    # every annotation's operator (pseudonym), kiosk, uuid and time in meta, in order
    ann = pq.read_table(snap.path / "data" / "annotations.parquet").to_pylist()
    by_uuid = {a["annotation_id"]: a for a in ann}
    seen = 0
    for task in tasks:
        provenance = task.meta["annotations"]
        assert len(provenance) == len(task.annotations)
        for item, a in zip(provenance, task.annotations, strict=True):
            row = by_uuid[item["annotation_id"]]
            assert row["clip_id"] == task.data["clip_id"]
            assert item["operator_id"] == row["operator_id"]
            assert item["operator_id"].startswith("op-")
            assert item["kiosk_id"] == row["kiosk_id"]
            assert item["created_at"] == row["created_at"].strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            assert a.lead_time == row["time_to_label_s"]
            assert a.completed_by is None  # no annotator domain given
            assert row["values"] == a.result[0].value.choices
            seen += 1
    assert seen == len(ann)
    names = set(OPERATORS) | set(OPERATORS.values())
    text = (snap.path / "labelstudio-tasks.json").read_text()
    assert not any(n in text for n in names)  # operators only by pseudonym


@pytest.mark.parametrize(
    ("sources", "sides"),
    [(20, "alike"), (20, "dissenter"), (40, "alike"), (40, "dissenter")],
)
def test_ties_are_not_exported_as_near_certain(tmp_path: Path, sources: int, sides: str) -> None:
    """2:2 splits between operators with the same record (all right elsewhere), or with
    the one operator seen to err (on the contested clip) on one side. With 20 sources
    (36 labels per operator) the confidence is sampled (0.83 with the dissenter), with 40
    (72) it comes from Dawid-Skene's predictive E-step (0.80; the EM point estimate said
    0.99997 and 0.99999)."""
    store = build_store(tmp_path, sources=sources)
    ops = list(OPERATORS)
    contested = hashlib.sha256(b"clip-2").hexdigest()
    (dissenter,) = [
        label["operator"]
        for label in store.labels()
        if label["clip"] == contested and label["values"] == ["niet_gewelddadig"]
    ]
    alike = [op for op in ops if op != dissenter]
    voters = alike if sides == "alike" else [dissenter, *alike[:3]]
    for t in range(2):
        sha = hashlib.sha256(f"tie-{t}".encode()).hexdigest()
        store.add_clip(sha, 5, 10.0, f"tie{t}.mp4", want=3, source_sha256=sha)
        for k, op in enumerate(voters):
            add_label(
                store,
                uuid=str(uuid.uuid4()),
                operator=op,
                clip=sha,
                kiosk="kiosk-1",
                schema_version=1,
                values=["gewelddadig" if k % 2 == 0 else "niet_gewelddadig"],
                segments=[],
                telemetry={},
                created_at=1_700_000_000.0,
            )
    snap = create_snapshot(store, tmp_path / "exports", "labelstudio", seed=0)
    by_id = {t.data["clip_id"]: t for t in load_tasks(snap.path)}
    bound = 0.8 if sides == "alike" else 0.85  # the dissenter did err once
    for t in range(2):
        (pred,) = by_id[hashlib.sha256(f"tie-{t}".encode()).hexdigest()].predictions
        assert pred.score is not None and pred.score < bound, pred.score
    clear = by_id[hashlib.sha256(b"clip-4").hexdigest()].predictions[0].score
    assert clear is not None and clear > 0.95  # 3:0 stays confident


# ---- media, annotators, the CLI ---------------------------------------------------------


def media_store(tmp_path: Path, clips_dir: Path) -> tuple[Path, list[str]]:
    """A hub data folder whose clips are real ffmpeg clips in its media store."""
    data = tmp_path / "hub"
    data.mkdir()
    config, text = load_project(PROJECTS / "geweld.toml")
    store = Store(data / "hub.db")
    store.project_version(config.name, text, json.dumps(msgspec.to_builtins(to_schema(config, 0))))
    media = MediaStore(data / "media")
    shas = []
    for n, path in enumerate(sorted(clips_dir.glob("*.mp4"))):
        sha, size, _ = media.put_file(path)
        store.add_clip(sha, size, 2.0, path.name, want=3, source_sha256=sha, source_name=path.name)
        for k, op in enumerate(list(OPERATORS)[:3]):
            add_label(
                store,
                uuid=str(uuid.uuid4()),
                operator=op,
                clip=sha,
                kiosk=f"kiosk-{k}",
                schema_version=1,
                values=[config.labels[n % 2].value],
                segments=[],
                telemetry={"time_to_label_s": 1.25 + k},
                created_at=1_700_000_000.0 + 60 * n + k,
            )
        shas.append(sha)
    store.close()
    return data, shas


async def fetch_all(root: Path, urls: list[str], port: int) -> dict[str, bytes]:
    app = web.Application()
    app.router.add_static("/media/", root / "media")
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        out = {}
        async with aiohttp.ClientSession() as http:
            for url in urls:
                async with http.get(url) as r:
                    assert r.status == 200, url
                    out[url] = await r.read()
        return out
    finally:
        await runner.cleanup()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_cli_media_in_snapshot_reachable_under_base_url(
    tmp_path: Path, sample_clips: Path
) -> None:
    data, shas = media_store(tmp_path, sample_clips)
    port = free_port()
    base = f"http://127.0.0.1:{port}/media"
    result = CliRunner().invoke(
        main,
        [
            "export",
            "--data",
            str(data),
            "--format",
            "labelstudio",
            "--include-media",
            "--media-url",
            base,
            "--annotator-domain",
            "labelers.example",
        ],
    )
    assert result.exit_code == 0, result.output
    v1 = Path(result.output.strip())
    assert sorted(p.name for p in (v1 / "media").iterdir()) == sorted(f"{s}.mp4" for s in shas)
    check = subprocess.run(["sha256sum", "-c", "--strict", "SHA256SUMS"], cwd=v1, check=False)
    assert check.returncode == 0
    sums = (v1 / "SHA256SUMS").read_text()
    assert all(f"{s}  media/{s}.mp4" in sums for s in shas)
    manifest = json.loads((v1 / "snapshot.json").read_text())
    assert manifest["media"] == {"folder": "media", "clips": len(shas)}
    assert manifest["labelstudio"]["media_url"] == base

    tasks = load_tasks(v1)
    check_against_config(tasks, (v1 / "labelstudio-config.xml").read_text(), "single")
    assert {t.data["video"] for t in tasks} == {f"{base}/{s}.mp4" for s in shas}
    got = await fetch_all(v1, [t.data["video"] for t in tasks], port)
    for task in tasks:  # the bytes behind the URL are the clip
        assert hashlib.sha256(got[task.data["video"]]).hexdigest() == task.data["clip_id"]

    with (v1 / "labelstudio-annotators.csv").open(newline="") as f:
        emails = [row["email"] for row in csv.DictReader(f)]
    assert len(emails) == 3 and all(e.endswith("@labelers.example") for e in emails)
    for task in tasks:
        people = [a.completed_by for a in task.annotations]
        assert all(isinstance(p, Email) and p.email in emails for p in people)
        assert len({p.email for p in people if isinstance(p, Email)}) == 3  # distinct
        assert [m["operator_id"] + "@labelers.example" for m in task.meta["annotations"]] == [
            p.email for p in people if isinstance(p, Email)
        ]
        assert sorted(a.lead_time for a in task.annotations) == [1.25, 2.25, 3.25]


def test_cli_bad_media_options_change_nothing(tmp_path: Path, sample_clips: Path) -> None:
    data, shas = media_store(tmp_path, sample_clips)
    runner = CliRunner()
    for args, words in (
        (["--media-url", "http://x/ media"], "media URL"),
        (["--annotator-domain", "not a domain"], "annotator domain"),
    ):
        result = runner.invoke(main, ["export", "--data", str(data), *args])
        assert result.exit_code != 0 and words in result.output, result.output
    MediaStore(data / "media").remove(shas[0])
    result = runner.invoke(main, ["export", "--data", str(data), "--include-media"])
    assert result.exit_code != 0 and shas[0] in result.output, result.output
    assert not list((data / "exports").glob("v*")) and not list((data / "exports").glob(".tmp*"))


def test_media_url_forms() -> None:
    sha = "ab" * 32
    assert LabelStudioOptions("http://h/m").video(sha, "x.mp4") == f"http://h/m/{sha}.mp4"
    assert LabelStudioOptions("http://h/m/").video(sha, "x.mp4") == f"http://h/m/{sha}.mp4"
    local = "/data/local-files/?d=exports/v1/media/"
    assert LabelStudioOptions(local).video(sha, "x.mp4") == f"{local}{sha}.mp4"
    assert LabelStudioOptions().video(sha, "x.mp4") == "x.mp4"


# ---- a real Label Studio, where one is installed ----------------------------------------

#: The ``label-studio`` command: $LABEL_STUDIO_BIN (e.g. one installed in its own virtualenv,
#: outside the project's dependencies), else the one on PATH.
LABEL_STUDIO = os.environ.get("LABEL_STUDIO_BIN") or shutil.which("label-studio")


@pytest.fixture
def label_studio(tmp_path: Path) -> Iterator[tuple[str, str]]:
    if LABEL_STUDIO is None:
        pytest.skip(
            "Label Studio is not installed (pip install label-studio, or set LABEL_STUDIO_BIN)"
        )
    port = free_port()
    token = uuid.uuid4().hex
    env = {
        **os.environ,
        "LABEL_STUDIO_BASE_DATA_DIR": str(tmp_path / "ls"),
        "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
        "LABEL_STUDIO_USERNAME": "lead@straat.example",
        "LABEL_STUDIO_PASSWORD": "lead-password-1",
        "LABEL_STUDIO_USER_TOKEN": token,
        "ALLOW_IMPORT_TASKS_WITH_UNKNOWN_EMAILS": "false",
    }
    log = (tmp_path / "ls.log").open("w")
    proc = subprocess.Popen(
        [LABEL_STUDIO, "start", "--no-browser", "--internal-host", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            assert proc.poll() is None, (tmp_path / "ls.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "Label Studio did not start in 180 s"
            time.sleep(0.5)
        yield url, token
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def ls_call(url: str, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{url}{path}", data=data, method=method)
    req.add_header("Authorization", f"Token {token}")
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def test_real_label_studio_imports_the_export(
    tmp_path: Path, label_studio: tuple[str, str]
) -> None:
    url, token = label_studio
    store = build_store(tmp_path, sources=4)
    options = LabelStudioOptions("http://127.0.0.1:9/media", "labelers.example")
    snap = create_snapshot(store, tmp_path / "exports", "labelstudio", 0, "ds", options)
    tasks = json.loads((snap.path / "labelstudio-tasks.json").read_text())
    with (snap.path / "labelstudio-annotators.csv").open(newline="") as f:
        emails = [row["email"] for row in csv.DictReader(f)]
    status, project = ls_call(
        url,
        token,
        "POST",
        "/api/projects",
        {
            "title": "annotatiestraat",
            "label_config": (snap.path / "labelstudio-config.xml").read_text(),
            "maximum_annotations": 3,
        },
    )
    assert status == 201, project
    for email in emails:  # the lead makes the pseudonymous annotators' accounts
        status, user = ls_call(
            url, token, "POST", "/api/users/", {"email": email, "username": email}
        )
        assert status == 201, user
    status, answer = ls_call(url, token, "POST", f"/api/projects/{project['id']}/import", tasks)
    assert status == 201, answer
    assert answer["task_count"] == len(tasks)
    assert answer["annotation_count"] == sum(len(t["annotations"]) for t in tasks)
    assert answer["prediction_count"] == sum(len(t["predictions"]) for t in tasks)
    status, page = ls_call(url, token, "GET", f"/api/tasks?project={project['id']}&page_size=1000")
    assert status == 200, page
    listed = page["tasks"] if isinstance(page, dict) else page
    by_clip = {t["data"]["clip_id"]: t for t in tasks}
    status, users = ls_call(url, token, "GET", "/api/users/")
    email_of = {u["id"]: u["email"] for u in users}

    def annotator(who: int | dict[str, Any]) -> str:
        # a task's annotations name their user by id, or (Label Studio 1.23) in full
        return email_of[who["id"] if isinstance(who, dict) else who]

    for item in listed:
        mine = by_clip[item["data"]["clip_id"]]
        assert item["data"]["video"] == mine["data"]["video"]
        status, full = ls_call(url, token, "GET", f"/api/tasks/{item['id']}")
        assert status == 200, full
        assert full["meta"] == mine["meta"]
        got = sorted(
            (annotator(a["completed_by"]), a["lead_time"], a["result"][0]["value"]["choices"])
            for a in full["annotations"]
        )
        want = sorted(
            (a["completed_by"]["email"], a.get("lead_time"), a["result"][0]["value"]["choices"])
            for a in mine["annotations"]
        )
        assert got == want
        assert [p["score"] for p in full["predictions"]] == [
            p["score"] for p in mine["predictions"]
        ]
