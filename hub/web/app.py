"""aiohttp application factory for the hub's dashboard and API."""

from __future__ import annotations

from aiohttp import web

from ..service import HubService

SERVICE = web.AppKey("service", HubService)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def status(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    return web.json_response(
        {
            "hub_id": service.hub_id,
            "project": service.schema.name,
            "clips": len(service.store.clips()),
            "labels": service.store.count_labels(),
        }
    )


def create_app(service: HubService) -> web.Application:
    app = web.Application(client_max_size=1024**2)
    app[SERVICE] = service
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/v1/status", status)
    return app
