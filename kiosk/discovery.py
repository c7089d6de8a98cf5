"""Find the site's hub with zeroconf (`_annotatiestraat._tcp.local.`)."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Collection
from dataclasses import dataclass

from zeroconf import IPVersion, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from protocol import constants as c

#: Seconds a new browser listens before its first choice, so that it has heard every process
#: of a site and spreads kiosks over all of them (measured on loopback: a site's second
#: process was heard up to ~1 s after its first, at the browser's next query).
SITE_SETTLE = 2.5


@dataclass(frozen=True)
class HubAddress:
    endpoint: str  # tcp://host:port
    hub_id: str
    project: str
    fingerprint: str
    public_key: str = ""
    pair_endpoint: str = ""
    #: the hub knows kiosks by their Hello and key (this release): no routing id needed
    conn_ids: bool = True


def spread(
    candidates: list[HubAddress], kiosk_id: str, failed: Collection[str] = ()
) -> list[HubAddress]:
    """The order in which a kiosk tries the processes of one site: those whose link did not
    fail lately first, each kiosk in its own order (rendezvous hashing of kiosk id and
    address), so that kiosks spread over the processes and those of a process that dies
    spread over the rest, while the others stay where they are."""

    def rank(address: HubAddress) -> tuple[bool, bytes]:
        mix = hashlib.sha256(f"{kiosk_id}\n{address.endpoint}".encode()).digest()
        return address.endpoint in failed, mix

    return sorted(candidates, key=rank)


class HubBrowser:
    """Keeps browsing; `find()` returns the first hub seen (optionally with a given id)."""

    def __init__(self, interfaces: list[str] | None = None) -> None:
        self.interfaces = interfaces
        self._zc: AsyncZeroconf | None = None
        self._browser: AsyncServiceBrowser | None = None
        self._names: set[str] = set()
        self._changed = asyncio.Event()
        self._started_at = 0.0

    async def start(self) -> None:
        kwargs = {"interfaces": self.interfaces} if self.interfaces else {}
        self._zc = AsyncZeroconf(ip_version=IPVersion.V4Only, **kwargs)
        self._started_at = time.monotonic()
        self._browser = AsyncServiceBrowser(
            self._zc.zeroconf, [c.SERVICE_TYPE], handlers=[self._on_change]
        )

    def _on_change(
        self, zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if state_change is ServiceStateChange.Removed:
            self._names.discard(name)
        else:
            self._names.add(name)
        self._changed.set()

    async def _resolve(self, name: str) -> HubAddress | None:
        assert self._zc is not None
        info = AsyncServiceInfo(c.SERVICE_TYPE, name)
        if not await info.async_request(self._zc.zeroconf, 1500):
            return None
        addresses = info.parsed_addresses(IPVersion.V4Only)
        if not addresses or info.port is None:
            return None
        props = {
            k.decode(): (v.decode() if v is not None else "") for k, v in info.properties.items()
        }
        if props.get(c.TXT_VERSION) != str(c.PROTOCOL_VERSION):
            return None
        pair_port = props.get(c.TXT_PAIR_PORT, "")
        return HubAddress(
            endpoint=f"tcp://{addresses[0]}:{info.port}",
            hub_id=props.get(c.TXT_HUB_ID, ""),
            project=props.get(c.TXT_PROJECT, ""),
            fingerprint=props.get(c.TXT_FINGERPRINT, ""),
            public_key=props.get(c.TXT_PUBLIC_KEY, ""),
            pair_endpoint=f"tcp://{addresses[0]}:{pair_port}" if pair_port.isdigit() else "",
            conn_ids=props.get(c.TXT_CONN_IDS) == "1",
        )

    async def find(
        self,
        timeout: float | None = None,
        hub_id: str | None = None,
        public_key: str | None = None,
        avoid: Collection[str] = (),
        kiosk_id: str = "",
        failed: Collection[str] = (),
    ) -> HubAddress:
        """The first hub advertised (with this id). With `public_key` (the pinned hub), a hub
        with that key is preferred; another one is returned only when no such hub is seen,
        so that the caller can say that a hub with the wrong key is on the LAN. Hubs whose key
        is in `avoid` (they refused this kiosk's pairing code) come last: with two hubs on
        one LAN, a kiosk pairing with the second is not stuck at the first.

        Several processes of one site (one key, several addresses): `spread` picks one for
        `kiosk_id`, with the addresses in `failed` (their link died lately) last."""

        async def search() -> HubAddress:
            settle = SITE_SETTLE - (time.monotonic() - self._started_at)
            if self._started_at and settle > 0:
                await asyncio.sleep(settle)
            while True:
                self._changed.clear()
                site: list[HubAddress] = []
                others = []
                avoided = []
                for name in sorted(self._names):
                    found = await self._resolve(name)
                    if not found or (hub_id is not None and found.hub_id != hub_id):
                        continue
                    if public_key is None or found.public_key == public_key:
                        if found.public_key in avoid:
                            avoided.append(found)
                            continue
                        if public_key is None and site and found.public_key != site[0].public_key:
                            continue  # unpinned: the first site seen, all of its processes
                        site.append(found)
                        continue
                    others.append(found)
                if site:
                    return spread(site, kiosk_id, failed)[0]
                if others or avoided:
                    return (others or avoided)[0]
                try:
                    await asyncio.wait_for(self._changed.wait(), 2.0)
                except TimeoutError:
                    pass

        return await asyncio.wait_for(search(), timeout)

    async def stop(self) -> None:
        if self._browser is not None:
            await self._browser.async_cancel()
        if self._zc is not None:
            await self._zc.async_close()
        self._zc = self._browser = None
