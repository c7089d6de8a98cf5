"""The nightly backup unit's command with its retention, then the restore drill of
systemd/README.md, line by line as written there (only the install paths point at this
checkout and a temporary folder)."""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import msgspec

from hub.project import load_project, to_schema
from hub.store import Store
from protocol.pins import hash_pin
from tests.conftest import PROJECTS, ROOT
from tests.labelling import add_label
from tests.test_systemd import INSTALL_BIN, UNITS, values

README = ROOT / "systemd" / "README.md"
BIN = Path(sys.executable).parent


def drill_lines() -> list[str]:
    text = README.read_text()
    section = text[text.index("### Restore drill") :]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "no sh block under 'Restore drill'"
    return block.group(1).strip().splitlines()


def seeded(tmp_path: Path) -> Path:
    """A hub folder as a site has it: the project, clips, labels by three operators."""
    data = tmp_path / "hub"
    data.mkdir()
    store = Store(data / "hub.db")
    project, text = load_project(PROJECTS / "geweld.toml")
    schema = json.dumps(msgspec.to_builtins(to_schema(project, 0)))
    store.project_version(project.name, text, schema)
    for i in range(6):
        sha = hashlib.sha256(f"c{i}".encode()).hexdigest()
        store.add_clip(sha, 1, 1.0, f"clip{i}", want=3)
        for op in ("a", "b", "c"):
            add_label(
                store,
                uuid=f"{i}{op}",
                operator=op,
                clip=sha,
                kiosk="k",
                schema_version=1,
                values=["gewelddadig" if i % 2 else "niet_gewelddadig"],
                segments=[],
                telemetry={},
                created_at=float(i),
            )
    store.close()
    return data


def nightly_backup(hub: Path, backups: Path) -> subprocess.CompletedProcess[str]:
    """The ExecStart= line of straat-hub-backup.service, with its paths moved."""
    (command,) = values(UNITS / "straat-hub-backup.service", "ExecStart")
    command = command.replace(INSTALL_BIN, f"{BIN}/")
    command = command.replace("/var/lib/annotatiestraat-backup/", f"{backups}/")
    command = command.replace("/var/lib/annotatiestraat", str(hub))
    return subprocess.run(
        shlex.split(command), capture_output=True, text=True, timeout=120, check=True
    )


def test_nightly_backup_keeps_14_and_the_drill_restores_the_newest(tmp_path: Path) -> None:
    hub = seeded(tmp_path)  # clips, labels by three operators, a project
    store = Store(hub / "hub.db")
    store.add_operator("op17", "Sam", hash_pin("2468"))
    store.close()
    backups = tmp_path / "backups"
    made = Path(nightly_backup(hub, backups).stdout.split()[0])
    first = made.rename(backups / "hub-20251231-020000.db")  # as if made last night
    for day in range(1, 16):  # fifteen older nights, and a file that is not a backup
        shutil.copy(first, backups / f"hub-202001{day:02d}-020000.db")
    (backups / "notes.txt").write_text("keep me")
    store = Store(hub / "hub.db")  # work after the older backups: only the newest has it
    store.add_operator("op18", "Lou", hash_pin("1357"))
    store.close()
    done = nightly_backup(hub, backups)
    newest = Path(done.stdout.split()[0])
    kept = sorted(p.name for p in backups.glob("hub-*.db"))
    assert len(kept) == 14 and kept[-1] == newest.name and first.name in kept
    assert kept[0] == "hub-20200104-020000.db" and (backups / "notes.txt").exists()
    assert done.stdout.count("deleted ") == 3  # 17 dated copies, 14 kept

    lines = drill_lines()
    assert lines[0].startswith("H=") and lines[1].startswith("B=")
    script = "\n".join(
        [f"H={shlex.quote(str(BIN / 'straat-hub'))}", f"B={shlex.quote(str(backups))}", *lines[2:]]
    )
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert f"newest backup: {newest}" in out
    assert "op17\tSam\tactive" in out and "op18\tLou\tactive" in out
    store = Store(hub / "hub.db")
    labels = store.count_labels()
    store.close()
    assert f"labels in the backup: {labels}\n" in out, out
