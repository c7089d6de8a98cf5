"""`straat-hub ingest` into a real hub store: clips with provenance, bad files named, no
duplicates on a second run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hub.store import Store
from scripts.samples import make_corrupt_video, make_long_video
from tests.conftest import PROJECTS, ROOT


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args],
        cwd=ROOT,
        text=True,
        capture_output=True,
        timeout=300,
    )


def test_ingest_cli_stores_clips_once_and_names_bad_files(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    make_long_video(src / "long.mp4", 35.0)
    make_corrupt_video(src / "broken.mp4")
    (src / "notes.txt").write_text("not a video")
    data = tmp_path / "hub"
    args = [
        "ingest",
        str(src),
        "--data",
        str(data),
        "--init",
        "--project",
        str(PROJECTS / "geweld.toml"),
        "--clip-seconds",
        "10",
        "--proxy",
        "90p",
    ]
    first = run(*args)
    assert first.returncode == 0, first.stderr
    out = first.stdout + first.stderr
    assert "broken.mp4" in out and "notes.txt" in out
    store = Store(data / "hub.db")
    clips = store.clips()
    assert len(clips) >= 3
    assert {c["source_name"] for c in clips} == {"long.mp4"}
    spans = sorted((c["start"], c["end"]) for c in clips)
    assert spans[0][0] == 0 and abs(spans[-1][1] - 35.0) < 0.6
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))
    for c in clips:
        assert (data / "media" / c["sha256"][:2] / f"{c['sha256']}.mp4").stat().st_size == c["size"]
    store.close()
    second = run(*args)
    assert second.returncode == 0, second.stderr
    store = Store(data / "hub.db")
    assert len(store.clips()) == len(clips)
    store.close()
