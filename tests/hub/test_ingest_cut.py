"""Cut planning (pure) and cutting with real ffmpeg."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.ingest import IngestError, Probe, cut_video, plan_cuts
from scripts.samples import make_corrupt_video, make_long_video


@settings(deadline=None, derandomize=True)
@given(
    duration=st.floats(min_value=0.1, max_value=20_000, allow_nan=False),
    clip=st.floats(min_value=1.0, max_value=120.0, allow_nan=False),
)
def test_plan_covers_the_source_contiguously(duration: float, clip: float) -> None:
    plan = plan_cuts(duration, clip)
    assert plan[0][0] == 0.0 and plan[-1][1] == duration
    for (_, end), (start, _) in zip(plan, plan[1:], strict=False):
        assert end == start
    if len(plan) == 1:
        return
    for start, end in plan:
        assert clip * 0.5 - 1e-6 <= end - start <= clip * 1.5 + 1e-6


def test_plan_examples() -> None:
    assert plan_cuts(15.0, 10.0) == [(0.0, 15.0)]
    assert len(plan_cuts(150.0, 10.0)) == 15
    assert plan_cuts(34.0, 10.0)[-1] == (20.0, 34.0)
    assert plan_cuts(35.0, 10.0)[-1] == (30.0, 35.0)
    with pytest.raises(ValueError):
        plan_cuts(10.0, 0)


def _streams(path: Path) -> list[dict]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        check=True,
    )
    return json.loads(out.stdout)["streams"]


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_long_video(tmp_path_factory.mktemp("cut") / "src.mp4", 34.0, size="320x180")


@pytest.mark.parametrize("method", ["segment", "clips"])
def test_methods_agree(source: Path, tmp_path: Path, method: str) -> None:
    segments = cut_video(source, tmp_path, clip_seconds=10, proxy_height=100, method=method)
    assert [(s.start, s.end) for s in segments] == [(0, 10), (10, 20), (20, 34.0)]
    for seg in segments:
        video, audio = _streams(seg.path)
        assert (video["codec_name"], video["height"], video["width"]) == ("h264", 100, 178)
        assert video["pix_fmt"] == "yuv420p" and audio["codec_name"] == "aac"
        assert float(video["duration"]) == pytest.approx(seg.duration, abs=0.1)
        data = seg.path.read_bytes()
        assert data.index(b"moov") < data.index(b"mdat")  # +faststart


def test_no_upscaling(source: Path, tmp_path: Path) -> None:
    (seg,) = cut_video(source, tmp_path, clip_seconds=30, proxy_height=480)
    assert _streams(seg.path)[0]["height"] == 180


def test_stream_copy_cuts_on_keyframes(source: Path, tmp_path: Path) -> None:
    segments = cut_video(source, tmp_path, clip_seconds=10, proxy_height=None)
    assert segments[0].start == 0 and segments[-1].end == pytest.approx(34.0)
    for a, b in zip(segments, segments[1:], strict=False):
        assert a.end == pytest.approx(b.start)


def test_cut_source_is_reported(tmp_path: Path) -> None:
    """A source whose data stops early fails even when its probe looked fine."""
    bad = make_corrupt_video(tmp_path / "cut.mp4", "cut")
    fake = Probe(duration=8.0, width=160, height=90, codec="h264", has_video=True)
    with pytest.raises(IngestError, match="truncated"):
        cut_video(bad, tmp_path, clip_seconds=2, proxy_height=60, p=fake)


def test_other_audio_becomes_stereo_aac(tmp_path: Path) -> None:
    src = tmp_path / "surround.mkv"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x90:duration=3",
         "-f", "lavfi", "-i", "sine=duration=3", "-ac", "6", "-c:v", "libx264",
         "-preset", "ultrafast", "-c:a", "pcm_s16le", str(src)],
        check=True,
    )  # fmt: skip
    (seg,) = cut_video(src, tmp_path, proxy_height=60)
    video, audio = _streams(seg.path)
    assert (audio["codec_name"], audio["channels"]) == ("aac", 2)
    assert video["height"] == 60
