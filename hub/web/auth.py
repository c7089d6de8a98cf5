"""Who is asking, may they, and did the form come from us.

- Browser: session cookie (HttpOnly, SameSite=Strict, Secure per `WebSettings`), CSRF token
  per session in every POST form (`csrf` field) or `X-CSRF-Token` header; missing or wrong → 403.
- Scripts: `Authorization: Bearer <token>` (no cookie, so no CSRF check), read by
  `bearer_token` and nowhere else.
- Routes are staff-only unless marked `@public` or `@lead_only`; lead may do what staff
  may. `@tokens_only` routes refuse a browser session (401): scripts only.
- Unauthenticated: pages redirect to /login, the API answers 401.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, urlsplit

from aiohttp import web

from ..database_state import utc
from ..store import DatabaseUnavailable, accounts
from . import templates
from .i18n import LANGS, pick
from .state import LANG, LOGIN_GATE, PRINCIPAL, SETTINGS, VIA_SESSION, lang, service

log = logging.getLogger(__name__)

#: What the Server header says (no framework or version for a scanner to look up).
SERVER = "straat-hub"
#: Password checks (scrypt) run in worker threads, at most LOGIN_THREADS at once; beyond
#: LOGIN_QUEUE waiting logins the form answers 429 at once. The event loop (kiosk router,
#: dashboard) never runs scrypt.
LOGIN_THREADS = 1
LOGIN_QUEUE = 8

SESSION_COOKIE = "straat_session"
LOGIN_CSRF_COOKIE = "straat_login"
LANG_COOKIE = "lang"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_ROLE_ATTR = "__straat_role__"
_TOKENS_ATTR = "__straat_tokens_only__"


def public(handler: Handler) -> Handler:
    setattr(handler, _ROLE_ATTR, None)
    return handler


def lead_only(handler: Handler) -> Handler:
    setattr(handler, _ROLE_ATTR, "lead")
    return handler


def tokens_only(handler: Handler) -> Handler:
    """A route for scripts: a browser session does not count, only a bearer token."""
    setattr(handler, _TOKENS_ATTR, True)
    return handler


def bearer_token(request: web.Request) -> str | None:
    """The token of `Authorization: Bearer <token>`, else None (no header, another scheme,
    or an empty token)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def required_role(request: web.Request) -> str | None:
    if request.path.startswith("/static/"):
        return None
    return getattr(request.match_info.handler, _ROLE_ATTR, "staff")


def wants_json(request: web.Request) -> bool:
    return request.path.startswith("/api/") or request.path == "/events"


def problem(status: int, message: str, **extra: Any) -> dict[str, Any]:
    """An API error body: `error` plus the RFC 9457 problem-detail members."""
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = ""
    return {
        "error": message,
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": message,
        **extra,
    }


def _json_error(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response(problem(status, message), status=status, headers=headers or None)


def secure_cookie(request: web.Request) -> bool:
    setting = request.app[SETTINGS].secure_cookies
    return request.secure if setting is None else setting


def set_cookie(
    response: web.StreamResponse, request: web.Request, name: str, value: str, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=secure_cookie(request),
    )


# ---- middlewares --------------------------------------------------------------------------


@web.middleware
async def lang_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    asked = request.query.get("lang")
    request[LANG] = pick(asked if asked in LANGS else request.cookies.get(LANG_COOKIE))
    response = await handler(request)
    if asked in LANGS and request.cookies.get(LANG_COOKIE) != asked and not response.prepared:
        response.set_cookie(LANG_COOKIE, asked, max_age=365 * 86400, path="/", samesite="Strict")
    return response


def _authenticate(request: web.Request) -> tuple[accounts.Principal | None, bool, bool]:
    """(principal, via_session, bad_bearer)."""
    store = service(request).store
    if request.headers.get("Authorization"):
        token = bearer_token(request)
        if token is None:
            return None, False, True
        who = accounts.check_token(store, token)
        return who, False, who is None
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        return accounts.get_session(store, sid), True, False
    return None, False, False


async def _csrf_ok(request: web.Request, expected: str) -> bool:
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        form = await request.post()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    return bool(given) and bool(expected) and hmac.compare_digest(given, expected)


#: Seconds after which the "database unreachable" page reloads itself (`Refresh` header).
DB_DOWN_REFRESH = 5


@web.middleware
async def database_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """While the site hub cannot reach its database, nothing can be read or checked (not even
    a login): pages say so and since when (503, reloading), the API answers 503 in JSON;
    `/healthz` and static files are served as usual."""
    state = service(request).database
    if request.path == "/healthz" or request.path.startswith("/static/"):
        return await handler(request)
    if not state.down:
        try:
            return await handler(request)
        except DatabaseUnavailable as e:
            state.lost(str(e))  # the hub's watch probes it from now on
    from .templates.layout import database_down_page

    since = utc(state.down_since or 0.0)
    if wants_json(request):
        return _json_error(503, state.describe(), **{"Retry-After": str(DB_DOWN_REFRESH)})
    page = database_down_page(templates.Ctx.of(request), since, state.reason)
    response = templates.respond(page, status=503)
    response.headers["Refresh"] = str(DB_DOWN_REFRESH)
    response.headers["Retry-After"] = str(DB_DOWN_REFRESH)
    return response


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    role = required_role(request)
    who, via_session, bad_bearer = _authenticate(request)
    request[PRINCIPAL] = who
    request[VIA_SESSION] = via_session
    if role is None:
        return await handler(request)
    if who is None:
        if wants_json(request) or bad_bearer:
            return _json_error(401, "authentication required", **{"WWW-Authenticate": "Bearer"})
        target = request.path_qs if request.method in SAFE_METHODS else "/"
        raise web.HTTPSeeOther(f"/login?next={quote(target, safe='')}")
    if not who.can(role):
        return forbidden(request, "lead role required")
    if request.method not in SAFE_METHODS and via_session:
        if not await _csrf_ok(request, who.csrf):
            return forbidden(request, "CSRF token missing or wrong", key="csrf")
    if via_session and getattr(request.match_info.handler, _TOKENS_ATTR, False):
        return _json_error(
            401,
            "an API token is needed (Authorization: Bearer …)",
            **{"WWW-Authenticate": "Bearer"},
        )
    return await handler(request)


def forbidden(request: web.Request, message: str, key: str = "forbidden") -> web.Response:
    if wants_json(request):
        return _json_error(403, message)
    return templates.respond(templates.error_page(templates.Ctx.of(request), key), status=403)


#: Scripts only from the hub, never inline. Inline styles are allowed because the
#: self-contained report pages of other modules (quality, models) carry their own CSS.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def _secure_headers(request: web.Request, headers: Any) -> None:
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if not request.path.startswith("/static/"):
        headers.setdefault("Cache-Control", "no-store")


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Security headers on everything; errors as JSON under /api/, as a page elsewhere; a bug
    is a logged 500 with a clear body, never a traceback or plain text."""
    try:
        response = await handler(request)
    except web.HTTPException as e:
        if e.status == 404 and not wants_json(request):
            response = templates.respond(
                templates.error_page(templates.Ctx.of(request), "not_found"), status=404
            )
        elif e.status >= 400 and wants_json(request) and e.content_type != "application/json":
            allow = {"Allow": e.headers["Allow"]} if "Allow" in e.headers else {}
            response = _json_error(e.status, e.reason, **allow)
        else:
            _secure_headers(request, e.headers)
            raise
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception:
        log.exception("%s %s", request.method, request.path)
        if wants_json(request):
            response = _json_error(500, "internal error")
        else:
            response = web.Response(status=500, text="internal error", content_type="text/plain")
    if not response.prepared:
        _secure_headers(request, response.headers)
    return response


async def server_header(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare`: our own Server header instead of aiohttp's name and version."""
    response.headers["Server"] = SERVER


def redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


# ---- login and logout ---------------------------------------------------------------------


def _safe_next(target: Any) -> str:
    """A path on this site to go to after login, else /kiosks. Browsers drop tabs and line
    breaks from URLs and read a backslash as a slash, so `/\t/evil.example` would be
    `//evil.example`: any control character, space or backslash makes the target unsafe."""
    if not isinstance(target, str) or not target.startswith("/") or target.startswith("//"):
        return "/kiosks"
    if any(ch in target for ch in "\\ ") or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return "/kiosks"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("/login"):
        return "/kiosks"
    return target


@public
async def login_form(request: web.Request) -> web.StreamResponse:
    if request.get(PRINCIPAL) is not None and request.get(VIA_SESSION):
        raise web.HTTPSeeOther(_safe_next(request.query.get("next")))
    return _login_page(request, error=None)


def _login_page(request: web.Request, error: str | None, status: int = 200) -> web.Response:
    token = secrets.token_urlsafe(24)
    page = templates.login_page(
        templates.Ctx.of(request), token, _safe_next(request.query.get("next")), error
    )
    response = templates.respond(page, status=status)
    set_cookie(response, request, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@public
async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    given = form.get(CSRF_FIELD)
    if not (token and isinstance(given, str) and hmac.compare_digest(token, given)):
        return _login_page(request, "login_expired", status=403)
    username, password = form.get("username"), form.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        return _login_page(request, "bad_login", status=400)
    store = service(request).store
    name, source = username.strip(), request.remote or ""
    if accounts.login_locked(store, name, source):
        return _login_page(request, "too_many", status=429)
    gate = request.app[LOGIN_GATE]
    if gate.waiting >= LOGIN_QUEUE:
        return _login_page(request, "too_many", status=429)
    row = accounts.password_row(store, name)
    gate.waiting += 1
    try:
        async with gate.slots:
            ok = await asyncio.get_running_loop().run_in_executor(
                gate.pool, accounts.verify_password, row, password
            )
    finally:
        gate.waiting -= 1
    if not ok or row is None:
        accounts.login_failed(store, name, source)
        return _login_page(request, "bad_login", status=401)
    accounts.login_succeeded(store, name, source)
    who = accounts.Principal(name, row[0])
    sid, _csrf = accounts.create_session(store, who)
    response = redirect(_safe_next(form.get("next")))
    set_cookie(response, request, SESSION_COOKIE, sid, max_age=accounts.SESSION_SECONDS)
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        accounts.end_session(service(request).store, sid)
    response = redirect(f"/login?lang={lang(request)}")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response
