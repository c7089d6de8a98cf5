"""Live updates: one `Broadcaster` reads the store once a second while anyone listens, and
every `/events` client (server-sent events) gets the texts of its own language."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from ..render.html import DASH, number, percent
from ..store import DatabaseUnavailable, Store, dashboard
from .state import READER, SERVICE, Share, reader
from .templates import Ctx, kiosk_cells

log = logging.getLogger(__name__)

#: Seconds between snapshots, and between keep-alive comments.
TICK = 1.0
KEEPALIVE = 15.0
#: Largest share of the hub's time spent re-reading label figures for live updates.
LABEL_SHARE = 0.05


@dataclass(frozen=True)
class LabelFigures:
    """The parts of a snapshot that scan the labels (the costly ones on a big site)."""

    counts: dashboard.Counts
    clips_today: dict[str, int]
    clips_total: dict[str, int]
    distribution: dict[str, int]


@dataclass(frozen=True)
class Snapshot:
    now: float
    labels: LabelFigures
    kiosks: list[dashboard.KioskState]
    alerts_open: dict[str, int]

    @property
    def counts(self) -> dashboard.Counts:
        return self.labels.counts


def label_figures(store: Store, now: float) -> LabelFigures:
    today, total = dashboard.label_counts_by_operator(store, dashboard.day_start(now))
    return LabelFigures(
        counts=dashboard.counts(store, now),
        clips_today=today,
        clips_total=total,
        distribution=dashboard.label_distribution(store),
    )


def take(store: Store, now: float | None = None, labels: LabelFigures | None = None) -> Snapshot:
    """A snapshot; `labels` reuses label figures read a moment ago."""
    now = time.time() if now is None else now
    return Snapshot(
        now=now,
        labels=labels or label_figures(store, now),
        kiosks=dashboard.kiosks(store, now),
        alerts_open=dashboard.open_alerts_by_operator(store),
    )


def render(snapshot: Snapshot, ctx: Ctx) -> dict[str, object]:
    """What the page's `data-live` and `data-state` elements show, keyed like the page."""
    values: dict[str, str] = {}
    states: dict[str, str] = {}
    c = snapshot.counts
    for key in (
        "clips",
        "done",
        "backlog",
        "votes_needed",
        "labels",
        "labels_last_hour",
        "alerts_open",
        "operators_active",
    ):
        values[f"counts.{key}"] = number(getattr(c, key))
    values["kiosks.online"] = number(sum(k.online for k in snapshot.kiosks))
    values["kiosks.total"] = number(len(snapshot.kiosks))
    for k in snapshot.kiosks:
        for field, text in kiosk_cells(ctx, k).items():
            values[f"kiosk:{k.id}:{field}"] = text
        states[f"kiosk:{k.id}"] = "online" if k.online else "offline"
    for op, n in snapshot.labels.clips_total.items():
        values[f"op:{op}:clips_total"] = number(n)
        values[f"op:{op}:clips_today"] = number(snapshot.labels.clips_today.get(op, 0))
    for op in snapshot.labels.clips_total.keys() | snapshot.alerts_open.keys():
        values[f"op:{op}:alerts"] = number(snapshot.alerts_open.get(op, 0))
    distribution = snapshot.labels.distribution
    total = sum(distribution.values()) or 1
    for value, n in distribution.items():
        values[f"dist:{value}"] = number(n)
        values[f"distshare:{value}"] = percent(n / total)
    return {
        "now": snapshot.now,
        "values": values,
        "states": states,
        "kiosk_ids": [k.id for k in snapshot.kiosks],
        "empty": DASH,
    }


class Broadcaster:
    """Reads a snapshot each `TICK` while there are listeners and hands it to each of them.

    Kiosk states are read every tick; the label figures too, unless reading them is slow
    (a big site): then at most `LABEL_SHARE` of the time goes to them."""

    def __init__(self) -> None:
        self.listeners: set[asyncio.Queue[Snapshot | None]] = set()
        self.latest: Snapshot | None = None
        self.closing = False
        self._labels: LabelFigures | None = None
        self._labels_pace = Share(LABEL_SHARE)

    def snapshot(self, store: Store) -> Snapshot:
        began = time.monotonic()
        if self._labels is None or self._labels_pace.ready(began):
            self._labels = label_figures(store, time.time())
            self._labels_pace.spent(began, time.monotonic())
        return take(store, labels=self._labels)

    def subscribe(self) -> asyncio.Queue[Snapshot | None]:
        queue: asyncio.Queue[Snapshot | None] = asyncio.Queue(maxsize=2)
        self.listeners.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Snapshot | None]) -> None:
        self.listeners.discard(queue)

    def publish(self, snapshot: Snapshot | None) -> None:
        self.latest = snapshot
        for queue in list(self.listeners):
            if queue.full():  # a slow client skips a beat rather than piling up
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(snapshot)

    async def run(self, app: web.Application) -> None:
        read = app[READER]  # off the event loop, where the router serves the kiosks
        while True:
            await asyncio.sleep(TICK)
            state = app[SERVICE].database
            if not self.listeners or state.down:  # (the pages say so and reload)
                continue
            try:
                self.publish(await read(self.snapshot))
            except DatabaseUnavailable as e:
                state.lost(str(e))
            except Exception:  # a failed read must not end live updates for good
                log.exception("live snapshot failed")

    def close(self) -> None:
        self.closing = True
        self.publish(None)


BROADCASTER = web.AppKey("broadcaster", Broadcaster)


async def broadcaster_ctx(app: web.Application) -> AsyncIterator[None]:
    broadcaster = Broadcaster()
    app[BROADCASTER] = broadcaster
    task = asyncio.create_task(broadcaster.run(app))
    yield
    broadcaster.close()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def on_shutdown(app: web.Application) -> None:
    """End the event streams first, so that the server does not wait for them."""
    app[BROADCASTER].close()


def _frame(event: str, data: object) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


async def events(request: web.Request) -> web.StreamResponse:
    """`text/event-stream` of `snapshot` events (see `render`)."""
    broadcaster = request.app[BROADCASTER]
    ctx = Ctx.of(request)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    queue = broadcaster.subscribe()
    try:
        await response.write(b"retry: 2000\n\n")
        first = await reader(request)(broadcaster.snapshot)
        await response.write(_frame("snapshot", render(first, ctx)))
        while not broadcaster.closing:
            try:
                snapshot = await asyncio.wait_for(queue.get(), KEEPALIVE)
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            if snapshot is None:
                break
            await response.write(_frame("snapshot", render(snapshot, ctx)))
    except (ConnectionResetError, ConnectionError):
        pass
    finally:
        broadcaster.unsubscribe(queue)
    with contextlib.suppress(ConnectionError):
        await response.write_eof()
    return response


__all__ = ["BROADCASTER", "Broadcaster", "broadcaster_ctx", "events", "on_shutdown"]
