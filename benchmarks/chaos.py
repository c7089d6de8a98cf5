"""Chaos run: a hub and N headless kiosks with random cable cuts and SIGKILLs for a bounded
time, then every invariant checked. Final line:

    labels=N lost=0 duplicated=0 repeated_for_operator=0 faults=M

Hosts live in network namespaces when they can be made (root), so cuts are real link-downs;
otherwise everything runs on loopback with SIGKILL faults only.

    python -m benchmarks.chaos --duration 60 --kiosks 4 --fault-rate 0.5
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

from tests.conftest import PIN, make_hub
from tests.faults import KioskProc, check, seed_clips, write_project
from tests.netns import Lan, netns_available


def run(
    duration: float,
    kiosks: int,
    fault_rate: float,
    clips: int,
    interval: float,
    seed: int,
    workdir: Path,
    quiet: bool = False,
    db_url: str | None = None,
) -> tuple[str, bool]:
    rng = random.Random(seed)
    use_netns = netns_available() is None
    lan = Lan() if use_netns else None
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    if lan:
        lan.__enter__()
    try:
        hub = make_hub(workdir, operators=kiosks, db_url=db_url)
        hub.project = write_project(workdir / "project.toml", redundancy=kiosks)
        hub.project.write_text(
            hub.project.read_text().replace("max_votes = 5", f"max_votes = {kiosks}")
        )
        seed_clips(hub.data, clips, 4000, want=kiosks, seed=seed, db=db_url)
        hub.extra = ["--open-pairing"]
        if lan:
            host = lan.add_host("hub", 1)
            hub.prefix, hub.host, hub.port = host.exec_prefix(), host.ip, 5570
        else:
            hub.extra.append("--no-zeroconf")
        hub.start()
        procs: list[KioskProc] = []
        for i in range(kiosks):
            name = f"k{i}"
            args = [
                "--operator",
                f"op{i + 1}",
                "--pin",
                PIN,
                "--interval",
                str(interval),
                "--prefetch",
                "20",
                "--seed",
                str(seed + i),
                "--drain",
                "120",
            ]
            ns = None
            if lan:
                kh = lan.add_host(name, 11 + i)
                args += ["--interface", kh.ip, "--tofu"]
                ns = kh.ns
            else:
                args += hub.kiosk_args()
            procs.append(KioskProc(name, workdir / name, args, netns=ns).start())

        faults = 0
        cut: dict[str, float] = {}  # host → when to mend
        end = time.monotonic() + duration
        next_fault = time.monotonic() + rng.expovariate(fault_rate)
        while time.monotonic() < end:
            now = time.monotonic()
            for host, at in list(cut.items()):
                if now >= at:
                    lan.mend(host)  # type: ignore[union-attr]
                    del cut[host]
            for p in procs:  # a killed kiosk comes back
                if p.proc is not None and p.proc.poll() is not None:
                    p.start()
            if hub.proc is not None and hub.proc.poll() is not None:
                hub.start()
            if now >= next_fault:
                kinds = ["kill_kiosk", "kill_hub"] + (["cut_kiosk", "cut_hub"] if lan else [])
                kind = rng.choice(kinds)
                if kind == "kill_kiosk":
                    victim = rng.choice(procs)
                    victim.kill(signal.SIGKILL)
                    time.sleep(rng.uniform(0.1, 1.0))
                elif kind == "kill_hub":
                    hub.kill(signal.SIGKILL)
                    time.sleep(rng.uniform(0.2, 2.0))
                elif kind == "cut_kiosk":
                    host = f"k{rng.randrange(kiosks)}"
                    lan.cut(host)  # type: ignore[union-attr]
                    cut[host] = now + rng.uniform(0.5, 5.0)
                else:
                    lan.cut("hub")  # type: ignore[union-attr]
                    cut["hub"] = now + rng.uniform(0.5, 5.0)
                faults += 1
                say(f"fault {faults}: {kind}")
                next_fault = time.monotonic() + rng.expovariate(fault_rate)
            time.sleep(0.05)
        for host in list(cut):
            lan.mend(host)  # type: ignore[union-attr]
        if hub.proc is None or hub.proc.poll() is not None:
            hub.start()
        for p in procs:
            if p.proc is None or p.proc.poll() is not None:
                p.start()
        time.sleep(1.0)
        for p in procs:  # stop labelling; each drains its outbox before it exits
            p.kill(signal.SIGTERM)
        verdict = check(hub.location, [p.data for p in procs])
        hub.kill(signal.SIGTERM)
        return verdict.line(faults), verdict.ok
    finally:
        if lan:
            lan.__exit__(None, None, None)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--duration", type=float, default=60.0, help="seconds of faults")
    p.add_argument("--kiosks", type=int, default=4)
    p.add_argument("--fault-rate", type=float, default=0.5, help="faults per second")
    p.add_argument("--clips", type=int, default=3000)
    p.add_argument("--interval", type=float, default=0.02, help="seconds between labels")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--db", default=None, help="the hub's database: an empty PostgreSQL one (default SQLite)"
    )
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="chaos-") as tmp:
        line, ok = run(
            args.duration,
            args.kiosks,
            args.fault_rate,
            args.clips,
            args.interval,
            args.seed,
            Path(tmp),
            db_url=args.db,
        )
    print(line)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
