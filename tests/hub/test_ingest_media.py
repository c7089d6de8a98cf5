"""The content-addressed media store."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from hub.ingest import MediaStore
from hub.ingest import media as media_module


def test_put_has_open(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    src = tmp_path / "a.bin"
    src.write_bytes(b"clip bytes" * 1000)
    sha, size, stored = store.put_file(src)
    assert sha == hashlib.sha256(src.read_bytes()).hexdigest()
    assert size == src.stat().st_size
    assert stored == tmp_path / "media" / sha[:2] / f"{sha}.mp4"
    assert store.has(sha)
    with store.open(sha) as f:
        assert f.read() == src.read_bytes()
    assert not store.has("0" * 64)
    assert list(store.ids()) == [sha]
    assert store.remove(sha) and not store.has(sha) and not store.remove(sha)


def test_no_disk_access_on_creation(tmp_path: Path) -> None:
    MediaStore(tmp_path / "later")
    assert not (tmp_path / "later").exists()


def test_identical_content_stored_once(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    a.write_bytes(b"same" * 4096)
    b.write_bytes(b"same" * 4096)
    sha, _, stored = store.put_file(a)
    before = stored.stat()
    assert store.put_file(b)[0] == sha
    after = stored.stat()
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)
    assert [p.name for p in (tmp_path / "media").rglob("*") if p.is_file()] == [f"{sha}.mp4"]


def test_damaged_copy_is_replaced(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    src = tmp_path / "a.mp4"
    src.write_bytes(b"x" * 10_000)
    sha, _, stored = store.put_file(src)
    stored.write_bytes(b"x" * 10)  # a short, damaged file under the right name
    store.put_file(src)
    assert stored.read_bytes() == src.read_bytes()


@pytest.mark.parametrize(
    "bad",
    ["../x", "", "a" * 63, "a" * 65, "g" * 64, "A" * 64, "../" + "a" * 61, "a" * 64 + "\n",
     "/" + "a" * 63, "..", 42, None],
)  # fmt: skip
def test_path_for_rejects_anything_but_sha256(tmp_path: Path, bad: object) -> None:
    store = MediaStore(tmp_path)
    with pytest.raises(ValueError):
        store.path_for(bad)  # type: ignore[arg-type]
    assert store.has(bad) is False  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        store.open(bad)  # type: ignore[arg-type]


def test_interrupted_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = MediaStore(tmp_path / "media")
    src = tmp_path / "a.mp4"
    src.write_bytes(os.urandom(3 << 20))

    def interrupt(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(media_module.os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        store.put_file(src)
    monkeypatch.undo()
    assert [p for p in (tmp_path / "media").rglob("*") if p.is_file()] == []
    sha, _, stored = store.put_file(src)  # a rerun completes
    assert stored.read_bytes() == src.read_bytes() and store.has(sha)


def test_clean_temp_removes_old_leftovers(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    old = tmp_path / "media" / "ab" / ".abc.1.2.tmp"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"partial")
    os.utime(old, (1, 1))
    fresh = tmp_path / "media" / "ab" / ".abd.1.2.tmp"
    fresh.write_bytes(b"being written")
    assert store.clean_temp() == 1
    assert not old.exists() and fresh.exists()
