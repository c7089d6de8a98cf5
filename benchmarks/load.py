"""Load generator: N simulated kiosks as real ZeroMQ DEALER clients against a real hub process.

Each simulated kiosk does what a kiosk does on the wire: Hello → Welcome, Login, RequestWork
→ Assign, Fetch → Chunks of its (small) clips with the sha256 checked, LabelBatch → Ack at a
configurable rate, and a Heartbeat every second. The kiosks are spread over a few client
processes (multiprocessing), each running one poll loop over its sockets.

Printed: labels acknowledged per second (the hub acks only after the commit, so these are
durable labels), assign / ack / fetch latency p50/p95/p99, heartbeats missed, hub CPU (from
/proc/<pid>/stat) and RSS, client CPU, errors; then, from the hub's database,
`over_assigned=0 repeated_for_operator=0` (expired-lease reassignments counted apart), and the
in-run baseline: a raw batched SQLite insert of the same label rows into the same schema (WAL,
synchronous=NORMAL), with the ours/raw ratio.

    python -m benchmarks.load                                   # 200 kiosks, 5 labels/s each
    python -m benchmarks.load --kiosks 50 --rate 0 --batch 200  # throughput: as fast as acked

`--rate 0` means "as fast as the hub acknowledges": each kiosk keeps at most `--window`
labels unacknowledged (an outbox draining after an outage). Target: ≥ 20 000
labels/s from 50 kiosks and ≥ 0.25× raw; 200 kiosks: assign p99 ≤ 20 ms, no missed beats.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import multiprocessing as mp
import os
import queue
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zmq

from benchmarks.common import machine, pct
from benchmarks.load_pg import RoundTrips, StatementStats, backend_pids, cpu_seconds
from protocol import codec
from protocol import messages as m
from protocol.constants import CHUNK_SIZE, HEARTBEAT_INTERVAL

PIN = "2468"
VALUES = ["gewelddadig", "niet_gewelddadig"]
#: Seconds after the window ends that kiosks wait for outstanding acks.
DRAIN = 15.0
#: Seconds over which the kiosks start labelling (each at its own random phase); `--ramp`.
RAMP = 1.0
#: Assign latencies from this many seconds into the window on are also shown on their own
#: (steady state: after the shift's start, when all kiosks ask for their first work at once).
STEADY_AFTER = 5.0
#: Seconds a kiosk waits before asking again after an empty Assign.
EMPTY_BACKOFF = 0.2


# ---- the one place client sockets are made (CurveZMQ goes here) ---------------------------


def client_socket(ctx: zmq.Context, endpoint: str, kiosk_id: str, server_key: str) -> zmq.Socket:
    """A kiosk's DEALER to the hub, as `kiosk.link.HubLink._open` makes it: CurveZMQ with the
    hub's public key (Z85) and a fresh key pair per simulated kiosk (the hub runs with
    --open-pairing, so Hello pairs that key). The only place this benchmark makes a socket.
    """
    sock = ctx.socket(zmq.DEALER)
    sock.curve_publickey, sock.curve_secretkey = zmq.curve_keypair()
    sock.curve_serverkey = server_key.encode()
    sock.setsockopt(zmq.ROUTING_ID, kiosk_id.encode())
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.IMMEDIATE, 1)
    sock.setsockopt(zmq.SNDHWM, 100_000)
    sock.setsockopt(zmq.RCVHWM, 100_000)
    sock.connect(endpoint)
    return sock


# ---- which clips are fetched (the seeder writes media only for those) ---------------------


def fetched(sha256: str, ratio: float) -> bool:
    return int(sha256[:8], 16) < ratio * 2**32


def clip_bytes(i: int, size: int) -> bytes:
    head = f"load-clip-{i}\n".encode()
    return head + bytes(max(0, size - len(head)))


# ---- one simulated kiosk -----------------------------------------------------------------


@dataclass
class Settings:
    endpoints: list[str]  # one per hub process; kiosk i talks to endpoints[i % len]
    server_key: str
    duration: float
    rate: float  # labels/s per kiosk; 0 = as fast as acked (bounded by `window`)
    batch: int  # labels per LabelBatch
    window: int  # most unacknowledged labels per kiosk
    request: int  # clips per RequestWork
    fetch_ratio: float
    credit: int = 8
    flush: float = 0.02  # seconds a partial batch may wait
    seed: int = 0
    trace: bool = False  # keep (kind, kiosk, sent, replied) of each RequestWork and Heartbeat
    ramp: float = RAMP  # seconds over which the kiosks' shifts start
    jitter: float = 0.0  # each label's interval is 1/rate × (1 ± jitter), uniform
    #: > 0: each kiosk holds this many labels in its outbox when the window opens (clips
    #: assigned and labelled before it, as offline) and only sends them in the window
    outbox: int = 0


@dataclass
class Stats:
    assign_ms: list[float] = field(default_factory=list)
    assign_steady_ms: list[float] = field(default_factory=list)  # after STEADY_AFTER s
    ack_ms: list[float] = field(default_factory=list)  # per label
    fetch_ms: list[float] = field(default_factory=list)  # per clip, Fetch → verified
    hb_ms: list[float] = field(default_factory=list)
    acks_per_second: collections.Counter[int] = field(default_factory=collections.Counter)
    last_ack: float = 0.0  # seconds from the window's start to the last ack in it
    acked: list[str] = field(default_factory=list)
    labels_sent: int = 0
    hb_sent: int = 0
    hb_missed: int = 0
    empty_assigns: int = 0
    fetched_bytes: int = 0
    bad_sha: int = 0
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    #: with --trace: (kind, kiosk, sent, replied, in the window) in CLOCK_MONOTONIC seconds
    trace: list[tuple[str, str, float, float, bool]] = field(default_factory=list)


class SimKiosk:
    def __init__(
        self, ctx: zmq.Context, kiosk_id: str, operator: str, s: Settings, stats: Stats
    ) -> None:
        self.id = kiosk_id
        self.operator = operator
        self.s = s
        self.st = stats
        endpoint = s.endpoints[int(kiosk_id.rsplit("-", 1)[1]) % len(s.endpoints)]
        self.sock = client_socket(ctx, endpoint, kiosk_id, s.server_key)
        self.rng = random.Random(f"{s.seed}-{kiosk_id}")
        self.state = "hello"
        self.schema_version = 0
        self.next_hb = 0.0
        self.hb_pending: collections.deque[float] = collections.deque()
        self.request_at: float | None = None
        self.request_after = 0.0
        self.assigned: collections.deque[tuple[str, int, str]] = collections.deque()
        self.fetching: dict[str, tuple[float, int, str, bytearray]] = {}
        self.ready: collections.deque[tuple[str, str]] = collections.deque()
        self.outbox: list[m.Label] = []
        self.outbox_since = 0.0
        self.unacked: dict[str, float] = {}
        self.made = 0
        self.t0 = 0.0
        self.working = False
        # kiosks are not in step: each starts labelling, and beats, at its own phase
        self.phase = self.rng.random()
        self.start_at: float | None = None
        self.next_label_at = 0.0
        #: --outbox: labels made before the window, sent in it (`window` unacked at most)
        self.backlog: collections.deque[m.Label] = collections.deque()

    @property
    def prefilled(self) -> bool:
        return self.s.outbox <= 0 or self.made >= self.s.outbox or self.state == "failed"

    def send(self, msg: Any) -> bool:
        try:
            self.sock.send(codec.encode(msg), zmq.NOBLOCK)
        except zmq.Again:  # not connected yet (IMMEDIATE) or the send queue is full
            self.st.errors[f"send_dropped:{type(msg).__name__}"] += 1
            return False
        return True

    # replies ------------------------------------------------------------------------------

    def on_frame(self, frame: bytes, now: float, wall: float, window: tuple[float, float]) -> None:
        try:
            msg = codec.decode(frame, m.HubToKiosk)
        except Exception as e:  # noqa: BLE001 - counted, never fatal
            self.st.errors[f"decode:{type(e).__name__}"] += 1
            return
        match msg:
            case m.Heartbeat(own=True):
                pass  # the hub's own beat, not a reply to ours
            case m.Heartbeat():
                if self.hb_pending:
                    sent = self.hb_pending.popleft()
                    rtt = now - sent
                    if self.s.trace:
                        self.st.trace.append(("hb", self.id, sent, now, self.working))
                    self.st.hb_ms.append(rtt * 1000)
                    if rtt > HEARTBEAT_INTERVAL:
                        self.st.hb_missed += 1
            case m.Welcome():
                self.schema_version = msg.project.version
                self.state = "login"
                self.send(m.Login(operator=self.operator, pin=PIN))
            case m.LoginResult():
                if msg.ok:
                    self.state = "ready"
                else:
                    self.st.errors[f"login:{msg.reason}"] += 1
                    self.state = "failed"
            case m.Assign():
                if self.s.trace and self.request_at is not None:
                    self.st.trace.append(("assign", self.id, self.request_at, now, self.working))
                if self.request_at is not None and self.working:
                    self.st.assign_ms.append((now - self.request_at) * 1000)
                    if wall - window[0] >= STEADY_AFTER:
                        self.st.assign_steady_ms.append((now - self.request_at) * 1000)
                self.request_at = None
                if not msg.clips:
                    self.st.empty_assigns += 1
                    self.request_after = now + EMPTY_BACKOFF
                for c in msg.clips:
                    self.assigned.append((c.sha256, c.size, msg.lease_id))
            case m.Chunk():
                entry = self.fetching.get(msg.sha256)
                if entry is None:
                    return
                started, size, lease, buf = entry
                buf += msg.data
                self.st.fetched_bytes += len(msg.data)
                if len(buf) >= size:
                    del self.fetching[msg.sha256]
                    if hashlib.sha256(buf).hexdigest() != msg.sha256:
                        self.st.bad_sha += 1
                    self.st.fetch_ms.append((now - started) * 1000)
                    self.ready.append((msg.sha256, lease))
                elif len(buf) % (CHUNK_SIZE * self.s.credit) == 0:
                    self.send(m.Fetch(sha256=msg.sha256, offset=len(buf), credit=self.s.credit))
            case m.Ack():
                second = int(wall - window[0])
                counted = 0
                for u in msg.uuids:
                    sent = self.unacked.pop(u, None)
                    if sent is None:
                        continue
                    self.st.ack_ms.append((now - sent) * 1000)
                    self.st.acked.append(u)
                    counted += 1
                self.st.acks_per_second[second] += counted
                if counted and wall - window[0] < self.s.duration:
                    self.st.last_ack = max(self.st.last_ack, wall - window[0])
            case m.Error():
                self.st.errors[msg.code] += 1
            case _:
                self.st.errors[f"unexpected:{type(msg).__name__}"] += 1

    # timers -------------------------------------------------------------------------------

    def tick(self, now: float, labelling: bool) -> None:
        if self.state == "hello" or (self.state == "welcome" and now >= self.next_hb):
            hello = m.Hello(kiosk_id=self.id, version="load", capabilities=["labels", "fetch"])
            try:
                self.sock.send(codec.encode(hello), zmq.NOBLOCK)
            except zmq.Again:
                return  # not connected yet: try again on the next tick
            self.state = "welcome"
            self.next_hb = now + HEARTBEAT_INTERVAL * (1 + self.phase)
            return
        if now >= self.next_hb and self.state != "welcome":
            self.next_hb += HEARTBEAT_INTERVAL
            self.hb_pending.append(now)
            self.st.hb_sent += 1
            self.send(m.Heartbeat(outbox=len(self.unacked), operator=self.operator))
        if self.state != "ready":
            return
        if self.s.outbox > 0:
            self._drain(now, labelling)
            return
        if not labelling:
            self.working = False
            self._flush(now, force=True)
            return
        if not self.working:
            if self.start_at is None:  # the shift starts over `ramp` seconds, not at once
                self.start_at = now + self.phase * self.s.ramp
            if now < self.start_at:
                return
            self.working, self.t0 = True, now
            self.next_label_at = now + self._interval()
        held = len(self.assigned) + len(self.fetching) + len(self.ready)
        if self.request_at is None and now >= self.request_after and held < self.s.request:
            self.request_at = now
            self.send(m.RequestWork(operator=self.operator, count=self.s.request))
        while self.assigned and len(self.fetching) < 4:
            sha, size, lease = self.assigned.popleft()
            if fetched(sha, self.s.fetch_ratio):
                self.fetching[sha] = (now, size, lease, bytearray())
                self.send(m.Fetch(sha256=sha, offset=0, credit=self.s.credit))
            else:
                self.ready.append((sha, lease))
        if self.s.rate > 0 and self.s.jitter > 0:  # an operator's pace varies label to label
            allowed = 0
            if self.ready and now >= self.next_label_at:
                allowed, self.next_label_at = 1, self.next_label_at + self._interval()
        elif self.s.rate > 0:  # exactly `rate` labels/s
            allowed = int((now - self.t0) * self.s.rate) - self.made
        else:
            allowed = self.s.window - len(self.unacked) - len(self.outbox)
        while allowed > 0 and self.ready:
            sha, lease = self.ready.popleft()
            self._label(sha, lease, now)
            allowed -= 1
        self._flush(now)

    def _drain(self, now: float, labelling: bool) -> None:
        """--outbox: before the window, ask for work and label it into the backlog (nothing
        sent); in it, send the backlog in batches, `window` labels unacknowledged at most."""
        if not labelling:
            self.working = False
            missing = self.s.outbox - self.made
            if missing > 0 and self.request_at is None and now >= self.request_after:
                self.request_at = now
                self.send(m.RequestWork(operator=self.operator, count=min(missing, 50)))
            while self.assigned and self.made < self.s.outbox:
                sha, _size, lease = self.assigned.popleft()
                self._label(sha, lease, now)
                self.backlog.append(self.outbox.pop())
            self._flush(now, force=True)
            return
        self.working = True
        allowed = self.s.window - len(self.unacked) - len(self.outbox)
        while allowed > 0 and self.backlog:
            if not self.outbox:
                self.outbox_since = now
            self.outbox.append(self.backlog.popleft())
            allowed -= 1
        self._flush(now)

    def _interval(self) -> float:
        if self.s.rate <= 0:
            return 0.0
        return (1 + self.s.jitter * self.rng.uniform(-1, 1)) / self.s.rate

    def _label(self, sha: str, lease: str, now: float) -> None:
        if not self.outbox:
            self.outbox_since = now
        self.outbox.append(
            m.Label(
                uuid=str(uuidlib.uuid4()),
                operator=self.operator,
                clip=sha,
                schema_version=self.schema_version,
                values=[self.rng.choice(VALUES)],
                telemetry={"time_to_label_s": 2.5, "watched_fraction": 1.0, "replays": 0},
                created_at=time.time(),
                lease_id=lease,
            )
        )
        self.made += 1

    def _flush(self, now: float, force: bool = False) -> None:
        if not self.outbox:
            return
        if len(self.outbox) >= self.s.batch or force or now - self.outbox_since >= self.s.flush:
            for start in range(0, len(self.outbox), self.s.batch):
                part = self.outbox[start : start + self.s.batch]
                self.send(m.LabelBatch(labels=part))
                for label in part:
                    self.unacked[label.uuid] = now
                self.st.labels_sent += len(part)
            self.outbox = []


def _worker(
    index: int,
    kiosks: list[tuple[str, str]],
    s: Settings,
    ready_q: Any,
    result_q: Any,
    go: Any,
    start_at: Any,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    ctx = zmq.Context(io_threads=1)
    stats = Stats()
    sims = [SimKiosk(ctx, kid, op, s, stats) for kid, op in kiosks]
    by_sock = {sim.sock: sim for sim in sims}
    poller = zmq.Poller()
    for sim in sims:
        poller.register(sim.sock, zmq.POLLIN)
    window = (float("inf"), float("inf"))
    announced = False
    deadline = time.monotonic() + 120
    cpu0 = os.times()
    while True:
        now = time.perf_counter()
        wall = time.time()
        if not announced and all(x.state in ("ready", "failed") and x.prefilled for x in sims):
            ready_q.put(index)
            announced = True
        if announced and go.is_set() and window[0] == float("inf"):
            window = (start_at.value, start_at.value + s.duration)
            cpu0 = os.times()
        labelling = window[0] <= wall < window[1]
        if wall >= window[1]:
            pending = any(x.unacked or x.outbox for x in sims)
            if not pending or wall >= window[1] + DRAIN:
                break
        if not announced and time.monotonic() > deadline:
            break
        for sim in sims:
            sim.tick(now, labelling)
        for sock, _ in poller.poll(2 if labelling else 20):
            sim = by_sock[sock]
            t = time.perf_counter()
            w = time.time()
            while True:
                try:
                    frame = sock.recv(zmq.NOBLOCK)
                except zmq.Again:
                    break
                sim.on_frame(frame, t, w, window)
    cpu1 = os.times()
    stats.hb_missed += sum(
        1 for x in sims for t in x.hb_pending if time.perf_counter() - t > HEARTBEAT_INTERVAL
    )
    for sim in sims:
        stats.errors["never_acked"] += len(sim.unacked)
        if sim.state != "ready":
            stats.errors[f"kiosk_{sim.state}"] += 1
        sim.sock.close(linger=0)
    ctx.term()
    stats.errors = collections.Counter({k: v for k, v in stats.errors.items() if v})
    cpu = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
    result_q.put((index, stats, cpu))


# ---- hub side: setup, CPU/RSS, database checks, raw baseline -----------------------------


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def setup_hub(
    workdir: Path,
    operators: int,
    clips: int,
    want: int,
    size: int,
    ratio: float,
    db_url: str | None = None,
    hubs: int = 1,
):
    """A hub data folder with operators (fast scrypt), `clips` clips (media only for those
    the kiosks will fetch) and a project with a fixed overlap of `want` (min_votes =
    redundancy = max_votes, no gold), so that `want` is exactly what the project asks for
    at any moment and the over-assignment check is exact. Adaptive overlap and gold are
    measured by benchmarks/growth.py. The store is SQLite in the data folder, or the
    PostgreSQL database `db_url`; `hubs` > 1: `serve --workers hubs` on it."""
    from hub.store import Store
    from protocol.pins import hash_pin
    from tests.conftest import HubProc
    from tests.faults import write_project

    from .load_pg import WorkerHubs

    data = workdir / "hub"
    data.mkdir(parents=True)
    store = Store(db_url or data / "hub.db")
    pin_hash = hash_pin(PIN, n=2**10)  # the hub verifies with the N stored in the hash
    now = time.time()
    with store.transaction():
        store.conn.executemany(
            "INSERT INTO operators (id, name, pin_hash, created_at) VALUES (?, ?, ?, ?)",
            [(f"op{i}", f"Operator {i}", pin_hash, now) for i in range(operators)],
        )
        rows = []
        for i in range(clips):
            data_bytes = clip_bytes(i, size)
            sha = hashlib.sha256(data_bytes).hexdigest()
            if fetched(sha, ratio):
                folder = data / "media" / sha[:2]
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"{sha}.mp4").write_bytes(data_bytes)
            rows.append((sha, size, 1.0, f"load {i:07d}", want, now))
        store.conn.executemany(
            "INSERT INTO clips (sha256, size, duration, name, want, added_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
    if db_url is not None:
        # statistics for the planner, as autovacuum takes them on a site's server once a
        # table has changed by a tenth; without them PostgreSQL guesses that most clips are
        # gold and scans for one (8.7 ms per RequestWork at 60k clips instead of an index
        # probe), which a live site sees only for the minute after a large ingest
        store.conn.execute("ANALYZE")
    store.close()
    project = write_project(workdir / "project.toml", redundancy=want)
    text = project.read_text()
    for key, value in (("max_votes", want), ("gold_rate", 0)):
        text = re.sub(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
    project.write_text(text.replace("[[labels]]", f"min_votes = {want}\n\n[[labels]]", 1))
    extra = ["--open-pairing", "--no-zeroconf"]
    if hubs > 1:
        return WorkerHubs(data=data, project=project, n=hubs, db_url=db_url, extra=extra)
    hub = HubProc(data=data, project=project, db_url=db_url)
    hub.extra = extra
    return hub


def hub_endpoints(hub: Any) -> list[str]:
    return hub.endpoints if hasattr(hub, "endpoints") else [hub.endpoint]


def hub_pids(hub: Any) -> list[int]:
    """The processes that serve kiosks (a `serve --workers` supervisor only watches them)."""
    return [hub.pids[i] for i in sorted(hub.pids)] if hasattr(hub, "pids") else [hub.proc.pid]


def db_checks(db_path: Path | str) -> dict[str, int]:
    """Invariants from the hub's database (hub/store/audit.py): over_assigned (clips with more
    labels + open assignments on live leases than `want`, leaving out those reassigned after
    an expired lease: `expired_reassignments`), repeated_for_operator, counter_mismatch."""
    from hub.store.audit import audit

    return audit(db_path)


def stored_uuids(location: Path | str) -> set[str]:
    from hub.store import Store

    store = Store(location, readonly=True)
    try:
        return {r[0] for r in store.conn.execute("SELECT uuid FROM labels")}
    finally:
        store.close()


def raw_baseline(hub_db: Path, workdir: Path, batch: int = 1000) -> tuple[int, float]:
    """(rows, rows/s) for a plain batched insert of the hub's label rows into a fresh store
    (same schema and indexes, WAL, synchronous=NORMAL), `batch` rows per commit."""
    from hub.store import Store

    src = sqlite3.connect(hub_db)
    cols = [r[1] for r in src.execute("PRAGMA table_info(labels)")]
    rows = src.execute("SELECT * FROM labels ORDER BY received_at").fetchall()
    src.close()
    store = Store(workdir / "raw.db")
    sql = (
        f"INSERT INTO labels ({', '.join(f'[{c}]' for c in cols)}) "
        f"VALUES ({', '.join('?' * len(cols))})"
    )
    conn = store.conn
    started = time.perf_counter()
    for i in range(0, len(rows), batch):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(sql, rows[i : i + batch])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    store.close()
    return len(rows), len(rows) / elapsed if elapsed else float("nan")


# ---- the run -----------------------------------------------------------------------------


def ms(values: list[float]) -> str:
    if not values:
        return "n=0"
    return (
        f"p50 {pct(values, 50):.2f}  p95 {pct(values, 95):.2f}  p99 {pct(values, 99):.2f}  "
        f"max {max(values):.1f}  (n={len(values)})"
    )


def pin(pid: int, cpus: set[int]) -> None:
    """Every thread of process `pid` onto `cpus` (Linux)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            os.sched_setaffinity(int(task.name), cpus)
        except OSError:
            pass  # a thread that ended meanwhile


def auto_clips(args: argparse.Namespace) -> int:
    per_second = args.kiosks * args.rate if args.rate > 0 else 40_000
    need = per_second * args.duration * 1.3 / args.want + args.kiosks * args.request * 2
    return int(max(need, 10_000))


def run(args: argparse.Namespace, workdir: Path) -> int:
    from .load_pg import database

    with database(args.db, workdir / "hub") as (db_url, db_text):
        return run_on(args, workdir, db_url, db_text)


def run_on(args: argparse.Namespace, workdir: Path, db_url: str | None, db_text: str) -> int:
    say = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731
    clips = args.clips or auto_clips(args)
    t = time.perf_counter()
    hub = setup_hub(
        workdir,
        args.kiosks,
        clips,
        args.want,
        args.clip_bytes,
        args.fetch_ratio,
        db_url=db_url,
        hubs=args.hubs,
    )
    if args.trace is not None:  # the hub under benchmarks/hubtrace.py
        args.trace.mkdir(parents=True, exist_ok=True)
        hub.prefix = [
            sys.executable,
            "-m",
            "benchmarks.hubtrace",
            str(args.trace / "hub.json"),
            "--",
        ]
    say(f"seeded {clips} clips in {time.perf_counter() - t:.1f} s")
    hub.start()
    load_start = os.getloadavg()[0]
    pids = hub_pids(hub)
    settings = Settings(
        endpoints=hub_endpoints(hub),
        server_key=hub.public_key,
        duration=args.duration,
        rate=args.rate,
        batch=args.batch,
        window=args.window,
        request=args.request,
        fetch_ratio=args.fetch_ratio,
        seed=args.seed,
        trace=args.trace is not None,
        ramp=args.ramp,
        jitter=args.jitter,
        outbox=args.outbox,
    )
    procs_n = max(1, min(args.procs, args.kiosks))
    kiosks = [(f"load-{i:04d}", f"op{i}") for i in range(args.kiosks)]
    mpx = mp.get_context("spawn")
    ready_q, result_q, go = mpx.Queue(), mpx.Queue(), mpx.Event()
    start_at = mpx.Value("d", 0.0)
    workers = [
        mpx.Process(
            target=_worker,
            args=(i, kiosks[i::procs_n], settings, ready_q, result_q, go, start_at),
            daemon=True,
        )
        for i in range(procs_n)
    ]
    results: list[tuple[int, Stats, float]] = []
    rss: list[float] = []
    try:
        for w in workers:
            w.start()
        for _ in workers:
            ready_q.get(timeout=180)
        if args.pin:  # the hub on a core of its own, as when kiosks are other machines
            cpus = sorted(os.sched_getaffinity(0))
            for pid in pids:
                pin(pid, {cpus[0]})
            for w in workers:
                pin(w.pid, set(cpus[1:]))  # type: ignore[arg-type]
            say(f"hub pinned to CPU {cpus[0]}, client processes to {cpus[1:]}")
        if args.client_nice:  # kiosks are other machines: their simulation yields the CPU
            for w in workers:  # (their own delays still count in the latencies they measure)
                for task in os.listdir(f"/proc/{w.pid}/task"):
                    os.setpriority(os.PRIO_PROCESS, int(task), args.client_nice)
            say(f"client processes at nice {args.client_nice}")
        say(f"{args.kiosks} kiosks logged in; running {args.duration:g} s")
        start_at.value = time.time() + 0.5
        go.set()
        spies = []
        for i, pid in enumerate(pids if args.profile else []):  # one profile per hub process
            out = args.profile if i == 0 else args.profile.with_name(f"{args.profile.name}.{i}")
            spy = subprocess.Popen(
                [
                    str(Path(sys.executable).with_name("py-spy")),
                    "record",
                    "-p",
                    str(pid),
                    "-o",
                    str(out),
                    "-d",
                    str(int(args.duration)),
                    "-f",
                    args.profile_format,
                    "-r",
                    "200",
                    *(["--idle"] if args.profile_idle else []),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            spies.append(spy)
        time.sleep(max(0.0, start_at.value - time.time()))
        window_mono = time.perf_counter()
        cpu0, t0 = [proc_cpu_seconds(pid) for pid in pids], time.time()
        pg0 = cpu_seconds(backend_pids(db_url)) if db_url else {}
        statements = StatementStats(db_url) if db_url else None
        if statements:
            statements.reset()
        probe = RoundTrips(db_url) if db_url else None
        pg1: dict[int, float] = {}
        cpu1 = t1 = None
        while len(results) < len(workers):
            if cpu1 is None and time.time() >= start_at.value + args.duration:
                cpu1, t1 = [proc_cpu_seconds(pid) for pid in pids], time.time()
                pg1 = cpu_seconds(list(pg0))
                round_trips = probe.stop() if probe else []
                server_time = statements.report(t1 - t0) if statements else []
            rss.append(sum(proc_rss_mib(pid) for pid in pids))
            try:
                results.append(result_q.get(timeout=0.5))
            except queue.Empty:
                if not any(w.is_alive() for w in workers) and result_q.empty():
                    break
        if cpu1 is None:
            cpu1, t1 = [proc_cpu_seconds(pid) for pid in pids], time.time()
            pg1 = cpu_seconds(list(pg0))
            round_trips = probe.stop() if probe else []
            server_time = statements.report(t1 - t0) if statements else []
        rss_end = sum(proc_rss_mib(pid) for pid in pids)
        for spy in spies:
            spy.wait(timeout=60)
    finally:
        for w in workers:
            w.join(timeout=5)
            if w.is_alive():
                w.kill()
        hub.kill(signal.SIGTERM)

    total = Stats()
    client_cpu = 0.0
    for _, st, cpu in results:
        client_cpu += cpu
        total.assign_ms += st.assign_ms
        total.assign_steady_ms += st.assign_steady_ms
        total.ack_ms += st.ack_ms
        total.fetch_ms += st.fetch_ms
        total.hb_ms += st.hb_ms
        total.acks_per_second.update(st.acks_per_second)
        total.last_ack = max(total.last_ack, st.last_ack)
        total.acked += st.acked
        total.labels_sent += st.labels_sent
        total.hb_sent += st.hb_sent
        total.hb_missed += st.hb_missed
        total.empty_assigns += st.empty_assigns
        total.fetched_bytes += st.fetched_bytes
        total.bad_sha += st.bad_sha
        total.errors.update(st.errors)
        total.trace += st.trace
    if len(results) < len(workers):
        total.errors["client_process_lost"] += len(workers) - len(results)
    in_window = sum(v for k, v in total.acks_per_second.items() if 0 <= k < args.duration)
    seconds = [total.acks_per_second.get(k, 0) for k in range(int(args.duration))]
    rate = in_window / args.duration
    drained = ""
    if args.outbox > 0 and in_window == total.labels_sent and total.last_ack > 0:
        # every outbox was empty before the window ended: the rate is over the drain's time
        rate = in_window / total.last_ack
        drained = f"; every outbox drained in {total.last_ack:.2f} s"
    checks_started = time.perf_counter()
    checks = db_checks(hub.location)
    checks_s = time.perf_counter() - checks_started
    at_hub = stored_uuids(hub.location)
    lost = len(set(total.acked) - at_hub)
    if args.trace is not None:
        (args.trace / "clients.json").write_text(
            json.dumps({"window": [window_mono, window_mono + args.duration], "trace": total.trace})
        )
    copy_rate = None
    if db_url is None:
        raw_rows, raw_rate = raw_baseline(hub.db, workdir)
        raw_text = (
            f"raw baseline: batched SQLite insert of the same {raw_rows:,} label rows (same "
            f"schema and indexes, WAL, synchronous=NORMAL, 1000 rows per commit): "
            f"{raw_rate:,.0f} rows/s"
        )
    else:
        from .load_pg import raw_baselines

        raw_batch = max(args.batch, 200)
        raw_rows, raw_rate, copy_rate = raw_baselines(db_url, raw_batch)
        raw_text = (
            f"raw baseline: the same {raw_rows:,} label rows into a fresh database with the "
            f"same schema, indexes and clips on the same server, {raw_batch} rows per commit: "
            f"multi-row INSERT (unnest) {raw_rate:,.0f} rows/s, COPY {copy_rate:,.0f} rows/s"
        )
    wall = (t1 or 0) - t0
    per_hub = [
        (b - a) / wall * 100 if wall > 0 else float("nan") for a, b in zip(cpu0, cpu1, strict=True)
    ]
    hub_cpu = sum(per_hub)
    pg_cpu = sum(pg1[p] - pg0[p] for p in pg1) / wall * 100 if wall > 0 else float("nan")
    rate_text = "as fast as acked" if args.rate <= 0 else f"{args.rate:g} labels/s per kiosk"

    print(f"machine: {machine()}")
    print(
        f"load average (1 min) at start {load_start:.2f}, at end {os.getloadavg()[0]:.2f} "
        "(other work on the machine shares its 2 cores)"
    )
    print(
        f"setup: {args.kiosks} kiosks in {procs_n} client processes; {clips} clips (want "
        f"{args.want}, {args.clip_bytes} B each, {args.fetch_ratio:.0%} fetched); rate "
        f"{rate_text}; LabelBatch of ≤ {args.batch}; window {args.window}; RequestWork of "
        f"{args.request}; {args.duration:g} s"
        + ("; hub pinned to its own CPU, kiosks on the other(s)" if args.pin else "")
        + (f"; kiosk processes at nice {args.client_nice}" if args.client_nice else "")
        + f"; shifts start over {args.ramp:g} s"
        + (f"; label intervals 1/rate × (1 ± {args.jitter:g})" if args.jitter else "")
        + (
            f"; outboxes of {args.outbox} labels (assigned and labelled before the window), "
            "drained in it"
            if args.outbox > 0
            else ""
        )
    )
    print(f"database: {db_text}")
    print(
        f"hub processes: {len(pids)}"
        + (
            f" (serve --workers {len(pids)}, kiosk i on worker i mod {len(pids)})"
            if len(pids) > 1
            else ""
        )
    )
    print(
        f"acked labels/s (durable: acked after commit): {rate:,.0f} mean over "
        f"{args.duration:g} s (per second min {min(seconds, default=0):,} max "
        f"{max(seconds, default=0):,}); acked in all {len(total.acked):,} of "
        f"{total.labels_sent:,} sent{drained}"
    )
    print(f"assign latency ms (RequestWork → Assign): {ms(total.assign_ms)}")
    print(
        f"assign latency ms after the first {STEADY_AFTER:g} s (shift start excluded): "
        f"{ms(total.assign_steady_ms)}"
    )
    print(f"ack latency ms (per label, LabelBatch sent → Ack): {ms(total.ack_ms)}")
    print(f"fetch latency ms (per clip, Fetch → sha256 verified): {ms(total.fetch_ms)}")
    print(
        f"heartbeats: {total.hb_sent} sent, missed {total.hb_missed} (reply later than "
        f"{HEARTBEAT_INTERVAL:g} s or never); rtt ms {ms(total.hb_ms)}"
    )
    each = f" ({' + '.join(f'{c:.0f}' for c in per_hub)})" if len(per_hub) > 1 else ""
    print(
        f"hub: CPU {hub_cpu:.0f} % of one core over the window{each}; RSS peak "
        f"{max(rss, default=float('nan')):.0f} MiB, at end {rss_end:.0f} MiB"
        + (" (all hub processes)" if len(pids) > 1 else "")
    )
    if db_url is not None:
        print(
            f"PostgreSQL: CPU {pg_cpu:.0f} % of one core over the window ({len(pg0)} server "
            "processes serving the hubs' connections)"
        )
        print(f"PostgreSQL round trip ms (SELECT 1 every 20 ms, own connection): {ms(round_trips)}")
        if server_time:
            print("PostgreSQL server time by statement over the window (pg_stat_statements):")
            print("\n".join(server_time))
    print(
        f"clients: CPU {client_cpu / max(args.duration, 1e-9) * 100:.0f} % of one core "
        f"(all {procs_n} processes; they share the machine with the hub)"
    )
    errors = dict(total.errors)
    if total.bad_sha:
        errors["bad_sha256"] = total.bad_sha
    print(f"errors: {sum(errors.values())} {errors if errors else ''}".rstrip())
    print(raw_text)
    ratio = rate / raw_rate if raw_rate else float("nan")
    if copy_rate:
        print(f"ours / COPY: {rate / copy_rate:.2f}×")
    print(
        f"ours / raw: {ratio:.2f}×  (targets: ≥ 0.25× and ≥ 20,000 labels/s from 50 kiosks; "
        f"assign p99 ≤ 20 ms with 200 kiosks)"
    )
    print(f"empty assigns: {total.empty_assigns}; counter mismatches: {checks['counter_mismatch']}")
    print(
        f"lost={lost} (acked, not at the hub) "
        f"expired_reassignments={checks['expired_reassignments']}"
    )
    print(
        f"over_assigned={checks['over_assigned']} "
        f"repeated_for_operator={checks['repeated_for_operator']}"
    )
    print(f"database checks: {checks_s:.2f} s for {checks['labels']:,} labels")
    bad = (
        lost
        or checks["over_assigned"]
        or checks["repeated_for_operator"]
        or checks["counter_mismatch"]
    )
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--kiosks", type=int, default=200)
    p.add_argument("--duration", type=float, default=20.0, help="seconds of measured load")
    p.add_argument("--procs", type=int, default=3, help="client processes")
    p.add_argument(
        "--rate", type=float, default=5.0, help="labels/s per kiosk (0 = as fast as acked)"
    )
    p.add_argument("--batch", type=int, default=1, help="labels per LabelBatch (kiosk: 1 live)")
    p.add_argument("--window", type=int, default=400, help="unacked labels per kiosk (rate 0)")
    p.add_argument("--request", type=int, default=20, help="clips per RequestWork")
    p.add_argument("--want", type=int, default=3, help="labels per clip (redundancy)")
    p.add_argument("--clips", type=int, default=0, help="clips to seed (0 = enough for the run)")
    p.add_argument("--clip-bytes", type=int, default=2048)
    p.add_argument("--fetch-ratio", type=float, default=1.0, help="share of clips fetched")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--ramp",
        type=float,
        default=RAMP,
        help="seconds over which the kiosks' shifts start (default 1: nearly in step)",
    )
    p.add_argument(
        "--jitter",
        type=float,
        default=0.0,
        help="with --rate: each label's interval is 1/rate × (1 ± JITTER), uniform (default 0: "
        "every kiosk labels at exactly --rate, so kiosks ask for work in step)",
    )
    p.add_argument(
        "--outbox",
        type=int,
        default=0,
        help="> 0: each kiosk has this many labels in its outbox when the window opens (its "
        "clips assigned and labelled before, as after an outage) and only drains it in the "
        "window, `--window` unacked at most; no RequestWork or Fetch in the window",
    )
    p.add_argument(
        "--client-nice",
        type=int,
        default=0,
        help="the simulated kiosks' processes at this nice value (the hub's and the server's "
        "stay): on a site kiosks are other machines",
    )
    p.add_argument(
        "--pin",
        action="store_true",
        help="hub on the first CPU, the simulated kiosks on the others (≥ 2 CPUs)",
    )
    p.add_argument(
        "--profile", type=Path, default=None, help="py-spy record of the hub over the window"
    )
    p.add_argument("--profile-format", default="speedscope", help="py-spy format (raw, …)")
    p.add_argument(
        "--profile-idle", action="store_true", help="the profile counts waiting threads too"
    )
    p.add_argument(
        "--trace",
        type=Path,
        default=None,
        help="folder: the hub's per-slice time stamps (benchmarks/hubtrace.py) and the clients' "
        "per-request ones, for benchmarks/trace_report.py",
    )
    p.add_argument("--keep", type=Path, default=None, help="keep the hub data here")
    p.add_argument(
        "--db",
        default="sqlite",
        help="the hub's store: sqlite (default), pg (a throwaway PostgreSQL server of its own, "
        "fsync on) or a postgresql:// URL (a fresh database is made on that server, dropped "
        "at the end)",
    )
    p.add_argument(
        "--hubs",
        type=int,
        default=1,
        help="hub processes on the one database (> 1: `serve --workers N`; kiosks spread)",
    )
    args = p.parse_args(argv)
    if args.trace is not None and args.hubs > 1:
        p.error("--trace follows one hub process: leave out --hubs")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        return run(args, args.keep)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        return run(args, Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
