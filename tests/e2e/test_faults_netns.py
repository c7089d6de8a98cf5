"""Cables pulled: hub and kiosks on their own hosts (network namespaces on a bridge), found by
zeroconf over the bridge; links cut mid-transfer and mid-sync. Nothing lost, nothing doubled."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from tests import waiting
from tests.conftest import PIN, HubProc, make_hub
from tests.faults import KioskProc, check, seed_clips, write_project
from tests.netns import Lan, netns_available

reason = netns_available()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.netns,
    pytest.mark.skipif(reason is not None, reason=reason or ""),
]


def hub_on(lan: Lan, tmp_path: Path, clips: int, size: int) -> HubProc:
    host = lan.add_host("hub", 1)
    hub = make_hub(tmp_path)
    hub.project = write_project(tmp_path / "project.toml")
    seed_clips(hub.data, clips, size)
    hub.prefix, hub.host = host.exec_prefix(), host.ip
    hub.port = 5570
    hub.extra = ["--open-pairing"]
    return hub.start()


def kiosk_on(lan: Lan, tmp_path: Path, name: str, index: int, operator: str, *extra: str):
    host = lan.add_host(name, index)
    return KioskProc(
        name,
        tmp_path / name,
        ["--interface", host.ip, "--tofu", "--operator", operator, "--pin", PIN, *extra],
        netns=host.ns,
    )


def wait_until(pred, timeout: float = 30.0, what: str = "") -> None:
    waiting.wait_until(pred, timeout, what)


def test_link_down_mid_transfer_resumes_and_everything_arrives_once(tmp_path: Path) -> None:
    with Lan() as lan:
        hub = hub_on(lan, tmp_path, clips=6, size=3_000_000)
        k = kiosk_on(
            lan,
            tmp_path,
            "ka",
            11,
            "op1",
            "--count",
            "6",
            "--prefetch",
            "6",
            "--interval",
            "0.1",
            "--drain",
            "60",
        )
        lan.slow("ka", "16mbit")  # 3 MB takes ~1.5 s: time to pull the cable mid-way
        try:
            k.start()
            parts = k.data / "clips"
            wait_until(
                lambda: (
                    parts.exists() and any(p.stat().st_size > 300_000 for p in parts.glob("*.part"))
                ),
                60,
                "a transfer",
            )
            lan.cut("ka")
            time.sleep(4.5)  # > 3 missed heartbeats: the kiosk declares the hub gone
            assert any(e.get("status") == "offline" for e in k.events), k.tail()
            lan.mend("ka")
            assert k.wait(timeout=120) == 0, k.tail()
            resumed = [e for e in k.events if e.get("event") == "fetch" and e["offset"] > 0]
            assert resumed, "no transfer resumed from an offset: " + k.tail(30)
            verdict = check(hub.db, [k.data])
            assert verdict.ok and verdict.labels == 6, verdict
        finally:
            k.kill()
            hub.kill()


def test_link_down_mid_sync_then_back(tmp_path: Path) -> None:
    N = 200  # the kiosk's prefetch limit: all of them cached before the cable goes
    with Lan() as lan:
        # exactly the clips the kiosk labels: no media transfer competes with the label sync
        hub = hub_on(lan, tmp_path, clips=N, size=2_000)
        k = kiosk_on(
            lan,
            tmp_path,
            "kb",
            12,
            "op1",
            "--prefetch",
            str(N),
            "--interval",
            "0",
            "--count",
            str(N),
            "--drain",
            "120",
            "--start-after",
            str(N),
        )
        try:
            k.start()
            k.wait_event("ready", N, timeout=60)
            lan.cut("kb")  # labelling goes on offline from the cache
            k.wait_event("labelled", N, timeout=60)
            # the drain of the outbox now takes many heartbeat intervals (200 labels ≈ 62 KB ≈
            # 16 s at 32 kbit/s): the kiosk must not take its own slow upload for a silent hub,
            # nor pile resends (or anything else) onto the link
            lan.slow("kb", "32kbit")
            lan.mend("kb")
            import sqlite3

            def at_hub() -> int:
                db = sqlite3.connect(hub.db)
                try:
                    return db.execute("SELECT count(*) FROM labels").fetchone()[0]
                finally:
                    db.close()

            first = at_hub()
            wait_until(lambda: at_hub() > first + 20, 60, "the sync to start")
            lan.cut("kb")  # mid-sync
            mid = at_hub()
            time.sleep(4.5)
            mended = len(k.events)
            lan.mend("kb")
            try:
                rc = k.wait(timeout=90)
            except Exception:
                raise AssertionError(k.tail(40)) from None
            assert rc == 0, k.tail()
            verdict = check(hub.db, [k.data])
            print(f"at hub when cut mid-sync: {mid}; final: {verdict}")
            assert mid < verdict.labels
            assert verdict.ok and verdict.labels == N, verdict
            # once the cable is back the kiosk stays connected until the outbox is drained: a
            # work request that carried every clip of the shift, an empty answer that brought
            # the next request at once, or the whole outbox in one go would queue the upload
            # seconds in front of the kiosk's TCP acknowledgements, stall the hub's replies
            # behind them, and make the kiosk take the hub for silent and reconnect, again and
            # again
            after = [e for e in list(k.events)[mended:] if e.get("event") != "labelled"]
            welcomed = [i for i, e in enumerate(after) if e.get("event") == "welcome"]
            assert welcomed, k.tail(30)
            drained = after[welcomed[0] :]
            dropped = [e for e in drained if e.get("status") == "offline" and e.get("outbox")]
            assert not dropped, (
                "the kiosk dropped the hub mid-drain; since the mend:\n"
                + "\n".join(json.dumps(e) for e in after)
            )
            # connected at start, perhaps after the first cable, after the cut mid-sync
            assert k.count("welcome") <= 3, f"{k.count('welcome')} connections: " + k.tail(30)
        finally:
            k.kill(signal.SIGKILL)
            hub.kill()


def test_a_kiosk_of_the_previous_release_comes_back_after_a_cable_pull(tmp_path: Path) -> None:
    """A kiosk that names its connection after its kiosk id (the previous release): after a
    cable pull its new connection may come while the hub still holds the dead one under that
    name (the FIN it sent while the cable was out comes late) and is then not heard; the
    kiosk hears nothing, reconnects once more, and its labels arrive once."""
    with Lan() as lan:
        hub = hub_on(lan, tmp_path, clips=20, size=2_000)
        k = kiosk_on(
            lan, tmp_path, "kc", 13, "op1", "--count", "20", "--interval", "0.3",
            "--prefetch", "20", "--drain", "90",
        )  # fmt: skip
        k.module = "tests.previous_kiosk"
        try:
            k.start()
            k.wait_event("labelled", 3, timeout=60)
            lan.cut("kc")
            wait_until(
                lambda: any(e.get("status") == "offline" for e in list(k.events)), 30, "offline"
            )
            time.sleep(2.0)  # the kiosk closes its connection (the FIN is lost) and retries
            lan.mend("kc")
            try:
                rc = k.wait(timeout=120)
            except Exception:
                raise AssertionError(k.tail(40)) from None
            assert rc == 0, k.tail()
            assert k.count("welcome") >= 2, k.tail(30)  # it came back
            verdict = check(hub.db, [k.data])
            assert verdict.ok and verdict.labels == 20, verdict
        finally:
            k.kill(signal.SIGKILL)
            hub.kill()


def test_hub_moves_and_kiosks_follow_by_zeroconf(tmp_path: Path) -> None:
    with Lan() as lan:
        hub = hub_on(lan, tmp_path, clips=40, size=2_000)
        k = kiosk_on(lan, tmp_path, "kc", 13, "op1", "--interval", "0.2", "--drain", "60")
        try:
            k.start()
            k.wait_event("labelled", 3, timeout=60)
            hub.kill(signal.SIGKILL)
            hub.port = 5599  # the hub comes back on another port
            hub.start()
            before = k.count("labelled")
            k.wait_event("welcome", 2, timeout=60)
            k.wait_event("labelled", before + 3, timeout=60)
            k.kill(signal.SIGTERM)
            verdict = check(hub.db, [k.data])
            assert verdict.ok, verdict
        finally:
            k.kill()
            hub.kill()
