"""`straat-hub serve --workers N`: N hub processes for one site on one machine.

Each worker is a whole hub (`run_hub`) on the same database and the same key pair, with its
own kiosk port (base..base+N-1, or any free port each) and its own zeroconf instance, so
kiosks spread over them and move to another when one dies (they pin the site's key, not a
process). Only the first worker serves the web dashboard and metrics, fits consensus and
listens for pairing (one pairing guard, one lock-out count); the others advertise its pairing
port. The supervisor restarts a worker that dies, on the ports it had.

On SQLite the workers share one WAL database: every write transaction is `BEGIN IMMEDIATE`
with a busy timeout, so writers take turns and each one reads what the others committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import multiprocessing
import signal
import time
from dataclasses import replace
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from typing import Any

from ..project import load_project
from ..store import Store
from ..store.location import SQLITE_FILE
from .server import HubConfig, run_hub

#: Seconds a worker must have run before its death counts as "ran for a while": a worker that
#: dies sooner is restarted after RESTART_BACKOFF seconds (doubling up to RESTART_MAX).
RESTART_BACKOFF = 0.5
RESTART_MAX = 10.0
STABLE_SECONDS = 30.0
#: Seconds to wait for a worker's first start (it opens the database and binds its ports).
START_TIMEOUT = 60.0
PR_SET_PDEATHSIG = 1  # prctl(2)


def _host_port(address: str) -> tuple[str, int]:
    host, port = address.rsplit(":", 1)
    return host, int(port)


def worker_configs(config: HubConfig, n: int) -> list[HubConfig]:
    """Worker i: kiosk port base+i (or a free port each, with base 0); the first one keeps
    the web, metrics, consensus and a pairing socket (default port base+N, on loopback or the
    first interface as for one process)."""
    host, base = _host_port(config.bind)
    out = []
    for i in range(n):
        bind = f"{host}:{base + i if base else 0}"
        if i == 0:
            pair_bind = config.pair_bind
            if pair_bind is None:
                pair_host = f"tcp://{config.interfaces[0] if config.interfaces else '127.0.0.1'}"
                pair_bind = f"{pair_host}:{base + n if base else 0}"
            out.append(replace(config, bind=bind, pair_bind=pair_bind, worker=0))
        else:
            out.append(
                replace(
                    config, bind=bind, pair_bind=None, worker=i, clips=[], web=False,
                    metrics_port=None, consensus=False, pairing=False,
                )
            )  # fmt: skip
    return out


def _die_with_parent() -> None:
    """Linux: SIGTERM to this worker when the supervisor dies (even of SIGKILL), so that no
    worker outlives it holding a port."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _worker(config: HubConfig, ports: Any) -> None:
    """A worker process: one hub; reports (index, kiosk port, pairing port) once bound."""
    _die_with_parent()

    def bound(port: int, pair_port: int) -> None:
        ports.send((config.worker, port, pair_port))

    asyncio.run(run_hub(config, on_bound=bound))


def run_workers(config: HubConfig, n: int) -> None:
    """Start N workers, keep them running until SIGINT/SIGTERM, then stop them all."""
    if n < 2:
        raise ValueError("--workers wants 2 or more (one process: leave it out)")
    load_project(config.project)  # a bad project: one clear error, no worker started
    # migrations run once, here, before any worker (on the database the workers will use)
    store = Store(config.db or config.data / SQLITE_FILE)
    store.close()
    ctx = multiprocessing.get_context("spawn")
    configs = worker_configs(config, n)
    procs: list[BaseProcess | None] = [None] * n
    started = [0.0] * n
    backoff = [RESTART_BACKOFF] * n
    stopping = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}

    def start(i: int) -> None:
        receive, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_worker, args=(configs[i], send), name=f"hub-worker-{i}")
        proc.start()
        send.close()
        procs[i], started[i] = proc, time.monotonic()
        # the ports it got become its own: a restart binds the same ones (kiosks and the
        # other workers' pairing address stay right)
        if receive.poll(START_TIMEOUT):
            with contextlib.suppress(EOFError):
                _, port, pair_port = receive.recv()
                print(f"hub worker {i}: pid {proc.pid} port {port}", flush=True)
                host, _ = _host_port(configs[i].bind)
                configs[i] = replace(configs[i], bind=f"{host}:{port}")
                if i == 0:
                    pair_host, _ = _host_port(configs[0].pair_bind or "tcp://127.0.0.1:0")
                    configs[0] = replace(configs[0], pair_bind=f"{pair_host}:{pair_port}")
                    for j in range(1, n):
                        configs[j] = replace(configs[j], advertise_pair_port=pair_port)
        receive.close()

    try:
        for i in range(n):
            start(i)
        print(f"hub: {n} workers ready", flush=True)
        while not stopping:
            alive = [p.sentinel for p in procs if p is not None]
            wait(alive, timeout=0.5)
            for i, proc in enumerate(procs):
                if stopping or proc is None or proc.is_alive():
                    continue
                ran = time.monotonic() - started[i]
                print(f"hub worker {i}: exited ({proc.exitcode}) after {ran:.1f} s", flush=True)
                backoff[i] = RESTART_BACKOFF if ran > STABLE_SECONDS else backoff[i]
                deadline = time.monotonic() + backoff[i]
                while not stopping and time.monotonic() < deadline:
                    time.sleep(0.05)
                backoff[i] = min(backoff[i] * 2, RESTART_MAX)
                if not stopping:
                    start(i)
    finally:
        for proc in procs:
            if proc is not None and proc.is_alive():
                proc.terminate()  # SIGTERM: each says goodbye on zeroconf and checkpoints
        for proc in procs:
            if proc is not None:
                proc.join(30)
                if proc.is_alive():
                    proc.kill()
        for s, handler in old.items():
            signal.signal(s, handler)
        print("hub: workers stopped", flush=True)
