"""The kiosk's side of chunked transfer: chunk size and window follow the measured rate,
resume from the verified offset, a hub that cuts chunks otherwise still delivers the clip."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from kiosk import engine as engine_mod
from kiosk.cache import ClipCache
from kiosk.engine import MAX_FETCHES, WINDOW_BYTES, KioskEngine, chunk_plan
from kiosk.engine_events import ClipReady
from protocol import codec
from protocol import messages as m
from protocol.constants import DEFAULT_CREDIT, MAX_CHUNK, MIN_CHUNK
from tests.kiosk.conftest import open_kiosk_store
from tests.kiosk.fake_link import FakeLink


class FakeHub:
    """Answers Fetches as the hub does, through the real codec (header + data frames)."""

    def __init__(self, data: bytes, cut: Callable[[int], int] | None = None) -> None:
        self.data = data
        self.sha = hashlib.sha256(data).hexdigest()
        self.cut = cut or (lambda asked: min(max(asked, MIN_CHUNK), MAX_CHUNK))
        self.asked: list[m.Fetch] = []

    def replies(self, fetch: m.Fetch) -> list[m.Chunk]:
        self.asked.append(fetch)
        size, offset, out = len(self.data), fetch.offset, []
        for _ in range(fetch.credit):
            piece = self.data[offset : offset + self.cut(fetch.chunk_size)]
            if not piece:
                break
            head = m.Chunk(sha256=self.sha, offset=offset, size=size, length=len(piece))
            frames = codec.encode_frames(codec.ChunkFrames(head, piece))
            out.append(codec.decode_frames([memoryview(bytearray(f)) for f in frames]))
            offset += len(piece)
        return out


def make_engine(tmp_path: Path) -> tuple[KioskEngine, FakeLink, list[str]]:
    store = open_kiosk_store(tmp_path / "k.db")
    engine = KioskEngine("k1", store, ClipCache(tmp_path / "clips", store))
    link = FakeLink()
    engine.attach(link)
    ready: list[str] = []
    engine.listeners.append(
        lambda event: ready.append(event.sha256) if isinstance(event, ClipReady) else None
    )
    return engine, link, ready


def ref(hub: FakeHub) -> m.ClipRef:
    return m.ClipRef(clip_id=hub.sha, sha256=hub.sha, size=len(hub.data), duration=1.0)


def run(
    engine: KioskEngine, link: FakeLink, hub: FakeHub, on_chunk: Callable[[m.Chunk], None] = print
) -> list[int]:
    """Serve the kiosk's Fetches until it stops asking; the chunks in flight after each."""
    flight: list[int] = []
    while link.sent:
        msg = link.sent.pop(0)
        if not isinstance(msg, m.Fetch):
            continue
        for chunk in hub.replies(msg):
            on_chunk(chunk)
            engine.on_message(chunk)
            state = engine._fetches.get(hub.sha)
            flight.append(sum(n for _, n in state.inflight) if state else 0)
    return flight


def test_chunks_grow_to_the_largest_on_a_fast_link_and_the_clip_is_verified(
    tmp_path: Path,
) -> None:
    engine, link, ready = make_engine(tmp_path)
    hub = FakeHub(os.urandom(5 * MAX_CHUNK + 777))
    engine.fetch(ref(hub))
    flight = run(engine, link, hub, on_chunk=lambda c: None)
    assert ready == [hub.sha] and engine.cache.ready(hub.sha)
    sizes = [f.chunk_size for f in hub.asked]
    assert sizes[0] == MIN_CHUNK and MAX_CHUNK in sizes  # starts small, then the largest
    assert max(f.credit for f in hub.asked) <= DEFAULT_CREDIT
    assert max(flight) <= WINDOW_BYTES
    assert not engine._fetches


def test_a_slow_link_keeps_chunks_small_and_few_in_flight(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """96 kbit/s: a chunk must not hold the hub's heartbeats back for long."""
    rate = 12_000.0
    clock = [100.0]
    monkeypatch.setattr(engine_mod.time, "monotonic", lambda: clock[0])
    engine, link, ready = make_engine(tmp_path)
    hub = FakeHub(os.urandom(200_000))

    def arrive(chunk: m.Chunk) -> None:  # each chunk takes its time on the wire
        clock[0] += len(chunk.data) / rate

    engine.fetch(ref(hub))
    flight = run(engine, link, hub, on_chunk=arrive)
    assert ready == [hub.sha]
    assert max(f.chunk_size for f in hub.asked) <= 2 * MIN_CHUNK
    assert max(flight) / rate <= 1.0  # at most a heartbeat interval of bytes queued


def test_resume_after_the_link_drops_starts_at_the_verified_offset(tmp_path: Path) -> None:
    engine, link, ready = make_engine(tmp_path)
    hub = FakeHub(os.urandom(3 * MAX_CHUNK))
    engine.fetch(ref(hub))
    for chunk in hub.replies(link.sent.pop(0)):  # the first window only
        engine.on_message(chunk)
    have = engine._fetches[hub.sha].writer.offset
    assert 0 < have < len(hub.data)
    engine.on_state("offline")
    link.sent.clear()
    assert not engine._fetches and engine.cache.part(hub.sha).stat().st_size == have
    engine.on_state("online")
    engine.fetch(ref(hub))
    assert link.sent[0].offset == have
    run(engine, link, hub, on_chunk=lambda c: None)
    assert ready == [hub.sha] and engine.cache.ready(hub.sha)


def test_a_hub_that_cuts_chunks_otherwise_still_delivers(tmp_path: Path) -> None:
    engine, link, ready = make_engine(tmp_path)
    hub = FakeHub(os.urandom(300_000), cut=lambda asked: 3000)  # ignores the asked size
    engine.fetch(ref(hub))
    run(engine, link, hub, on_chunk=lambda c: None)
    assert ready == [hub.sha] and engine.cache.ready(hub.sha)


def test_wrong_bytes_fail_verification_and_are_fetched_again(tmp_path: Path) -> None:
    engine, link, ready = make_engine(tmp_path)
    good = FakeHub(os.urandom(100_000))
    bad = FakeHub(good.data[:-1] + b"\x00")
    bad.sha = good.sha  # a hub (or a disk) that serves other bytes under the clip's name
    engine.fetch(ref(good))
    run(engine, link, bad, on_chunk=lambda c: None)
    assert ready == [] and not engine.cache.path(good.sha).exists()
    assert not engine.cache.part(good.sha).exists()  # nothing kept to resume from
    engine.fetch(ref(good))
    assert link.sent[0].offset == 0
    run(engine, link, good, on_chunk=lambda c: None)
    assert ready == [good.sha]


def test_at_most_max_fetches_clips_at_once(tmp_path: Path) -> None:
    engine, link, _ = make_engine(tmp_path)
    hubs = [FakeHub(os.urandom(10_000)) for _ in range(engine_mod.MAX_FETCHES + 2)]
    for hub in hubs:
        engine.fetch(ref(hub))
    assert len(engine._fetches) == engine_mod.MAX_FETCHES


@pytest.mark.parametrize(
    ("rate", "fetches", "chunk", "credit"),
    [
        (None, 1, MIN_CHUNK, 2),  # not measured yet
        (12_000, 1, MIN_CHUNK, 1),  # 96 kbit/s
        (1_000_000, 1, 32 * 1024, 8),
        (600 * 2**20, 1, MAX_CHUNK, DEFAULT_CREDIT),  # loopback
        (600 * 2**20, 2, MAX_CHUNK, DEFAULT_CREDIT),  # two fetches share WINDOW_BYTES
        (600 * 2**20, 4, MAX_CHUNK, 4),
    ],
)
def test_chunk_plan(rate: float | None, fetches: int, chunk: int, credit: int) -> None:
    assert chunk_plan(rate, fetches) == (chunk, credit)


def test_the_cache_knows_which_clips_are_here_and_rejects_what_is_no_hash(
    tmp_path: Path,
) -> None:
    store = open_kiosk_store(tmp_path / "k.db")
    cache = ClipCache(tmp_path / "clips", store)
    here, gone = hashlib.sha256(b"here").hexdigest(), hashlib.sha256(b"gone").hexdigest()
    cache.path(here).write_bytes(b"here")
    assert cache.has(here) is True
    assert cache.has(gone) is False
    for bad in ("../" + here[3:], here.upper(), here[:-1], here + "\n", ""):
        with pytest.raises(ValueError):
            cache.has(bad)
        with pytest.raises(ValueError):
            cache.path(bad)


def test_the_label_key_top_up_fetches_every_queued_clip_that_is_missing(tmp_path: Path) -> None:
    engine, link, _ready = make_engine(tmp_path)
    clips = [FakeHub(os.urandom(2000)) for _ in range(MAX_FETCHES + 1)]
    engine.cache.path(clips[1].sha).write_bytes(clips[1].data)  # one is here already
    engine.store.add_assignment(
        m.Assign(operator="op", lease_id="l", expires_at=9e9, clips=[ref(c) for c in clips])
    )
    engine.operator = "op"
    engine.pump()
    asked = {msg.sha256 for msg in link.sent if isinstance(msg, m.Fetch)}
    assert asked == {c.sha for c in clips} - {clips[1].sha}
