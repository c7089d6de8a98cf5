"""The hub's ZeroMQ ROUTER: frames in, `HubService` replies out, one commit per batch.

Group commit: all frames waiting on the socket are handled in one SQLite transaction and
their replies (acks included) are sent only after it commits.
"""

from __future__ import annotations

import asyncio
import logging

import msgspec
import zmq
import zmq.asyncio

from protocol import codec
from protocol.errors import ErrorCode, ProtocolError
from protocol.messages import Error, KioskToHub

from .service import HubService

log = logging.getLogger(__name__)

#: Most frames handled in one transaction.
BATCH = 512
#: Frames above this are dropped by libzmq itself (memory guard); smaller oversize frames
#: get a `too_large` error reply.
HARD_MAX_FRAME = 16 * 1024 * 1024


class Router:
    def __init__(self, service: HubService, bind: str, ctx: zmq.asyncio.Context | None = None):
        self.service = service
        self.ctx = ctx or zmq.asyncio.Context.instance()
        self.sock = self.ctx.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.ROUTER_HANDOVER, 1)
        self.sock.setsockopt(zmq.ROUTER_MANDATORY, 0)
        self.sock.setsockopt(zmq.MAXMSGSIZE, HARD_MAX_FRAME)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.SNDHWM, 10_000)
        if bind.endswith(":0"):
            self.port = self.sock.bind_to_random_port(bind.rsplit(":", 1)[0])
        else:
            self.sock.bind(bind)
            self.port = int(bind.rsplit(":", 1)[1])
        self.frames_in = 0

    async def run(self) -> None:
        while True:
            batch = [await self.sock.recv_multipart(copy=True)]
            while len(batch) < BATCH and self.sock.getsockopt(zmq.EVENTS) & zmq.POLLIN:
                batch.append(await self.sock.recv_multipart(copy=True))
            out = self.handle_batch(batch)
            for frames in out:
                await self.sock.send_multipart(frames, copy=False)

    def handle_batch(self, batch: list[list[bytes]]) -> list[list[bytes]]:
        out: list[list[bytes]] = []
        with self.service.store.transaction():
            for frames in batch:
                self.frames_in += 1
                ident = frames[0]
                for reply in self._handle(ident, frames[1:]):
                    out.append([ident, codec.encode(reply)])
        return out

    def _handle(self, ident: bytes, parts: list[bytes]) -> list[msgspec.Struct]:
        if len(parts) != 1:
            return [Error(code=ErrorCode.MALFORMED.value, detail="one frame per message")]
        try:
            kiosk_id = ident.decode("utf-8")
        except UnicodeDecodeError:
            return [Error(code=ErrorCode.MALFORMED.value, detail="kiosk id is not UTF-8")]
        try:
            msg = codec.decode(parts[0], KioskToHub)
        except ProtocolError as e:
            return [Error(code=e.code.value, detail=e.detail)]
        try:
            with self.service.store.transaction():
                return self.service.handle(kiosk_id, msg)
        except Exception:  # a bug must not take the hub down for everyone else
            log.exception("handling %s from %s", type(msg).__name__, kiosk_id)
            return [Error(code=ErrorCode.INTERNAL.value, detail="internal error")]

    def close(self) -> None:
        self.sock.close(linger=0)


async def serve_forever(router: Router) -> None:
    try:
        await router.run()
    except asyncio.CancelledError:
        router.close()
        raise
