"""Kill -9 of one of a site's two hub processes: what it costs the kiosks.

Two `straat-hub serve` processes on one data folder (one SQLite database in WAL mode, or one
PostgreSQL database with `--db pg`; one key pair), N simulated kiosks (real CurveZMQ DEALER sockets in this process, named by libzmq as
kiosks of this release are), spread over the two by `kiosk.discovery.spread`. Each kiosk says
Hello, logs its operator in (a real PIN check at the hub), and beats every second both ways
as `kiosk.link` does; a kiosk that hears nothing for 3 beats moves to the other process
(failed address last) and carries its operator's session on there: a `Resume` where the hub
lists CAP_RESUME in Welcome (no PIN check), else (a hub without it, or a refused resume) a
Login with the PIN, as `kiosk.engine` does. After a warm-up one process is killed with SIGKILL.

Printed: for the kiosks of the killed process, how long until each is logged in at the other
(from the kill; it includes the 3 s of silence that tell a kiosk its hub is gone); for all,
the reconnects per kiosk (the target: one at most for the moved kiosks, none for the others)
and the heartbeat round trips of the others in the 10 s after the kill (the survivor checks
the moved kiosks' PINs meanwhile, one scrypt each on its router thread, unless it resumes
their sessions), and how the moved kiosks got back in: resumed or with the PIN.

    python -m benchmarks.failover [--kiosks 100] [--after 12] [--base REV --rounds 2] [--db pg]
        [--pin-logins]

`--pin-logins`: the kiosks do not offer resumes (as kiosks of the previous release): every
moved kiosk logs in again with its PIN, one scrypt each at the survivor.

With `--base`, the hub processes of every other run come from git revision REV (the clients
are the same), alternating before/after.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import signal
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import zmq
import zmq.asyncio

from benchmarks.common import machine, source_tree
from kiosk.discovery import HubAddress, spread
from protocol import codec
from protocol import constants as c
from protocol import messages as m
from tests.conftest import PIN, HubProc, make_hub

from .load_pg import database


@dataclass
class Kiosk:
    kiosk_id: str
    operator: str
    keys: tuple[bytes, bytes]
    connects: int = 0
    logged_in_at: list[float] = field(default_factory=list)
    rtts: list[tuple[float, float]] = field(default_factory=list)  # (sent at, rtt)
    silent_at: list[float] = field(default_factory=list)
    last: list[str] = field(default_factory=list)  # the last messages heard (for the report)
    target: str = ""  # the address of its current connection
    connects_at_kill: int = 0
    resumed: list[float] = field(default_factory=list)  # when a Resume was answered ok
    resume_sent: bool = False


async def run_kiosk(
    k: Kiosk,
    ctx: zmq.asyncio.Context,
    site: list[HubAddress],
    server_key: str,
    stop: asyncio.Event,
    caps: list[str],
) -> None:
    failed: set[str] = set()
    while not stop.is_set():
        target = spread(site, k.kiosk_id, failed)[0]
        sock = ctx.socket(zmq.DEALER)
        sock.curve_publickey, sock.curve_secretkey = k.keys
        sock.curve_serverkey = server_key.encode()
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(target.endpoint)
        k.connects += 1
        k.target = target.endpoint
        hello = m.Hello(kiosk_id=k.kiosk_id, version="bench", capabilities=caps)
        await sock.send(codec.encode(hello))
        liveness, next_beat, pending = c.HEARTBEAT_LIVENESS, time.monotonic() + 1.0, {}
        seq = 0
        while not stop.is_set() and liveness > 0:
            wait = max(0.0, next_beat - time.monotonic())
            if await sock.poll(int(wait * 1000)):
                while await sock.poll(0):
                    msg = codec.decode(await sock.recv(), m.HubToKiosk)
                    liveness = c.HEARTBEAT_LIVENESS
                    if not isinstance(msg, m.Heartbeat):
                        k.last = [*k.last[-3:], f"{time.monotonic():.2f} {msg!r:.80}"]
                    if isinstance(msg, m.Welcome):
                        k.resume_sent = bool(k.logged_in_at) and c.CAP_RESUME in msg.capabilities
                        again = m.Resume(operator=k.operator) if k.resume_sent else None
                        await sock.send(
                            codec.encode(again or m.Login(operator=k.operator, pin=PIN))
                        )
                    elif isinstance(msg, m.LoginResult) and msg.ok:
                        k.logged_in_at.append(time.monotonic())
                        if k.resume_sent:
                            k.resumed.append(time.monotonic())
                        k.resume_sent = False
                    elif isinstance(msg, m.LoginResult) and k.resume_sent:  # refused: the PIN
                        k.resume_sent = False
                        await sock.send(codec.encode(m.Login(operator=k.operator, pin=PIN)))
                    elif isinstance(msg, m.Heartbeat) and not msg.own and pending:
                        sent = pending.pop(min(pending))
                        k.rtts.append((sent, time.monotonic() - sent))
            if time.monotonic() >= next_beat:
                next_beat = time.monotonic() + 1.0
                liveness -= 1
                seq += 1
                pending[seq] = time.monotonic()
                await sock.send(codec.encode(m.Heartbeat(outbox=0)))
        sock.close(linger=0)
        if liveness <= 0:
            k.silent_at.append(time.monotonic())
            failed = {target.endpoint}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


async def bench(
    n: int,
    warm: float,
    after: float,
    tree: Path | None = None,
    db: str = "sqlite",
    pin_logins: bool = False,
) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="failover-"))
    with database(db, tmp / "hub") as (db_url, db_text):
        print(db_text)
        caps = [] if pin_logins else [c.CAP_RESUME]
        await _bench(tmp, n, warm, after, tree, db_url, caps)


async def _bench(
    tmp: Path,
    n: int,
    warm: float,
    after: float,
    tree: Path | None,
    db_url: str | None,
    caps: list[str],
) -> None:
    first = make_hub(tmp, operators=n, db_url=db_url)
    first.extra = ["--open-pairing", "--no-zeroconf"]
    if tree is not None:
        first.tree = tree
    first.start()
    second = HubProc(
        data=first.data, project=first.project, extra=first.extra, tree=first.tree, db_url=db_url
    )
    second.start()
    hubs = [first, second]
    site = [
        HubAddress(endpoint=h.endpoint, hub_id=h.hub_id, project="", fingerprint="") for h in hubs
    ]
    kiosks = [Kiosk(f"k{i}", f"op{i}", zmq.curve_keypair()) for i in range(1, n + 1)]
    ctx = zmq.asyncio.Context()
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(run_kiosk(k, ctx, site, first.public_key, stop, caps)) for k in kiosks
    ]
    try:
        await asyncio.sleep(warm)
        not_in = [k.kiosk_id for k in kiosks if not k.logged_in_at]
        victim_endpoint = site[0].endpoint
        moved = [k for k in kiosks if k.target == victim_endpoint]
        others = [k for k in kiosks if k not in moved]
        warm_reconnects = sum(k.connects - 1 for k in kiosks)
        for k in kiosks:
            k.connects_at_kill = k.connects
        killed_at = time.monotonic()
        first.kill(signal.SIGKILL)
        await asyncio.sleep(after)
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        ctx.destroy(linger=0)
        second.kill(signal.SIGTERM)
        first.kill(signal.SIGTERM)
    back = [
        min((t for t in k.logged_in_at if t > killed_at), default=float("inf")) - killed_at
        for k in moved
    ]
    rtts = [rtt * 1000 for k in others for sent, rtt in k.rtts if sent >= killed_at]
    print(f"hub from {first.tree}")
    for k in moved:
        if not any(t > killed_at for t in k.logged_in_at):
            print(f"  {k.kiosk_id} not back (kill at {killed_at:.2f}): {k.last}")
            break
    trouble = [line for line in second.log if "Error" in line or "Traceback" in line]
    if trouble:
        print("the surviving process reported:\n" + "".join(second.log[-30:]))
    print(
        f"kiosks {n} ({len(moved)} on the killed process, {len(others)} on the other); "
        f"not logged in after the {warm:.0f} s warm-up: {len(not_in)}, reconnects in it: "
        f"{warm_reconnects}"
    )
    print(
        f"moved kiosks logged in at the other process, s after the kill: p50 "
        f"{statistics.median(back):.2f}  max {max(back):.2f}  (never: "
        f"{sum(b == float('inf') for b in back)})"
    )
    resumed = sum(any(t > killed_at for t in k.resumed) for k in moved)
    print(f"moved kiosks back by a resume (no PIN check): {resumed} of {len(moved)}")
    print(
        f"reconnects per kiosk after the kill: moved max "
        f"{max(k.connects - k.connects_at_kill for k in moved)}, others max "
        f"{max(k.connects - k.connects_at_kill for k in others)}"
    )
    print(
        f"others' heartbeat rtt ms in the {after:.0f} s after the kill: p50 {pct(rtts, 0.5):.1f}"
        f"  p99 {pct(rtts, 0.99):.1f}  max {max(rtts, default=float('nan')):.1f}  (n={len(rtts)})"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kiosks", type=int, default=100)
    p.add_argument("--warm", type=float, default=15.0, help="seconds before the kill")
    p.add_argument("--after", type=float, default=12.0, help="seconds measured after it")
    p.add_argument("--base", default=None, help="git revision of the 'before' hub")
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument(
        "--db",
        default="sqlite",
        help="the hub processes' store: sqlite (default), pg (a throwaway PostgreSQL server "
        "per run) or a postgresql:// URL (a fresh database on it per run)",
    )
    p.add_argument(
        "--pin-logins",
        action="store_true",
        help="kiosks that do not offer resumes: every moved kiosk logs in with its PIN",
    )
    args = p.parse_args()
    print(machine())
    run = functools.partial(
        bench, args.kiosks, args.warm, args.after, db=args.db, pin_logins=args.pin_logins
    )
    with source_tree(args.base) if args.base else contextlib.nullcontext() as base:
        for _ in range(args.rounds):
            if base is not None:
                asyncio.run(run(tree=base))
            asyncio.run(run())


if __name__ == "__main__":
    main()
