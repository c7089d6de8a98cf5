"""The kiosk's connection to the hub: a ZeroMQ DEALER with Paranoid Pirate heartbeats.

`HubLink.run()` keeps a connection: find the hub, Hello → Welcome, heartbeat, and on silence
reconnect with capped back-off (re-finding the hub, which may have moved).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import msgspec
import zmq
import zmq.asyncio

from protocol import codec
from protocol import constants as c
from protocol import messages as m
from protocol.errors import ProtocolError

log = logging.getLogger(__name__)

Resolver = Callable[[], Awaitable[str]]


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

    def send(self, msg: msgspec.Struct) -> bool:
        """Queue a message to the hub if online; False (nothing sent) when offline."""
        if not self.online or self.sock is None:
            return False
        return self._send_now(self.sock, msg)

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

    def _open(self, endpoint: str) -> zmq.asyncio.Socket:
        sock = self.ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.ROUTING_ID, self.kiosk_id.encode())
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.IMMEDIATE, 1)
        sock.setsockopt(zmq.SNDHWM, 10_000)
        sock.setsockopt(zmq.RCVHWM, 10_000)
        sock.connect(endpoint)
        return sock

    async def run(self) -> None:
        backoff = c.RECONNECT_INITIAL
        while True:
            try:
                endpoint = await self.resolve()
            except (TimeoutError, OSError) as e:
                self.last_error = f"no hub found: {e or 'timeout'}"
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, c.RECONNECT_MAX)
                continue
            self.endpoint = endpoint
            self.sock = self._open(endpoint)
            try:
                if await self._session():
                    backoff = c.RECONNECT_INITIAL
            finally:
                self._set_online(False)
                self.sock.close(linger=0)
                self.sock = None
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, c.RECONNECT_MAX)

    async def _session(self) -> bool:
        """One connection's life. Returns True if it got as far as Welcome."""
        assert self.sock is not None
        sock = self.sock
        interval = c.HEARTBEAT_INTERVAL
        self._send_now(sock, self.hello())
        welcomed = False
        liveness = c.HEARTBEAT_LIVENESS
        loop = asyncio.get_running_loop()
        next_beat = loop.time() + interval
        while liveness > 0:
            timeout_ms = max(0, int((next_beat - loop.time()) * 1000))
            if await sock.poll(timeout_ms, zmq.POLLIN):
                while sock.getsockopt(zmq.EVENTS) & zmq.POLLIN:
                    frame = await sock.recv()
                    liveness = c.HEARTBEAT_LIVENESS
                    try:
                        msg = codec.decode(frame, m.HubToKiosk)
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
