"""HTML views: read the request, call `dashboard`/`actions`, render a template. Forms answer
with a redirect (POST → 303 → GET) and a message key, or re-render with the error."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from aiohttp import web
from multidict import MultiDictProxy

from ..render.html import Safe
from ..store import accounts, dashboard
from . import actions, security, templates
from .auth import lead_only, redirect
from .state import QUALITY, reader, service
from .templates import Ctx, respond


def _done(path: str, key: str, **values: str) -> web.Response:
    return redirect(f"{path}?{urlencode({'ok': key, **values})}")


def _form_text(form: MultiDictProxy[str | bytes | web.FileField], name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def index(request: web.Request) -> web.StreamResponse:
    return redirect("/kiosks")


# ---- kiosks ------------------------------------------------------------------------------


def _kiosks(request: web.Request, flash: Safe | None = None, status: int = 200) -> web.Response:
    store = service(request).store
    now = time.time()
    site = request.query.get("site") or None  # one site's kiosks (several share the database)
    page = templates.kiosks_page(
        Ctx.of(request),
        dashboard.kiosks(store, now, site),
        dashboard.open_pair_codes(store, now),
        flash or templates.flash_from_query(Ctx.of(request)),
        fingerprint=getattr(service(request), "fingerprint", ""),
        alarms=_alarms(request),
        sites=dashboard.sites(store, now),
        site=site,
        own_site=store.site,
    )
    return respond(page, status)


def _alarms(request: web.Request) -> list[str]:
    """Pairing guesses and refused kiosk messages, for staff to act on."""
    ctx, svc = Ctx.of(request), service(request)
    out = []
    pairing = security.pairing_state(svc)
    if pairing["wrong_codes"] or pairing["withdrawn"] or pairing["locked_sources"]:
        out.append(
            ctx.s(
                "pairing_alarm",
                wrong=pairing["wrong_codes"],
                sources=pairing["wrong_sources"],
                withdrawn=pairing["withdrawn"],
                refused=pairing["refused_attempts"],
                locked=", ".join(pairing["locked_sources"]) or "—",
            )
        )
    for x in accounts.lockouts(svc.store):
        if x["failures"] >= accounts.USER_SOURCE_FAILURES:
            out.append(
                ctx.s("login_alarm", user=x["username"], source=x["source"], n=x["failures"])
            )
    for r in security.refused_state(svc)[:10]:
        out.append(
            ctx.s(
                "refused_alarm",
                kiosk=r["kiosk"],
                n=r["n"],
                reason=r["reason"],
                detail=r["last_detail"],
            )
        )
    return out


async def kiosks(request: web.Request) -> web.StreamResponse:
    return _kiosks(request)


async def pair(request: web.Request) -> web.StreamResponse:
    code = service(request).store.create_pair_code()
    return _done("/kiosks", "pair_code", code=code)


async def repair(request: web.Request) -> web.StreamResponse:
    """A code that re-pairs this kiosk id (e.g. a reinstalled kiosk with a new key)."""
    kiosk_id = request.match_info["kiosk"]
    store = service(request).store
    if store.kiosk(kiosk_id) is None:
        ctx = Ctx.of(request)
        return _kiosks(request, templates.error_flash(ctx.t("err_not_found", what=kiosk_id)), 404)
    code = store.create_pair_code(kiosk=kiosk_id)
    return _done("/kiosks", "repair_code", code=code, id=kiosk_id)


async def unpair(request: web.Request) -> web.StreamResponse:
    kiosk_id = request.match_info["kiosk"]
    try:
        dashboard.unpair(service(request).store, kiosk_id)
    except dashboard.NotFound:
        ctx = Ctx.of(request)
        return _kiosks(request, templates.error_flash(ctx.t("err_not_found", what=kiosk_id)), 404)
    return _done("/kiosks", "unpaired", id=kiosk_id)


# ---- operators ---------------------------------------------------------------------------


async def _operators(
    request: web.Request,
    flash: Safe | None = None,
    status: int = 200,
    form: dict[str, str] | None = None,
) -> web.Response:
    svc, read = service(request), reader(request)
    report = await request.app[QUALITY].get(svc)
    stats = await read(dashboard.operator_stats, time.time(), report.operator_figures())
    ctx = Ctx.of(request)
    page = templates.operators_page(
        ctx,
        stats,
        await read(dashboard.alerts),
        flash or templates.flash_from_query(ctx),
        form,
    )
    return respond(page, status)


async def operators(request: web.Request) -> web.StreamResponse:
    return await _operators(request)


def _error(request: web.Request, e: Exception, what: str = "") -> tuple[Safe, int]:
    ctx = Ctx.of(request)
    if isinstance(e, actions.Invalid):
        return templates.error_flash(ctx.t(e.key)) or Safe(""), 400
    if isinstance(e, dashboard.Conflict):
        return templates.error_flash(ctx.t("err_exists", id=what)) or Safe(""), 409
    return templates.error_flash(ctx.t("err_not_found", what=what)) or Safe(""), 404


async def add_operator(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    values = {k: _form_text(form, k) for k in ("id", "name", "pin")}
    try:
        op = await actions.add_operator(
            service(request), values["id"], values["name"], values["pin"]
        )
    except (actions.Invalid, dashboard.Conflict) as e:
        flash, status = _error(request, e, values["id"])
        return await _operators(
            request, flash, status, form={"id": values["id"], "name": values["name"]}
        )
    return _done("/operators", "operator_added", id=op)


async def operator_pin(request: web.Request) -> web.StreamResponse:
    op = request.match_info["operator"]
    form = await request.post()
    try:
        await actions.set_pin(service(request), op, _form_text(form, "pin"))
    except (actions.Invalid, dashboard.NotFound) as e:
        flash, status = _error(request, e, op)
        return await _operators(request, flash, status)
    return _done("/operators", "pin_set", id=op)


async def operator_deactivate(request: web.Request) -> web.StreamResponse:
    return await _set_active(request, False)


async def operator_activate(request: web.Request) -> web.StreamResponse:
    return await _set_active(request, True)


async def _set_active(request: web.Request, active: bool) -> web.Response:
    op = request.match_info["operator"]
    try:
        dashboard.set_active(service(request).store, op, active)
    except dashboard.NotFound as e:
        flash, status = _error(request, e, op)
        return await _operators(request, flash, status)
    return _done("/operators", "activated" if active else "deactivated", id=op)


async def acknowledge(request: web.Request) -> web.StreamResponse:
    uuid = request.match_info["alert"]
    try:
        dashboard.acknowledge_alert(service(request).store, uuid)
    except dashboard.NotFound as e:
        flash, status = _error(request, e, uuid)
        return await _operators(request, flash, status)
    return _done("/operators", "alert_ack")


async def statement(request: web.Request) -> web.StreamResponse:
    op = request.match_info["operator"]
    svc, read = service(request), reader(request)
    ctx = Ctx.of(request)
    error = None
    try:
        period = await read(
            actions.statement_period, op, request.query.get("from"), request.query.get("to")
        )
    except dashboard.NotFound:
        raise web.HTTPNotFound() from None
    except actions.Invalid as e:
        error = templates.error_flash(ctx.t(e.key))
        period = await read(actions.statement_period, op, None, None)
    report = await request.app[QUALITY].get(svc)
    st = await read(actions.statement, op, period, report.for_operator(op))
    page = templates.statement_page(
        ctx, st, period.first.isoformat(), period.last.isoformat(), error
    )
    return respond(page, 400 if error else 200)


# ---- progress and quality ----------------------------------------------------------------


async def progress(request: web.Request) -> web.StreamResponse:
    svc, read = service(request), reader(request)
    now = time.time()
    site = request.query.get("site") or None  # one site's labels (several share the database)
    page = templates.progress_page(
        Ctx.of(request),
        await read(dashboard.counts, now, site),
        await read(dashboard.throughput, now, 24, site),
        await read(dashboard.label_distribution),
        await request.app[QUALITY].get(svc),
        sites=[r.site for r in await read(dashboard.sites, now)],
        site=site,
    )
    return respond(page)


@lead_only
async def quality(request: web.Request) -> web.StreamResponse:
    svc = service(request)
    page = templates.quality_page(
        Ctx.of(request),
        await request.app[QUALITY].get(svc),
        await reader(request)(dashboard.operator_names),
    )
    return respond(page)
