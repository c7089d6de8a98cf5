"""ffprobe checks on real files made with ffmpeg."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hub.ingest import IngestError, probe
from scripts.samples import make_corrupt_video, make_long_video


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("probe")
    made = {
        "good": make_long_video(d / "good.mp4", 12.0, size="160x90"),
        "truncated": make_corrupt_video(d / "truncated.mp4", "truncated"),
        "cut": make_corrupt_video(d / "cut.mp4", "cut"),
        "garbage": make_corrupt_video(d / "garbage.mp4", "garbage"),
    }
    made["text"] = d / "notes.txt"
    made["text"].write_text("".join(f"line {i}: not a video at all\n" for i in range(200)))
    made["empty"] = d / "empty.mp4"
    made["empty"].write_bytes(b"")
    made["audio"] = d / "tone.m4a"
    made["image"] = d / "still.png"
    for out, src in (
        (made["audio"], ["-f", "lavfi", "-i", "sine=duration=2", "-c:a", "aac"]),
        (made["image"], ["-f", "lavfi", "-i", "testsrc2=size=64x64", "-frames:v", "1"]),
    ):
        subprocess.run(["ffmpeg", "-v", "error", "-y", *src, str(out)], check=True)
    return made


def test_good_video(files: dict[str, Path]) -> None:
    p = probe(files["good"])
    assert p.has_video and p.has_audio
    assert (p.width, p.height, p.codec) == (160, 90, "h264")
    assert p.duration == pytest.approx(12.0, abs=0.1)
    assert p.fps == pytest.approx(25.0)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("truncated", "moov"),
        ("cut", "truncated"),
        ("garbage", "corrupt"),
        ("text", "text file"),
        ("empty", "empty file"),
        ("audio", "no video stream"),
        ("image", "still image"),
    ],
)
def test_bad_files_have_a_reason(files: dict[str, Path], name: str, words: str) -> None:
    with pytest.raises(IngestError) as caught:
        probe(files[name])
    assert caught.value.path == files[name]
    assert words in caught.value.reason
    assert str(files[name]) in str(caught.value)


def test_audio_only_allowed_when_asked(files: dict[str, Path]) -> None:
    p = probe(files["audio"], require_video=False)
    assert not p.has_video and p.has_audio and p.duration > 1.5


def test_missing_and_folder(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="not found"):
        probe(tmp_path / "nope.mp4")
    with pytest.raises(IngestError, match="folder"):
        probe(tmp_path)
