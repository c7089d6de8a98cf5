"""The hub's ZeroMQ ROUTER sockets: frames in, `HubService` replies out, one commit per batch.

Both sockets are CurveZMQ servers with the hub's long-term key. A ZAP handler admits:
- on the kiosk socket, only paired kiosk keys (or any key with --open-pairing, demo only);
- on the pairing socket, any key, but there only `Hello` with a valid one-time code is heard,
  within rate limits (`hub.pairing`); it listens on loopback unless staff choose an interface.

Which kiosk a frame speaks for: kiosks leave the routing id to libzmq (one per connection),
and a connection speaks for the kiosk whose Hello it sent with that kiosk's paired CURVE key
(`Peers`). Kiosks of the previous release name their connection with their kiosk id; such a
connection is heard as that kiosk only while its key is that kiosk's (the service checks).
Replies to a message go back on its connection; the hub's own beats go to the connection the
kiosk was last heard on with its own key. No handover: a connection's routing id stays its own
while it lives (nobody takes over a kiosk's connection by naming it), and libzmq's ZMTP
heartbeats close connections whose peer is gone, so a kiosk of the previous release that comes
back under its old name is heard again within ZMTP_TIMEOUT_MS.

Group commit: the frames waiting on the kiosk socket are handled in SQLite transactions of at
most TXN_SECONDS of work, and their replies (acks included) are sent only after the commit.
Between transactions the router reads what came in meanwhile, and handles other kiosks'
requests before clip transfers (`Backlog`).
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import time
from collections.abc import Callable
from typing import Any

import msgspec
import zmq
import zmq.asyncio
from zmq.auth.asyncio import AsyncioAuthenticator

from protocol import codec
from protocol.constants import HEARTBEAT_INTERVAL
from protocol.errors import ErrorCode, ProtocolError
from protocol.messages import Error, Heartbeat, Hello, KioskToHub, Login

from ..service import HubService, StagedLabels
from ..store import DatabaseUnavailable

log = logging.getLogger(__name__)
#: Pause after the database was found unavailable (a PostgreSQL restart), before the next try.
DB_RETRY_SECONDS = 0.5

#: Most frames (and bytes) read from the kiosk socket and not handled yet.
BACKLOG_FRAMES = 2048
BACKLOG_BYTES = 8 * 1024 * 1024
#: Seconds a frame waits behind other kiosks' work before the transfers' queue gets every
#: other turn (so a kiosk's heartbeat queued behind its own Fetch is never starved).
LATER_MAX_WAIT = 0.05
#: Work in one transaction before it commits and its replies go out (bounds reply latency).
TXN_SECONDS = 0.005
#: Labels a slice stages to store together at its end: a slice ends after this many too
#: (kiosks draining big outboxes: one store call and commit stays tens of milliseconds).
SLICE_LABELS = 1000
#: Frames above this are dropped by libzmq itself (memory guard); smaller oversize frames
#: get a `too_large` error reply.
HARD_MAX_FRAME = 16 * 1024 * 1024
#: The hub beats on its own to kiosks heard from within this many seconds (a kiosk whose
#: upload is slow still hears the hub, so it does not take the hub for gone).
BEAT_TO_SEEN_WITHIN = 60.0
#: Where the pairing socket listens unless staff name an interface (`--interface`) or an
#: address (`--pair-bind`): pairing is something staff do on purpose, not a port open to
#: every network the hub is on.
PAIR_HOST = "127.0.0.1"
#: libzmq's own keep-alive on the hub's sockets (ZMTP PING every ZMTP_BEAT_MS; a connection that
#: sends nothing for ZMTP_TIMEOUT_MS is closed). Any incoming byte counts, so a kiosk uploading
#: on a slow link is never cut; a peer gone without a FIN (cable pulled) frees its connection
#: (and, for a kiosk of the previous release, its routing id) after at most that long.
ZMTP_BEAT_MS = 2000
ZMTP_TIMEOUT_MS = 8000
KIOSK_DOMAIN = "kiosk"
PAIR_DOMAIN = "pair"


async def watch_database(service: HubService, every: float = DB_RETRY_SECONDS) -> None:
    """While the database is marked lost (by the router, housekeeping or the dashboard),
    probe it off the loop every `every` seconds; mark it back when it answers."""
    state = service.database
    while True:
        await asyncio.sleep(every)
        if not state.down:
            continue
        try:
            await asyncio.to_thread(service.store.probe)
        except DatabaseUnavailable:
            continue
        state.back()


class _KeyPolicy:
    """ZAP decisions (called by pyzmq's authenticator with the client's Z85 key)."""

    def __init__(self, service: HubService) -> None:
        self.service = service
        #: keys the database said were paired: admitted without asking it while it is
        #: unreachable (asking would hold the loop for a connection timeout per kiosk)
        self._paired: set[str] = set()

    def callback(self, domain: str, client_key: bytes) -> bool:
        if domain == PAIR_DOMAIN:
            return True
        if self.service.open_pairing:
            return True
        key = client_key.decode("ascii")
        if self.service.database.down:
            return key in self._paired
        try:
            paired = self.service.store.is_key_paired(key)
        except DatabaseUnavailable:
            return key in self._paired
        if paired:
            self._paired.add(key)
        else:
            self._paired.discard(key)
        return paired


def _bind(sock: zmq.asyncio.Socket, address: str) -> int:
    if address.endswith(":0"):
        return sock.bind_to_random_port(address.rsplit(":", 1)[0])
    sock.bind(address)
    return int(address.rsplit(":", 1)[1])


class Router:
    def __init__(
        self,
        service: HubService,
        bind: str,
        keys: tuple[bytes, bytes],
        pair_bind: str | None = None,
        ctx: zmq.asyncio.Context | None = None,
        pair_host: str | None = None,
        pairing: bool = True,
    ) -> None:
        self.service = service
        self.ctx = ctx or zmq.asyncio.Context.instance()
        self.public_key, secret = keys
        self.auth = AsyncioAuthenticator(self.ctx)
        self.auth.start()
        policy = _KeyPolicy(service)
        self.auth.configure_curve_callback(KIOSK_DOMAIN, credentials_provider=policy)
        self.auth.configure_curve_callback(PAIR_DOMAIN, credentials_provider=policy)
        self.sock = self._socket(secret, KIOSK_DOMAIN)
        self.port = _bind(self.sock, bind)
        if pair_bind is None:  # the next port, on loopback or the interface staff chose
            host = f"tcp://{pair_host or PAIR_HOST}"
            pair_bind = f"{host}:{self.port + 1}" if not bind.endswith(":0") else f"{host}:0"
        #: None: another process of the site listens for pairing
        self.pair_sock: zmq.asyncio.Socket | None = None
        self.pair_port = 0
        if pairing:
            self.pair_sock = self._socket(secret, PAIR_DOMAIN)
            self.pair_port = _bind(self.pair_sock, pair_bind)
        self.frames_in = 0
        self.peers = Peers()
        #: a Login popped from the backlog that ends a slice: the next slice begins with it
        self._deferred: list[zmq.Frame] | None = None
        #: connection (routing id) -> monotonic time of the last frame sent on it
        self._sent_at: dict[bytes, float] = {}
        #: called after each transaction slice with (began, committed, sent, frames handled)
        #: in time.monotonic seconds (benchmarks/hubtrace.py times the router with it)
        self.on_slice: Callable[[float, float, float, list[list[zmq.Frame]]], None] | None = None

    def _socket(self, secret: bytes, domain: str) -> zmq.asyncio.Socket:
        sock = self.ctx.socket(zmq.ROUTER)
        sock.curve_server = True
        sock.curve_publickey = self.public_key
        sock.curve_secretkey = secret
        sock.zap_domain = domain.encode()
        # No handover: a peer that names its connection after a routing id in use is not
        # heard (and gets nothing) while that connection lives. Kiosks of this release leave
        # the routing id to libzmq, so a kiosk coming back never waits behind its old one.
        sock.setsockopt(zmq.ROUTER_HANDOVER, 0)
        sock.setsockopt(zmq.HEARTBEAT_IVL, ZMTP_BEAT_MS)
        sock.setsockopt(zmq.HEARTBEAT_TIMEOUT, ZMTP_TIMEOUT_MS)
        sock.setsockopt(zmq.MAXMSGSIZE, HARD_MAX_FRAME)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.SNDHWM, 10_000)
        return sock

    async def run(self) -> None:
        await asyncio.gather(self._serve_kiosks(), self._serve_pairing(), self._beat())

    async def _beat(self) -> None:
        """Heartbeats both ways: every kiosk heard from lately that got nothing from the hub
        for a beat interval gets a beat, whatever its own beats are doing."""
        raw = zmq.Socket.shadow(self.sock.underlying)
        beat = codec.encode(Heartbeat(own=True))
        while True:
            await asyncio.sleep(HEARTBEAT_INTERVAL / 2)
            now, wall = time.monotonic(), time.time()
            if len(self._sent_at) > 2 * len(self.service.sessions) + 64:
                # connections come and go (each reconnect is a new name): forget the old ones
                cutoff = now - BEAT_TO_SEEN_WITHIN
                self._sent_at = {c: t for c, t in self._sent_at.items() if t >= cutoff}
            for kiosk_id, session in list(self.service.sessions.items()):
                ident = self.peers.connection(kiosk_id)
                if ident is None:
                    continue
                if wall - session.seen > BEAT_TO_SEEN_WITHIN:
                    self._sent_at.pop(ident, None)
                    continue
                if now - self._sent_at.get(ident, 0.0) >= HEARTBEAT_INTERVAL:
                    self._sent_at[ident] = now
                    try:
                        raw.send_multipart([ident, beat], zmq.NOBLOCK)
                    except zmq.ZMQError:
                        pass

    async def _serve_kiosks(self) -> None:
        sock = self.sock
        raw = zmq.Socket.shadow(sock.underlying)  # same socket, no asyncio future per frame
        backlog = Backlog()
        while True:
            if not backlog and self._deferred is None:
                backlog.add(await sock.recv_multipart(copy=False))
            # Read what has come in since the last slice before choosing the next one, so a
            # kiosk that asks for work or sends labels now waits for one slice at most, not
            # for every transfer read before it (each kiosk's own order is kept).
            while backlog.room():
                try:
                    backlog.add(raw.recv_multipart(zmq.NOBLOCK, copy=False))
                except zmq.Again:
                    break
            began = time.monotonic()
            # a Login that ended the last slice goes first (nothing was popped after it)
            first, self._deferred = self._deferred, None
            if first is None:
                first = backlog.pop(transfer_first=True)
            if _is_login(first):  # its PIN checked in a thread: the loop beats meanwhile
                await self._precheck_login_off_loop(first)
            try:
                replies, handled = self.handle_some(backlog, first)
            except DatabaseUnavailable as e:
                # nothing of this slice was committed: no replies, the kiosks send again
                await self._database_lost(str(e))
                backlog, self._deferred = Backlog(), None
                continue
            now = time.monotonic()
            for frames in replies:  # a ROUTER drops (never blocks) at its high-water mark
                raw.send_multipart(frames, zmq.NOBLOCK, copy=False)
                self._sent_at[frames[0]] = now
            if self.on_slice is not None:
                self.on_slice(began, now, time.monotonic(), handled)
            await asyncio.sleep(0)

    async def _database_lost(self, reason: str) -> None:
        """Until the database answers again (`watch_database` probes it): what kiosks send
        is read and dropped. Nothing is acked that was not stored: each kiosk keeps it in its
        outbox and sends it again."""
        state = self.service.database
        state.lost(reason)
        raw = zmq.Socket.shadow(self.sock.underlying)
        while state.down:
            while True:
                try:
                    raw.recv_multipart(zmq.NOBLOCK, copy=False)
                except zmq.Again:
                    break
            await asyncio.sleep(DB_RETRY_SECONDS)

    def handle_some(
        self, backlog: Backlog, first: list[zmq.Frame] | None = None
    ) -> tuple[list[list[bytes]], list[list[zmq.Frame]]]:
        """`first` (else the backlog's first, a Login's PIN checked here) and more frames from
        the backlog in one transaction, until TXN_SECONDS of work; replies after the commit.
        The label batches of the slice are stored together at its end (one store call:
        `HubService.flush_labels`). Returns (replies, the frames handled). With `first` given
        (the router's loop), a Login popped later ends the slice unhandled (`_deferred`): the
        next slice begins with it, its PIN checked off the loop first."""
        handled: list[list[zmq.Frame]] = []
        frames = first
        if frames is None:
            frames = backlog.pop(transfer_first=True)
            if _is_login(frames):  # its PIN checked before the write lock is taken
                self._precheck_login(frames)
        deadline = None  # TXN_SECONDS from the end of the first frame: a slice that begins
        # with a long one still answers other kiosks' waiting frames
        replies: list[tuple[bytes, Any]] = []
        self.service.staging = []
        try:
            with self.service.store.transaction():
                while True:
                    handled.append(frames)
                    self.frames_in += 1
                    ident = frames[0].bytes
                    for reply in self._kiosk_frame(ident, frames[1:], _user_id(frames[-1])):
                        replies.append((ident, reply))
                    if deadline is None:
                        deadline = time.perf_counter() + TXN_SECONDS
                    if (
                        not backlog
                        or time.perf_counter() >= deadline
                        or self.service.staged_labels() >= SLICE_LABELS
                    ):
                        break
                    frames = backlog.pop()
                    if first is not None and _is_login(frames):
                        self._deferred = frames
                        break
                self.service.flush_labels()
        finally:
            self.service.staging = None
        return _encoded(replies), handled

    def _login_of(self, frames: list[zmq.Frame]) -> tuple[str, Login] | None:
        """(kiosk, Login) of a frame that holds a Login; None for anything else."""
        ident = frames[0].bytes
        msg = self._decode(ident, frames[1:])
        if not isinstance(msg, Login):
            return None
        kiosk_id = self.peers.kiosk_for(ident, msg)
        return None if kiosk_id is None else (kiosk_id, msg)

    def _precheck_login(self, frames: list[zmq.Frame]) -> None:
        login = self._login_of(frames)
        if login is None:
            return
        try:
            self.service.precheck_login(login[0], login[1], _user_id(frames[-1]))
        except Exception:  # the Login's own turn checks the PIN then
            log.exception("checking a PIN ahead for %s", login[0])

    async def _precheck_login_off_loop(self, frames: list[zmq.Frame]) -> None:
        """`_precheck_login` with its scrypt (~36 ms of CPU, on purpose) in a worker thread
        (hashlib releases the GIL for it): while the kiosks of a process that died log in
        again at once, the router's own beats (`_beat`) still go out and the kiosks waiting
        do not take this hub for gone. The frame's turn comes after the check, as before:
        no other frame is handled meanwhile, so every kiosk's order is kept."""
        login = self._login_of(frames)
        if login is None:
            return
        kiosk_id, msg = login
        try:
            stored = self.service.pin_to_check(kiosk_id, msg, _user_id(frames[-1]))
            if stored is None:
                return
            ok = await asyncio.to_thread(self.service.check_pin, msg.pin, stored)
            self.service.pin_checked(msg, stored, ok)
        except Exception:  # the Login's own turn checks the PIN then
            log.exception("checking a PIN ahead for %s", kiosk_id)

    def _kiosk_frame(self, ident: bytes, parts: list[zmq.Frame], key: str) -> list[msgspec.Struct]:
        """Replies to one frame on the kiosk socket, from the kiosk its connection speaks for.
        A connection that the kiosk's own key was heard on becomes that kiosk's."""
        msg = self._decode(ident, parts)
        if isinstance(msg, Error):
            return [msg]
        kiosk_id = self.peers.kiosk_for(ident, msg)
        if kiosk_id is None:
            return [Error(code=ErrorCode.NOT_HELLO.value, detail="send Hello first")]
        if self.service.waits_for_labels(kiosk_id, msg):
            self.service.flush_labels()  # this kiosk's earlier labels first (its own order)
        replies = self._handle(kiosk_id, msg, key, self.service.handle)
        session = self.service.sessions.get(kiosk_id)
        if session is not None and session.key == key:
            self.peers.bind(ident, kiosk_id)
        return replies

    async def _serve_pairing(self) -> None:
        if self.pair_sock is None:
            return
        while True:
            frames = await self.pair_sock.recv_multipart(copy=False)
            if self.service.database.down:
                continue  # pairing needs the database: the kiosk asks again
            ident, key = frames[0].bytes, _user_id(frames[-1])
            source = _peer_address(frames[-1])
            msg = self._decode(ident, frames[1:])
            if isinstance(msg, Error):
                replies = [msg]
            else:  # the kiosk id it asks to pair is the one in its Hello
                kiosk_id = msg.kiosk_id if isinstance(msg, Hello) else ""
                pair = functools.partial(self.service.pair, source=source)
                try:
                    replies = self._handle(kiosk_id, msg, key, pair)
                except DatabaseUnavailable as e:
                    self.service.database.lost(str(e))
                    continue
            for reply in replies:
                await self.pair_sock.send_multipart([ident, codec.encode(reply)])

    def handle_batch(self, batch: list[list[zmq.Frame]]) -> list[list[bytes]]:
        replies: list[tuple[bytes, Any]] = []
        self.service.staging = []
        try:
            with self.service.store.transaction():
                for frames in batch:
                    self.frames_in += 1
                    ident = frames[0].bytes
                    for reply in self._kiosk_frame(ident, frames[1:], _user_id(frames[-1])):
                        replies.append((ident, reply))
                self.service.flush_labels()
        finally:
            self.service.staging = None
        return _encoded(replies)

    def _decode(self, ident: bytes, parts: list[zmq.Frame]) -> msgspec.Struct:
        """The message in a frame, or the `Error` to answer it with."""
        if len(parts) != 1:
            return Error(code=ErrorCode.MALFORMED.value, detail="one frame per message")
        try:
            return codec.decode(parts[0].bytes, KioskToHub)
        except ProtocolError as e:
            return Error(code=e.code.value, detail=e.detail)
        except Exception:  # the codec should not raise anything else; if it does, stay up
            log.exception("decoding a frame from %r", ident)
            return Error(code=ErrorCode.MALFORMED.value, detail="undecodable frame")

    def _handle(
        self,
        kiosk_id: str,
        msg: msgspec.Struct,
        key: str,
        handler: Callable[[str, msgspec.Struct, str], list[msgspec.Struct]],
    ) -> list[msgspec.Struct]:
        try:
            with self.service.store.transaction():
                return handler(kiosk_id, msg, key)
        except DatabaseUnavailable:
            raise  # the whole slice is lost: the caller drops its replies
        except Exception:  # a bug must not take the hub down for everyone else
            log.exception("handling %s from %s", type(msg).__name__, kiosk_id)
            return [Error(code=ErrorCode.INTERNAL.value, detail="internal error")]

    def close(self) -> None:
        self.sock.close(linger=0)
        if self.pair_sock is not None:
            self.pair_sock.close(linger=0)
        self.auth.stop()


class Peers:
    """Which kiosk each connection speaks for, and the connection each kiosk was last heard on
    with its own key. A kiosk has one such connection at a time (its older one is forgotten),
    so this holds one entry per kiosk."""

    def __init__(self) -> None:
        self._kiosk: dict[bytes, str] = {}
        self._connection: dict[str, bytes] = {}

    def kiosk_for(self, ident: bytes, msg: msgspec.Struct) -> str | None:
        """The kiosk a message on connection `ident` is from (the service then checks the
        key): the one its Hello names; else the kiosk the connection was bound to; else, for
        a kiosk of the previous release that came back on a new connection without a Hello,
        the kiosk id it names its connection with. None: a connection libzmq named, not
        bound (yet), that must say Hello."""
        if isinstance(msg, Hello):
            return msg.kiosk_id
        kiosk_id = self._kiosk.get(ident)
        if kiosk_id is not None:
            return kiosk_id
        if ident[:1] == b"\x00":  # libzmq's own names start with a zero byte
            return None
        try:
            return ident.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def bind(self, ident: bytes, kiosk_id: str) -> None:
        """The kiosk's own key was heard on connection `ident`: it is that kiosk's now."""
        old = self._connection.get(kiosk_id)
        if old == ident:
            return
        if old is not None and self._kiosk.get(old) == kiosk_id:
            del self._kiosk[old]
        previous = self._kiosk.get(ident)
        if previous is not None and self._connection.get(previous) == ident:
            del self._connection[previous]
        self._kiosk[ident] = kiosk_id
        self._connection[kiosk_id] = ident

    def connection(self, kiosk_id: str) -> bytes | None:
        return self._connection.get(kiosk_id)


#: How a Fetch and a Login begin on the wire: msgspec writes the tag first
#: (`{"type": "fetch", …}`).
_FETCH_TAG = b"\xa4type\xa5fetch"
_LOGIN_TAG = b"\xa4type\xa5login"
_HELLO_TAG = b"\xa4type\xa5hello"
_BEAT_TAG = b"\xa4type\xa2hb"


class Backlog:
    """Frames read from the kiosk socket and not handled yet, in the order they are handled.

    A kiosk waiting for work or acks is not kept behind other kiosks' clip transfers or PIN
    checks (a Login costs one scrypt, ~36 ms here; the kiosks of a hub process that died
    all log in again at once): each kiosk's frames from its first Fetch or Login on (while
    that one waits) go after every other kiosk's frames, also those read later. Each kiosk's own frames keep their order (so do
    the replies it gets), but for its heartbeats: a Heartbeat goes before everything else
    waiting (its answer says the hub is alive and depends on nothing before it), unless its
    kiosk's Hello or Login still waits. So a kiosk draining a long outbox, or a hub that
    has fallen behind, still answers every beat within one slice. Transfers are never
    starved by a stream of other work: `pop(transfer_first=True)` (the first of each slice)
    takes the oldest waiting transfer when that keeps its kiosk's order, and once it has
    waited LATER_MAX_WAIT the two queues take turns.
    """

    def __init__(self, max_frames: int = BACKLOG_FRAMES, max_bytes: int = BACKLOG_BYTES) -> None:
        # entries: (frames, kiosk id, bytes, time.monotonic() when read)
        self.first: collections.deque[tuple[list[zmq.Frame], bytes, int, float]] = (
            collections.deque()
        )
        self.later: collections.deque[tuple[list[zmq.Frame], bytes, int, float]] = (
            collections.deque()
        )
        self.beats: collections.deque[tuple[list[zmq.Frame], bytes, int, float]] = (
            collections.deque()
        )
        self._turn = False
        #: kiosks with a Hello or Login waiting (their beats keep their place)
        self._greeting: dict[bytes, int] = {}
        self._in_first: dict[bytes, int] = {}
        self._in_later: dict[bytes, int] = {}
        self.max_frames, self.max_bytes = max_frames, max_bytes
        self.bytes = 0

    def __len__(self) -> int:
        return len(self.beats) + len(self.first) + len(self.later)

    def room(self) -> bool:
        """Whether to read more from the socket (bounds the memory the hub holds; the rest
        waits in libzmq's queue, within its high-water mark)."""
        return len(self) < self.max_frames and self.bytes < self.max_bytes

    def add(self, frames: list[zmq.Frame], now: float | None = None) -> None:
        ident = frames[0].bytes
        size = sum(len(f) for f in frames[1:])
        entry = (frames, ident, size, time.monotonic() if now is None else now)
        self.bytes += size
        if ident not in self._greeting and _is_beat(frames):
            self.beats.append(entry)
            return
        if _is_greeting(frames):
            self._greeting[ident] = self._greeting.get(ident, 0) + 1
        if ident in self._in_later or _is_fetch(frames) or _is_login(frames):
            self.later.append(entry)
            counts = self._in_later
        else:
            self.first.append(entry)
            counts = self._in_first
        counts[ident] = counts.get(ident, 0) + 1

    def pop(self, transfer_first: bool = False, now: float | None = None) -> list[zmq.Frame]:
        if self.beats:
            frames, _ident, size, _ = self.beats.popleft()
            self.bytes -= size
            return frames
        later, take_later = self.later, False
        if later:
            if not self.first:
                take_later = True
            elif later[0][1] not in self._in_first:  # its kiosk's order allows it
                if transfer_first:
                    take_later = True
                elif (time.monotonic() if now is None else now) - later[0][3] > LATER_MAX_WAIT:
                    self._turn = take_later = not self._turn
        if take_later:
            (frames, ident, size, _), counts = later.popleft(), self._in_later
        else:
            (frames, ident, size, _), counts = self.first.popleft(), self._in_first
        left = counts[ident] - 1
        if left:
            counts[ident] = left
        else:
            del counts[ident]
        if ident in self._greeting and _is_greeting(frames):
            if self._greeting[ident] > 1:
                self._greeting[ident] -= 1
            else:
                del self._greeting[ident]
        self.bytes -= size
        return frames


def transfers_last(batch: list[list[zmq.Frame]]) -> list[list[zmq.Frame]]:
    """The order in which `Backlog` hands out `batch` (read at once)."""
    backlog = Backlog(max_frames=len(batch) + 1, max_bytes=1 << 62)
    for frames in batch:
        backlog.add(frames)
    return [backlog.pop() for _ in batch]


def _encoded(replies: list[tuple[bytes, Any]]) -> list[list[bytes]]:
    """The frames to send for these (connection, reply) pairs, in order; a staged label
    batch's replies (complete once the slice's labels are stored) in its place."""
    out: list[list[bytes]] = []
    for ident, reply in replies:
        for one in reply.replies if isinstance(reply, StagedLabels) else (reply,):
            out.append([ident, *codec.encode_frames(one)])
    return out


def _is_fetch(frames: list[zmq.Frame]) -> bool:
    """A peek at the first bytes, no decoding: only used to order work (a wrong guess changes
    the order of replies to different requests, never their content)."""
    return len(frames) > 1 and _FETCH_TAG in bytes(frames[1].buffer[:24])


def _is_beat(frames: list[zmq.Frame]) -> bool:
    """A Heartbeat: a peek as `_is_fetch`'s, then the (small) frame decoded, because a frame
    that only looks like one (undecodable, its error reply due in its place) keeps its place."""
    if len(frames) != 2 or _BEAT_TAG not in bytes(frames[1].buffer[:24]):
        return False
    try:
        return isinstance(codec.decode(frames[1].bytes, KioskToHub), Heartbeat)
    except Exception:  # noqa: BLE001 - answered with its error in its own turn
        return False


def _is_greeting(frames: list[zmq.Frame]) -> bool:
    """A Hello or a Login (peeked as `_is_fetch`)."""
    head = bytes(frames[1].buffer[:24]) if len(frames) > 1 else b""
    return _LOGIN_TAG in head or _HELLO_TAG in head


def _is_login(frames: list[zmq.Frame]) -> bool:
    """A peek as `_is_fetch`'s, for a Login (a PIN check: slow on purpose)."""
    return len(frames) > 1 and _LOGIN_TAG in bytes(frames[1].buffer[:24])


def _peer_address(frame: zmq.Frame) -> str:
    """The peer's IP address as libzmq saw it (the source a pairing rate counts against)."""
    try:
        return frame.get("Peer-Address") or ""
    except (zmq.ZMQError, KeyError, UnicodeDecodeError):
        return ""


def _user_id(frame: zmq.Frame) -> str:
    """The Z85 public key of the peer, as the ZAP handler recorded it."""
    try:
        return frame.get("User-Id") or ""
    except (zmq.ZMQError, KeyError, UnicodeDecodeError):
        return ""
