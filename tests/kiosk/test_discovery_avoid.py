"""Discovery puts hubs that refused this kiosk's pairing code last (two hubs on one LAN)."""

from __future__ import annotations

from kiosk.discovery import HubAddress, HubBrowser


def hub(name: str, key: str) -> HubAddress:
    return HubAddress(
        endpoint=f"tcp://127.0.0.1:{1000 + ord(name[-1])}",
        hub_id=name,
        project="p",
        fingerprint="",
        public_key=key,
        pair_endpoint="tcp://127.0.0.1:1",
    )


def browser(*hubs: HubAddress) -> HubBrowser:
    b = HubBrowser(["127.0.0.1"])
    by_name = {f"{h.hub_id}._t._tcp.local.": h for h in hubs}
    b._names = set(by_name)

    async def resolve(name: str) -> HubAddress | None:
        return by_name.get(name)

    b._resolve = resolve  # type: ignore[method-assign]
    return b


async def test_a_hub_that_refused_the_code_comes_after_the_others() -> None:
    a, z = hub("hub-a", "KEY-A"), hub("hub-z", "KEY-Z")
    b = browser(a, z)
    assert await b.find(timeout=1) == a  # in name order
    assert await b.find(timeout=1, avoid={"KEY-A"}) == z
    # the only hub there is still comes back (staff may give a new code)
    assert await browser(a).find(timeout=1, avoid={"KEY-A"}) == a
    # a pinned key still wins, and a mismatched one is still reported as before
    assert await b.find(timeout=1, public_key="KEY-A", avoid={"KEY-Z"}) == a
    assert await browser(z).find(timeout=1, public_key="KEY-A") == z
