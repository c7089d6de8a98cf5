"""Sample clips for demos and tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hub.ingest import probe, sha256_file
from scripts.samples import make_sample_clips


def test_sample_clips_differ_and_repeat(tmp_path: Path) -> None:
    first = make_sample_clips(tmp_path / "a", count=7, seconds=1.0, size="160x90")
    again = make_sample_clips(tmp_path / "b", count=7, seconds=1.0, size="160x90")
    hashes = [sha256_file(p)[0] for p in first]
    assert len(set(hashes)) == 7  # the 7th repeats a pattern with another hue
    assert hashes == [sha256_file(p)[0] for p in again]  # deterministic
    for path in first:
        p = probe(path)
        assert (p.width, p.height, p.codec, p.has_audio) == (160, 90, "h264", True)
        assert abs(p.duration - 1.0) < 0.1


def test_command_line(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "scripts.samples", str(tmp_path), "--count", "2", "--seconds", "1"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    made = [Path(line) for line in out.stdout.split()]
    assert [p.name for p in made] == ["sample-01-testsrc2.mp4", "sample-02-mandelbrot.mp4"]
    assert all(p.stat().st_size > 0 for p in made)
