"""JSON API under /api/v1/: what the pages show, for scripts. Session (with `X-CSRF-Token`
on POST) or `Authorization: Bearer <token>`. Documented in `openapi.py`."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from aiohttp import web

from ..export.basic import majority_rows
from ..export.writers import formula_safe
from ..store import Store, accounts, dashboard
from . import actions, security
from .auth import lead_only, problem, public
from .openapi import document
from .state import QUALITY, reader, service


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def _error(status: int, message: str, **extra: Any) -> web.Response:
    return _json(problem(status, message, **extra), status)


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        data = await request.json()
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past Python's limit
        raise web.HTTPBadRequest(
            text=json.dumps(problem(400, "body is not JSON (or nested too deeply)")),
            content_type="application/json",
        ) from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(
            text=json.dumps(problem(400, "body must be a JSON object")),
            content_type="application/json",
        )
    return data


def _mapped(e: Exception) -> web.Response:
    if isinstance(e, actions.Invalid):
        return _error(400, e.key, field=e.field)
    if isinstance(e, dashboard.Conflict):
        return _error(409, str(e))
    return _error(404, str(e))


@public
async def openapi(request: web.Request) -> web.StreamResponse:
    return _json(document())


async def status(request: web.Request) -> web.StreamResponse:
    svc = service(request)
    return _json(
        {
            "hub_id": svc.hub_id,
            "project": svc.schema.name,
            **await reader(request)(dashboard.totals),
            "pairing": security.pairing_state(svc),
            "refused": security.refused_state(svc),
        }
    )


async def kiosks(request: web.Request) -> web.StreamResponse:
    store = service(request).store
    now = time.time()
    return _json(
        {
            "now": now,
            "online_within_s": dashboard.online_within(),
            "kiosks": [asdict(k) for k in dashboard.kiosks(store, now)],
            "pair_codes": [asdict(c) for c in dashboard.open_pair_codes(store, now)],
        }
    )


async def pair_code(request: web.Request) -> web.StreamResponse:
    """A one-time pairing code; body (optional): `digits` (6–12), `kiosk` (a code that
    re-pairs that kiosk id with a new key, and nothing else)."""
    store = service(request).store
    body = await _body(request)
    digits, kiosk = body.get("digits", 6), body.get("kiosk")
    if not isinstance(digits, int) or isinstance(digits, bool) or not 6 <= digits <= 12:
        return _error(400, "digits: a whole number from 6 to 12", field="digits")
    if kiosk is not None and (not isinstance(kiosk, str) or store.kiosk(kiosk) is None):
        return _error(400, "kiosk: the id of a paired kiosk", field="kiosk")
    code = store.create_pair_code(digits=digits, kiosk=kiosk)
    expires = next(c.expires_at for c in dashboard.open_pair_codes(store) if c.code == code)
    return _json({"code": code, "expires_at": expires}, 201)


async def lockouts(request: web.Request) -> web.StreamResponse:
    """Failed web logins per user name and source, and pairing sources locked out."""
    svc = service(request)
    return _json(
        {
            "web_logins": accounts.lockouts(svc.store),
            "pairing": security.pairing_state(svc),
        }
    )


async def lift_lockouts(request: web.Request) -> web.StreamResponse:
    """Lift lock-outs: body `user` and/or `source` (neither: all of them)."""
    body = await _body(request)
    user, source = body.get("user"), body.get("source")
    for name, value in (("user", user), ("source", source)):
        if value is not None and not isinstance(value, str):
            return _error(400, f"{name}: a string", field=name)
    svc = service(request)
    web_logins = accounts.lift_lockouts(svc.store, user, source)
    pairing = svc.pairing.lift(source) if user is None else 0
    return _json({"web_logins": web_logins, "pairing_sources": pairing})


async def unpair(request: web.Request) -> web.StreamResponse:
    try:
        dashboard.unpair(service(request).store, request.match_info["kiosk"])
    except dashboard.NotFound as e:
        return _mapped(e)
    return _json({"ok": True})


async def operators(request: web.Request) -> web.StreamResponse:
    svc = service(request)
    report = await request.app[QUALITY].get(svc)
    stats = await reader(request)(dashboard.operator_stats, time.time(), report.operator_figures())
    return _json({"operators": [asdict(o) for o in stats]})


async def add_operator(request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    try:
        op = await actions.add_operator(
            service(request), body.get("id"), body.get("name", body.get("id")), body.get("pin")
        )
    except (actions.Invalid, dashboard.Conflict) as e:
        return _mapped(e)
    return _json({"id": op}, 201)


async def operator_pin(request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    try:
        await actions.set_pin(service(request), request.match_info["operator"], body.get("pin"))
    except (actions.Invalid, dashboard.NotFound) as e:
        return _mapped(e)
    return _json({"ok": True})


async def operator_active(request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    active = body.get("active")
    if not isinstance(active, bool):
        return _error(400, "active must be true or false", field="active")
    try:
        dashboard.set_active(service(request).store, request.match_info["operator"], active)
    except dashboard.NotFound as e:
        return _mapped(e)
    return _json({"ok": True, "active": active})


async def statement(request: web.Request) -> web.StreamResponse:
    svc, read = service(request), reader(request)
    op = request.match_info["operator"]
    try:
        period = await read(
            actions.statement_period, op, request.query.get("from"), request.query.get("to")
        )
    except (actions.Invalid, dashboard.NotFound) as e:
        return _mapped(e)
    report = await request.app[QUALITY].get(svc)
    data = asdict(await read(actions.statement, op, period, report.for_operator(op)))
    data["from"], data["to"] = period.first.isoformat(), period.last.isoformat()
    return _json(data)


async def alerts(request: web.Request) -> web.StreamResponse:
    open_only = request.query.get("open", "") in ("1", "true", "yes")
    rows = dashboard.alerts(service(request).store, open_only=open_only)
    return _json({"alerts": [asdict(a) for a in rows]})


async def acknowledge(request: web.Request) -> web.StreamResponse:
    try:
        changed = dashboard.acknowledge_alert(service(request).store, request.match_info["alert"])
    except dashboard.NotFound as e:
        return _mapped(e)
    return _json({"ok": True, "changed": changed})


async def progress(request: web.Request) -> web.StreamResponse:
    svc, read = service(request), reader(request)
    now = time.time()
    report = await request.app[QUALITY].get(svc)
    return _json(
        {
            "now": now,
            "counts": asdict(await read(dashboard.counts, now)),
            "throughput": [
                {"hour": h, "labels": n} for h, n in await read(dashboard.throughput, now)
            ],
            "distribution": await read(dashboard.label_distribution),
            "agreement_over_time": [
                {"day": d, "agreement": a, "labels": n} for d, a, n in report.over_time
            ],
        }
    )


@lead_only
async def quality(request: web.Request) -> web.StreamResponse:
    report = await request.app[QUALITY].get(service(request))
    return _json(report.as_json())


def _jsonl(store: Store, order: list[str]) -> bytes:
    rows = majority_rows(store, order)
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def _csv(store: Store, order: list[str]) -> bytes:
    rows = majority_rows(store, order)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["clip_id"])
    writer.writeheader()
    for row in rows:
        row = {**row, "votes": json.dumps(row["votes"], ensure_ascii=False)}
        writer.writerow({k: formula_safe(v) if isinstance(v, str) else v for k, v in row.items()})
    return out.getvalue().encode()


async def _export(
    request: web.Request, render: Callable[[Store, list[str]], bytes], name: str, kind: str
) -> web.Response:
    """The live rows as a download, read and rendered in the reader thread (off the loop)."""
    order = [label.value for label in service(request).schema.labels]
    return web.Response(
        body=await reader(request)(render, order),
        content_type=kind,
        charset="utf-8",
        headers=_attachment(name),
    )


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@lead_only
async def export_jsonl(request: web.Request) -> web.StreamResponse:
    return await _export(request, _jsonl, "clips.jsonl", "application/x-ndjson")


@lead_only
async def export_csv(request: web.Request) -> web.StreamResponse:
    return await _export(request, _csv, "clips.csv", "text/csv")
