"""`GET /healthz`: 200 when the hub can do its work, 503 with the reasons when it cannot.

Checked at each request: the database is reachable (not marked lost by the router, which
probes it meanwhile: then "database unreachable since …"), the database file is there and
readable (on the dashboard's reader thread, within `DB_TIMEOUT`), the event loop that runs the router answered its last ticks in
time (`LoopLag`: a loop held by long work stalls every kiosk), and the data folder's file
system has room for labels and clips. Public (no login), like a load balancer's probe.
"""

from __future__ import annotations

import asyncio
import shutil
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from ..service import HUB_VERSION
from ..store.health import database_readable
from . import auth
from .state import READER, SERVICE

#: Seconds between the loop monitor's ticks, and ticks remembered (the worst counts).
TICK_SECONDS = 0.25
TICKS_KEPT = 40
#: Seconds the database read may take before the check fails.
DB_TIMEOUT = 2.0


@dataclass(frozen=True)
class HealthLimits:
    #: the worst lateness of a tick over the last `TICKS_KEPT` ticks (the systemd watchdog
    #: restarts the hub after 60 s; a kiosk reconnects after a few missed heartbeats)
    max_loop_lag: float = 1.0
    #: free bytes the data folder's file system must keep (a day of labels is a few MB; an
    #: ingest needs room for its clips)
    min_free_bytes: int = 512 * 1024**2


class LoopLag:
    """How late the event loop runs a task that sleeps `TICK_SECONDS` at a time."""

    def __init__(self) -> None:
        self.late: deque[float] = deque(maxlen=TICKS_KEPT)

    @property
    def worst(self) -> float:
        return max(self.late, default=0.0)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(TICK_SECONDS)
            self.late.append(max(0.0, loop.time() - start - TICK_SECONDS))


LIMITS: web.AppKey[HealthLimits] = web.AppKey("health_limits", HealthLimits)
LAG: web.AppKey[LoopLag] = web.AppKey("loop_lag", LoopLag)


def setup_health(app: web.Application, limits: HealthLimits | None = None) -> None:
    """The loop monitor runs as long as the web app, on its loop (the router's)."""
    app[LIMITS] = limits or HealthLimits()
    app[LAG] = LoopLag()
    app.cleanup_ctx.append(_loop_lag_ctx)


async def _loop_lag_ctx(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(app[LAG].run())
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def _database(app: web.Application) -> str | None:
    if app[SERVICE].database.down:  # the router found it so, and probes it
        return app[SERVICE].database.describe()
    path = app[SERVICE].store.path  # None: PostgreSQL
    if path is not None and not path.is_file():
        return f"the database {path} is gone"
    try:
        await asyncio.wait_for(app[READER](database_readable), DB_TIMEOUT)
    except TimeoutError:
        return f"the database did not answer within {DB_TIMEOUT:.0f} s"
    except Exception as e:  # any failure to read is the answer
        return f"the database cannot be read: {e}"
    return None


@auth.public
async def healthz(request: web.Request) -> web.Response:
    app = request.app
    limits = app[LIMITS]
    problems: list[str] = []
    if problem := await _database(app):
        problems.append(problem)
    lag = app[LAG].worst
    if lag > limits.max_loop_lag:
        problems.append(f"the event loop ran {lag:.2f} s late (limit {limits.max_loop_lag} s)")
    data = app[SERVICE].media_root.parent  # the data folder (media, key, exports)
    try:
        free = shutil.disk_usage(data).free
    except OSError as e:
        free = 0
        problems.append(f"the data folder cannot be checked: {e}")
    if free < limits.min_free_bytes:
        problems.append(
            f"{free / 1024**2:.0f} MiB free in {data} (at least {limits.min_free_bytes / 1024**2:.0f})"
        )
    body = {
        "ok": not problems,
        "version": HUB_VERSION,
        "problems": problems,
        "loop_lag_seconds": round(lag, 4),
        "disk_free_bytes": free,
    }
    return web.json_response(body, status=503 if problems else 200)
