"""Run `hub.cli` with time stamps of where each kiosk frame spends its time (load.py --trace).

    python -m benchmarks.hubtrace OUT.json -- python -m hub.cli serve …

Records, in CLOCK_MONOTONIC seconds (the clock `time.perf_counter` reads on Linux, so the
load generator's client processes use the same one):
- per router slice (`Router.on_slice`): when it began, committed, and its replies were
  handed to libzmq, and (kiosk, message tag, when it was read from the socket) of each frame;
- the asyncio loop's lag (a task that sleeps 5 ms and notes when it wakes > 2 ms late);
- the consensus fit and checkpoint threads' start/end, garbage collections;
- per slice the router thread's CPU time and run-queue wait (/proc schedstat), per thread at
  exit the CPU time and run-queue wait of every thread.
Written as JSON when the hub exits. Not part of the hub: a benchmark-only wrapper.
"""

from __future__ import annotations

import asyncio
import atexit
import gc
import json
import os
import runpy
import sys
import threading
import time
from typing import Any


def install(out: str) -> None:
    from hub.service import HubService
    from hub.site import router as router_mod
    from hub.site import server as server_mod
    from hub.site.fit_process import FitProcess
    from hub.store import Store

    data: dict[str, Any] = {
        "slices": [],
        "lag": [],
        "fit": [],
        "write": [],
        "checkpoint": [],
        "cpu": [],
        "handle": [],
        "gc": [],
    }
    init = router_mod.Router.__init__

    read_at: dict[int, float] = {}
    add = router_mod.Backlog.add

    def traced_add(self: Any, frames: Any, now: float | None = None) -> None:
        read_at[id(frames)] = time.monotonic()
        add(self, frames, now)

    def on_slice(began: float, committed: float, sent: float, handled: Any) -> None:
        data["slices"].append(
            (began, committed, sent, [(*_tag(f), read_at.pop(id(f), began)) for f in handled])
        )

    def traced_init(self: Any, *a: Any, **k: Any) -> None:
        init(self, *a, **k)
        self.on_slice = on_slice
        asyncio.get_event_loop().create_task(lag_monitor())

    async def lag_monitor() -> None:
        while True:
            t = time.perf_counter()
            await asyncio.sleep(0.005)
            late = time.perf_counter() - t - 0.005
            if late > 0.002:
                data["lag"].append((t, late))

    def timed(bucket: str, fn: Any) -> Any:
        def wrapper(*a: Any, **k: Any) -> Any:
            t, c = time.perf_counter(), time.thread_time()
            try:
                return fn(*a, **k)
            finally:
                data[bucket].append((t, time.perf_counter(), time.thread_time() - c))

        return wrapper

    handle_some = router_mod.Router.handle_some

    stat = f"/proc/self/task/{threading.get_native_id()}/schedstat"

    def run_delay() -> float:
        # seconds this thread has waited on a run queue (runnable, but the CPU was busy)
        with open(stat) as f:
            return int(f.read().split()[1]) / 1e9

    def traced_handle_some(self: Any, *a: Any) -> Any:
        # wall, this thread's CPU time, and its run-queue wait of each slice: the rest of
        # the wall time the thread was blocked (the GIL, I/O)
        w, c, q = time.perf_counter(), time.thread_time(), run_delay()
        try:
            return handle_some(self, *a)
        finally:
            data["cpu"].append(
                (w, time.perf_counter() - w, time.thread_time() - c, run_delay() - q)
            )

    handle = HubService.handle

    def traced_handle(self: Any, kiosk_id: str, msg: Any, key: str = "") -> Any:
        w, c = time.perf_counter(), time.thread_time()
        try:
            return handle(self, kiosk_id, msg, key)
        finally:
            wall = time.perf_counter() - w
            if wall > 0.002:
                data["handle"].append((w, wall, time.thread_time() - c, type(msg).__name__))

    gc_started = [0.0]

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            data["gc"].append(
                (gc_started[0], time.perf_counter(), info["generation"], info["collected"])
            )

    gc.callbacks.append(on_gc)
    router_mod.Backlog.add = traced_add  # type: ignore[method-assign]
    router_mod.Router.handle_some = traced_handle_some  # type: ignore[method-assign]
    HubService.handle = traced_handle  # type: ignore[method-assign]
    router_mod.Router.__init__ = traced_init  # type: ignore[method-assign]
    # the fit (in its own process: the span the hub waits for it) and the writing of its rows
    FitProcess.rows = timed("fit", FitProcess.rows)  # type: ignore[method-assign]
    Store.set_consensus = timed("write", Store.set_consensus)  # type: ignore[method-assign]
    Store.checkpoint = timed("checkpoint", Store.checkpoint)  # type: ignore[method-assign]
    del server_mod

    def dump() -> None:
        threads = {}
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/self/task/{task}/schedstat") as f:
                cpu, wait, _ = (int(x) for x in f.read().split())
            threads[f"{task} {name}"] = (cpu / 1e9, wait / 1e9)
        data["threads"] = threads
        with open(out, "w") as f:
            json.dump(data, f)

    atexit.register(dump)


def _tag(frames: Any) -> tuple[str, str]:
    """(kiosk, message tag) of a frame: a peek at msgspec's `{"type": "…", …}`."""
    head = bytes(frames[1].buffer[:32]) if len(frames) > 1 else b""
    at = head.find(b"\xa4type")
    tag = head[at + 6 : at + 6 + (head[at + 5] & 0x1F)] if 0 <= at < len(head) - 5 else b""
    return frames[0].bytes.decode("utf-8", "replace"), tag.decode("utf-8", "replace")


def main() -> None:
    out = sys.argv[1]
    rest = sys.argv[sys.argv.index("--") + 1 :]
    # rest = [python, -m, hub.cli, serve, …]
    install(out)
    module = rest[rest.index("-m") + 1]
    sys.argv = [module, *rest[rest.index("-m") + 2 :]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
