"""Pairing with one-time codes, and a rogue hub on the LAN: real hubs, zeroconf on loopback,
headless kiosks."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.conftest import PIN, make_hub
from tests.faults import KioskProc, check, kiosk_labels, seed_clips
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


def kiosk(tmp_path: Path, name: str, *extra: str) -> KioskProc:
    return KioskProc(
        name,
        tmp_path / name,
        [
            "--interface",
            "127.0.0.1",
            "--operator",
            "op1",
            "--pin",
            PIN,
            "--wait-online",
            "8",
            *extra,
        ],
    )


def test_expired_and_reused_codes_fail(tmp_path: Path) -> None:
    hub = make_hub(tmp_path)
    seed_clips(hub.data, 5, 1000)
    hub.start()
    try:
        store = hub.store()
        expired = store.create_pair_code(ttl=0.2)
        good = store.create_pair_code()
        store.close()
        time.sleep(0.5)
        late = kiosk(tmp_path, "k-late", "--pair-code", expired, "--count", "1").start()
        late.wait_event("hub_problem", timeout=30)
        assert "expired" in late.events[-1].get("detail", "") or any(
            "expired" in e.get("detail", "") for e in late.events
        )
        late.kill()
        first = kiosk(tmp_path, "k-first", "--pair-code", good, "--count", "1").start()
        assert first.wait(60) == 0, first.tail()
        again = kiosk(tmp_path, "k-again", "--pair-code", good, "--count", "1").start()
        again.wait_event("hub_problem", timeout=30)
        again.kill()
        store = hub.store()
        assert [k["id"] for k in store.kiosks()] == ["k-first"]
        store.close()
    finally:
        hub.kill()


def test_rogue_hub_gets_nothing_and_the_kiosk_says_so(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "rogue").mkdir()
    real = make_hub(tmp_path / "real")
    seed_clips(real.data, 20, 1000)
    real.start()
    store = real.store()
    code = store.create_pair_code()
    store.close()
    k = kiosk(tmp_path, "k1", "--pair-code", code, "--interval", "0.3", "--prefetch", "10")
    k.start()
    rogue = None
    try:
        k.wait_event("labelled", 3, timeout=60)
        real.kill(signal.SIGTERM)  # says goodbye on zeroconf: the rogue is the only hub left
        # another hub, another key, same service type, pairing anyone who asks
        rogue = make_hub(tmp_path / "rogue")
        seed_clips(rogue.data, 20, 1000, seed=5)
        rogue.extra = ["--open-pairing"]
        rogue.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
            e.get("code") == "hub_key_mismatch" for e in list(k.events)
        ):
            time.sleep(0.2)
        assert any(e.get("code") == "hub_key_mismatch" for e in k.events), k.tail()
        made_offline = k.count("labelled")
        rstore = rogue.store()
        assert rstore.kiosks() == [] and rstore.count_labels() == 0
        rstore.close()
        rogue.kill()
        real.start()
        k.kill(signal.SIGTERM)
        assert made_offline >= 3
        verdict = check(real.db, [k.data])
        assert verdict.ok and verdict.labels == len(kiosk_labels(k.data)[0]), verdict
    finally:
        k.kill()
        real.kill()
        if rogue is not None:
            rogue.kill()


def test_a_kiosk_pairs_with_the_hub_that_knows_its_code(tmp_path: Path) -> None:
    """Two hubs on one LAN: the one the kiosk sees first (and that sorts first) does not know
    the code and says no. Once the other hub is up, the kiosk pairs with that one."""
    hubs = []
    for name, hub_id in (("wrong", "hub-00000000"), ("right", "hub-ffffffff")):
        (tmp_path / name).mkdir()
        hub = make_hub(tmp_path / name)
        store = hub.store()
        store.set_meta("hub_id", hub_id)
        store.close()
        seed_clips(hub.data, 10, 1000)
        hubs.append(hub)
    wrong, right = hubs
    store = right.store()
    code = store.create_pair_code()
    store.close()
    k = kiosk(
        tmp_path,
        "k1",
        "--pair-code",
        code,
        "--interval",
        "0.3",
        "--prefetch",
        "5",
        "--wait-online",
        "60",
    )
    try:
        wrong.start()
        k.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
            e.get("code") == "unpaired" for e in list(k.events)
        ):
            time.sleep(0.2)
        assert any(e.get("code") == "unpaired" for e in k.events), k.tail()  # the first: no
        right.start()
        k.wait_event("labelled", 2, timeout=90)  # made at the kiosk; at the hub once acked
        store = right.store()
        try:
            wait_until(lambda: store.count_labels() >= 2, 30, "two labels at the right hub")
            assert [x["id"] for x in store.kiosks()] == ["k1"]
        finally:
            store.close()
        store = wrong.store()
        assert store.kiosks() == [] and store.count_labels() == 0
        store.close()
    finally:
        k.kill()
        for hub in hubs:
            hub.kill()
