"""The hub's side of chunked transfer with a chunk size: header + data frames, bounded."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from hub.service import MAX_FETCH_BYTES, HubService
from protocol import codec
from protocol import messages as m
from protocol.constants import MAX_CHUNK, MIN_CHUNK
from protocol.pins import hash_pin

from .conftest import make_service, open_store

SIZE = 3 * MAX_CHUNK + 12345


@pytest.fixture
def service(tmp_path: Path) -> HubService:
    store = open_store(tmp_path / "hub.db")
    data = bytes(range(251)) * (SIZE // 251) + b"x" * (SIZE % 251)
    sha = hashlib.sha256(data).hexdigest()
    folder = tmp_path / "media" / sha[:2]
    folder.mkdir(parents=True)
    (folder / f"{sha}.mp4").write_bytes(data)
    store.add_clip(sha, len(data), 2.0, "clip", want=2)
    store.add_operator("op1", "One", hash_pin("1234", n=2**10))
    store.pair_kiosk("k1")
    service = make_service(store, tmp_path / "media")
    assert isinstance(service.handle("k1", m.Hello(kiosk_id="k1", version="t"))[0], m.Welcome)
    return service


def test_chunks_as_header_and_data_frame_rebuild_the_clip(service: HubService) -> None:
    sha = service.store.clips()[0]["sha256"]
    got, offset = bytearray(), 0
    while offset < SIZE:
        replies = service.handle(
            "k1", m.Fetch(sha256=sha, offset=offset, credit=2, chunk_size=MAX_CHUNK)
        )
        assert replies and all(isinstance(r, codec.ChunkFrames) for r in replies)
        for reply in replies:
            wire = codec.encode_frames(reply)
            assert len(wire) == 2 and len(wire[0]) < 200  # the bytes are not in the header
            chunk = codec.decode_frames(wire, m.HubToKiosk)
            assert chunk.offset == offset == len(got) and chunk.size == SIZE
            assert chunk.length == len(chunk.data) == min(MAX_CHUNK, SIZE - offset)
            got += chunk.data
            offset += chunk.length
    assert hashlib.sha256(got).hexdigest() == sha


@pytest.mark.parametrize(
    ("asked", "cut"), [(1, MIN_CHUNK), (MIN_CHUNK, MIN_CHUNK), (65536, 65536), (10**9, MAX_CHUNK)]
)
def test_chunk_size_is_bounded(service: HubService, asked: int, cut: int) -> None:
    sha = service.store.clips()[0]["sha256"]
    (reply,) = service.handle("k1", m.Fetch(sha256=sha, offset=0, credit=1, chunk_size=asked))
    assert reply.header.length == len(reply.data) == cut


def test_bytes_asked_in_one_fetch_are_bounded(service: HubService) -> None:
    sha = service.store.clips()[0]["sha256"]
    replies = service.handle("k1", m.Fetch(sha256=sha, credit=10**6, chunk_size=MIN_CHUNK))
    assert 1 < len(replies) and sum(len(r.data) for r in replies) <= MAX_FETCH_BYTES


def test_resume_from_any_offset_and_the_end(service: HubService) -> None:
    sha = service.store.clips()[0]["sha256"]
    (reply,) = service.handle("k1", m.Fetch(sha256=sha, offset=SIZE - 7, chunk_size=MAX_CHUNK))
    assert reply.header.offset == SIZE - 7 and len(reply.data) == 7
    assert service.handle("k1", m.Fetch(sha256=sha, offset=SIZE, chunk_size=MAX_CHUNK)) == []
    (err,) = service.handle("k1", m.Fetch(sha256=sha, offset=SIZE + 1, chunk_size=MAX_CHUNK))
    assert err.code == "malformed"


def test_a_fetch_without_chunk_size_gets_inline_chunks(service: HubService) -> None:
    sha = service.store.clips()[0]["sha256"]
    (reply,) = service.handle("k1", m.Fetch(sha256=sha, offset=0, credit=1))
    assert isinstance(reply, m.Chunk) and reply.length == 0 and len(reply.data) > 0
