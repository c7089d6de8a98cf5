"""aiohttp application factory for the hub's dashboard and API."""

from __future__ import annotations

import logging
from pathlib import Path

from aiohttp import web

from ..service import HubService
from .auth import LOGIN_THREADS, auth_middleware, headers_middleware, lang_middleware, server_header
from .events import broadcaster_ctx, on_shutdown
from .health import setup_health
from .routes import setup_routes
from .state import (
    LOGIN_GATE,
    QUALITY,
    READER,
    SERVICE,
    SETTINGS,
    LoginGate,
    QualityCache,
    Reader,
    WebSettings,
)

__all__ = ["SERVICE", "create_app"]

log = logging.getLogger(__name__)


def create_app(
    service: HubService, settings: WebSettings | None = None, export_root: Path | None = None
) -> web.Application:
    """The dashboard and API over `service`. `settings` default: from the environment
    (`STRAAT_WEB_SECURE_COOKIES=auto|1|0`); `export_root` (dataset snapshots) default: the
    `exports` folder beside the hub's media folder."""
    app = web.Application(
        client_max_size=1024**2,
        middlewares=[headers_middleware, lang_middleware, auth_middleware],
    )
    app[SERVICE] = service
    app[SETTINGS] = settings or WebSettings.from_env()
    app[READER] = Reader(service.store.path)
    app[QUALITY] = QualityCache(app[READER])
    app[LOGIN_GATE] = LoginGate(LOGIN_THREADS)
    app.on_response_prepare.append(server_header)
    app.cleanup_ctx.append(broadcaster_ctx)
    setup_health(app)
    app.on_cleanup.append(_close_reader)
    app.on_shutdown.append(on_shutdown)
    setup_routes(app)
    _add_exports(app, service, export_root or service.media_root.parent / "exports")
    return app


async def _close_reader(app: web.Application) -> None:
    app[READER].close()
    app[LOGIN_GATE].close()


def _add_exports(app: web.Application, service: HubService, root: Path) -> None:
    """The snapshot export API (`hub.web.export_routes`, lead tokens only)."""
    try:
        from .export_routes import add_export_routes
    except ImportError as e:  # the dashboard stays up without it
        log.warning("export API not available: %s", e)
        return
    add_export_routes(app, lambda request: service.store, root)
