"""How a kiosk names its connection: a hub of this release advertises that it knows kiosks by
their Hello and key, and the kiosk leaves the routing id to libzmq; a hub of the previous
release (no such TXT key) reads the kiosk id from the routing id, so the kiosk sets it. Real
zeroconf on loopback, real DEALER sockets."""

from __future__ import annotations

import asyncio

import zmq
import zmq.asyncio
from zeroconf import IPVersion, ServiceInfo
from zeroconf.asyncio import AsyncZeroconf

from hub.site.discovery import Advertiser
from kiosk.discovery import HubBrowser
from kiosk.link import HubLink
from protocol import constants as c
from protocol import messages as m


def _link(ctx: zmq.asyncio.Context) -> HubLink:
    async def resolve():  # never called here
        raise TimeoutError

    return HubLink("k-7", resolve, lambda: m.Hello(kiosk_id="k-7", version="t"), print, ctx=ctx)


async def _found(hub_id: str) -> object:
    browser = HubBrowser(["127.0.0.1"])
    await browser.start()
    try:
        return await browser.find(timeout=15.0, hub_id=hub_id)
    finally:
        await browser.stop()


def test_a_hub_of_this_release_gets_connections_named_by_libzmq() -> None:
    async def main() -> None:
        adv = Advertiser(
            port=45001, hub_id="hub-conn-new", project="p", public_key="K" * 40,
            interfaces=["127.0.0.1"], addresses=["127.0.0.1"],
        )  # fmt: skip
        await adv.start()
        try:
            found = await _found("hub-conn-new")
        finally:
            await adv.stop()
        assert found.conn_ids is True
        ctx = zmq.asyncio.Context()
        try:
            sock = _link(ctx)._open("tcp://127.0.0.1:45001", zmq.curve_keypair()[0].decode(), True)
            assert sock.getsockopt(zmq.ROUTING_ID) == b""
            sock.close(linger=0)
        finally:
            ctx.term()

    asyncio.run(main())


def test_a_hub_of_the_previous_release_gets_the_kiosk_id_as_routing_id() -> None:
    async def main() -> None:
        info = ServiceInfo(  # what the previous release advertised: no TXT_CONN_IDS
            c.SERVICE_TYPE,
            f"hub-conn-old.{c.SERVICE_TYPE}",
            port=45002,
            properties={
                c.TXT_VERSION: str(c.PROTOCOL_VERSION), c.TXT_HUB_ID: "hub-conn-old",
                c.TXT_PROJECT: "p", c.TXT_PUBLIC_KEY: "K" * 40, c.TXT_PAIR_PORT: "45003",
            },
            server="old-hub.local.",
            parsed_addresses=["127.0.0.1"],
        )  # fmt: skip
        zc = AsyncZeroconf(ip_version=IPVersion.V4Only, interfaces=["127.0.0.1"])
        await (await zc.async_register_service(info, allow_name_change=True))
        try:
            found = await _found("hub-conn-old")
        finally:
            await (await zc.async_unregister_service(info))
            await zc.async_close()
        assert found.conn_ids is False
        ctx = zmq.asyncio.Context()
        try:
            sock = _link(ctx)._open(found.endpoint, zmq.curve_keypair()[0].decode(), False)
            assert sock.getsockopt(zmq.ROUTING_ID) == b"k-7"
            sock.close(linger=0)
        finally:
            ctx.term()

    asyncio.run(main())
