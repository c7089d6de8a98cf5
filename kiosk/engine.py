"""The kiosk's work loop without a screen: login, leases, prefetch, labels, outbox sync.

Runs on the asyncio loop the UI also runs on; the UI and the headless kiosk listen through
`listeners`, which receive the typed events of `kiosk.engine_events`.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid as uuidlib
from collections import deque
from collections.abc import Set
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec

from protocol import messages as m
from protocol.constants import (
    CAP_KIOSK_VERIFIER,
    CAP_LOGOUT_AT,
    CAP_RESUME,
    DEFAULT_CREDIT,
    MAX_CHUNK,
    MIN_CHUNK,
)
from protocol.pins import VERIFIER_SCHEME, check_verifier, login_proof, verify_pin
from protocol.version import package_version

from . import engine_events as ev
from .cache import ClipCache, PartWriter
from .store import KioskStore
from .upload import UploadWindow

log = logging.getLogger(__name__)

#: Labels per LabelBatch at most when the outbox drains (fewer when the upload window is
#: small: see kiosk/upload.py).
SYNC_BATCH = 50
#: Outbox items sent more than this many seconds ago and still not acknowledged (the hub
#: dropped them, or the connection under the link changed): the drain goes back to the
#: oldest unacknowledged item and sends again from there, within the window (the hub takes
#: a label it already holds as a no-op and acknowledges it again).
RESEND_AFTER = 5.0
#: Labels first: with nothing left to label here, a work request waits at most this long
#: for the labels on their way to reach the hub (see `KioskEngine._work_waits_for_labels`).
WORK_WAITS_FOR_LABELS_S = 30.0
#: Offline PIN lock-out.
OFFLINE_LOCK_AFTER = 5
OFFLINE_LOCK_SECONDS = 30.0
LOGIN_TIMEOUT = 5.0
#: Clips fetched at once (the first in the queue is ready soonest; the next one's window
#: is already open when it completes).
MAX_FETCHES = 2
#: Chunk sizing from the measured rate of the link: one chunk takes at most CHUNK_SECONDS
#: and all chunks in flight at most WINDOW_SECONDS (and WINDOW_BYTES), so on a slow link
#: the hub's heartbeats, queued behind them, still come through within a beat.
CHUNK_SECONDS = 0.05
WINDOW_SECONDS = 0.5
WINDOW_BYTES = 16 * 1024 * 1024
#: Weight of a new rate sample (exponential moving average); a sample counts for at most
#: RATE_STEP times the estimate (a burst of chunks after a stall is not the link's rate).
RATE_ALPHA = 0.5
RATE_STEP = 4.0


def chunk_plan(rate: float | None, fetches: int = 1) -> tuple[int, int]:
    """(chunk size, chunks in flight per fetch) at `rate` bytes/s shared by `fetches` fetches.
    Not measured yet (None): the smallest chunks, two in flight, until a rate is known."""
    if not rate:
        return MIN_CHUNK, 2
    chunk = MIN_CHUNK
    while chunk * 2 <= min(rate * CHUNK_SECONDS, MAX_CHUNK):
        chunk *= 2
    fetches = max(1, fetches)
    window = min(rate * WINDOW_SECONDS, WINDOW_BYTES) / fetches
    return chunk, max(1, min(DEFAULT_CREDIT, int(window // chunk)))


@dataclass
class _Fetch:
    writer: PartWriter
    requested: int  # bytes asked for so far (the next Fetch starts here)
    #: (offset, size) of the chunks asked for and not yet here, in order
    inflight: deque[tuple[int, int]] = field(default_factory=deque)
    last_chunk: float = field(default_factory=time.monotonic)
    got_chunk: bool = False


class Link(Protocol):
    """What the engine needs of its way to the hub: `kiosk.link.HubLink` (tests: a fake)."""

    online: bool

    def send(self, msg: msgspec.Struct) -> bool:
        """Queue `msg` for the hub; False (nothing sent) when offline."""
        ...


@dataclass
class Settings:
    prefetch_clips: int = 5
    prefetch_minutes: float = 2.0
    max_prefetch: int = 200


class KioskEngine:
    def __init__(
        self,
        kiosk_id: str,
        store: KioskStore,
        cache: ClipCache,
        settings: Settings | None = None,
        version: str | None = None,
        pair_code: str | None = None,
    ) -> None:
        self.kiosk_id = kiosk_id
        self.store = store
        self.cache = cache
        self.settings = settings or Settings()
        #: sent in Hello, shown in the hub's kiosk list (default: the installed version)
        self.version = version or package_version()
        self.pair_code = pair_code
        self.link: Link | None = None
        self.listeners: list[ev.Listener] = []
        self.operator: str | None = None
        self.operator_name = ""
        self._pin: str | None = None  # in memory only, to log in again after a reconnect
        self._hub_logged_in = False
        #: the operator whose session this kiosk asked the hub to carry on (`Resume`)
        self._resuming: str | None = None
        self._login_wait: asyncio.Future[m.LoginResult] | None = None
        self._work_requested_at = 0.0
        self._labels_first_since: float | None = None
        self._fetches: dict[str, _Fetch] = {}
        self._rate: float | None = None  # bytes/s of chunks from the hub (moving average)
        #: outbox item id -> when it was last sent (it may be at the hub: undo retracts it)
        self._sent_at: dict[str, float] = {}
        #: the outbox drain on this connection: bytes in flight, and the last outbox seq sent
        self._upload = UploadWindow()
        self._sent_seq = 0
        #: outbox items the hub refused for want of a login it has seen: held back until the
        #: operator logs in with the hub again (then sent, in order)
        self._held: set[str] = set()
        self._failed_pins: dict[str, int] = {}
        self._locked_until: dict[str, float] = {}
        self.hub_error = ""
        self.last_label: m.Label | None = None
        #: minutes of clips this operator saw today before this login (from the hub; 0 offline)
        self.exposure_at_login_min = 0.0

    # ---- wiring ------------------------------------------------------------------------

    def attach(self, link: Link) -> None:
        self.link = link

    def make_hello(self) -> m.Hello:
        return m.Hello(
            kiosk_id=self.kiosk_id,
            version=self.version,
            capabilities=["labels", "fetch", CAP_KIOSK_VERIFIER, CAP_RESUME, CAP_LOGOUT_AT],
            pair_code=self.pair_code,
        )

    def make_heartbeat(self) -> m.Heartbeat:
        return m.Heartbeat(
            outbox=self.store.outbox_count(),
            cache_bytes=self.store.cache_bytes(),
            operator=self.operator,
        )

    def emit(self, event: ev.EngineEvent) -> None:
        for listener in list(self.listeners):
            try:
                listener(event)
            except Exception:  # a listener must not break the engine
                log.exception("listener for %s", event.name)

    def _status_changed(self) -> None:
        self.emit(ev.StatusChanged(status=self.status, outbox=self.store.outbox_count()))

    @property
    def online(self) -> bool:
        return bool(self.link and self.link.online)

    @property
    def status(self) -> str:
        if not self.online:
            return "offline"
        return "syncing" if self.store.outbox_count() else "online"

    @property
    def schema(self) -> m.ProjectSchema | None:
        return self.store.schema()

    # ---- messages from the hub ----------------------------------------------------------

    def on_state(self, state: str) -> None:
        if state == "offline":
            self._hub_logged_in = False
            self._go_back()
            for sha in list(self._fetches):
                self._drop_fetch(sha)
            self._rate = None  # the next link may be another one
            self._work_requested_at = 0.0
            self._labels_first_since = None
        self._status_changed()

    def on_message(self, msg: msgspec.Struct) -> None:
        match msg:
            case m.Welcome():
                self.store.save_welcome(msg)
                self.hub_error = ""
                self.emit(ev.Welcomed(hub_id=msg.hub_id))
                if self.operator and self._pin:
                    self._log_in_again(self.operator, self._pin, CAP_RESUME in msg.capabilities)
                self._go_back()  # a new connection: what was in flight on the last one is not
                self.sync()
            case m.LoginResult() if self._resuming is not None and msg.operator == self._resuming:
                self._resuming = None
                if msg.ok and msg.operator == self.operator:
                    log.info("hub carried on the session of %s without a PIN", msg.operator)
                    self._hub_logged_in = True
                    self._release_held()
                    self.pump()
                elif self.operator == msg.operator and self._pin:  # the PIN, as ever
                    log.info("hub did not carry on the session (%s): logging in", msg.reason)
                    self._send(m.Login(operator=msg.operator, pin=self._pin))
            case m.LoginResult():
                if self._login_wait is not None and not self._login_wait.done():
                    self._login_wait.set_result(msg)
                elif msg.operator == self.operator and msg.ok:
                    self._hub_logged_in = True
                    self._release_held()
                    self.pump()
            case m.Assign():
                # more may be asked for at once after clips came; after an empty answer (the
                # hub has nothing for this operator now) only when the request interval is up,
                # not at once, which would be a request every round trip
                if msg.clips:
                    self._work_requested_at = 0.0
                if msg.operator == self.operator or msg.operator:
                    added = self.store.add_assignment(msg)
                    if added:
                        self.emit(ev.QueueGrew(added=len(added)))
                self.pump()
            case m.Chunk():
                self._on_chunk(msg)
            case m.Ack():
                self._upload.acked(msg.uuids, time.monotonic())
                self.store.acked(msg.uuids)
                for uuid in msg.uuids:
                    self._sent_at.pop(uuid, None)
                self.sync()  # the window has room again
                outbox = self.store.outbox_count()
                self.emit(ev.StatusChanged(status=self.status, outbox=outbox))
                if not outbox and self._labels_first_since is not None:
                    self.pump()  # the work request that waited for the labels goes now
            case m.Error():
                self._on_error(msg)

    def _release_held(self) -> None:
        """The hub has seen a login again: what it refused goes once more, in order."""
        if self._held:
            self._held.clear()
            self._go_back()
            self.sync()

    def _on_error(self, err: m.Error) -> None:
        if err.code == "not_logged_in":
            if err.ref in self._sent_at:  # an outbox item: kept, held until the hub sees a login
                (log.debug if self._held else log.warning)(  # once per hold, not per item
                    "hub refused %s (held until a login): %s", err.ref, err.detail
                )
                self._held.add(err.ref)
                self._upload.forget([err.ref])
                return
            self._hub_logged_in = False
            if self.operator and self._pin:
                self._send(m.Login(operator=self.operator, pin=self._pin))
        elif err.code == "bad_pin" and err.ref:
            # an offline login the hub does not accept: never will; on record, out of the loop
            log.error("hub refused offline login %s: %s", err.ref, err.detail)
            self.store.acked([err.ref])
            self._upload.forget([err.ref])
        elif err.code == "not_found" and err.ref in self._fetches:
            self._drop_fetch(err.ref)
        elif err.code == "bad_label" and err.ref:
            # the hub will never take it: keep it out of the retry loop, but on record
            log.error("hub refused label %s: %s", err.ref, err.detail)
            self.store.acked([err.ref])
            self._upload.forget([err.ref])
        elif err.code in ("unpaired", "hub_key_mismatch", "no_hub_key"):
            if err.detail != self.hub_error:  # once per problem, not once per retry
                log.warning("hub problem %s: %s", err.code, err.detail)
            self.hub_error = err.detail
            self.emit(ev.HubProblem(code=err.code, detail=err.detail))
        else:
            log.warning("hub error %s: %s", err.code, err.detail)

    def _send(self, msg: msgspec.Struct) -> bool:
        return bool(self.link and self.link.send(msg))

    def _log_in_again(self, operator: str, pin: str, resume: bool) -> None:
        """After a (re)connect, the logged-in operator's session at the hub: carried on without
        a PIN check where the hub takes `Resume` (no scrypt for each kiosk of a hub process
        that died, at the process they move to), else, or when the hub refuses the resume, a
        Login with the PIN kept in memory."""
        if resume:
            self._resuming = operator
            self._send(m.Resume(operator=operator))
        else:
            self._resuming = None
            self._send(m.Login(operator=operator, pin=pin))

    # ---- login -------------------------------------------------------------------------

    async def login(self, operator: str, pin: str) -> tuple[bool, str]:
        """(ok, reason). Online the hub decides; offline the cached roster (hashes) decides."""
        now = time.time()
        if self._locked_until.get(operator, 0) > now:
            return False, "locked"
        result: m.LoginResult | None = None
        if self.online:
            loop = asyncio.get_running_loop()
            self._login_wait = loop.create_future()
            if self._send(m.Login(operator=operator, pin=pin)):
                try:
                    result = await asyncio.wait_for(self._login_wait, LOGIN_TIMEOUT)
                except TimeoutError:
                    result = None
            self._login_wait = None
        if result is not None:
            if not result.ok:
                return False, result.reason or "bad_pin"
            ok, name = True, result.name
            self._hub_logged_in = True
            self.exposure_at_login_min = result.exposure_min
            self._release_held()
        else:
            entry = self.store.roster_entry(operator)
            ok = entry is not None and self._offline_check(operator, pin, entry[1])
            name = entry[0] if entry else ""
            if not ok:
                count = self._failed_pins.get(operator, 0) + 1
                self._failed_pins[operator] = count
                if count >= OFFLINE_LOCK_AFTER:
                    self._locked_until[operator] = now + OFFLINE_LOCK_SECONDS
                    return False, "locked"
                return False, "bad_pin" if entry or self.store.schema() else "no_hub"
        self._failed_pins.pop(operator, None)
        self.operator, self.operator_name, self._pin = operator, name, pin
        self.emit(ev.LoggedIn(operator=operator, operator_name=name))
        self.pump()
        return True, ""

    def _offline_check(self, operator: str, pin: str, stored: str) -> bool:
        """Check a PIN against the cached roster. With a per-kiosk verifier, the login's proof
        goes into the outbox before any label it covers (the hub accepts the labels only for
        a login it has seen); with a plain hash (an older hub), the hub takes the labels as
        that hub always did."""
        if not stored.startswith(VERIFIER_SCHEME + "$"):
            return verify_pin(pin, stored)
        digest = check_verifier(pin, stored, self.kiosk_id)
        if digest is None:
            return False
        at, uuid = time.time(), str(uuidlib.uuid4())
        proof = login_proof(digest, self.kiosk_id, operator, uuid, at)
        offline = m.OfflineLogin(uuid=uuid, operator=operator, at=at, proof=proof)
        self.store.record_message(uuid, "login", offline)
        return True

    def logout(self) -> None:
        """End the operator's session. To a hub that takes `Logout` with its time (its last
        Welcome listed CAP_LOGOUT_AT) the logout goes through the outbox like a label: made
        offline, it reaches the hub later with the time it was made, so the operator's hours
        stop here, not when the link comes back. Otherwise it is sent once, if online."""
        operator = self.operator
        if operator and CAP_LOGOUT_AT in self.store.hub_capabilities():
            uuid = str(uuidlib.uuid4())
            logout = m.Logout(operator=operator, uuid=uuid, at=time.time())
            self.store.record_message(uuid, "logout", logout)
        elif operator:
            self._send(m.Logout(operator=operator))
        self.operator = self._pin = self._resuming = None
        self._hub_logged_in = False
        self.emit(ev.LoggedOut())
        if operator:
            self.sync()

    # ---- work --------------------------------------------------------------------------

    def pending(self) -> list[tuple[m.ClipRef, str]]:
        return self.store.pending(self.operator) if self.operator else []

    def next_ready(self, skip: Set[str] = frozenset()) -> tuple[m.ClipRef, str] | None:
        """The first pending clip whose verified file is here (a corrupt one is refetched)."""
        for clip, lease in self.pending():
            if clip.sha256 in skip:
                continue
            if self.cache.ready(clip.sha256):
                return clip, lease
            self.fetch(clip)
        return None

    def pump(self) -> None:
        """Keep the prefetch depth: ask for work and fetch what is missing."""
        if not self.operator:
            return
        pending = self.pending()
        for clip, _lease in pending:
            if not self.cache.has(clip.sha256):
                self.fetch(clip)
        if not (self.online and self._hub_logged_in):
            return
        if pending:
            self._labels_first_since = None
        elif self._work_waits_for_labels():
            return
        seconds = sum(c.duration for c, _ in pending)
        s = self.settings
        want = len(pending) < s.prefetch_clips or seconds < s.prefetch_minutes * 60
        if (
            want
            and len(pending) < s.max_prefetch
            and time.monotonic() - self._work_requested_at > 5
        ):
            count = max(1, s.prefetch_clips - len(pending))
            self._work_requested_at = time.monotonic()
            self._send(
                m.RequestWork(
                    operator=self.operator,
                    count=count,
                    exclude=self.store.held_clips(self.operator),
                )
            )

    def _work_waits_for_labels(self) -> bool:
        """Labels first. With nothing left to label here, a work request waits while labels
        are on their way to the hub (at most WORK_WAITS_FOR_LABELS_S). Sent before them, it
        lists every clip whose label the hub has not acknowledged (64 hex characters each:
        175 labels after a reconnect ≈ 11 KB). On a 32 kbit/s link that queues in front of
        the kiosk's TCP acknowledgements, the hub's replies stall for three beats and the
        kiosk reconnects. Once the labels are in, the hub has those clips on record and the
        request is small; on a LAN the wait is one acknowledgement."""
        if not self.store.outbox_count():
            self._labels_first_since = None
            return False
        now = time.monotonic()
        if self._labels_first_since is None:
            self._labels_first_since = now
        return now - self._labels_first_since < WORK_WAITS_FOR_LABELS_S

    def fetch(self, clip: m.ClipRef) -> None:
        """Fetch a clip from its last verified offset (at most MAX_FETCHES at once; `pump`
        starts the next one when one ends)."""
        if clip.sha256 in self._fetches or not self.online:
            return
        if len(self._fetches) >= MAX_FETCHES:
            return
        writer = self.cache.begin(clip.sha256, clip.size)
        if writer.complete:
            self._finish(writer)
            return
        self.emit(ev.FetchStarted(sha256=clip.sha256, offset=writer.offset))
        state = _Fetch(writer, writer.offset)
        self._fetches[clip.sha256] = state
        self._ask(clip.sha256, state)

    def _ask(self, sha256: str, state: _Fetch) -> None:
        """Top the fetch's window up to the planned number of chunks in flight."""
        size = state.writer.size
        chunk, credit = chunk_plan(self._rate, len(self._fetches))
        want = min(credit - len(state.inflight), -(-(size - state.requested) // chunk))
        if want <= 0:
            return
        self._send(m.Fetch(sha256=sha256, offset=state.requested, credit=want, chunk_size=chunk))
        for _ in range(want):
            n = min(chunk, size - state.requested)
            state.inflight.append((state.requested, n))
            state.requested += n

    def _finish(self, writer: PartWriter) -> None:
        if writer.finish():
            self.emit(ev.ClipReady(sha256=writer.sha256))
        else:
            log.warning("clip %s failed verification; fetching again", writer.sha256[:12])

    def _drop_fetch(self, sha256: str) -> None:
        state = self._fetches.pop(sha256, None)
        if state is not None:
            state.writer.abandon()

    def _on_chunk(self, chunk: m.Chunk) -> None:
        state = self._fetches.get(chunk.sha256)
        if state is None:
            return
        writer = state.writer
        n = len(chunk.data)
        if not writer.write(chunk.offset, chunk.data):
            return  # not the next chunk (a stale one after a resume): ignore
        now = time.monotonic()
        if state.got_chunk:  # the gap since this fetch's last chunk: its share of the link
            sample = n / max(now - state.last_chunk, 1e-6) * len(self._fetches)
            rate = self._rate
            sample = min(sample, RATE_STEP * (rate or MIN_CHUNK / CHUNK_SECONDS))
            self._rate = sample if rate is None else rate + RATE_ALPHA * (sample - rate)
        state.last_chunk, state.got_chunk = now, True
        if writer.complete:
            self._fetches.pop(chunk.sha256, None)
            self._finish(writer)
            self.pump()
            return
        if state.inflight and state.inflight[0] == (chunk.offset, n):
            state.inflight.popleft()
        else:  # not the chunk asked for (cut otherwise, or left from before a resume)
            state.inflight.clear()
            state.requested = writer.offset
        # one chunk in, more asked for: the window follows the measured rate
        self._ask(chunk.sha256, state)

    def tick(self) -> None:
        """Called about once a second: stalled fetches, unacknowledged labels, prefetch."""
        now = time.monotonic()
        for sha, state in list(self._fetches.items()):
            if now - state.last_chunk > 10:
                self._drop_fetch(sha)
        self.sync()
        self.pump()

    # ---- labels ------------------------------------------------------------------------

    def submit(
        self,
        clip: m.ClipRef,
        lease_id: str | None,
        values: list[str],
        segments: list[m.Segment] | None = None,
        telemetry: dict[str, Any] | None = None,
        review: bool = False,
    ) -> m.Label:
        """Store the label durably, then send it. Returns the label."""
        assert self.operator is not None, "no operator logged in"
        schema = self.store.schema()
        label = m.Label(
            uuid=str(uuidlib.uuid4()),
            operator=self.operator,
            clip=clip.sha256,
            schema_version=schema.version if schema else 0,
            values=list(values),
            segments=list(segments or []),
            telemetry=dict(telemetry or {}),
            created_at=time.time(),
            lease_id=lease_id,
            review=review,
        )
        self.store.record_label(label)  # durable before anything else happens
        self.last_label = label
        self.sync()  # sent now unless the outbox is still draining (then in its turn)
        self.emit(ev.Labelled(uuid=label.uuid, outbox=self.store.outbox_count()))
        if clip.answer is not None:  # training: show the right answer after the label
            correct = list(values) == [clip.answer]
            self.emit(ev.TrainingFeedback(answer=clip.answer, correct=correct))
        self.pump()
        return label

    def skip(self, clip: m.ClipRef) -> None:
        if self.operator:
            self.store.set_queue_state(self.operator, clip.sha256, "skipped")
            self.pump()

    def undo(self) -> m.Label | None:
        """Take back the last label: out of the outbox, or retracted at the hub if it left."""
        label = self.last_label
        if label is None:
            return None
        self.last_label = None
        taken = self.store.undo_label(label.uuid)
        if taken is None or label.uuid in self._sent_at:
            retract = m.Retract(uuid=label.uuid, operator=label.operator)
            self.store.record_message(m.retract_id(label.uuid), "retract", retract)
            if taken is None:
                self.store.set_queue_state(label.operator, label.clip, "pending")
            self.sync()  # sends what is new (the retraction), not everything in flight
        self._sent_at.pop(label.uuid, None)
        self._status_changed()
        return label

    def alert(self, clip: m.ClipRef) -> None:
        """'This affected me': queued like a label, so staff hear of it even after an outage."""
        if not self.operator:
            return
        alert = m.Alert(
            uuid=str(uuidlib.uuid4()),
            operator=self.operator,
            clip=clip.sha256,
            created_at=time.time(),
        )
        self.store.record_message(alert.uuid, "alert", alert)
        self.sync()

    def break_taken(self, started_at: float, seconds: float, kind: str) -> None:
        """A break the operator took, for staff (hours and breaks per operator); queued like
        a label, so it reaches the hub after an outage too."""
        if not self.operator or seconds <= 0:
            return
        taken = m.BreakTaken(
            uuid=str(uuidlib.uuid4()),
            operator=self.operator,
            started_at=started_at,
            seconds=round(seconds, 3),
            enforced=kind == "enforced",
            kind=kind,
        )
        self.store.record_message(taken.uuid, "break", taken)
        self.sync()

    def _go_back(self) -> None:
        """Send again from the oldest unacknowledged outbox item, with a fresh window."""
        self._upload.reset()
        self._sent_seq = 0

    def sync(self) -> int:
        """Send the outbox items not yet sent on this connection, oldest first, in batches, as
        far as the upload window allows (kiosk/upload.py); acknowledgements call it again.
        Returns how many items were sent."""
        if not self.online:
            return 0
        now = time.monotonic()
        oldest = self._upload.oldest_sent_at()
        if oldest is not None and now - oldest > RESEND_AFTER:
            self._go_back()
        room = self._upload.room()
        sent = 0
        capabilities = self.store.hub_capabilities()
        batch: list[m.Label] = []
        batch_bytes = 0

        def flush() -> None:
            nonlocal batch, batch_bytes, room
            if batch and self._send(m.LabelBatch(labels=batch)):
                self._upload.sent([label.uuid for label in batch], batch_bytes, now)
                room -= batch_bytes
            batch, batch_bytes = [], 0

        while room > 0:
            items = self.store.outbox_after(self._sent_seq, limit=SYNC_BATCH * 4)
            if not items:
                break
            for seq, nbytes, item in items:
                uuid = m.retract_id(item.uuid) if isinstance(item, m.Retract) else item.uuid
                if uuid in self._held:
                    self._sent_seq = seq  # refused until the hub sees a login again
                    continue
                if room - batch_bytes < nbytes and (batch or self._upload.in_flight):
                    room = 0  # the window is full: the rest goes as acknowledgements come
                    break
                if isinstance(item, m.Label):
                    batch.append(item)
                    batch_bytes += nbytes
                    if len(batch) >= SYNC_BATCH:
                        flush()
                elif isinstance(item, m.Logout) and CAP_LOGOUT_AT not in capabilities:
                    # a hub that does not take its time (nor acknowledge it): the plain
                    # logout, once, as such a hub always had it
                    flush()
                    if self._send(m.Logout(operator=item.operator)):
                        self.store.acked([uuid])
                else:
                    flush()
                    if self._send(item):
                        self._upload.sent([uuid], nbytes, now)
                        room -= nbytes
                self._sent_seq = seq
                self._sent_at[uuid] = now
                sent += 1
            flush()
        if sent:
            self._status_changed()
        return sent
