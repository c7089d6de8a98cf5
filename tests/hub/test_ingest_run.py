"""Ingest end to end with real ffmpeg: a multi-minute video, broken files, reruns."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hub.ingest import MediaStore, discover, ingest
from hub.ingest import run as run_module
from scripts.samples import make_corrupt_video, make_long_video

pytestmark = pytest.mark.slow

SECONDS = 150.0
HEIGHT = 72


def _ffprobe(path: Path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
        capture_output=True,
        check=True,
    )
    return json.loads(out.stdout)


def _store_files(root: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("inbox")
    make_long_video(d / "broadcast.mp4", SECONDS, size="160x90")
    make_corrupt_video(d / "broken.mp4", "truncated")
    (d / "readme.txt").write_text("".join(f"line {i}: this is not a video\n" for i in range(200)))
    (d / ".hidden.mp4").write_bytes(b"never looked at")
    return d


@pytest.fixture(scope="module")
def first(inbox: Path, tmp_path_factory: pytest.TempPathFactory):
    store = MediaStore(tmp_path_factory.mktemp("media"))
    return store, ingest([inbox], store, clip_seconds=10.0, proxy_height=HEIGHT)


def test_clips_and_provenance(first) -> None:
    store, report = first
    (source,) = report.sources
    assert source.name == "broadcast.mp4"
    assert source.sha256 == hashlib.sha256(Path(source.path).read_bytes()).hexdigest()
    clips = report.clips
    assert len(clips) == 15
    assert clips[0].start == 0.0
    assert abs(clips[-1].end - source.duration) <= 0.5
    assert abs(source.duration - SECONDS) <= 0.5
    for a, b in zip(clips, clips[1:], strict=False):
        assert a.end == b.start
    assert all(c.source_sha256 == source.sha256 and c.source_name == source.name for c in clips)
    assert clips[1].name == "broadcast 00:10–00:20"
    assert clips[-1].name == "broadcast 02:20–02:30"
    assert len({c.sha256 for c in clips}) == 15
    for clip in clips:
        path = store.path_for(clip.sha256)
        assert path.stat().st_size == clip.size
        assert hashlib.sha256(path.read_bytes()).hexdigest() == clip.sha256


def test_proxies_at_requested_height(first) -> None:
    store, report = first
    for clip in report.clips[:2] + report.clips[-1:]:
        info = _ffprobe(store.path_for(clip.sha256))
        video = next(s for s in info["streams"] if s["codec_type"] == "video")
        audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
        assert (video["codec_name"], video["height"], video["pix_fmt"]) == (
            "h264",
            HEIGHT,
            "yuv420p",
        )
        assert video["width"] % 2 == 0 and audio["codec_name"] == "aac"
        assert float(info["format"]["duration"]) == pytest.approx(clip.duration, abs=0.2)


def test_errors_name_the_bad_files(first) -> None:
    _, report = first
    reasons = {Path(e.path).name: e.reason for e in report.errors}
    assert set(reasons) == {"broken.mp4", "readme.txt"}
    assert "moov" in reasons["broken.mp4"]
    assert "text file" in reasons["readme.txt"]
    summary = report.summary()
    assert "1 source" in summary and "15 clips" in summary and "2 errors" in summary
    assert "broken.mp4" in summary and "readme.txt" in summary
    assert ".hidden" not in summary


def test_second_run_stores_and_reports_nothing(first, inbox: Path) -> None:
    store, report = first
    known = {s.sha256 for s in report.sources}
    before = _store_files(store.root)
    again = ingest([inbox], store, proxy_height=HEIGHT, known_sources=known.__contains__)
    assert again.clips == [] and again.sources == []
    assert again.duplicates == [str(inbox / "broadcast.mp4")]
    assert _store_files(store.root) == before
    assert "1 duplicate" in again.summary()


def test_same_file_twice_in_one_run(tmp_path: Path, inbox: Path) -> None:
    short = make_long_video(tmp_path / "a" / "short.mp4", 5.0)
    copy = tmp_path / "b" / "copy.mp4"
    copy.parent.mkdir()
    copy.write_bytes(short.read_bytes())
    report = ingest([tmp_path / "a", tmp_path / "b"], MediaStore(tmp_path / "m"), proxy_height=60)
    assert [c.name for c in report.clips] == ["short.mp4"]  # a single clip keeps the file name
    assert report.duplicates == [str(copy)]


def test_identical_clips_from_different_sources_stored_once(tmp_path: Path) -> None:
    a = make_long_video(tmp_path / "in" / "a.mp4", 25.0)
    b = tmp_path / "in" / "b.mp4"  # same pictures and sound, other container metadata
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(a), "-c", "copy", "-metadata", "title=Other", str(b)],
        check=True,
    )
    store = MediaStore(tmp_path / "m")
    # "clips" encodes each clip alone with one x264 thread: the same frames give the same bytes.
    report = ingest([tmp_path / "in"], store, proxy_height=60, method="clips")
    assert len(report.sources) == 2 and report.duplicates == []
    assert [c.source_name for c in report.clips] == ["a.mp4"] * 3
    assert report.duplicate_clips == ["b 00:00–00:10", "b 00:10–00:20", "b 00:20–00:25"]
    assert len(list(store.root.rglob("*.mp4"))) == 3


def test_no_proxy_stores_short_sources_as_they_are(tmp_path: Path) -> None:
    src = make_long_video(tmp_path / "in" / "short.mp4", 6.0)
    report = ingest([src], MediaStore(tmp_path / "m"), proxy_height=None)
    (clip,) = report.clips
    assert clip.sha256 == report.sources[0].sha256


def test_symlink_escape_refused(tmp_path: Path) -> None:
    outside = make_long_video(tmp_path / "secret" / "outside.mp4", 3.0)
    inside = make_long_video(tmp_path / "in" / "inside.mp4", 3.0)
    (tmp_path / "in" / "escape.mp4").symlink_to(outside)
    (tmp_path / "in" / "escape-dir").symlink_to(outside.parent, target_is_directory=True)
    (tmp_path / "in" / "ok.mp4").symlink_to(inside)
    report = ingest([tmp_path / "in"], MediaStore(tmp_path / "m"), proxy_height=60)
    reasons = {Path(e.path).name: e.reason for e in report.errors}
    assert "outside" in reasons["escape.mp4"] and "outside" in reasons["escape-dir"]
    assert set(reasons) == {"escape.mp4", "escape-dir"}
    assert [s.name for s in report.sources] == ["inside.mp4"]  # ok.mp4 is the same file


def test_interrupted_cut_leaves_no_partial_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = make_long_video(tmp_path / "in" / "long.mp4", 60.0)
    store = MediaStore(tmp_path / "m")
    real_cut = run_module.cut_video

    def cut_then_interrupt(*args, on_time, **kwargs):
        def tick(seconds: float) -> None:
            if seconds > 20:
                raise KeyboardInterrupt
            on_time(seconds)

        return real_cut(*args, on_time=tick, **kwargs)

    monkeypatch.setattr(run_module, "cut_video", cut_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        ingest([src], store, proxy_height=60)
    assert not store.root.exists() or list(store.root.rglob("*")) == []
    monkeypatch.undo()
    report = ingest([src], store, proxy_height=60)
    assert len(report.clips) == 6 and report.errors == []


def test_ctrl_c_then_rerun(tmp_path: Path) -> None:
    """A real SIGINT to a real run: no partial file stays; a rerun completes."""
    src = make_long_video(tmp_path / "in" / "long.mp4", 60.0, size="320x180")
    store_root = tmp_path / "m"
    code = (
        "from pathlib import Path; from hub.ingest import ingest, MediaStore\n"
        f"r = ingest([Path({str(src)!r})], MediaStore({str(store_root)!r}), proxy_height=120)\n"
        "print(len(r.clips))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    deadline = time.monotonic() + 30
    while not list(store_root.glob(".tmp/ingest-*/clip*.mp4")):  # ffmpeg is cutting now
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode != 0 and b"KeyboardInterrupt" in err
    left = [p for p in store_root.rglob("*") if p.is_file()]
    assert left == []  # clips are stored only once a source is cut completely
    assert not (store_root / ".tmp").exists()
    report = ingest([src], MediaStore(store_root), proxy_height=120)
    assert len(report.clips) == 6 and report.errors == []


def test_progress_bar_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = make_long_video(tmp_path / "in" / "p.mp4", 4.0)
    ingest([src], MediaStore(tmp_path / "m"), proxy_height=60, progress=True)
    captured = capsys.readouterr()
    assert "Ingest" in captured.err and captured.out == ""


def test_discover_sorted_recursive_hidden_skipped(tmp_path: Path) -> None:
    for rel in ["b/2.mp4", "b/10.mp4", "a.mp4", "c/d/e.mp4", ".git/x.mp4", "b/.x.mp4"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    files, errors = discover([tmp_path, tmp_path / "a.mp4", tmp_path / "missing.mp4"])
    assert [f.relative_to(tmp_path).as_posix() for f in files] == [
        "a.mp4", "b/10.mp4", "b/2.mp4", "c/d/e.mp4"
    ]  # fmt: skip
    assert [(Path(e.path).name, e.reason) for e in errors] == [
        ("missing.mp4", "no such file or folder")
    ]


def test_odd_file_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Names that look like ffmpeg options or protocols are plain files."""
    monkeypatch.chdir(tmp_path)
    make_long_video(tmp_path / "-i:concat.mp4", 3.0)
    report = ingest(["-i:concat.mp4"], MediaStore("media"), proxy_height=60)
    assert [c.name for c in report.clips] == ["-i:concat.mp4"] and report.errors == []
