"""Advertise the hub on the LAN with zeroconf (`_annotatiestraat._tcp.local.`)."""

from __future__ import annotations

import socket

from zeroconf import IPVersion, ServiceInfo
from zeroconf.asyncio import AsyncZeroconf

from protocol import constants as c


class Advertiser:
    def __init__(
        self,
        *,
        port: int,
        hub_id: str,
        project: str,
        fingerprint: str = "",
        public_key: str = "",
        pair_port: int = 0,
        interfaces: list[str] | None = None,
        addresses: list[str] | None = None,
        instance: str | None = None,
    ) -> None:
        """`instance`: the service's name, one per process when a site runs several (each one
        advertises itself; default: the hub id)."""
        self.interfaces = interfaces
        host = socket.gethostname().split(".")[0] or "hub"
        if addresses is None:
            addresses = interfaces if interfaces else _local_addresses()
        if instance is not None and addresses:
            # the processes of a site on several machines may share a port, and cloned
            # machines a host name: the address keeps each process's service and host names
            # its own (else kiosks resolve two processes to one address)
            instance = f"{instance}-{addresses[0].replace('.', '-').replace(':', '-')}"
        self.info = ServiceInfo(
            c.SERVICE_TYPE,
            f"{instance or hub_id}.{c.SERVICE_TYPE}",
            port=port,
            properties={
                c.TXT_VERSION: str(c.PROTOCOL_VERSION),
                c.TXT_HUB_ID: hub_id,
                c.TXT_PROJECT: project,
                c.TXT_FINGERPRINT: fingerprint,
                c.TXT_PUBLIC_KEY: public_key,
                c.TXT_PAIR_PORT: str(pair_port),
                c.TXT_CONN_IDS: "1",
            },
            server=f"{host}-{instance or hub_id}.local.",
            parsed_addresses=addresses,
        )
        self._zc: AsyncZeroconf | None = None

    async def start(self) -> None:
        kwargs = {"interfaces": self.interfaces} if self.interfaces else {}
        self._zc = AsyncZeroconf(ip_version=IPVersion.V4Only, **kwargs)
        # the first await registers; the task it returns finishes the announcements
        await (await self._zc.async_register_service(self.info, allow_name_change=True))

    async def stop(self) -> None:
        if self._zc is not None:
            # goodbye packets go out before the socket closes, so kiosks drop this hub at once
            await (await self._zc.async_unregister_service(self.info))
            await self._zc.async_close()
            self._zc = None


def _local_addresses() -> list[str]:
    import ifaddr

    found = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str) and not ip.ip.startswith("127."):
                found.append(ip.ip)
    return found or ["127.0.0.1"]
