"""The hub CLI: every command has help and is in the README; gold import and quality."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import click
from click.testing import CliRunner

from hub.cli import main
from hub.project import load_project, to_schema
from hub.store import Store
from tests.conftest import PROJECTS, ROOT
from tests.labelling import add_label

from .conftest import open_store


def commands(group: click.Group, prefix: str = "straat-hub") -> list[tuple[str, click.Command]]:
    out = []
    for name, cmd in group.commands.items():
        out.append((f"{prefix} {name}", cmd))
        if isinstance(cmd, click.Group):
            out += commands(cmd, f"{prefix} {name}")
    return out


def test_every_command_has_help_and_is_documented() -> None:
    readme = (ROOT / "README.md").read_text()
    for path, cmd in commands(main):
        assert cmd.help, f"{path} has no help"
        top = " ".join(path.split()[:2])
        assert top in readme, f"{top} is not in the README"


def seeded(tmp_path: Path) -> Path:
    data = tmp_path / "hub"
    data.mkdir()
    store = Store(data / "hub.db")
    project, text = load_project(PROJECTS / "geweld.toml")
    store.project_version(
        project.name,
        text,
        json.dumps({"labels": [{"value": x.value} for x in to_schema(project, 1).labels]}),
    )
    for i in range(6):
        sha = hashlib.sha256(f"c{i}".encode()).hexdigest()
        store.add_clip(sha, 1, 1.0, f"clip{i}", want=3)
        for j, op in enumerate(("a", "b", "c")):
            value = "gewelddadig" if (i + (j == 2 and i % 3 == 0)) % 2 else "niet_gewelddadig"
            add_label(
                store,
                uuid=f"{i}{op}",
                operator=op,
                clip=sha,
                kiosk="k",
                schema_version=1,
                values=[value],
                segments=[],
                telemetry={},
                created_at=float(i),
            )
    store.close()
    return data


def test_gold_import_refuses_bad_lines_and_sets_the_rest(tmp_path: Path) -> None:
    data = seeded(tmp_path)
    csv = tmp_path / "gold.csv"
    csv.write_text("clip,answer\nclip1,gewelddadig\nclip2,<script>\nnope,gewelddadig\n")
    result = CliRunner().invoke(main, ["gold", "import", str(csv), "--data", str(data)])
    assert "1 gold clips set, 2 lines refused" in result.output
    assert "line 3" in result.output and "line 4" in result.output
    store = open_store(data / "hub.db")
    assert [c["name"] for c in store.clips() if c["gold"]] == ["clip1"]
    assert store.clip(hashlib.sha256(b"c1").hexdigest())["want"] == 0


def test_quality_writes_json_and_html(tmp_path: Path) -> None:
    data = seeded(tmp_path)
    out = tmp_path / "q"
    result = CliRunner().invoke(main, ["quality", "--data", str(data), "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "quality.json").read_text())
    assert report and "alpha" in json.dumps(report).lower()
    html = (out / "quality.html").read_text()
    assert "<svg" in html and "<script src" not in html
    assert "Per operator" in result.output


def test_bad_project_names_the_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text((PROJECTS / "geweld.toml").read_text() + "\ncolour = 'red'\n")
    result = CliRunner().invoke(
        main,
        ["serve", "--project", str(bad), "--data", str(tmp_path / "d"), "--init", "--no-zeroconf"],
    )
    assert result.exit_code != 0
    assert str(bad) in result.output and "colour" in result.output
