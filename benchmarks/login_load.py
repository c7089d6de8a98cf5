"""A kiosk's heartbeat round trip while 16 clients post wrong passwords to the dashboard's
login form in parallel (each from its own loopback address, random user names), on a real
hub process with the production scrypt cost. A/B: the hub of this tree against the hub of
BASE (`git archive`), alternating, medians.

    python -m benchmarks.login_load --seconds 10 --rounds 2 --base cb87cb5
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import zmq
import zmq.asyncio

from protocol import codec
from protocol import messages as m
from tests.conftest import HubProc

from .common import machine, pct, source_tree

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 16
CSRF = re.compile(r'name="csrf" value="([^"]+)"')

SETUP = """
import sys
from hub.store import Store
from hub.store.accounts import add_user
store = Store(sys.argv[1])
add_user(store, "anna", "staff", "a-good-password")
store.pair_kiosk("k1", sys.argv[2])
store.close()
"""


def start_hub(tree: Path, data: Path, kiosk_key: str) -> HubProc:
    """The hub of `tree` with a staff user and the paired kiosk `k1` (made by that tree's own
    store code), on loopback."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    data.mkdir(parents=True)
    subprocess.run(
        [sys.executable, "-c", SETUP, str(data / "hub.db"), kiosk_key],
        cwd=tree, env=env, check=True,
    )  # fmt: skip
    project = ROOT / "projects" / "geweld.toml"
    return HubProc(data=data, project=project, tree=tree, extra=["--no-zeroconf"]).start()


async def beats(
    port: int, hub_key: str, keys: tuple[bytes, bytes], stop: asyncio.Event
) -> list[float]:
    ctx = zmq.asyncio.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.curve_publickey, sock.curve_secretkey = keys
    sock.curve_serverkey = hub_key.encode()
    sock.setsockopt(zmq.ROUTING_ID, b"k1")
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(f"tcp://127.0.0.1:{port}")
    await sock.send(codec.encode(m.Hello(kiosk_id="k1", version="bench")))
    rtts: list[float] = []
    while True:
        reply = codec.decode(await sock.recv(), m.HubToKiosk)
        if isinstance(reply, m.Welcome):
            break
    while not stop.is_set():
        began = time.perf_counter()
        await sock.send(codec.encode(m.Heartbeat()))
        while True:
            if not await sock.poll(10_000):
                rtts.append(10.0)
                break
            reply = codec.decode(await sock.recv(), m.HubToKiosk)
            if isinstance(reply, m.Heartbeat) and not reply.own:
                rtts.append(time.perf_counter() - began)
                break
        await asyncio.sleep(0.02)
    sock.close()
    ctx.term()
    return rtts


async def guesser(web: int, source: str, stop: asyncio.Event, codes: dict[int, int]) -> None:
    connector = aiohttp.TCPConnector(local_addr=(source, 0))
    jar = aiohttp.CookieJar(unsafe=True)
    base = f"http://127.0.0.1:{web}"
    async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as session:
        while not stop.is_set():
            page = await (await session.get(f"{base}/login")).text()
            token = CSRF.search(page)
            data = {
                "username": secrets.token_hex(4),
                "password": secrets.token_hex(8),
                "csrf": token.group(1) if token else "",
            }
            r = await session.post(f"{base}/login", data=data, allow_redirects=False)
            codes[r.status] = codes.get(r.status, 0) + 1


async def measure(port: int, web: int, hub_key: str, keys, seconds: float) -> dict:
    stop = asyncio.Event()
    quiet = asyncio.create_task(beats(port, hub_key, keys, stop))
    await asyncio.sleep(seconds / 2)
    stop.set()
    idle = await quiet
    stop = asyncio.Event()
    codes: dict[int, int] = {}
    tasks = [
        asyncio.create_task(guesser(web, f"127.0.5.{i + 1}", stop, codes)) for i in range(CLIENTS)
    ]
    loaded_task = asyncio.create_task(beats(port, hub_key, keys, stop))
    await asyncio.sleep(seconds)
    stop.set()
    loaded = await loaded_task
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"idle": idle, "loaded": loaded, "codes": codes, "seconds": seconds}


def run_one(tree: Path, seconds: float) -> dict:
    keys = zmq.curve_keypair()
    with tempfile.TemporaryDirectory() as tmp:
        hub = start_hub(tree, Path(tmp) / "hub", keys[0].decode())
        try:
            return asyncio.run(measure(hub.port, hub.web_port, hub.public_key, keys, seconds))
        finally:
            hub.kill(signal.SIGTERM)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--base", default="HEAD", help="git revision of the 'before' hub")
    args = p.parse_args()
    print(machine())
    with source_tree(args.base) as base:
        trees = {"before": base, "after": ROOT}
        got: dict[str, list[dict]] = {"before": [], "after": []}
        for r in range(args.rounds):
            for name in ("before", "after") if r % 2 == 0 else ("after", "before"):
                res = run_one(trees[name], args.seconds)
                got[name].append(res)
                ms = [x * 1000 for x in res["loaded"]]
                idle = [x * 1000 for x in res["idle"]]
                print(
                    f"  {name:<6} round {r}: heartbeat RTT idle median {statistics.median(idle):.2f} ms; "
                    f"under {CLIENTS} logins median {statistics.median(ms):.2f} ms, "
                    f"p95 {pct(ms, 95):.1f} ms, max {max(ms):.1f} ms ({len(ms)} beats); "
                    f"login answers {sum(res['codes'].values()) / res['seconds']:.1f}/s {res['codes']}",
                    flush=True,
                )
        for name in ("before", "after"):
            med = statistics.median(statistics.median(r["loaded"]) * 1000 for r in got[name])
            p95 = statistics.median(pct([x * 1000 for x in r["loaded"]], 95) for r in got[name])
            print(
                f"{name:<6}: heartbeat RTT under {CLIENTS} parallel logins: median {med:.2f} ms, p95 {p95:.1f} ms"
            )


if __name__ == "__main__":
    main()
