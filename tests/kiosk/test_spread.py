"""Which process of a site a kiosk picks (`kiosk.discovery.spread`): kiosks spread over the
processes, a process that dies only moves its own kiosks, a failed address comes last."""

from __future__ import annotations

from collections import Counter

from kiosk.discovery import HubAddress, spread


def site(*ports: int) -> list[HubAddress]:
    return [
        HubAddress(endpoint=f"tcp://10.0.0.1:{p}", hub_id="h", project="p", fingerprint="f")
        for p in ports
    ]


KIOSKS = [f"kiosk-{i}" for i in range(300)]


def test_kiosks_spread_over_the_processes() -> None:
    first = Counter(spread(site(5570, 5571, 5572), k)[0].endpoint for k in KIOSKS)
    assert len(first) == 3 and min(first.values()) >= 70, first  # 100 each, give or take


def test_a_dead_process_moves_only_its_own_kiosks() -> None:
    before = {k: spread(site(5570, 5571, 5572), k)[0].endpoint for k in KIOSKS}
    after = {k: spread(site(5570, 5572), k)[0].endpoint for k in KIOSKS}
    moved = [k for k in KIOSKS if before[k] != after[k]]
    assert moved and all(before[k] == "tcp://10.0.0.1:5571" for k in moved)
    assert Counter(after[k] for k in moved).keys() == {"tcp://10.0.0.1:5570", "tcp://10.0.0.1:5572"}


def test_an_address_that_failed_lately_comes_last() -> None:
    for k in KIOSKS[:50]:
        order = spread(site(5570, 5571), k, failed={"tcp://10.0.0.1:5570"})
        assert [a.endpoint for a in order] == ["tcp://10.0.0.1:5571", "tcp://10.0.0.1:5570"]
