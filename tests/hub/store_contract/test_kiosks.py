"""Kiosks: pairing codes used once, paired keys, the state kiosks report."""

from __future__ import annotations

from hub.store.interface import HubStore


def test_pair_code_once(store: HubStore) -> None:
    code = store.create_pair_code()
    assert len(code) == 6 and code.isdigit()
    assert not store.is_paired("k1")
    assert store.use_pair_code(code, "k1", "KEY1")
    assert not store.use_pair_code(code, "k2", "KEY2")  # used
    assert store.is_paired("k1") and not store.is_paired("k2")
    assert store.is_key_paired("KEY1") and not store.is_key_paired("KEY2")


def test_pair_code_expires(store: HubStore) -> None:
    code = store.create_pair_code(ttl=-1.0)
    assert not store.use_pair_code(code, "k1")
    assert not store.is_paired("k1")


def test_kiosk_state(store: HubStore) -> None:
    store.pair_kiosk("k2", "KEY2")
    store.pair_kiosk("k1")
    store.kiosk_seen("k1", version="1.0", operator="op1", outbox=3, cache_bytes=1024)
    store.kiosk_seen("k1", outbox=0)  # only what is given changes
    row = store.kiosk("k1")
    assert row is not None
    assert (row["version"], row["operator"], row["outbox"], row["cache_bytes"]) == (
        "1.0",
        "op1",
        0,
        1024,
    )
    assert row["last_seen"] > 0
    assert [k["id"] for k in store.kiosks()] == ["k1", "k2"]
    assert store.kiosk("nope") is None
