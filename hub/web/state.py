"""Typed application and request state of the web app."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from ..consensus.overview import Overview, overview
from ..models.importer import ImportReport
from ..service import HubService
from ..store import Store, dashboard
from ..store.accounts import Principal

T = TypeVar("T")


@dataclass(frozen=True)
class WebSettings:
    #: Secure flag on cookies: True, False (plain-HTTP LAN), or None = when the request is HTTPS.
    secure_cookies: bool | None = None

    @classmethod
    def from_env(cls) -> WebSettings:
        """`STRAAT_WEB_SECURE_COOKIES=1|0|auto` (default auto)."""
        raw = os.environ.get("STRAAT_WEB_SECURE_COOKIES", "auto").strip().lower()
        value = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
        return cls(secure_cookies=value.get(raw))


class Reader:
    """Dashboard reads off the event loop. The hub's router (every kiosk's labels and
    heartbeats) runs on that loop: a page that scans millions of labels there would stall the
    whole line. Reads run in one worker thread on its own read-only connection to the hub's
    database, or its read replica (`Store.reader`; SQLite's WAL: a reader sees the last
    commit and never blocks the router's writes).

    `await reader(fn, *args)` runs `fn(store, *args)` there."""

    def __init__(self, store: Store) -> None:
        self.writer = store  # opens the reads' connection (never used in the thread)
        self._pool: ThreadPoolExecutor | None = None  # made on first use, again after close
        self._store: Store | None = None

    def _call(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        if self._store is None:
            self._store = self.writer.reader(cache_mib=64)  # its own cache beside the router's
        return fn(self._store, *args)

    async def __call__(self, fn: Callable[..., T], *args: Any) -> T:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="web-read")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._call, fn, args)

    def _close_store(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.submit(self._close_store)
            self._pool.shutdown(wait=True)
            self._pool = None


class Share:
    """At most `share` of the time goes to a costly recomputation: one that began at `b` and
    took `t` seconds is next due at `b + t / share` (until then, the last result stands).
    The quality report and the live updates' label figures both pace themselves with it."""

    def __init__(self, share: float) -> None:
        self.share = share
        self.due = 0.0  # monotonic time

    def ready(self, now: float) -> bool:
        return now >= self.due

    def spent(self, began: float, ended: float) -> None:
        self.due = began + (ended - began) / self.share


class QualityCache:
    """The quality report, recomputed only when labels or gold answers changed, and then with
    at most `SHARE` of the time spent on it (a big site's report costs seconds of CPU; with
    labels arriving all the time every page view would pay it again, and the hub's CPU is the
    line's). The votes are read by the `Reader` (off the event loop); the maths runs in a
    worker thread of its own, one computation at a time."""

    SHARE = 1 / 6  # after a computation of t seconds, the report stands for another 5 t

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self._key: tuple[object, ...] | None = None
        self._report: Overview | None = None
        self._lock = asyncio.Lock()
        self._pace = Share(self.SHARE)

    async def get(self, service: HubService) -> Overview:
        async with self._lock:
            if self._report is not None and not self._pace.ready(time.monotonic()):
                return self._report
            key = await self.reader(dashboard.labels_version)
            if self._report is None or key != self._key:
                began = time.monotonic()
                classes = [label.value for label in service.schema.labels]
                votes, gold = await self.reader(_votes_and_gold)
                self._report = await asyncio.to_thread(overview, votes, classes, gold)
                self._key = key
                self._pace.spent(began, time.monotonic())
            return self._report


def _votes_and_gold(store: Store) -> tuple[Any, Any]:
    return dashboard.votes(store), dashboard.gold_answers(store)


class LoginGate:
    """Password checks off the event loop: a small thread pool and a count of the logins
    waiting for it (beyond a limit, more are turned away at once)."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self.slots = asyncio.Semaphore(threads)
        self.waiting = 0

    @property
    def pool(self) -> ThreadPoolExecutor:
        """Made on first use (an app that is set up again after a cleanup gets a new one)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="web-login")
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


@dataclass
class Exports:
    """Where dataset snapshots go, and the lock that makes them one at a time."""

    root: Path
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass(frozen=True)
class ModelSettings:
    """The model API's settings: `threshold` is the default consensus confidence of an
    evaluation (the project's `confidence`); a prediction upload over `max_upload` bytes is
    refused (413); `on_import(store, report)` runs after predictions changed (the server
    recomputes the assignment priorities there)."""

    threshold: float = 0.9
    max_upload: int = 64 * 1024**2
    on_import: Callable[[Store, ImportReport], Any] | None = None


SERVICE = web.AppKey("service", HubService)
EXPORTS = web.AppKey("exports", Exports)
MODELS = web.AppKey("models", ModelSettings)
LOGIN_GATE = web.AppKey("login_gate", LoginGate)
SETTINGS = web.AppKey("settings", WebSettings)
QUALITY = web.AppKey("quality", QualityCache)
READER = web.AppKey("reader", Reader)


def _request_key(name: str, kind: object) -> Any:
    """`web.RequestKey` where aiohttp has it (3.12+), a plain string before."""
    maker = getattr(web, "RequestKey", None)
    return maker(name, kind) if maker is not None else f"straat.{name}"


# per request
PRINCIPAL = _request_key("principal", Principal)  # Principal | None
VIA_SESSION = _request_key("via_session", bool)  # authenticated by the browser cookie
LANG = _request_key("lang", str)  # "nl" | "en"


def principal(request: web.Request) -> Principal:
    who = request.get(PRINCIPAL)
    if who is None:  # the auth middleware lets no such request through
        raise web.HTTPUnauthorized()
    return who


def service(request: web.Request) -> HubService:
    return request.app[SERVICE]


def reader(request: web.Request) -> Reader:
    return request.app[READER]


def lang(request: web.Request) -> str:
    return request.get(LANG, "nl")
