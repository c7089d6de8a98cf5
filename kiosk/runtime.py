"""Build a kiosk from its config: store, cache, engine, link (zeroconf or fixed address)."""

from __future__ import annotations

from pathlib import Path

from protocol.keys import fingerprint
from protocol.version import package_version

from .cache import ClipCache
from .config import KioskConfig
from .discovery import HubAddress, HubBrowser
from .engine import KioskEngine, Settings
from .engine_events import Paired
from .link import HubLink
from .store import KioskStore


def build(config: KioskConfig) -> tuple[KioskEngine, HubLink, HubBrowser | None]:
    data = Path(config.data)
    store = KioskStore(data / "kiosk.db")
    cache = ClipCache(data / "clips", store, limit_bytes=config.cache_limit_mb * 1024**2)
    engine = KioskEngine(
        config.kiosk_id,
        store,
        cache,
        Settings(prefetch_clips=config.prefetch_clips, prefetch_minutes=config.prefetch_minutes),
        version=package_version(),
        pair_code=config.pair_code,
    )
    browser: HubBrowser | None = None
    refused: set[str] = set()  # hubs that refused our pairing code: discovery tries them last
    if config.hub:
        fixed = HubAddress(
            endpoint=config.hub,
            hub_id="",
            project="",
            fingerprint="",
            public_key=config.hub_key or "",
            pair_endpoint=config.hub_pair or "",
        )

        async def resolve() -> HubAddress:
            return fixed
    else:
        browser = HubBrowser(config.interfaces or None)
        started = False

        async def resolve() -> HubAddress:
            nonlocal started
            if not started:
                await browser.start()
                started = True
            pinned = store.pinned_hub_key() or config.hub_key
            return await browser.find(
                timeout=10.0,
                hub_id=config.hub_id,
                public_key=pinned,
                avoid=refused,
                kiosk_id=config.kiosk_id,
                failed=link.failed_lately(),
            )

    def pin(key: str) -> None:
        """Pairing done: keep the hub's key, and show its fingerprint for staff to compare."""
        store.pin_hub_key(key)
        engine.emit(Paired(fingerprint=fingerprint(key)))

    link = HubLink(
        config.kiosk_id,
        resolve,
        engine.make_hello,
        engine.on_message,
        engine.on_state,
        engine.make_heartbeat,
        keys=store.keypair(),
        pinned=lambda: store.pinned_hub_key() or config.hub_key,
        pin=pin,
        pair_code=lambda: config.pair_code,
        refused=refused,
        trust_first_hub=config.trust_first_hub,
    )
    engine.attach(link)
    return engine, link, browser
