"""The kiosk's own store and cache: durable labels, outbox order, LRU that spares leased work."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.cache import ClipCache
from kiosk.store import KioskStore
from protocol import messages as m


@pytest.fixture
def store(tmp_path: Path) -> Iterator[KioskStore]:
    opened = KioskStore(tmp_path / "k.db")
    yield opened
    opened.close()


def clip(data: bytes, name: str = "c") -> m.ClipRef:
    sha = hashlib.sha256(data).hexdigest()
    return m.ClipRef(clip_id=sha, sha256=sha, size=len(data), name=name, duration=1.0)


def put(cache: ClipCache, data: bytes) -> str:
    ref = clip(data)
    writer = cache.begin(ref.sha256, ref.size)
    assert writer.write(0, data)
    assert writer.finish()
    return ref.sha256


def label(operator: str, sha: str, i: int) -> m.Label:
    return m.Label(
        uuid=f"u{i}",
        operator=operator,
        clip=sha,
        schema_version=1,
        values=["x"],
        created_at=time.time(),
    )


def test_label_is_durable_before_submit_returns(tmp_path: Path, store: KioskStore) -> None:
    store.record_label(label("op", "a" * 64, 1))
    # another connection (as after a crash) sees it at once
    other = sqlite3.connect(tmp_path / "k.db")
    try:
        assert other.execute("SELECT uuid FROM outbox").fetchall() == [("u1",)]
    finally:
        other.close()
    assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_outbox_keeps_order_and_acks_remove_once(tmp_path: Path, store: KioskStore) -> None:
    for i in range(5):
        store.record_label(label("op", "a" * 64, i))
    assert [x.uuid for x in store.outbox()] == [f"u{i}" for i in range(5)]
    assert store.acked(["u1", "u3", "u1", "nope"]) == 2
    assert [x.uuid for x in store.outbox()] == ["u0", "u2", "u4"]


def test_undo_before_sync_takes_the_label_back(tmp_path: Path, store: KioskStore) -> None:
    store.add_assignment(
        m.Assign(operator="op", lease_id="l", expires_at=time.time() + 60, clips=[clip(b"abc")])
    )
    sha = clip(b"abc").sha256
    store.record_label(label("op", sha, 1))
    assert store.pending("op") == []
    assert store.undo_label("u1") is not None
    assert [c.sha256 for c, _ in store.pending("op")] == [sha]
    assert store.outbox_count() == 0


def test_cache_evicts_least_recently_used_but_never_leased_unlabelled_clips(
    tmp_path: Path, store: KioskStore
) -> None:
    cache = ClipCache(tmp_path / "clips", store, limit_bytes=2500)
    blobs = [bytes([i]) * 1000 for i in range(4)]
    refs = [clip(b) for b in blobs]
    # clip 0 is leased and not yet labelled: it must survive whatever else arrives
    store.add_assignment(
        m.Assign(operator="op", lease_id="l", expires_at=time.time() + 60, clips=[refs[0]])
    )
    for b in blobs:
        put(cache, b)
        time.sleep(0.01)
    assert cache.ready(refs[0].sha256)
    assert cache.ready(refs[3].sha256)  # the newest stays
    assert not cache.path(refs[1].sha256).exists()  # oldest unleased went first
    assert store.cache_bytes() <= 2500


def test_corrupt_and_truncated_files_are_not_ready(tmp_path: Path, store: KioskStore) -> None:
    cache = ClipCache(tmp_path / "clips", store)
    sha = put(cache, b"x" * 5000)
    cache.path(sha).write_bytes(b"x" * 4000)
    assert not cache.ready(sha)
    assert not cache.path(sha).exists()


def test_resume_keeps_verified_prefix_and_refuses_out_of_order(
    tmp_path: Path, store: KioskStore
) -> None:
    cache = ClipCache(tmp_path / "clips", store)
    data = bytes(range(256)) * 40
    ref = clip(data)
    w = cache.begin(ref.sha256, ref.size)
    assert w.write(0, data[:3000])
    assert not w.write(5000, data[5000:6000])  # a gap is refused
    w.abandon()
    w2 = cache.begin(ref.sha256, ref.size)
    assert w2.offset == 3000  # resumes where the bytes stop
    assert w2.write(3000, data[3000:])
    assert w2.finish() and cache.ready(ref.sha256)


def test_a_wrong_file_fails_verification_and_is_deleted(tmp_path: Path, store: KioskStore) -> None:
    cache = ClipCache(tmp_path / "clips", store)
    ref = clip(b"right bytes")
    w = cache.begin(ref.sha256, ref.size)
    assert w.write(0, b"wrong bytes")
    assert not w.finish()
    assert not cache.part(ref.sha256).exists() and not cache.path(ref.sha256).exists()
