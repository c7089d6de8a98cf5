"""What an attacker on the LAN gets from the hub's pairing socket: guesses a second, and the
expected time to hit one open code. A real hub process; the attacker is CurveZMQ clients
sending `Hello` with wrong codes as fast as the hub answers.

Two attackers: one source address (one machine), and SOURCES source addresses (loopback
addresses 127.0.3.x stand for machines). Each guess is answered; what counts is the answers
that looked at the code (`unpaired`: wrong code), not those refused unlooked (`rate_limited`,
`locked`). A/B: the hub of this tree against the hub of BASE (`git archive` of that
revision), alternating, median of the rounds.

    python -m benchmarks.pairing_attack --seconds 10 --rounds 3 --base cb87cb5
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import zmq

from protocol import codec
from protocol import messages as m
from tests.conftest import HubProc

from .common import machine, source_tree

ROOT = Path(__file__).resolve().parent.parent
SOURCES = 50
#: The codes of the hub (6 digits) and how long one stays open (the hub's default, 5 min).
CODE_SPACE = 10**6
CODE_LIFE_S = 300.0


def start_hub(tree: Path, data: Path) -> HubProc:
    """The hub of `tree` with one operator and an open pairing code, on loopback."""
    from hub.store import Store
    from protocol.pins import hash_pin

    data.mkdir(parents=True)
    store = Store(data / "hub.db")
    store.add_operator("op1", "Op", hash_pin("2468"))
    store.close()
    project = ROOT / "projects" / "geweld.toml"
    hub = HubProc(data=data, project=project, tree=tree, extra=["--no-zeroconf"]).start()
    env = {**os.environ, "PYTHONPATH": str(tree)}
    subprocess.run(
        [sys.executable, "-m", "hub.cli", "kiosk", "pair-code", "--data", str(data)],
        cwd=tree, env=env, check=True, capture_output=True,
    )  # fmt: skip
    return hub


def attack(port: int, key: str, seconds: float, sources: int) -> tuple[float, float, dict]:
    """(looked-at guesses/s, answers/s, answer codes) over `seconds`."""
    ctx = zmq.Context()
    socks = []
    for i in range(sources):
        public, secret = zmq.curve_keypair()
        sock = ctx.socket(zmq.DEALER)
        sock.curve_publickey, sock.curve_secretkey = public, secret
        sock.curve_serverkey = key.encode()
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.ROUTING_ID, f"attacker-{i}".encode())
        via = f"127.0.3.{i + 1}:0;" if sources > 1 else ""
        sock.connect(f"tcp://{via}127.0.0.1:{port}")
        socks.append(sock)
    codes: dict[str, int] = {}
    guess = 0
    end = time.monotonic() + seconds
    began = time.monotonic()
    while time.monotonic() < end:
        for sock in socks:  # one guess in flight per source
            guess += 1
            code = f"{(guess * 7919) % CODE_SPACE:06d}"
            sock.send(codec.encode(m.Hello(kiosk_id=f"x{guess}", version="a", pair_code=code)))
        for sock in socks:
            if not sock.poll(5000):
                codes["timeout"] = codes.get("timeout", 0) + 1
                continue
            reply = codec.decode(sock.recv(), m.HubToKiosk)
            name = reply.code if isinstance(reply, m.Error) else type(reply).__name__
            codes[name] = codes.get(name, 0) + 1
    elapsed = time.monotonic() - began
    for sock in socks:
        sock.close()
    ctx.term()
    looked = codes.get("unpaired", 0) + codes.get("Welcome", 0)
    return looked / elapsed, sum(codes.values()) / elapsed, codes


def run_one(tree: Path, seconds: float, sources: int) -> tuple[float, float, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        hub = start_hub(tree, Path(tmp) / "hub")
        try:
            return attack(hub.pair_port, hub.public_key, seconds, sources)
        finally:
            hub.kill(signal.SIGTERM)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--base", default="HEAD", help="git revision of the 'before' hub")
    args = p.parse_args()
    print(machine())
    with source_tree(args.base) as base:
        trees = {"before": base, "after": ROOT}
        for sources in (1, SOURCES):
            got: dict[str, list[float]] = {"before": [], "after": []}
            for r in range(args.rounds):
                for name in ("before", "after") if r % 2 == 0 else ("after", "before"):
                    looked, answered, codes = run_one(trees[name], args.seconds, sources)
                    got[name].append(looked)
                    print(
                        f"  {sources:>2} source(s) {name:<6} round {r}: {looked:8.1f} guesses/s "
                        f"looked at, {answered:8.1f} answers/s {codes}",
                        flush=True,
                    )
            for name in ("before", "after"):
                rate = statistics.median(got[name])
                print(f"{sources:>2} source(s) {name:<6}: median {rate:.2f} guesses/s")
        print(
            "expected time to hit one open 6-digit code, before: (10^6/2) / rate; after: the "
            f"open codes are withdrawn after {_burn()} wrong codes, so a code is hit with "
            f"p <= {_burn()}/10^6 per code: 10^6/(2*{_burn()}) codes' lives of "
            f"{CODE_LIFE_S:.0f} s each"
        )


def _burn() -> int:
    from hub.pairing import BURN_AFTER

    return BURN_AFTER


if __name__ == "__main__":
    main()
