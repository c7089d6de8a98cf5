"""aiohttp application factory for the hub's dashboard and API."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from ..service import HubService
from .auth import (
    LOGIN_THREADS,
    auth_middleware,
    database_middleware,
    headers_middleware,
    lang_middleware,
    server_header,
)
from .events import broadcaster_ctx, on_shutdown
from .health import setup_health
from .routes import setup_routes
from .state import (
    EXPORTS,
    LOGIN_GATE,
    MODELS,
    QUALITY,
    READER,
    SERVICE,
    SETTINGS,
    Exports,
    LoginGate,
    ModelSettings,
    QualityCache,
    Reader,
    WebSettings,
)

__all__ = ["SERVICE", "ModelSettings", "create_app"]


def create_app(
    service: HubService,
    settings: WebSettings | None = None,
    export_root: Path | None = None,
    models: ModelSettings | None = None,
) -> web.Application:
    """The dashboard and API over `service`, every route of `hub.web.routes.ROUTES`.
    `settings` default: from the environment (`STRAAT_WEB_SECURE_COOKIES=auto|1|0`);
    `export_root` (dataset snapshots) default: the `exports` folder beside the hub's media
    folder; `models` default: the project's confidence as the evaluation threshold, no
    after-import hook."""
    app = web.Application(
        client_max_size=1024**2,
        middlewares=[headers_middleware, lang_middleware, database_middleware, auth_middleware],
    )
    app[SERVICE] = service
    app[SETTINGS] = settings or WebSettings.from_env()
    app[READER] = Reader(service.store)
    app[QUALITY] = QualityCache(app[READER])
    app[LOGIN_GATE] = LoginGate(LOGIN_THREADS)
    app[EXPORTS] = Exports(export_root or service.media_root.parent / "exports")
    app[MODELS] = models or ModelSettings(threshold=service.project.confidence)
    app.on_response_prepare.append(server_header)
    app.cleanup_ctx.append(broadcaster_ctx)
    setup_health(app)
    app.on_cleanup.append(_close_reader)
    app.on_shutdown.append(on_shutdown)
    setup_routes(app)
    return app


async def _close_reader(app: web.Application) -> None:
    app[READER].close()
    app[LOGIN_GATE].close()
