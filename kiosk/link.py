"""The kiosk's connection to the hub: a ZeroMQ DEALER with Paranoid Pirate heartbeats.

`HubLink.run()` keeps a connection: find the hub, Hello → Welcome, heartbeat, and on silence
reconnect with capped back-off (re-finding the hub, which may have moved).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import msgspec
import zmq
import zmq.asyncio

from protocol import codec
from protocol import constants as c
from protocol import messages as m
from protocol.errors import ProtocolError
from protocol.keys import fingerprint

from .discovery import HubAddress

log = logging.getLogger(__name__)

Resolver = Callable[[], Awaitable[HubAddress]]
#: Seconds to wait for the hub's answer on the pairing socket.
PAIR_TIMEOUT = 5.0
#: Seconds an address whose link died is tried after the site's other processes.
FAILED_FOR = 120.0


class HubLink:
    def __init__(
        self,
        kiosk_id: str,
        resolve: Resolver,
        hello: Callable[[], m.Hello],
        on_message: Callable[[msgspec.Struct], None],
        on_state: Callable[[str], None] = lambda state: None,
        heartbeat: Callable[[], m.Heartbeat] = m.Heartbeat,
        ctx: zmq.asyncio.Context | None = None,
        *,
        keys: tuple[bytes, bytes] | None = None,
        pinned: Callable[[], str | None] = lambda: None,
        pin: Callable[[str], None] = lambda key: None,
        pair_code: Callable[[], str | None] = lambda: None,
        refused: set[str] | None = None,
        trust_first_hub: bool = False,
    ) -> None:
        self.kiosk_id = kiosk_id
        self.resolve = resolve
        self.hello = hello
        self.on_message = on_message
        self.on_state = on_state
        self.heartbeat = heartbeat
        self.ctx = ctx or zmq.asyncio.Context.instance()
        self.sock: zmq.asyncio.Socket | None = None
        self.online = False
        self.endpoint: str | None = None
        self.last_error: str = ""
        self.keys = keys or zmq.curve_keypair()
        self.pinned = pinned
        self.pin = pin
        self.pair_code = pair_code
        #: keys of hubs that refused this kiosk's pairing code (discovery tries them last)
        self.refused = refused if refused is not None else set()
        self.trust_first_hub = trust_first_hub
        self.hub_key: str | None = None
        #: hub address -> time.monotonic() its link last went silent (discovery tries the
        #: site's other processes first)
        self.failed: dict[str, float] = {}

    def failed_lately(self) -> set[str]:
        """Addresses whose link went silent within FAILED_FOR seconds."""
        now = time.monotonic()
        return {e for e, at in self.failed.items() if now - at < FAILED_FOR}

    def send(self, msg: msgspec.Struct) -> bool:
        """Queue a message to the hub if online; False (nothing sent) when offline."""
        if not self.online or self.sock is None:
            return False
        return self._send_now(self.sock, msg)

    @staticmethod
    async def _send_connected(
        sock: zmq.asyncio.Socket, msg: msgspec.Struct, timeout: float
    ) -> bool:
        """Send once the connection is up (IMMEDIATE drops frames before), within `timeout`."""
        try:
            await asyncio.wait_for(sock.send(codec.encode(msg)), timeout)
        except TimeoutError:
            return False
        return True

    @staticmethod
    def _send_now(sock: zmq.asyncio.Socket, msg: msgspec.Struct) -> bool:
        """Send without waiting: with no live connection (IMMEDIATE) the frame is dropped and
        False returned, so a dead hub can never block the kiosk."""
        try:
            fut = sock.send(codec.encode(msg), flags=zmq.NOBLOCK)
        except zmq.ZMQError:
            return False
        if fut.done():
            return fut.exception() is None
        fut.add_done_callback(lambda f: f.cancelled() or f.exception())
        return True

    def _set_online(self, online: bool) -> None:
        if online != self.online:
            self.online = online
            self.on_state("online" if online else "offline")

    def _open(self, endpoint: str, server_key: str, conn_ids: bool = True) -> zmq.asyncio.Socket:
        """A DEALER to the hub. A hub of this release knows the kiosk by its Hello and key, so
        libzmq names the connection (a name nobody else can claim); a hub of the previous
        release (`conn_ids` False) reads the kiosk id from the routing id."""
        sock = self.ctx.socket(zmq.DEALER)
        sock.curve_publickey, sock.curve_secretkey = self.keys
        sock.curve_serverkey = server_key.encode()
        if not conn_ids:
            sock.setsockopt(zmq.ROUTING_ID, self.kiosk_id.encode())
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.IMMEDIATE, 1)
        sock.setsockopt(zmq.SNDHWM, 10_000)
        sock.setsockopt(zmq.RCVHWM, 10_000)
        sock.connect(endpoint)
        return sock

    def _fail(self, code: str, detail: str) -> None:
        self.last_error = detail
        self.on_message(m.Error(code=code, detail=detail))

    async def _trusted_key(self, target: HubAddress) -> str | None:
        """The hub key to talk to, pairing first if needed; None = not now (reported)."""
        pinned = self.pinned()
        key = target.public_key or pinned or ""
        if not key:
            self._fail("no_hub_key", "the hub's public key is not known")
            return None
        if pinned and key != pinned:
            self._fail(
                "hub_key_mismatch",
                f"a hub with key {fingerprint(key)} is not the paired hub {fingerprint(pinned)}",
            )
            return None
        if pinned:
            return key
        code = self.pair_code()
        if code:
            return key if await self._pair(target, key, code) else None
        if self.trust_first_hub:
            self.pin(key)
            return key
        self._fail("unpaired", "not paired: ask staff for a pairing code")
        return None

    async def _pair(self, target: HubAddress, key: str, code: str) -> bool:
        if not target.pair_endpoint:
            self._fail("unpaired", "the hub's pairing address is not known")
            return False
        sock = self._open(target.pair_endpoint, key, target.conn_ids)
        try:
            hello = msgspec.structs.replace(self.hello(), pair_code=code)
            if not await self._send_connected(sock, hello, PAIR_TIMEOUT) or not await sock.poll(
                int(PAIR_TIMEOUT * 1000), zmq.POLLIN
            ):
                self._fail("unpaired", "the hub did not answer the pairing request")
                return False
            try:
                msg = codec.decode(await sock.recv(), m.HubToKiosk)
            except ProtocolError as e:
                self._fail("unpaired", f"bad pairing answer: {e}")
                return False
        finally:
            sock.close(linger=0)
        if isinstance(msg, m.Welcome):
            self.pin(key)
            self.on_message(msg)
            return True
        if isinstance(msg, m.Error):
            self.refused.add(key)  # not this hub: another one on the LAN may know the code
            self.last_error = msg.detail
            self.on_message(msg)
        return False

    async def run(self) -> None:
        backoff = c.RECONNECT_INITIAL
        while True:
            try:
                target = await self.resolve()
            except (TimeoutError, OSError) as e:
                self.last_error = f"no hub found: {e or 'timeout'}"
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, c.RECONNECT_MAX)
                continue
            key = await self._trusted_key(target)
            if key is None:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, c.RECONNECT_MAX)
                continue
            self.endpoint, self.hub_key = target.endpoint, key
            self.sock = self._open(target.endpoint, key, target.conn_ids)
            self.last_error = ""
            try:
                welcomed = await self._session()
            finally:
                self._set_online(False)
                self.sock.close(linger=0)
                self.sock = None
            silent = self.last_error == "hub silent"
            if silent:  # the site's other processes (if any) are tried first for a while
                self.failed[target.endpoint] = time.monotonic()
            if welcomed:
                backoff = c.RECONNECT_INITIAL
                if silent:
                    continue  # a hub that was there died: to another process at once
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, c.RECONNECT_MAX)

    async def _session(self) -> bool:
        """One connection's life. Returns True if it got as far as Welcome."""
        assert self.sock is not None
        sock = self.sock
        interval = c.HEARTBEAT_INTERVAL
        await self._send_connected(sock, self.hello(), c.HEARTBEAT_INTERVAL)
        welcomed = False
        liveness = c.HEARTBEAT_LIVENESS
        loop = asyncio.get_running_loop()
        next_beat = loop.time() + interval
        while liveness > 0:
            timeout_ms = max(0, int((next_beat - loop.time()) * 1000))
            if await sock.poll(timeout_ms, zmq.POLLIN):
                while sock.getsockopt(zmq.EVENTS) & zmq.POLLIN:
                    # copy=False: a chunk's data frame reaches the cache without a copy
                    frames = await sock.recv_multipart(copy=False)
                    liveness = c.HEARTBEAT_LIVENESS
                    try:
                        msg = codec.decode_frames([f.buffer for f in frames], m.HubToKiosk)
                    except ProtocolError as e:
                        log.warning("bad frame from hub: %s", e)
                        continue
                    if isinstance(msg, m.Welcome):
                        welcomed = True
                        self._set_online(True)
                    elif isinstance(msg, m.Error) and msg.code in ("not_hello",):
                        self._send_now(sock, self.hello())
                        continue
                    elif isinstance(msg, m.Error) and msg.code == "unpaired":
                        self.last_error = msg.detail
                        self.on_message(msg)
                        return welcomed
                    if not isinstance(msg, m.Heartbeat):
                        self.on_message(msg)
            if loop.time() >= next_beat:
                next_beat = loop.time() + interval
                liveness -= 1
                self._send_now(sock, self.heartbeat() if welcomed else self.hello())
        self.last_error = "hub silent"
        return welcomed
