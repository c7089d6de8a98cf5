"""What the hub does with each message from a kiosk. No sockets: `handle` maps a message to
replies, so the rules are tested fast; `hub.site.router` moves the bytes."""

from __future__ import annotations

import json
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import msgspec

from protocol import messages as m
from protocol.codec import ChunkFrames
from protocol.constants import (
    CAP_KIOSK_VERIFIER,
    CAP_LOGOUT_AT,
    CAP_RESUME,
    CHUNK_SIZE,
    MAX_CHUNK,
    MIN_CHUNK,
)
from protocol.errors import ErrorCode
from protocol.pins import kiosk_verifier, verify_login_proof, verify_pin
from protocol.version import package_version

from .consensus.assignment import ClipState, OperatorStats, gold_quota, is_training, votes_wanted
from .consensus_fit import ConsensusFit
from .database_state import DatabaseState
from .pairing import BURN_AFTER, FORGET_SECONDS, PairingGuard
from .project import ProjectConfig, to_policy
from .ratelimit import TokenBucket
from .store import STORED, UNKNOWN_CLIP, BatchOutcome, DatabaseUnavailable, NewLabel, Store
from .store.kiosk_locks import kiosk_locked_until, kiosk_pin_failed, kiosk_pin_ok
from .store.pairing_counts import count_wrong_pair_code

log = logging.getLogger(__name__)

#: Most chunks a kiosk may ask for in one Fetch (bounded queues on both sides), and most
#: bytes of chunks one Fetch may ask for.
MAX_CREDIT = 32
MAX_FETCH_BYTES = 8 * 1024 * 1024
#: Most clips in one Assign.
MAX_ASSIGN = 50

#: This hub's software version (the installed distribution's, `protocol.version`).
HUB_VERSION = package_version()
#: Clip files kept open for chunked reads.
OPEN_FILES = 64
#: Sizes of clips handed out, kept so that their fetches need no database read (a clip's
#: content, and so its size, never changes: it is named by its sha256).
CLIP_SIZES = 100_000
#: Seconds the answer to "is there any gold?" is reused (asked by every request for work;
#: staff add gold rarely, and a request a few seconds late to see it loses nothing).
HAS_GOLD_SECONDS = 5.0
#: Seconds a kiosk's paired state is trusted before the store is asked again.
PAIRED_RECHECK = 2.0
#: Messages a kiosk may send per second (a label batch is one message), and at once.
RATE_PER_SECOND = 5000.0
RATE_BURST = 10000.0
#: Wrong PINs at one kiosk (any operators) before the kiosk is locked out, and for how long
#: (doubling with each further failure).
KIOSK_LOCK_AFTER = 10
KIOSK_LOCK_SECONDS = 30.0
#: A login the hub has seen at a kiosk covers that operator's labels, retractions, alerts and
#: breaks from that kiosk for this long (a shift, and an outage overnight); after it the
#: operator logs in again, online or offline (the proof travels in the outbox).
LOGIN_COVERS_SECONDS = 24 * 3600.0
#: A kiosk that reconnects (to this or another process of the site) carries on an operator's
#: session without a PIN (`Resume`) within this long of the login the hub saw (a shift); after
#: it, the kiosk logs the operator in with the PIN again. A resume never extends the session.
RESUME_WITHIN_SECONDS = 12 * 3600.0


@dataclass
class KioskSession:
    kiosk_id: str
    operators: set[str] = field(default_factory=set)
    seen: float = 0.0
    paired_checked: float = 0.0
    key: str = ""
    bucket: TokenBucket = field(default_factory=lambda: TokenBucket(RATE_PER_SECOND, RATE_BURST))
    capabilities: frozenset[str] = frozenset()


def error(code: ErrorCode, detail: str, ref: str | None = None) -> m.Error:
    return m.Error(code=code.value, detail=detail, ref=ref)


@dataclass
class StagedLabels:
    """A kiosk's checked labels waiting to be stored with the other kiosks' labels of the
    router's slice (`HubService.flush_labels`); `replies` is complete after that."""

    kiosk_id: str
    labels: list[m.Label]
    replies: list[msgspec.Struct]
    done: bool = False


class HubService:
    def __init__(
        self,
        store: Store,
        media_root: Path,
        project: ProjectConfig,
        schema: m.ProjectSchema,
        *,
        open_pairing: bool = False,
    ) -> None:
        self.store = store
        self.media_root = media_root
        self.project = project
        self.schema = schema
        self.open_pairing = open_pairing
        #: the site's hub id: the program's (the database's) id, with the site's name when
        #: several sites share the database (zeroconf names, Welcome, the dashboard)
        program, self.site = store.hub_id(), store.site
        self.hub_id = program if self.site == program else f"{program}-{self.site}"
        self.fingerprint = ""  # of the hub's CurveZMQ key, set by the server
        #: whether the database is reachable (the router keeps it; the web shows it)
        self.database = DatabaseState()
        self.sessions: dict[str, KioskSession] = {}
        #: (kiosk, operator) -> when the hub last saw that login (a cache of the store's)
        self._logins: dict[tuple[str, str], float] = {}
        #: rate limits and lock-outs of the pairing socket
        self.pairing = PairingGuard()
        #: (operator, PIN) -> (the PIN hash checked against, the answer): PINs checked ahead
        #: of their Login's turn, outside the router's write transaction (`precheck_login`)
        self._pin_checks: dict[tuple[str, str], tuple[str, bool]] = {}
        self._values = {label.value for label in schema.labels}
        self._rank = {label.value: i for i, label in enumerate(schema.labels)}
        self.policy = to_policy(project)
        self._open_files: OrderedDict[str, tuple[int, int]] = OrderedDict()
        self._sizes: OrderedDict[str, int] = OrderedDict()
        self._has_gold: tuple[float, bool] = (-HAS_GOLD_SECONDS, False)  # (when asked, answer)
        #: operator -> statistics kept in step with each stored label (no history re-reads)
        self._stats: dict[str, OperatorStats] = {}
        self._retractions = 0
        #: other hub processes share the store (`--workers`): state another process may
        #: change is read from the store, not from this process's memory
        self.shared_store = False
        #: the last Dawid-Skene fit (the housekeeping refits from it)
        self.fit = ConsensusFit(schema, self.policy)
        self._expired_at = 0.0
        #: while the router handles a slice: label batches checked and waiting to be stored
        #: together at its end (`flush_labels`); None: each batch is stored at once
        self.staging: list[StagedLabels] | None = None
        #: called with the seconds each request for work took (the server's metrics)
        self.on_assign: Callable[[float], None] = lambda seconds: None
        #: sessions carried on without a PIN check (`Resume`), and resumes refused
        self.resumed = 0
        self.resume_refused = 0

    @property
    def retractions(self) -> int:
        """Labels taken back since start-up (each one makes the next consensus fit a full one)."""
        return self._retractions

    def retraction_mark(self, store: Store) -> int:
        """What tells the consensus fit that a label was taken back: this process's count, or
        with several processes on one store (`shared_store`) the store's (another process
        may have taken one back). `store`: the connection of the calling thread."""
        if self.shared_store:
            from .store.retractions import retracted_labels

            return retracted_labels(store)
        return self._retractions

    # ---- entry point ---------------------------------------------------------------------

    def handle(self, kiosk_id: str, msg: msgspec.Struct, key: str = "") -> list[msgspec.Struct]:
        """Replies to one message on the kiosk socket. `key` is the peer's CURVE public key
        (as the ZAP handler admitted it). Must not raise for anything a peer can send."""
        if isinstance(msg, m.Hello):
            return self._hello(kiosk_id, msg, key)
        session = self.sessions.get(kiosk_id)
        if session is None:
            return [error(ErrorCode.NOT_HELLO, "send Hello first")]
        if session.key != key:
            return [error(ErrorCode.UNPAIRED, "this key is not the one paired with this kiosk id")]
        now = time.time()
        if now - session.paired_checked > PAIRED_RECHECK:
            if not self.store.is_paired(kiosk_id):
                self.sessions.pop(kiosk_id, None)
                return [error(ErrorCode.UNPAIRED, "this kiosk is not paired with this hub")]
            session.paired_checked = now
        session.seen = now
        if not session.bucket.take(now):
            return [error(ErrorCode.RATE_LIMITED, f"more than {RATE_PER_SECOND:.0f} messages/s")]
        match msg:
            case m.Heartbeat():
                # an operator shows on the dashboard only with a login seen at this kiosk
                claimed = (
                    msg.operator
                    if msg.operator and self.logged_in(kiosk_id, msg.operator)
                    else None
                )
                self.store.kiosk_seen(
                    kiosk_id, outbox=msg.outbox, cache_bytes=msg.cache_bytes, operator=claimed
                )
                return [m.Heartbeat()]
            case m.Login():
                return self._login(session, msg)
            case m.Resume():
                return self._resume(session, msg)
            case m.Logout() if msg.uuid:
                return self._logout_at(session, msg)
            case m.Logout():
                if msg.operator in session.operators:
                    session.operators.discard(msg.operator)
                    self.store.log_session(msg.operator, kiosk_id, "logout")
                return []
            case m.RequestWork():
                started = time.perf_counter()
                assigned = self._request_work(session, msg)
                self.on_assign(time.perf_counter() - started)
                return assigned
            case m.Fetch():
                return list(self._fetch(msg))
            case m.Label():
                return self._labels(session, [msg])
            case m.LabelBatch():
                return self._labels(session, msg.labels)
            case m.OfflineLogin():
                return self._offline_login(kiosk_id, msg)
            case m.Retract():
                if not self.logged_in(kiosk_id, msg.operator):
                    return [self._refuse(kiosk_id, msg.operator, m.retract_id(msg.uuid), "retract")]
                if self.store.retract_label(msg.uuid, msg.operator, kiosk=kiosk_id):
                    self._retractions += 1  # the next consensus fit starts over
                self._stats.pop(msg.operator, None)
                return [m.Ack(uuids=[m.retract_id(msg.uuid)])]
            case m.Alert():
                if self.store.operator(msg.operator) is None:
                    return [error(ErrorCode.BAD_LABEL, "unknown operator", ref=msg.uuid)]
                if not self.logged_in(kiosk_id, msg.operator):
                    return [self._refuse(kiosk_id, msg.operator, msg.uuid, "alert")]
                self.store.add_alert(msg.uuid, msg.operator, msg.clip, kiosk_id, msg.created_at)
                return [m.Ack(uuids=[msg.uuid])]
            case m.BreakTaken():
                if self.store.operator(msg.operator) is None:
                    return [error(ErrorCode.BAD_LABEL, "unknown operator", ref=msg.uuid)]
                if not self.logged_in(kiosk_id, msg.operator):
                    return [self._refuse(kiosk_id, msg.operator, msg.uuid, "break")]
                if not (0 <= msg.seconds <= 86400 and 0 <= msg.started_at < 2**40):
                    return [error(ErrorCode.BAD_LABEL, "break length out of range", ref=msg.uuid)]
                self.store.add_break(
                    msg.uuid,
                    msg.operator,
                    kiosk_id,
                    msg.started_at,
                    msg.seconds,
                    msg.enforced,
                    msg.kind[:20],
                )
                return [m.Ack(uuids=[msg.uuid])]
        return [error(ErrorCode.UNKNOWN_TYPE, f"a hub does not take {type(msg).__name__}")]

    def roster(self, kiosk_id: str, capabilities: Iterable[str] = ()) -> list[m.RosterEntry]:
        """What kiosk `kiosk_id` keeps for offline logins: a verifier per operator keyed to
        that kiosk (protocol.pins.kiosk_verifier), never the stored hash. A kiosk that does
        not say it checks verifiers gets no roster (it logs operators in online only)."""
        if CAP_KIOSK_VERIFIER not in capabilities:
            return []
        return [
            m.RosterEntry(operator=o, name=n, pin_hash=kiosk_verifier(h, kiosk_id))
            for o, n, h in self.store.roster()
        ]

    # ---- operator identity ---------------------------------------------------------------

    def logged_in(self, kiosk_id: str, operator: str, now: float | None = None) -> bool:
        """Has the hub seen `operator` log in at `kiosk_id` lately (LOGIN_COVERS_SECONDS)?"""
        now = time.time() if now is None else now
        at = self._logins.get((kiosk_id, operator))
        if at is None or now - at > LOGIN_COVERS_SECONDS:
            # not known here, or too old here: another process of the site may have seen a
            # newer login (the store is where logins live; this is a cache of it)
            at = self.store.kiosk_login_at(kiosk_id, operator)
            if at is None:
                return False
            self._logins[(kiosk_id, operator)] = at
        return now - at <= LOGIN_COVERS_SECONDS

    def _note_login(self, kiosk_id: str, operator: str, at: float | None = None) -> None:
        """Record a login seen at a kiosk, as of `at` (never later than now)."""
        now = time.time() if at is None else min(at, time.time())
        self._logins[(kiosk_id, operator)] = self.store.note_kiosk_login(kiosk_id, operator, now)

    def _refuse(self, kiosk_id: str, operator: str, ref: str, what: str) -> m.Error:
        """A message for an operator with no login seen at this kiosk: refused, counted."""
        detail = f"{what} for {operator!r}: no login of this operator seen at this kiosk"
        self.store.refuse(kiosk_id, ErrorCode.NOT_LOGGED_IN.value, detail)
        return error(ErrorCode.NOT_LOGGED_IN, detail, ref=ref)

    def _logout_at(self, session: KioskSession, msg: m.Logout) -> list[msgspec.Struct]:
        """A logout from the kiosk's outbox, with its own time (`CAP_LOGOUT_AT`): made offline,
        or sent again after a lost acknowledgement. It ends this operator's session at this
        kiosk if that session is still open, as of `msg.at` (`Store.end_session`: not before
        the login, not after now), so that hours stop where the operator stopped, not when
        the link came back. Acknowledged either way: sent again, it changes nothing."""
        session.operators.discard(msg.operator)
        if self.store.end_session(session.kiosk_id, msg.operator, msg.at) is None:
            log.info("logout of %r at kiosk %s: no open session", msg.operator, session.kiosk_id)
        return [m.Ack(uuids=[msg.uuid])]

    def _offline_login(self, kiosk_id: str, msg: m.OfflineLogin) -> list[msgspec.Struct]:
        op = self.store.operator(msg.operator)
        if (
            op is not None
            and op["active"]
            and verify_login_proof(
                op["pin_hash"], msg.proof, kiosk_id, msg.operator, msg.uuid, msg.at
            )
        ):
            # as of the login itself: an old proof sent again covers no new work
            self._note_login(kiosk_id, msg.operator, at=msg.at)
            self.store.log_session(msg.operator, kiosk_id, "login")
            return [m.Ack(uuids=[msg.uuid])]
        detail = f"offline login of {msg.operator!r} without a valid proof"
        self.store.refuse(kiosk_id, ErrorCode.BAD_PIN.value, detail)
        return [error(ErrorCode.BAD_PIN, detail, ref=msg.uuid)]

    # ---- handlers ------------------------------------------------------------------------

    def pair(
        self, kiosk_id: str, msg: msgspec.Struct, key: str, source: str = ""
    ) -> list[msgspec.Struct]:
        """The pairing socket: only a Hello with a valid one-time code is heard here, from a
        source within its rate and not locked out (`hub.pairing`)."""
        now = time.time()
        why = self.pairing.admit(source, now)
        if why:
            code = ErrorCode.LOCKED if why == "locked" else ErrorCode.RATE_LIMITED
            return [error(code, "too many pairing attempts: wait, or ask staff")]
        if not isinstance(msg, m.Hello) or not msg.pair_code:
            return [error(ErrorCode.UNPAIRED, "pairing needs a Hello with a code from staff")]
        outcome = self.store.claim_pair_code(msg.pair_code, kiosk_id, public_key=key or None)
        if outcome == "wrong":
            counted = self.pairing.total_wrong
            burn = self.pairing.wrong_code(source, now, msg.pair_code)
            if self.pairing.total_wrong > counted:  # a new wrong code: the site counts it too
                burn = count_wrong_pair_code(self.store, now, BURN_AFTER, FORGET_SECONDS) or burn
            if burn:
                withdrawn = self.store.withdraw_pair_codes(now)
                log.warning(
                    "pairing: %d wrong codes, %d open codes withdrawn", BURN_AFTER, withdrawn
                )
            return [error(ErrorCode.UNPAIRED, "pairing code wrong, used or expired")]
        if outcome:
            detail = {
                "in_use": "this kiosk id is paired with another key: staff must make a "
                "re-pairing code for it",
                "other_kiosk": "this code re-pairs another kiosk id",
            }[outcome]
            self.pairing.wrong_code(source, now, f"{outcome}:{kiosk_id}")  # trying ids in use?
            return [error(ErrorCode.UNPAIRED, detail)]
        self.pairing.paired(source)
        self.sessions.pop(kiosk_id, None)
        return [self._welcome(kiosk_id, msg.capabilities)]

    def _welcome(self, kiosk_id: str, capabilities: Iterable[str] = ()) -> m.Welcome:
        return m.Welcome(
            hub_id=self.hub_id,
            project=self.schema,
            roster=self.roster(kiosk_id, capabilities),
            server_time=time.time(),
            # what the kiosk named of this hub's (kiosks of the previous release name none and
            # refuse the field: it is left out when empty)
            capabilities=[c for c in (CAP_RESUME, CAP_LOGOUT_AT) if c in capabilities],
        )

    def _hello(self, kiosk_id: str, msg: m.Hello, key: str) -> list[msgspec.Struct]:
        if not self.store.is_paired(kiosk_id) and self.open_pairing:
            self.store.pair_kiosk(kiosk_id, key or None)
        kiosk = self.store.kiosk(kiosk_id)
        if kiosk is None or not kiosk["active"]:
            return [error(ErrorCode.UNPAIRED, "not paired: ask staff for a pairing code")]
        if (kiosk["public_key"] or "") != key:
            return [error(ErrorCode.UNPAIRED, "this key is not the one paired with this kiosk id")]
        self.sessions[kiosk_id] = KioskSession(
            kiosk_id, seen=time.time(), key=key, capabilities=frozenset(msg.capabilities)
        )
        self.store.kiosk_seen(kiosk_id, version=msg.version)
        return [self._welcome(kiosk_id, msg.capabilities)]

    def precheck_login(self, kiosk_id: str, msg: m.Login, key: str) -> None:
        """Check a Login's PIN before its turn, outside any transaction (one read, one scrypt
        of ~36 ms): inside the router's write transaction it would keep the database's write
        lock from the site's other processes that long, and the kiosks of a process that died
        all log in again at once. Only for a kiosk's own session, not locked out; the Login's
        turn takes the answer if the PIN hash is still the one checked against. The router
        runs the scrypt in a thread instead (`pin_to_check`, `check_pin`, `pin_checked`), so
        its event loop keeps beating meanwhile."""
        stored = self.pin_to_check(kiosk_id, msg, key)
        if stored is not None:
            self.pin_checked(msg, stored, self.check_pin(msg.pin, stored))

    def pin_to_check(self, kiosk_id: str, msg: m.Login, key: str) -> str | None:
        """The PIN hash to check a Login's PIN against ahead of its turn; None: none (not the
        kiosk's own session, kiosk or operator locked out, no such operator)."""
        session = self.sessions.get(kiosk_id)
        if session is None or session.key != key:
            return None
        if kiosk_locked_until(self.store, kiosk_id) > time.time():
            return None
        op = self.store.operator(msg.operator)
        if op is None or not op["active"] or op["locked_until"] > time.time():
            return None
        return str(op["pin_hash"])

    @staticmethod
    def check_pin(pin: str, stored: str) -> bool:
        """One scrypt: no state, no store (the router calls it in a worker thread)."""
        return verify_pin(pin, stored)

    def pin_checked(self, msg: m.Login, stored: str, ok: bool) -> None:
        """Keep the answer of a PIN checked ahead, for its Login's turn."""
        if len(self._pin_checks) >= 256:  # Logins that never got their turn
            self._pin_checks.clear()
        self._pin_checks[(msg.operator, msg.pin)] = (stored, ok)

    def _login(self, session: KioskSession, msg: m.Login) -> list[msgspec.Struct]:
        # wrong PINs at a kiosk are counted in the store: every process of the site sees them
        if kiosk_locked_until(self.store, session.kiosk_id) > time.time():
            return [m.LoginResult(operator=msg.operator, ok=False, reason="locked")]
        result = self._check_login(session, msg)
        if result[0].ok:  # type: ignore[attr-defined]
            kiosk_pin_ok(self.store, session.kiosk_id)
        else:
            kiosk_pin_failed(
                self.store, session.kiosk_id, time.time(), KIOSK_LOCK_AFTER, KIOSK_LOCK_SECONDS
            )
        return result

    def _check_login(self, session: KioskSession, msg: m.Login) -> list[msgspec.Struct]:
        op = self.store.operator(msg.operator)
        if op is None or not op["active"]:
            return [m.LoginResult(operator=msg.operator, ok=False, reason="bad_pin")]
        if op["locked_until"] > time.time():
            return [m.LoginResult(operator=msg.operator, ok=False, reason="locked")]
        checked = self._pin_checks.pop((msg.operator, msg.pin), None)
        if checked is not None and checked[0] == op["pin_hash"]:
            ok = checked[1]
        else:
            ok = verify_pin(msg.pin, op["pin_hash"])
        locked = self.store.record_login(msg.operator, ok)
        if not ok:
            return [
                m.LoginResult(
                    operator=msg.operator, ok=False, reason="locked" if locked else "bad_pin"
                )
            ]
        self._note_login(session.kiosk_id, msg.operator)
        self.store.log_session(msg.operator, session.kiosk_id, "login")
        return [self._logged_in(session, msg.operator, op["name"])]

    def _logged_in(self, session: KioskSession, operator: str, name: str) -> m.LoginResult:
        """The answer to a login or a resume the hub accepted: the operator works at this
        kiosk from now on (asks for work here)."""
        session.operators.add(operator)
        # from the store again: the operator may have worked at another process of the site
        self._stats.pop(operator, None)
        training = self.in_training(operator)
        self.store.kiosk_seen(session.kiosk_id, operator=operator)
        midnight = time.mktime(time.localtime()[:3] + (0, 0, 0, 0, 0, -1))
        return m.LoginResult(
            operator=operator,
            ok=True,
            name=name,
            training=training,
            exposure_min=round(self.store.exposure_minutes(operator, midnight), 2),
        )

    def _resume(self, session: KioskSession, msg: m.Resume) -> list[msgspec.Struct]:
        """Carry on a session after a reconnect, without a PIN check (no scrypt: the kiosks
        of a process that died all come back at once). What proves it: the kiosk is the one
        its paired CURVE key says (`handle` checked the key against the session's, the
        session's against the store at Hello), and the store has this operator's login at
        this very kiosk, recent (RESUME_WITHIN_SECONDS), and still open: not ended by a
        logout, another operator's login here, or this operator's login at another kiosk.
        The operator must be active and not locked out, the kiosk not locked out. Anything
        else is refused with a `LoginResult` that is not ok: the kiosk then logs the
        operator in with the PIN, as it does at a hub without resumes."""
        kiosk_id, operator, now = session.kiosk_id, msg.operator, time.time()
        op = self.store.operator(operator)
        began = None
        if kiosk_locked_until(self.store, kiosk_id) > now or (op and op["locked_until"] > now):
            why = "locked"
        elif op is None or not op["active"]:
            why = "no_session"
        else:
            began = self.store.open_session(kiosk_id, operator, now - RESUME_WITHIN_SECONDS)
            why = "no_session" if began is None or now - began > RESUME_WITHIN_SECONDS else ""
        if why or op is None or began is None:
            self.resume_refused += 1
            log.info("resume of %r at kiosk %s refused (%s)", operator, kiosk_id, why)
            return [m.LoginResult(operator=operator, ok=False, reason=why)]
        self._logins[(kiosk_id, operator)] = max(self._logins.get((kiosk_id, operator), 0.0), began)
        self.resumed += 1
        log.info("operator %r resumed at kiosk %s without a PIN check", operator, kiosk_id)
        return [self._logged_in(session, operator, op["name"])]

    def operator_stats(self, operator: str) -> OperatorStats:
        stats = self._stats.get(operator)
        if stats is None:
            labels, gold_labels, results, passed = self.store.operator_history(operator)
            stats = OperatorStats(
                labels=labels,
                gold_labels=gold_labels,
                training_results=tuple(results),
                passed_training=passed,
            )
            self._stats[operator] = stats
        return stats

    def _count_label(self, operator: str, gold: str | None, values: list[str]) -> None:
        """Keep the cached statistics of `operator` in step with a label just stored."""
        stats = self._stats.get(operator)
        if stats is None:
            return
        results = stats.training_results + ((values == [gold],) if gold is not None else ())
        if stats.passed_training:
            stats = replace(
                stats,
                labels=stats.labels + 1,
                gold_labels=stats.gold_labels + (gold is not None),
                training_results=results,
            )
        else:
            stats = replace(stats, training_results=results)
        self._stats[operator] = stats

    def in_training(self, operator: str) -> bool:
        """New operators label gold clips (and see the answer) until they pass the bar."""
        if self.policy.training_gold == 0 or not self._any_gold():
            return False
        return is_training(self.operator_stats(operator), self.policy)

    def _any_gold(self) -> bool:
        asked, answer = self._has_gold
        if time.monotonic() - asked >= HAS_GOLD_SECONDS:
            answer = self.store.has_gold()
            self._has_gold = (time.monotonic(), answer)
        return answer

    def _request_work(self, session: KioskSession, msg: m.RequestWork) -> list[msgspec.Struct]:
        if msg.operator not in session.operators:
            return [error(ErrorCode.NOT_LOGGED_IN, "log in first", ref=msg.operator)]
        count = max(0, min(msg.count, MAX_ASSIGN))
        if time.monotonic() - self._expired_at >= 1.0:  # housekeeping also does it
            self.store.expire_leases()
            self._expired_at = time.monotonic()
        training = self.in_training(msg.operator)
        gold = 0 if training else gold_quota(self.operator_stats(msg.operator), count, self.policy)
        lease_id, expires, clips = self.store.assign(
            msg.operator,
            session.kiosk_id,
            count,
            lease_seconds=self.project.lease_minutes * 60,
            exclude=msg.exclude,
            gold=gold,
            training=training,
        )
        for c in clips:
            self._sizes[c["sha256"]] = int(c["size"])
        while len(self._sizes) > CLIP_SIZES:
            self._sizes.popitem(last=False)
        # operators never see a model's guess, unless the project asks for review mode
        suggested: dict[str, str] = {}
        if self.schema.review_mode and not training:
            from .models.runtime import suggestions

            suggested = suggestions(self.store, [c["sha256"] for c in clips if c["gold"] is None])
        return [
            m.Assign(
                operator=msg.operator,
                lease_id=lease_id,
                expires_at=expires,
                clips=[
                    m.ClipRef(
                        clip_id=c["sha256"],
                        sha256=c["sha256"],
                        size=c["size"],
                        name=c["name"],
                        duration=c["duration"],
                        # the answer only goes out in training, to be shown after the label
                        answer=c["gold"] if training else None,
                        suggestion=suggested.get(c["sha256"]),
                        tone=self._tone(c),
                    )
                    for c in clips
                ],
            )
        ]

    def _tone(self, clip: dict) -> str:
        """'neutral' / 'disturbing' from a gold answer or the consensus so far ('' = unknown),
        sent only when the project interleaves neutral clips."""
        if not self.schema.interleave_neutral:
            return ""
        known = clip.get("gold") or clip.get("consensus")
        if not known:
            return ""
        return "neutral" if known in self.schema.neutral_labels else "disturbing"

    def media_path(self, sha256: str) -> Path | None:
        """The stored file for a clip the hub created; None for anything else."""
        if len(sha256) != 64 or any(ch not in "0123456789abcdef" for ch in sha256):
            return None
        path = self.media_root / sha256[:2] / f"{sha256}.mp4"
        return path if path.is_file() else None

    def _open_clip(self, sha256: str) -> tuple[int, int] | None:
        """(file descriptor, size) of a stored clip, kept open for the next chunks."""
        entry = self._open_files.get(sha256)
        if entry is not None:
            self._open_files.move_to_end(sha256)
            return entry
        size = self._sizes.get(sha256)
        if size is None:
            clip = self.store.clip(sha256) if len(sha256) == 64 else None
            size = None if clip is None else int(clip["size"])
        path = self.media_path(sha256) if size is not None else None
        if size is None or path is None:
            return None
        entry = (os.open(path, os.O_RDONLY), size)
        self._open_files[sha256] = entry
        while len(self._open_files) > OPEN_FILES:
            _, (fd, _size) = self._open_files.popitem(last=False)
            os.close(fd)
        return entry

    def _fetch(self, msg: m.Fetch) -> Iterator[msgspec.Struct | ChunkFrames]:
        """`credit` chunks from `offset`: inline in the msgpack (CHUNK_SIZE bytes each), or,
        when the kiosk asks for a `chunk_size`, as header + data frames of that size."""
        entry = self._open_clip(msg.sha256)
        if entry is None:
            yield error(ErrorCode.NOT_FOUND, "no such clip", ref=msg.sha256)
            return
        fd, size = entry
        if msg.offset < 0 or msg.offset > size:
            yield error(ErrorCode.MALFORMED, f"offset {msg.offset} outside 0..{size}", msg.sha256)
            return
        framed = msg.chunk_size > 0
        chunk = min(max(msg.chunk_size, MIN_CHUNK), MAX_CHUNK) if framed else CHUNK_SIZE
        credit = max(1, min(msg.credit, MAX_CREDIT, MAX_FETCH_BYTES // chunk))
        offset = msg.offset
        for _ in range(credit):
            # a fresh bytes object per chunk: the router hands it to ZeroMQ without a copy,
            # and ZeroMQ may still hold it when the next chunk is read
            data = os.pread(fd, min(chunk, size - offset), offset)
            if not data:
                break
            if framed:
                head = m.Chunk(sha256=msg.sha256, offset=offset, size=size, length=len(data))
                yield ChunkFrames(head, data)
            else:
                yield m.Chunk(sha256=msg.sha256, offset=offset, size=size, data=data)
            offset += len(data)

    def _labels(self, session: KioskSession, labels: list[m.Label]) -> list[Any]:
        """A batch of labels: each label checked, stored once (a retried uuid is acked again
        and changes nothing), a bad one refused alone with its uuid. In the router's slice
        (`staging`) the good ones wait to be stored with the other kiosks' (one store call
        for the slice): the reply is then a `StagedLabels`, complete after `flush_labels`."""
        replies: list[msgspec.Struct] = []
        operators = self.store.known_operators(label.operator for label in labels)
        good: list[m.Label] = []
        now = time.time()
        for label in labels:
            problem = self._check_label(label, operators)
            if problem:
                replies.append(error(ErrorCode.BAD_LABEL, problem, ref=label.uuid))
            elif not self.logged_in(session.kiosk_id, label.operator, now):
                replies.append(self._refuse(session.kiosk_id, label.operator, label.uuid, "label"))
            else:
                good.append(label)
        if not good:
            return replies
        for operator in {label.operator for label in good}:
            self.operator_stats(operator)  # counted from here on, label by label
        staged = StagedLabels(session.kiosk_id, good, replies)
        if self.staging is not None:
            self.staging.append(staged)
            return [staged]
        self._store_staged([staged])
        return staged.replies

    def staged_labels(self) -> int:
        """Labels staged in the router's slice so far."""
        return sum(len(staged.labels) for staged in self.staging or ())

    def waits_for_labels(self, kiosk_id: str, msg: msgspec.Struct) -> bool:
        """Whether the labels this kiosk sent earlier in the slice must be stored before
        `msg` is handled (anything but more labels, a beat or a fetch may depend on them:
        a retraction, a logout, a request for work)."""
        if not self.staging or isinstance(msg, m.Label | m.LabelBatch | m.Heartbeat | m.Fetch):
            return False
        return any(staged.kiosk_id == kiosk_id for staged in self.staging)

    def flush_labels(self) -> None:
        """Store every staged label batch of the slice in one store call (in a savepoint of
        the slice's transaction; the router calls it between messages, never inside one).
        If that fails, each batch is stored on its own, so that one failing batch gets an
        internal error alone. A lost database is raised: the whole slice is lost."""
        staged = self.staging or []
        if self.staging is not None:
            self.staging = []
        if not staged:
            return
        try:
            self._store_staged(staged)
        except DatabaseUnavailable:
            raise
        except Exception:  # a bug must not cost the other kiosks their labels
            log.exception("storing the label batches of %d kiosks at once", len(staged))
            for one in staged:
                try:
                    self._store_staged([one])
                except DatabaseUnavailable:
                    raise
                except Exception:
                    log.exception("storing a label batch from %s", one.kiosk_id)
                    one.replies.insert(0, error(ErrorCode.INTERNAL, "internal error"))
                    one.done = True

    def _store_staged(self, staged: list[StagedLabels]) -> None:
        """The labels of these batches in one store call (each label keeps its kiosk), in a
        transaction of their own (a savepoint in the slice's); then each batch's replies."""
        good = [label for one in staged for label in one.labels]
        rows = [
            NewLabel(
                uuid=label.uuid,
                operator=label.operator,
                clip=label.clip,
                schema_version=label.schema_version,
                values=_json_list(label.values),
                segments=(
                    json.dumps([msgspec.to_builtins(x) for x in label.segments])
                    if label.segments
                    else "[]"
                ),
                telemetry=_JSON.encode(label.telemetry).decode(),
                created_at=label.created_at,
                lease_id=label.lease_id,
                review=label.review,
                kiosk=one.kiosk_id,
            )
            for one in staged
            for label in one.labels
        ]
        decide = self._vote_share if self.schema.kind == "single" else None
        with self.store.transaction():
            outcome = self.store.add_labels(staged[0].kiosk_id, rows, decide=decide)
            self._after_labels(good, outcome)
        statuses = iter(outcome.status)
        for one in staged:
            acked: list[str] = []
            for label in one.labels:
                if next(statuses) == UNKNOWN_CLIP:
                    one.replies.append(
                        error(
                            ErrorCode.NOT_FOUND, f"unknown clip {label.clip[:12]}", ref=label.uuid
                        )
                    )
                else:
                    acked.append(label.uuid)
            if acked:
                one.replies.insert(0, m.Ack(uuids=acked))
            one.done = True

    def _after_labels(self, labels: list[m.Label], outcome: BatchOutcome) -> list[str]:
        """Operator statistics and training, label by label. Returns the acked uuids. (Adaptive
        overlap, per clip, is done in the store's row update: `_vote_share`.)"""
        acked: list[str] = []
        passed: set[str] = set()  # statistics are read again from the store after this batch
        plain: dict[
            str, int
        ] = {}  # trained operators' labels on ordinary clips, counted at the end
        for label, status, at in zip(labels, outcome.status, outcome.received_at, strict=True):
            if status == UNKNOWN_CLIP:
                continue
            acked.append(label.uuid)
            if label.operator in passed:
                continue
            gold = outcome.clips[label.clip][0]
            if status == STORED:  # a retry of a label already here changes no count
                if gold is not None:
                    self._count_label(label.operator, gold, label.values)
                else:  # counted once trained; in training only answers on gold count
                    stats = self._stats.get(label.operator)
                    if stats is not None and stats.passed_training:
                        plain[label.operator] = plain.get(label.operator, 0) + 1
            if gold is not None:
                stats = self.operator_stats(label.operator)
                if not stats.passed_training and not is_training(stats, self.policy):
                    self.store.set_passed_training(label.operator, at=at)
                    self._stats.pop(label.operator, None)  # its counts start again from here
                    passed.add(label.operator)
        for operator, n in plain.items():
            stats = self._stats[operator]  # passed training: never popped above
            self._stats[operator] = replace(stats, labels=stats.labels + n)
        return acked

    def _vote_share(
        self, clip: str, votes: dict[str, int], n_labels: int
    ) -> tuple[str, float, int] | None:
        """Adaptive overlap right after a label: the vote share stands for the confidence
        until Dawid-Skene refines it (see refresh_consensus); a confident clip stops early, a
        contested one asks for more."""
        total = sum(votes.values())
        if not total:
            return None
        top = max(votes.items(), key=lambda kv: (kv[1], -self._rank.get(kv[0], 0)))
        confidence = top[1] / total
        state = ClipState(clip_id=clip, votes=n_labels, confidence=confidence)
        return top[0], confidence, n_labels + votes_wanted(state, self.policy)

    def refresh_consensus(self, reader: Store | None = None) -> int:
        """Dawid-Skene over all labels; each clip's consensus, confidence and wanted votes.
        Returns how many clips changed (only those are written).

        `reader` may be a second connection to read and fit from (e.g. in a worker thread).
        """
        rows = self.consensus_rows(reader or self.store)
        self.store.set_consensus(rows)
        return len(rows)

    def consensus_rows(self, store: Store, full: bool = False) -> list[tuple[str, float, int, str]]:
        """(consensus, confidence, wanted votes, clip) for the clips whose stored consensus
        Dawid-Skene now sees otherwise (`ConsensusFit.rows`, with this hub's retraction mark).
        `store`: the connection of the calling thread."""
        return self.fit.rows(store, self.retraction_mark(store), full)

    def _check_label(self, label: m.Label, operators: set[str]) -> str | None:
        """What is wrong with a label (None: nothing); `operators`: the known ones."""
        if label.operator not in operators:
            return f"unknown operator {label.operator!r}"
        unknown = [v for v in label.values if v not in self._values]
        if unknown:
            return f"values not in the project: {', '.join(map(repr, unknown))}"
        if self.schema.kind == "single" and len(label.values) != 1:
            return "a single-choice project takes exactly one value"
        return None


_JSON_LISTS: dict[tuple[str, ...], str] = {}
_JSON = msgspec.json.Encoder()


def _json_list(values: list[str]) -> str:
    """`json.dumps(values)`, remembered: a project has a handful of value combinations."""
    key = tuple(values)
    text = _JSON_LISTS.get(key)
    if text is None:
        text = json.dumps(values)
        if len(_JSON_LISTS) < 4096:
            _JSON_LISTS[key] = text
    return text
