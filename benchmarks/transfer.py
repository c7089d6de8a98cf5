"""Clip transfer hub → kiosk over ZeroMQ (credit-based chunks, sha256 verified, written to the
kiosk cache) beside a raw TCP socket copy of the same bytes (also written and verified), in
the same run on loopback. Also: time from link back to outbox drained for 10 000 labels.

Two encrypted baselines beside raw TCP, so that what encryption itself costs is visible
(the headline stays ours / raw TCP): TLS over loopback (Python's ssl, with a throw-away
certificate from the `openssl` command), and raw TCP with each block sealed by libsodium's
XSalsa20-Poly1305 (`crypto_secretbox`, the cipher CurveZMQ uses for every message; the
libsodium that pyzmq ships, through ctypes). A baseline whose tool is missing is skipped.

    python -m benchmarks.transfer --clips 20 --size-mb 10
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import glob
import hashlib
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import zmq

from benchmarks.common import machine
from kiosk.config import KioskConfig
from kiosk.engine_events import ClipReady, EngineEvent, FetchStarted
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


BLOCK = 1 << 20


def _serve_once(send: Callable[[socket.socket], None], wrap: Callable[..., socket.socket]) -> int:
    """A one-connection server in a thread; returns its port."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def serve() -> None:
        conn, _ = server.accept()
        with wrap(conn, server_side=True) as conn:
            send(conn)
        server.close()

    threading.Thread(target=serve, daemon=True).start()
    return server.getsockname()[1]


def _recv_exact(sock: socket.socket, view: memoryview) -> None:
    got = 0
    while got < len(view):
        n = sock.recv_into(view[got:])
        if not n:
            raise RuntimeError("connection closed early")
        got += n


def tls_copy(files: list[Path], out_dir: Path, cert: tuple[Path, Path]) -> float:
    """Seconds to send all files over one TLS connection on loopback, write and verify."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(*cert)
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_ctx.load_verify_locations(cert[0])

    def send(conn: socket.socket) -> None:
        buf = bytearray(BLOCK)
        for path in files:
            with path.open("rb", buffering=0) as f:
                while n := f.readinto(buf):
                    conn.sendall(memoryview(buf)[:n])

    port = _serve_once(send, server_ctx.wrap_socket)
    start = time.perf_counter()
    with client_ctx.wrap_socket(
        socket.create_connection(("127.0.0.1", port)), server_hostname="localhost"
    ) as client:
        buf = bytearray(BLOCK)
        for path in files:
            remaining = path.stat().st_size
            h = hashlib.sha256()
            fd = os.open(out_dir / path.name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                while remaining:
                    n = client.recv_into(buf, min(BLOCK, remaining))
                    if not n:
                        raise RuntimeError("connection closed early")
                    view = memoryview(buf)[:n]
                    os.write(fd, view)
                    h.update(view)
                    remaining -= n
            finally:
                os.close(fd)
            assert h.hexdigest() == path.stem
    return time.perf_counter() - start


def make_cert(folder: Path) -> tuple[Path, Path] | None:
    cert, key = folder / "cert.pem", folder / "key.pem"
    try:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
             "-days", "1", "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True, timeout=30,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return cert, key


def libsodium() -> ctypes.CDLL | None:
    """The libsodium that pyzmq's wheel ships (the one CurveZMQ runs on here), or the system's."""
    libs = Path(zmq.__file__).parent.parent / "pyzmq.libs"
    for name in [*sorted(glob.glob(str(libs / "libsodium*.so*"))), "libsodium.so.23"]:
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        if lib.sodium_init() >= 0:
            return lib
    return None


def sodium_copy(files: list[Path], out_dir: Path, lib: ctypes.CDLL) -> float:
    """Raw TCP with every block sealed (XSalsa20-Poly1305) and opened: write and verify."""
    key, mac = os.urandom(32), 16
    ull = ctypes.c_ulonglong

    def nonce(i: int) -> bytes:
        return i.to_bytes(24, "little")

    def send(conn: socket.socket) -> None:
        plain, box = bytearray(BLOCK), ctypes.create_string_buffer(BLOCK + mac)
        cplain = (ctypes.c_char * BLOCK).from_buffer(plain)
        i = 0
        for path in files:
            with path.open("rb", buffering=0) as f:
                while n := f.readinto(plain):
                    lib.crypto_secretbox_easy(box, cplain, ull(n), nonce(i), key)
                    conn.sendall(memoryview(box)[: n + mac])
                    i += 1

    port = _serve_once(send, lambda conn, server_side: conn)
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as client:
        box, plain = bytearray(BLOCK + mac), bytearray(BLOCK)
        cbox = (ctypes.c_char * len(box)).from_buffer(box)
        cplain = (ctypes.c_char * BLOCK).from_buffer(plain)
        i = 0
        for path in files:
            remaining = path.stat().st_size
            h = hashlib.sha256()
            fd = os.open(out_dir / path.name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                while remaining:
                    n = min(BLOCK, remaining)
                    _recv_exact(client, memoryview(box)[: n + mac])
                    if lib.crypto_secretbox_open_easy(cplain, cbox, ull(n + mac), nonce(i), key):
                        raise RuntimeError("forged block")
                    view = memoryview(plain)[:n]
                    os.write(fd, view)
                    h.update(view)
                    remaining -= n
                    i += 1
            finally:
                os.close(fd)
            assert h.hexdigest() == path.stem
    return time.perf_counter() - start


async def zmq_fetch(endpoint: str, data: Path, n: int, operator: str = "op1") -> float:
    """Seconds from the first Fetch to the n-th verified clip in the kiosk cache."""
    config = KioskConfig(
        # a kiosk of its own per round: a new data folder is a new key, and the hub (rightly)
        # refuses a known kiosk id with another key (that was the hang with --rounds 2)
        kiosk_id=f"bench-{data.name}",
        data=str(data),
        hub=endpoint,
        hub_key=HUB_KEY[0],
        prefetch_clips=n,
        prefetch_minutes=0,
    )
    engine, link, _ = build(config)
    marks: list[float] = []
    ready = asyncio.Event()

    def on_event(event: EngineEvent) -> None:
        if isinstance(event, FetchStarted) and not marks:
            marks.append(time.perf_counter())
        elif isinstance(event, ClipReady):
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
    # the hub takes op1's labels from this kiosk once it has seen op1 log in here
    ok, _ = await engine.login("op1", PIN)
    assert ok
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
            load = os.getloadavg()
            cert = make_cert(tmp)
            lib = libsodium()
            times: dict[str, list[float]] = {"raw": [], "tls": [], "sodium": [], "ours": []}
            for r in range(args.rounds):  # the methods take turns, so load hits all alike
                for name in times:
                    out = tmp / f"{name}{r}"
                    out.mkdir()
                    if name == "raw":
                        times[name].append(raw_tcp_copy(files, out))
                    elif name == "tls" and cert:
                        times[name].append(tls_copy(files, out, cert))
                    elif name == "sodium" and lib:
                        times[name].append(sodium_copy(files, out, lib))
                    elif name == "ours":
                        kiosk = zmq_fetch(hub.endpoint, out, args.clips, f"op{r + 1}")
                        times[name].append(asyncio.run(kiosk))
                    # written bytes gone before the next copy: no round pays for the dirty
                    # pages (writeback throttling) an earlier one left behind
                    shutil.rmtree(out)
            print(f"machine: {machine()}")
            print(f"load average at the start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
            print(
                f"bytes: {args.clips} clips × {args.size_mb:g} MiB = {total / 1024**2:.0f} MiB,"
                f" {args.rounds} rounds (MiB/s: best, median)"
            )

            def line(label: str, name: str) -> None:
                t = times[name]
                if not t:
                    print(f"{label} skipped (no {'openssl' if name == 'tls' else 'libsodium'})")
                    return
                best, med = total / min(t) / 2**20, total / statistics.median(t) / 2**20
                print(f"{label} {best:8.0f} MiB/s  median {med:6.0f}")

            line("raw TCP copy + write + sha256:                      ", "raw")
            line("TLS (AES-GCM) TCP copy + write + sha256:            ", "tls")
            line("TCP + XSalsa20-Poly1305 (libsodium) + write + sha256:", "sodium")
            line("ZeroMQ CURVE chunks + write + sha256 (ours):         ", "ours")
            raw_best, zmq_best = min(times["raw"]), min(times["ours"])
            per_round = [a / b for a, b in zip(times["raw"], times["ours"], strict=True)]
            print(
                f"ratio ours / raw TCP: {raw_best / zmq_best:.2f}× best, "
                f"{statistics.median(per_round):.2f}× median of rounds  (target ≥ 0.9×)"
            )
            for name, label in (("tls", "TLS"), ("sodium", "TCP + XSalsa20-Poly1305")):
                if times[name]:
                    print(f"ratio ours / {label}: {min(times[name]) / zmq_best:.2f}× best")
            t = asyncio.run(drain(hub.endpoint, tmp / "drain", small))
            print(
                f"outbox drain: {args.labels} labels from link up to all acknowledged: "
                f"{t:.2f} s ({args.labels / t:.0f} labels/s)"
            )
        finally:
            hub.kill()


if __name__ == "__main__":
    main()
