"""Dashboard on a big site: how long each page and API call takes, and how long it holds up
the hub's event loop (where the router serves every kiosk's labels and heartbeats).

A hub database of CLIPS clips and LABELS labels is built with `benchmarks.growth.build`; the
real aiohttp app is served on loopback and a lead logs in. While each path is fetched
(`--repeat` times) a ticker on the same loop records its longest gap: the loop's worst stall.
The test client runs on that loop too, so a big response's reading counts in the stall.

    python -m benchmarks.dashboard [--clips 100000] [--labels 300000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import tempfile
import time
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from benchmarks.common import machine, median
from benchmarks.growth import build, open_service

PATHS = [
    "/kiosks",
    "/operators",
    "/progress",
    "/quality",
    "/operators/op0007/statement",
    "/api/v1/status",
    "/api/v1/operators",
    "/api/v1/progress",
    "/api/v1/quality",
    "/api/v1/export/clips.jsonl",
]
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def measure(service: object, repeat: int) -> list[tuple[str, int, list[float], float]]:
    from hub.web.app import create_app
    from hub.web.state import WebSettings

    app = create_app(service, WebSettings(secure_cookies=False))  # type: ignore[arg-type]
    out = []
    async with TestClient(TestServer(app)) as c:
        token = CSRF.search(await (await c.get("/login")).text()).group(1)  # type: ignore[union-attr]
        form = {"username": "lea", "password": "lead-pass-1", "csrf": token, "next": "/kiosks"}
        assert (await c.post("/login", data=form, allow_redirects=False)).status == 303
        gap = [0.0]

        async def ticker() -> None:
            last = time.perf_counter()
            while True:
                await asyncio.sleep(0.001)
                now = time.perf_counter()
                gap[0], last = max(gap[0], now - last), now

        tick = asyncio.create_task(ticker())
        for path in PATHS:
            times, gap[0] = [], 0.0
            for _ in range(repeat):
                t = time.perf_counter()
                r = await c.get(path)
                await r.read()
                times.append(time.perf_counter() - t)
            out.append((path, r.status, times, gap[0]))
        tick.cancel()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--clips", type=int, default=100_000)
    p.add_argument("--labels", type=int, default=300_000)
    p.add_argument("--operators", type=int, default=200)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--keep", type=Path, default=None, help="build (or reuse) the DB here")
    args = p.parse_args(argv)
    from hub.store.accounts import add_user

    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        data = args.keep or Path(tmp)
        data.mkdir(parents=True, exist_ok=True)
        print(f"machine: {machine()}")
        if not (data / "hub.db").exists():
            built = build(data / "hub.db", args.clips, args.labels, args.operators, 0.9)
            print(
                f"built: {built['clips']} clips, {built['labels']} labels, "
                f"{built['mib']:.0f} MiB in {built['seconds']:.1f} s"
            )
        store, service = open_service(data)
        if not store.conn.execute("SELECT 1 FROM users WHERE username = 'lea'").fetchone():
            add_user(store, "lea", "lead", "lead-pass-1")
        rows = asyncio.run(measure(service, args.repeat))
        store.close()
    print(f"{'path':32s} status  first ms  median ms  loop stalled ms")
    for path, status, times, stall in rows:
        print(
            f"{path:32s} {status:6d} {times[0] * 1000:9.1f} {median(times) * 1000:10.1f}"
            f" {stall * 1000:16.1f}"
        )
    worst = max(rows, key=lambda r: r[3])
    print(f"worst loop stall: {worst[3] * 1000:.1f} ms ({worst[0]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
