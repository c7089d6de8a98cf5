"""Clip transfer hub → kiosk over ZeroMQ (credit-based chunks, sha256 verified, written to the
kiosk cache) beside a raw TCP socket copy of the same bytes (also written and verified), in
the same run on loopback. Also: time from link back to outbox drained for 10 000 labels.

    python -m benchmarks.transfer --clips 20 --size-mb 10
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import socket
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.common import machine
from kiosk.config import KioskConfig
from kiosk.runtime import build
from protocol import messages as m
from tests.conftest import PIN, make_hub
from tests.faults import seed_clips

HUB_KEY = [""]


def raw_tcp_copy(files: list[Path], out_dir: Path) -> float:
    """Seconds to send all files over one TCP connection, write and verify them."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            for path in files:
                with path.open("rb") as f:
                    conn.sendfile(f)
        server.close()

    threading.Thread(target=serve, daemon=True).start()
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as client:
        for path in files:
            remaining = path.stat().st_size
            h = hashlib.sha256()
            with (out_dir / path.name).open("wb") as out:
                while remaining:
                    data = client.recv(min(1 << 20, remaining))
                    if not data:
                        raise RuntimeError("connection closed early")
                    out.write(data)
                    h.update(data)
                    remaining -= len(data)
            assert h.hexdigest() == path.stem
    return time.perf_counter() - start


async def zmq_fetch(endpoint: str, data: Path, n: int, operator: str = "op1") -> float:
    """Seconds from the first Fetch to the n-th verified clip in the kiosk cache."""
    config = KioskConfig(
        kiosk_id="bench",
        data=str(data),
        hub=endpoint,
        hub_key=HUB_KEY[0],
        prefetch_clips=n,
        prefetch_minutes=0,
    )
    engine, link, _ = build(config)
    marks: list[float] = []
    ready = asyncio.Event()

    def on_event(event: str, _data: dict) -> None:
        if event == "fetch" and not marks:
            marks.append(time.perf_counter())
        elif event == "ready":
            marks.append(time.perf_counter())
            if len(marks) == n + 1:
                ready.set()

    engine.listeners.append(on_event)
    task = asyncio.create_task(link.run())
    while not engine.online:
        await asyncio.sleep(0.01)
    ok, _ = await engine.login(operator, PIN)  # a new operator per round: never twice
    assert ok
    while not ready.is_set():  # as the kiosk app does: tick() retries a stalled transfer
        try:
            await asyncio.wait_for(ready.wait(), 1.0)
        except TimeoutError:
            print(f"  (tick: {len(marks) - 1} of {n} ready, {len(engine._fetches)} in flight)")
            engine.tick()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    engine.store.close()
    return marks[-1] - marks[0]


async def drain(endpoint: str, data: Path, shas: list[str]) -> float:
    config = KioskConfig(kiosk_id="drain", data=str(data), hub=endpoint, hub_key=HUB_KEY[0])
    engine, link, _ = build(config)
    store = engine.store
    with store.transaction():
        for i, sha in enumerate(shas):
            store.record_label(
                m.Label(
                    uuid=f"bench-{i}",
                    operator="op1",
                    clip=sha,
                    schema_version=1,
                    values=["gewelddadig"],
                    created_at=time.time(),
                )
            )
    assert store.outbox_count() == len(shas)
    task = asyncio.create_task(link.run())
    while not engine.online:
        await asyncio.sleep(0.001)
    start = time.perf_counter()
    while store.outbox_count():
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - start
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    store.close()
    return elapsed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--clips", type=int, default=20)
    p.add_argument("--size-mb", type=float, default=10.0)
    p.add_argument("--labels", type=int, default=10_000)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    size = int(args.size_mb * 1024 * 1024)
    with tempfile.TemporaryDirectory(prefix="bench-transfer-") as tmp_str:
        tmp = Path(tmp_str)
        hub = make_hub(tmp, operators=args.rounds + 1)
        shas = seed_clips(hub.data, args.clips, size, want=args.rounds + 1)
        files = [hub.data / "media" / s[:2] / f"{s}.mp4" for s in shas]
        small = seed_clips(hub.data, args.labels, 64, want=3, seed=99)
        hub.extra = ["--open-pairing", "--no-zeroconf"]
        hub.start()
        HUB_KEY[0] = hub.public_key
        try:
            total = args.clips * size
            raw_t, zmq_t = [], []
            for r in range(args.rounds):
                out = tmp / f"raw{r}"
                out.mkdir()
                raw_t.append(raw_tcp_copy(files, out))
                zmq_t.append(
                    asyncio.run(zmq_fetch(hub.endpoint, tmp / f"k{r}", args.clips, f"op{r + 1}"))
                )
            raw_best, zmq_best = min(raw_t), min(zmq_t)
            print(f"machine: {machine()}")
            print(
                f"bytes: {args.clips} clips × {args.size_mb:g} MiB = {total / 1024**2:.0f} MiB,"
                f" best of {args.rounds}"
            )
            print(f"raw TCP copy + write + sha256:        {total / raw_best / 1024**2:8.0f} MiB/s")
            print(f"ZeroMQ chunks + write + sha256 (ours): {total / zmq_best / 1024**2:8.0f} MiB/s")
            print(f"ratio ours / raw TCP: {raw_best / zmq_best:.2f}×  (target ≥ 0.9×)")
            t = asyncio.run(drain(hub.endpoint, tmp / "drain", small))
            print(
                f"outbox drain: {args.labels} labels from link up to all acknowledged: "
                f"{t:.2f} s ({args.labels / t:.0f} labels/s)"
            )
        finally:
            hub.kill()


if __name__ == "__main__":
    main()
