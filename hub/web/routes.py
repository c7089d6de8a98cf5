"""Every URL of the dashboard and the API in one table (`create_app` registers it and
nothing else; who may call each route is marked on its handler, see `hub.web.auth`)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from . import api, auth, events, export_routes, model_routes, pages
from .health import healthz

STATIC = Path(__file__).parent / "static"

ROUTES: list[tuple[str, str, auth.Handler]] = [
    ("GET", "/healthz", healthz),
    ("GET", "/login", auth.login_form),
    ("POST", "/login", auth.login_submit),
    ("POST", "/logout", auth.logout),
    ("GET", "/", pages.index),
    ("GET", "/kiosks", pages.kiosks),
    ("POST", "/kiosks/pair", pages.pair),
    ("POST", "/kiosks/{kiosk}/unpair", pages.unpair),
    ("POST", "/kiosks/{kiosk}/repair", pages.repair),
    ("GET", "/operators", pages.operators),
    ("POST", "/operators", pages.add_operator),
    ("POST", "/operators/{operator}/pin", pages.operator_pin),
    ("POST", "/operators/{operator}/deactivate", pages.operator_deactivate),
    ("POST", "/operators/{operator}/activate", pages.operator_activate),
    ("GET", "/operators/{operator}/statement", pages.statement),
    ("POST", "/alerts/{alert}/ack", pages.acknowledge),
    ("GET", "/progress", pages.progress),
    ("GET", "/quality", pages.quality),
    ("GET", "/events", events.events),
    ("GET", "/api/v1/openapi.json", api.openapi),
    ("GET", "/api/v1/status", api.status),
    ("GET", "/api/v1/kiosks", api.kiosks),
    ("POST", "/api/v1/kiosks/pair-code", api.pair_code),
    ("POST", "/api/v1/kiosks/{kiosk}/unpair", api.unpair),
    ("GET", "/api/v1/lockouts", api.lockouts),
    ("POST", "/api/v1/lockouts/lift", api.lift_lockouts),
    ("GET", "/api/v1/operators", api.operators),
    ("POST", "/api/v1/operators", api.add_operator),
    ("POST", "/api/v1/operators/{operator}/pin", api.operator_pin),
    ("POST", "/api/v1/operators/{operator}/active", api.operator_active),
    ("GET", "/api/v1/operators/{operator}/statement", api.statement),
    ("GET", "/api/v1/alerts", api.alerts),
    ("POST", "/api/v1/alerts/{alert}/ack", api.acknowledge),
    ("GET", "/api/v1/progress", api.progress),
    ("GET", "/api/v1/quality", api.quality),
    ("GET", "/api/v1/export/clips.jsonl", api.export_jsonl),
    ("GET", "/api/v1/export/clips.csv", api.export_csv),
    ("POST", "/api/v1/exports", export_routes.create_export),
    ("GET", "/api/v1/exports", export_routes.list_exports),
    ("GET", "/api/v1/exports/{version}", export_routes.export_manifest),
    ("GET", "/api/v1/exports/{version}/{path:.+}", export_routes.export_file),
    ("GET", "/api/v1/models", model_routes.list_models),
    ("POST", "/api/v1/models/{model}/predictions", model_routes.post_predictions),
    ("GET", "/api/v1/models/{model}/evaluation", model_routes.get_evaluation),
    ("GET", "/models", model_routes.models_page),
    ("GET", "/models/{model}", model_routes.model_page),
]


def setup_routes(app: web.Application) -> None:
    for method, path, handler in ROUTES:
        app.router.add_route(method, path, handler)
    app.router.add_static("/static/", STATIC, follow_symlinks=False)
