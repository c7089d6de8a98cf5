"""A kiosk without a screen: logs an operator in and labels on a schedule.

For fault tests, the chaos run and load runs: the same engine, store, cache and link as the
TUI, with a simulated operator pressing keys. Prints one JSON line per event on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import sys
import time
from dataclasses import asdict

from . import engine_events as ev
from .config import KioskConfig
from .runtime import build


def emit(**data: object) -> None:
    print(json.dumps({"t": round(time.monotonic(), 3), **data}), flush=True)


def print_event(event: ev.EngineEvent) -> None:
    """The engine's events a fault test or load run follows, as JSON lines."""
    if isinstance(event, PRINTED):
        emit(event=event.name, **asdict(event))


PRINTED = (ev.StatusChanged, ev.Welcomed, ev.HubProblem, ev.FetchStarted, ev.ClipReady)


async def run(args: argparse.Namespace) -> int:
    config = KioskConfig(
        kiosk_id=args.kiosk_id,
        data=args.data,
        hub=args.hub,
        pair_code=args.pair_code,
        hub_key=args.hub_key,
        hub_pair=args.hub_pair,
        trust_first_hub=args.tofu,
        interfaces=args.interface or [],
        prefetch_clips=args.prefetch,
    )
    engine, link, browser = build(config)
    engine.listeners.append(print_event)
    link_task = asyncio.create_task(link.run())
    rng = random.Random(args.seed)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)

    # online if the hub is there within a moment; otherwise the cached roster decides
    deadline = time.monotonic() + args.wait_online
    while not engine.online and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    while True:
        ok, reason = await engine.login(args.operator, args.pin)
        if ok:
            break
        emit(event="login_failed", reason=reason)
        if reason != "no_hub":
            return 2
        await asyncio.sleep(0.5)
    emit(event="login", operator=args.operator, online=engine.online)
    while len([c for c, _ in engine.pending() if engine.cache.ready(c.sha256)]) < args.start_after:
        if stop.is_set():
            break
        engine.pump()
        await asyncio.sleep(0.1)
    labelled = 0
    values = args.values.split(",") if args.values else None
    tick = time.monotonic()
    while not stop.is_set() and (args.count <= 0 or labelled < args.count):
        if time.monotonic() - tick > 1.0:
            engine.tick()
            tick = time.monotonic()
        nxt = engine.next_ready()
        if nxt is None:
            await asyncio.sleep(0.05)
            continue
        clip, lease = nxt
        schema = engine.schema  # stored with the hub's Welcome, before any clip was assigned
        choices = values or ([label.value for label in schema.labels] if schema else [])
        assert choices, "no label values: none given and no project schema stored"
        label = engine.submit(clip, lease, [rng.choice(choices)], telemetry={"headless": True})
        labelled += 1
        emit(event="labelled", uuid=label.uuid, clip=clip.sha256, n=labelled)
        if args.interval > 0:
            await asyncio.sleep(args.interval)
        else:
            await asyncio.sleep(0)
    # drain: wait for the outbox to empty (or the time limit)
    end = time.monotonic() + args.drain
    while engine.store.outbox_count() and time.monotonic() < end:
        engine.tick()
        await asyncio.sleep(0.1)
    emit(event="done", labelled=labelled, outbox=engine.store.outbox_count())
    link_task.cancel()
    await asyncio.gather(link_task, return_exceptions=True)
    if browser is not None:
        await browser.stop()
    engine.store.close()
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--kiosk-id", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--hub", default=None)
    p.add_argument("--interface", action="append")
    p.add_argument("--pair-code", default=None)
    p.add_argument("--hub-key", default=None, help="the hub's public key (with --hub)")
    p.add_argument("--hub-pair", default=None, help="the hub's pairing address (with --hub)")
    p.add_argument("--tofu", action="store_true", help="trust the first hub seen (demo, tests)")
    p.add_argument("--operator", required=True)
    p.add_argument("--pin", required=True)
    p.add_argument("--count", type=int, default=0, help="labels to make (0 = until stopped)")
    p.add_argument("--interval", type=float, default=0.0, help="seconds between labels")
    p.add_argument("--values", default="", help="comma-separated values to choose from")
    p.add_argument("--prefetch", type=int, default=5)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--start-after", type=int, default=0, help="start labelling once this many clips are cached"
    )
    p.add_argument("--wait-online", type=float, default=5.0)
    p.add_argument("--drain", type=float, default=30.0, help="seconds to wait for the outbox")
    return p


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(parser().parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
