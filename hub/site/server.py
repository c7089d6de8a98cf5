"""`straat-hub serve`: one process with the ROUTER, zeroconf, the web app and housekeeping."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import zmq
from aiohttp import web

from protocol.keys import fingerprint

from ..models.priority import priority_config
from ..models.runtime import compute_priorities
from ..project import ProjectConfig, load_project, to_schema
from ..service import HUB_VERSION, HubService
from ..store import DatabaseUnavailable, Store, open_store, private_folder
from ..store.fitter import FitterLock
from ..store.location import SQLITE_FILE
from ..store.predictions import set_priorities
from . import sdnotify
from .discovery import Advertiser
from .fit_process import FitProcess, FitProcessDied
from .keys import load_or_create
from .router import Router, watch_database

T = TypeVar("T")

log = logging.getLogger(__name__)

#: Seconds between lease expiry sweeps and consensus refreshes.
HOUSEKEEPING_SECONDS = 10.0
#: Clips whose new consensus is written in one go (the router's loop is held meanwhile).
CONSENSUS_SLICE = 500
#: Seconds between WAL checkpoints (in a thread, so that commits never run one).
CHECKPOINT_SECONDS = 1.0
#: Nice value (added to the hub's) of the threads that run priority refreshes, checkpoints
#: and the hub's side of the consensus fit, and of the fit's own process: when they and the
#: router's thread both want a CPU, the router gets it (a pinned 200-kiosk run: the router's
#: run-queue wait doubled while they ran).
BACKGROUND_NICE = 10


def _lower_priority() -> None:
    """Runs in each background thread: Linux keeps a nice value per thread."""
    with contextlib.suppress(OSError, AttributeError):
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + BACKGROUND_NICE)


def background_executor() -> ThreadPoolExecutor:
    """Threads for the hub's periodic work off the event loop, at a lower CPU priority. They
    hold the GIL only between SQLite and numpy calls, so the router rarely waits for it."""
    return ThreadPoolExecutor(
        max_workers=2, thread_name_prefix="hub-background", initializer=_lower_priority
    )


def settle_gc() -> None:
    """Move every object alive after start-up (modules, classes, functions, the web app:
    ~90 000 of them) out of the garbage collector's sight. A full collection otherwise walks
    them all, 25–40 ms with the router's loop held (one every ~20 s under 200 kiosks: the
    longest stall in a traced run); they live as long as the hub anyway."""
    gc.collect()
    gc.freeze()


@dataclass
class HubConfig:
    project: Path
    data: Path
    bind: str = "tcp://0.0.0.0:5570"
    #: default: the next port after `bind`, on the first of `interfaces` (else loopback)
    pair_bind: str | None = None
    web_host: str = "0.0.0.0"
    web_port: int = 8080
    clips: list[Path] = field(default_factory=list)
    zeroconf: bool = True
    interfaces: list[str] | None = None
    advertise_addresses: list[str] | None = None
    open_pairing: bool = False
    proxy_height: int | None = None
    clip_seconds: float = 10.0
    #: Prometheus metrics on their own port (None: off); port 0 = any free port
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = None
    #: the hub's database (a SQLite path or a PostgreSQL URL; None: `data`/hub.db) and a
    #: read replica for the dashboard and background reads (PostgreSQL only)
    db: str | None = None
    read_db: str | None = None
    #: one of several processes of this site (`--workers`): its index (None: the only one)
    worker: int | None = None
    #: this process serves the web dashboard, fits consensus, listens for pairing
    web: bool = True
    consensus: bool = True
    pairing: bool = True
    #: the pairing port to advertise when this process has no pairing socket of its own
    advertise_pair_port: int | None = None
    #: this hub's site when several share the database (None: the database's one site)
    site: str | None = None


def open_hub(config: HubConfig) -> tuple[Store, ProjectConfig, HubService]:
    project, text = load_project(config.project)
    private_folder(config.data)
    store = open_store(
        config.db or config.data / SQLITE_FILE, read_location=config.read_db, site=config.site
    )
    version = store.project_version(
        project.name, text, json.dumps(msgspec.to_builtins(to_schema(project, 0)))
    )
    schema = to_schema(project, version)
    service = HubService(
        store, config.data / "media", project, schema, open_pairing=config.open_pairing
    )
    return store, project, service


async def run_hub(
    config: HubConfig,
    ready: asyncio.Event | None = None,
    on_bound: Callable[[int, int], None] | None = None,
) -> None:
    """One hub process. `on_bound(kiosk port, pairing port)` once its sockets are bound."""
    store, project, service = open_hub(config)
    if config.clips:
        from ..ingest.catalog import ingest_into

        report = ingest_into(
            store,
            config.data / "media",
            config.clips,
            want=project.redundancy,
            clip_seconds=config.clip_seconds,
            proxy_height=config.proxy_height,
        )
        print(report.summary(), flush=True)
    keys = load_or_create(config.data / "hub.key")
    priority = priority_config(project.priority)

    def own_connection(fn: Callable[..., T], *args: Any) -> T:
        """`fn(store, *args)` on a connection of its own (to the read replica, if any), for
        worker threads (sqlite3 objects stay in the thread that made them)."""
        reader = store.reader()
        try:
            return fn(reader, *args)
        finally:
            reader.close()

    def compute_order() -> dict[str, float]:
        return own_connection(lambda reader: compute_priorities(reader, priority)[1])

    background = background_executor()
    loop = asyncio.get_running_loop()

    def in_background(fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        return loop.run_in_executor(background, fn, *args)

    if priority.mode != "none":
        set_priorities(store, await in_background(compute_order))
    router = Router(
        service,
        config.bind,
        keys,
        pair_bind=config.pair_bind,
        pair_host=config.interfaces[0] if config.interfaces else None,
        pairing=config.pairing,
    )
    pair_port = router.pair_port or config.advertise_pair_port or 0
    if on_bound is not None:
        on_bound(router.port, pair_port)
    fp = fingerprint(keys[0])
    service.fingerprint = fp  # shown to staff beside the pairing codes
    service.shared_store = config.worker is not None
    print(f"hub {service.hub_id}: straat-hub {HUB_VERSION}", flush=True)
    print(f"hub {service.hub_id}: ZeroMQ on port {router.port}", flush=True)
    if router.pair_sock is not None:
        pair_at = router.pair_sock.getsockopt(zmq.LAST_ENDPOINT).decode()
        print(f"hub {service.hub_id}: pairing on port {router.pair_port} ({pair_at})", flush=True)
    print(f"hub {service.hub_id}: public key {keys[0].decode()} fingerprint {fp}", flush=True)

    from ..models.runtime import refresh_priorities
    from ..web.app import ModelSettings, create_app

    models = ModelSettings(
        threshold=project.confidence,
        on_import=lambda st, report: refresh_priorities(st, priority),
    )
    runner = None
    if config.web:
        app = create_app(service, models=models)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, config.web_host, config.web_port)
        await site.start()
        web_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        print(f"hub {service.hub_id}: web on http://{config.web_host}:{web_port}/", flush=True)
    metrics = metrics_runner = None
    if config.metrics_port is not None:
        from ..metrics import HubMetrics
        from ..web.metrics import metrics_app

        metrics = HubMetrics(store.read_location, config.data)
        service.on_assign = metrics.assign_seconds.observe
        metrics_runner = web.AppRunner(metrics_app(metrics), access_log=None)
        await metrics_runner.setup()
        metrics_site = web.TCPSite(metrics_runner, config.metrics_host, config.metrics_port)
        await metrics_site.start()
        port = metrics_site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        print(
            f"hub {service.hub_id}: metrics on http://{config.metrics_host}:{port}/metrics",
            flush=True,
        )

    advertiser = None
    if config.zeroconf:
        advertiser = Advertiser(
            port=router.port,
            hub_id=service.hub_id,
            project=project.name,
            fingerprint=fp,
            public_key=keys[0].decode(),
            pair_port=pair_port,
            interfaces=config.interfaces,
            addresses=config.advertise_addresses,
            instance=f"{service.hub_id}-{router.port}",  # one per process of the site
        )
        await advertiser.start()
        print(f"hub {service.hub_id}: advertised on zeroconf", flush=True)

    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    def fit_mark(reader: Store) -> tuple[int, int]:
        # what the labels look like now: the retractions taken and the newest label's row
        # (labels are only appended); two lookups, where count(*) of the labels scanned them
        # all every HOUSEKEEPING_SECONDS. A fit runs only when it moved
        return service.retraction_mark(reader), reader.last_label_rowid()

    # one consensus fitter per site: another process (another machine) may hold the lock
    fitter = FitterLock(store.location) if config.consensus else None
    # Dawid-Skene in a process of its own, off the router's GIL
    fits = FitProcess(store.reader_at(), service.schema, service.policy, nice=BACKGROUND_NICE)

    async def housekeeping() -> None:
        fitted_at = (-1, -1)
        try:  # the fitter's process: ready before kiosks label (else at the first fit)
            if fitter is not None and await in_background(fitter.held):
                await in_background(fits.start)
        except Exception:
            log.exception("consensus fit process")
        while True:
            await asyncio.sleep(HOUSEKEEPING_SECONDS)
            if service.database.down:
                continue  # the router probes it; nothing to keep meanwhile
            try:
                store.expire_leases()
                if fitter is None or not await in_background(fitter.held):
                    fitted_at = (-1, -1)  # another process fits; if it dies, start over
                    continue
                started = time.perf_counter()
                mark = await in_background(own_connection, fit_mark)
                if mark == fitted_at:
                    continue  # no label came in and none was taken back
                rows = await in_background(fits.rows, mark[0])
                for i in range(0, len(rows), CONSENSUS_SLICE):  # applied here in slices:
                    store.set_consensus(rows[i : i + CONSENSUS_SLICE])  # the router runs
                    await asyncio.sleep(0)  # between them
                fitted_at = mark
                if metrics is not None:
                    metrics.consensus_seconds.observe(time.perf_counter() - started)
                if priority.mode == "disagreement":  # model vs the new consensus
                    set_priorities(store, await in_background(compute_order))
            except DatabaseUnavailable as e:
                service.database.lost(str(e))  # logged once; the router sees it come back
            except FitProcessDied as e:
                log.warning("%s; the next round starts a new one", e)
            except Exception:  # housekeeping must not take the hub down
                log.exception("housekeeping")

    def checkpoint() -> None:
        handle = store.reopen()  # a connection of its own that may write (not a reader)
        try:
            handle.checkpoint("PASSIVE")  # PASSIVE never waits for the writer
        finally:
            handle.close()

    async def checkpoints() -> None:
        while True:
            await asyncio.sleep(CHECKPOINT_SECONDS)
            try:
                await in_background(checkpoint)
            except Exception:  # a busy or failed checkpoint is tried again next time
                log.exception("checkpoint")

    store.defer_checkpoints()
    settle_gc()
    tasks = [
        asyncio.create_task(router.run()),
        asyncio.create_task(watch_database(service)),
        asyncio.create_task(housekeeping()),
        *([] if store.postgres else [asyncio.create_task(checkpoints())]),  # SQLite's WAL
        asyncio.create_task(sdnotify.watchdog_loop()),
    ]
    print(f"hub {service.hub_id}: ready", flush=True)
    sdnotify.notify("READY=1")
    if ready is not None:
        ready.set()
    try:
        done, _ = await asyncio.wait(
            [*tasks, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED
        )
        for t in done:
            if t.exception() is not None and not isinstance(t.exception(), asyncio.CancelledError):
                raise t.exception()  # type: ignore[misc]
    finally:
        sdnotify.notify("STOPPING=1")
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        fits.close()  # before the threads: one may be waiting for a fit
        background.shutdown(wait=True, cancel_futures=True)
        if advertiser:
            await advertiser.stop()
        if runner is not None:
            await runner.cleanup()
        if metrics_runner is not None:
            await metrics_runner.cleanup()
        router.close()
        with contextlib.suppress(Exception):
            store.checkpoint("TRUNCATE")
        store.close()
        print(f"hub {service.hub_id}: stopped", flush=True)
