"""`GET /metrics` in Prometheus' text format, on a web app of its own (`straat-hub serve
--metrics-port`), so that the dashboard's port never exposes it. No login: bind it to an
address only the scraper reaches."""

from __future__ import annotations

import asyncio

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ..metrics import HubMetrics

METRICS: web.AppKey[HubMetrics] = web.AppKey("metrics", HubMetrics)


async def metrics(request: web.Request) -> web.Response:
    # collecting reads the database: in a thread, never on the router's loop
    body = await asyncio.to_thread(generate_latest, request.app[METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def metrics_app(hub_metrics: HubMetrics) -> web.Application:
    app = web.Application()
    app[METRICS] = hub_metrics
    app.router.add_get("/metrics", metrics)
    return app
