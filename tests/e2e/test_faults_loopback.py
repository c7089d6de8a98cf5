"""Invariants 1–5 under faults, with real processes on loopback: SIGKILL of kiosks and of
the hub, a hub away longer than the leases, a corrupt cache file."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from kiosk.config import KioskConfig
from kiosk.runtime import build
from tests import waiting
from tests.conftest import PIN, HubProc, make_hub
from tests.faults import KioskProc, check, kiosk_labels, seed_clips, write_project

pytestmark = pytest.mark.slow
#: the leases of test_hub_away_longer_than_the_lease
LEASE_SECONDS = 1.2


def start_hub(
    tmp_path: Path,
    clips: int = 40,
    size: int = 20_000,
    lease_minutes: float = 30.0,
    operators: int = 2,
) -> HubProc:
    hub = make_hub(tmp_path, operators=operators)
    hub.project = write_project(tmp_path / "project.toml", lease_minutes=lease_minutes)
    seed_clips(hub.data, clips, size)
    hub.extra = ["--open-pairing", "--no-zeroconf"]
    return hub.start()


def kiosk(tmp_path: Path, hub: HubProc, name: str, operator: str, *extra: str) -> KioskProc:
    return KioskProc(
        name,
        tmp_path / name,
        [*hub.kiosk_args(), "--operator", operator, "--pin", PIN, *extra],
    )


def cached_clips(k: KioskProc) -> int:
    """Clips whole in the kiosk's cache folder (a clip still arriving is a .part file)."""
    return len(list((k.data / "clips").glob("*.mp4")))


def wait_for(predicate: Callable[[], object], timeout: float, what: str, k: KioskProc) -> None:
    waiting.wait_until(predicate, timeout, what, k.tail)


def test_kiosk_sigkill_between_store_and_ack(tmp_path: Path) -> None:
    hub = start_hub(tmp_path)
    try:
        k = kiosk(tmp_path, hub, "k1", "op1", "--interval", "0.01").start()
        k.wait_event("labelled", 10)
        k.kill(signal.SIGKILL)
        made, acked = kiosk_labels(k.data)
        assert len(made) >= 10
        # restart: the outbox drains, nothing lost, nothing doubled
        k2 = kiosk(tmp_path, hub, "k1", "op1", "--count", "3").start()
        assert k2.wait() == 0, k2.tail()
        verdict = check(hub.db, [k.data])
        assert verdict.ok, verdict
        assert verdict.labels == len(kiosk_labels(k.data)[0]) >= len(made) + 3
    finally:
        hub.kill()


def test_hub_sigkill_during_burst_loses_no_acknowledged_label(tmp_path: Path) -> None:
    hub = start_hub(tmp_path, clips=200, size=4000)
    kiosks = [
        kiosk(tmp_path, hub, f"k{i}", f"op{i}", "--interval", "0.002", "--prefetch", "20").start()
        for i in (1, 2)
    ]
    try:
        for k in kiosks:
            k.wait_event("labelled", 20)
        hub.kill(signal.SIGKILL)
        acked_before = set().union(*(kiosk_labels(k.data)[1] for k in kiosks))
        assert acked_before, "no label was acknowledged before the kill"
        for k in kiosks:  # labels made while the hub is away wait in the outbox
            k.wait_event("labelled", k.count("labelled") + 1, timeout=20)
        hub.start()
        for k in kiosks:
            k.kill(signal.SIGTERM)  # drains its outbox first (headless waits for acks)
        import sqlite3

        db = sqlite3.connect(hub.db)
        at_hub = {r[0] for r in db.execute("SELECT uuid FROM labels")}
        db.close()
        print(f"acked before kill: {len(acked_before)}, at hub after restart: {len(at_hub)}")
        assert acked_before <= at_hub
        verdict = check(hub.db, [k.data for k in kiosks])
        assert verdict.ok, verdict
    finally:
        for k in kiosks:
            k.kill()
        hub.kill()


def test_hub_away_longer_than_the_lease(tmp_path: Path) -> None:
    hub = start_hub(tmp_path, lease_minutes=LEASE_SECONDS / 60)
    try:
        k = kiosk(tmp_path, hub, "k1", "op1", "--interval", "0.4", "--prefetch", "8").start()
        k.wait_event("labelled", 2)
        wait_for(lambda: cached_clips(k) >= 6, 10, "six clips in the cache", k)
        hub.kill(signal.SIGKILL)
        before = k.count("labelled")
        leases_over = time.monotonic() + 2 * LEASE_SECONDS
        deadline = time.monotonic() + 15  # a busy machine: give the kiosk time, not the hub
        # away longer than the lease, and the kiosk kept labelling meanwhile
        while time.monotonic() < deadline and (
            k.count("labelled") - before < 3 or time.monotonic() < leases_over
        ):
            time.sleep(0.1)
        during = k.count("labelled") - before
        print(f"labelled while the hub was away: {during}")
        assert during >= 3, f"kiosk stopped labelling without the hub: {k.tail()}"
        hub.start()
        k.kill(signal.SIGTERM)
        verdict = check(hub.db, [k.data])
        assert verdict.ok, verdict
    finally:
        k.kill()
        hub.kill()


def test_kiosk_restart_while_offline_continues_on_cached_work(tmp_path: Path) -> None:
    hub = start_hub(tmp_path)
    try:
        k = kiosk(tmp_path, hub, "k1", "op1", "--interval", "0.2", "--prefetch", "10").start()
        k.wait_event("labelled", 2)
        wait_for(lambda: cached_clips(k) >= 6, 10, "six clips in the cache", k)
        hub.kill(signal.SIGKILL)
        k.kill(signal.SIGKILL)
        # restart with no hub: login from the cached roster (hashes), label cached clips
        k2 = kiosk(
            tmp_path, hub, "k1", "op1", "--count", "3", "--wait-online", "0.5", "--drain", "0"
        ).start()
        assert k2.wait() == 0, k2.tail()
        assert any(e.get("event") == "login" and e.get("online") is False for e in k2.events)
        assert k2.count("labelled") == 3
        hub.start()
        k3 = kiosk(tmp_path, hub, "k1", "op1", "--count", "1").start()
        assert k3.wait() == 0, k3.tail()
        verdict = check(hub.db, [k.data])
        assert verdict.ok, verdict
    finally:
        hub.kill()


def test_wrong_pin_offline_is_refused(tmp_path: Path) -> None:
    hub = start_hub(tmp_path)
    k = kiosk(tmp_path, hub, "k1", "op1", "--count", "1").start()
    assert k.wait() == 0
    hub.kill()
    bad = KioskProc(
        "k1",
        k.data,
        [
            *hub.kiosk_args(),
            "--operator",
            "op1",
            "--pin",
            "9999",
            "--count",
            "1",
            "--wait-online",
            "0.2",
        ],
    ).start()
    assert bad.wait() == 2
    assert any(e.get("reason") == "bad_pin" for e in bad.events)


async def test_corrupt_cache_file_is_fetched_again(tmp_path: Path) -> None:
    hub = start_hub(tmp_path, clips=6, size=600_000)
    try:
        config = KioskConfig(
            kiosk_id="k1",
            data=str(tmp_path / "k1"),
            hub=hub.endpoint,
            hub_key=hub.public_key,
            pair_code=None,
            prefetch_clips=3,
        )
        engine, link, _ = build(config)
        task = asyncio.create_task(link.run())
        online_by = time.monotonic() + 10
        while not engine.online:
            assert time.monotonic() < online_by, "the kiosk did not reach the hub in 10 s"
            await asyncio.sleep(0.05)
        assert (await engine.login("op1", PIN))[0]

        async def until(pred, timeout=15.0):
            end = time.monotonic() + timeout
            while not pred():
                assert time.monotonic() < end, "timed out"
                engine.tick()
                await asyncio.sleep(0.05)

        await until(
            lambda: (
                len(engine.pending()) >= 3
                and all(engine.cache.path(c.sha256).exists() for c, _ in engine.pending())
            )
        )
        victim = engine.pending()[0][0]
        path = engine.cache.path(victim.sha256)
        with path.open("r+b") as f:  # flip bytes in the middle
            f.seek(1000)
            f.write(b"\x00garbage\x00")
        first = engine.next_ready()
        assert first is not None and first[0].sha256 != victim.sha256  # broken one not shown
        await until(lambda: engine.cache.ready(victim.sha256))  # fetched again, verified
        from kiosk.cache import sha256_file

        assert sha256_file(path) == victim.sha256
        # a truncated file too
        with path.open("r+b") as f:
            f.truncate(100)
        assert not engine.cache.ready(victim.sha256)
        engine.pump()
        await until(lambda: engine.cache.ready(victim.sha256))
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        engine.store.close()
    finally:
        hub.kill()
