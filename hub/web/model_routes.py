"""Model API and pages: a model service posts predictions, a lead sees how good it is.

    POST /api/v1/models/{model}/predictions[?version=N&format=F&min_overlap=X]
        body: JSON (a list of rows, or {"rows": [...], "version": N}), CSV (text/csv),
        JSONL (application/x-ndjson), Parquet (application/vnd.apache.parquet), or a
        multipart/form-data upload with the file in field "file" (format from its name).
        Rows as for `straat-hub predictions import` (see `hub.models.importer`).
        → 201 a new version, 200 merged into a given version or already imported (nothing
        changed), both with the import report; 422 with the report when no row could be
        used; 400 unreadable input or bad parameters; 413 over the size limit.
    GET  /api/v1/models                          → {"models": [{model, latest, versions}]}
    GET  /api/v1/models/{model}/evaluation[?version=N&threshold=T]  → the model report
    GET  /models                                 → page: the models
    GET  /models/{model}[?version=N&threshold=T] → page: evaluation (inline SVG, no script)

Every route is for project leads (`@lead_only`, checked by the auth middleware of
`hub.web.auth`): `Authorization: Bearer <lead token>` or a lead's browser session (its POSTs
need the CSRF token as elsewhere). No or an unknown token → 401, a staff token → 403.

The routes are in `hub.web.routes.ROUTES`; the threshold, upload limit and after-import
hook are the app's `MODELS` state (`create_app(..., models=ModelSettings(...))`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from typing import Any
from urllib.parse import quote

from aiohttp import web

from ..models.importer import (
    FORMATS,
    ImportFailed,
    Prepared,
    apply_prepared,
    check_model_name,
    detect_format,
    json_records,
    prepare,
)
from ..render.html import Safe, fmt, join
from ..render.model_report import STYLE, STYLE_CSP, render_html
from ..store import predictions as sql
from .auth import lead_only
from .state import MODELS, principal, service

log = logging.getLogger(__name__)

API = "/api/v1/models"
PAGE_CSP = (
    f"default-src 'none'; style-src {STYLE_CSP}; img-src 'self' data:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _error(cls: type[web.HTTPException], message: str, **kw: Any) -> web.HTTPException:
    return cls(text=json.dumps({"error": message}), content_type="application/json", **kw)


async def _read_limited(stream: Any, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        chunk = await stream.read(64 * 1024)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise _error(
                web.HTTPRequestEntityTooLarge,
                f"the upload is larger than {limit} bytes: split it into batches "
                "(post them with the same ?version=N)",
                max_size=limit,
                actual_size=size,
            )
        chunks.append(chunk)
    return b"".join(chunks)


class _Part:
    """A multipart body part as a stream with `read(n)`."""

    def __init__(self, part: Any) -> None:
        self.part = part

    async def read(self, n: int) -> bytes:
        return bytes(await self.part.read_chunk(n))


def _int_param(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise _error(web.HTTPBadRequest, f"{name} must be a whole number") from None
    if number < 1:
        raise _error(web.HTTPBadRequest, f"{name} must be 1 or more")
    return number


def _float_param(value: str | None, name: str, default: float, lo: float, hi: float) -> float:
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise _error(web.HTTPBadRequest, f"{name} must be a number") from None
    if not math.isfinite(number) or not lo <= number <= hi:
        raise _error(web.HTTPBadRequest, f"{name} must be in [{lo:g}, {hi:g}]")
    return number


def _prepare_body(
    data: bytes,
    fmt: str,
    clips: list[dict[str, Any]],
    classes: list[str],
    kind: str,
    min_overlap: float,
) -> tuple[Prepared, int | None]:
    """(prepared rows, the version a JSON object body names)."""
    if fmt != "json":
        return prepare(data, fmt, clips, classes, kind, min_overlap), None
    try:
        body = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ImportFailed(f"the body is not JSON: {e}") from None
    version = body.get("version") if isinstance(body, dict) else None
    if version is not None and (
        not isinstance(version, int) or isinstance(version, bool) or version < 1
    ):
        raise ImportFailed("version must be a whole number from 1")
    records = json_records(body)
    return prepare(data, fmt, clips, classes, kind, min_overlap, records=records), version


def _model_name(request: web.Request) -> str:
    try:
        return check_model_name(request.match_info["model"])
    except ImportFailed as e:
        raise _error(web.HTTPBadRequest, str(e)) from None


async def _read_upload(
    request: web.Request, max_upload: int
) -> tuple[bytes, str | None, str | None, dict]:
    """(bytes, file name, content type, form fields) of the body or the upload."""
    if request.content_length is not None and request.content_length > max_upload:
        raise _error(
            web.HTTPRequestEntityTooLarge,
            f"the upload is larger than {max_upload} bytes: split it into batches "
            "(post them with the same ?version=N)",
            max_size=max_upload,
            actual_size=request.content_length,
        )
    if request.content_type != "multipart/form-data":
        data = await _read_limited(request.content, max_upload)
        return data, None, request.content_type, {}
    fields: dict[str, str] = {}
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if part.filename or part.name == "file":
                data = await _read_limited(_Part(part), max_upload)
                ctype = part.headers.get("Content-Type")
                return data, part.filename, ctype, fields
            fields[part.name or ""] = (await part.text())[:100]
    except (ValueError, AssertionError) as e:
        raise _error(web.HTTPBadRequest, f"bad multipart body: {e}") from None
    raise _error(web.HTTPBadRequest, "the upload has no file (form field 'file')")


@lead_only
async def post_predictions(request: web.Request) -> web.Response:
    who = principal(request)
    settings = request.app[MODELS]
    model = _model_name(request)
    data, filename, ctype, fields = await _read_upload(request, settings.max_upload)
    if not data.strip():
        raise _error(web.HTTPBadRequest, "the body is empty: send rows")
    version = _int_param(request.query.get("version") or fields.get("version"), "version")
    min_overlap = _float_param(
        request.query.get("min_overlap") or fields.get("min_overlap"),
        "min_overlap",
        0.0,
        0.0,
        1.0,
    )
    fmt = (request.query.get("format") or fields.get("format") or "").lower() or None
    if fmt is not None and fmt not in FORMATS:
        raise _error(web.HTTPBadRequest, f"format must be one of {', '.join(FORMATS)}")
    store = service(request).store
    clips = sql.clip_rows(store)
    classes, kind = sql.schema_info(store)
    try:
        fmt = fmt or detect_format(filename, data, ctype)
        prepared, body_version = await asyncio.to_thread(
            _prepare_body, data, fmt, clips, classes, kind, min_overlap
        )
        report = apply_prepared(
            store,
            prepared,
            model,
            version if version is not None else body_version,
            source=f"api {who.name}" + (f" {filename}" if filename else ""),
        )
    except ImportFailed as e:
        raise _error(web.HTTPBadRequest, str(e)) from None
    if report.ok and not report.already_imported and settings.on_import is not None:
        try:
            settings.on_import(store, report)
        except Exception:  # the import stands; a failed hook is logged, not the caller's
            log.exception("after-import hook failed for %s v%s", model, report.version)
    status = 422 if not report.ok else 201 if report.new_version else 200
    body = report.as_dict()
    if not report.ok:
        body["error"] = "no row could be imported: see problems and unknown"
    headers = {"Location": f"{API}/{model}/evaluation?version={report.version}"}
    return web.json_response(body, status=status, headers=headers if report.ok else None)


@lead_only
async def list_models(request: web.Request) -> web.Response:
    models = sql.models(service(request).store)
    return web.json_response({"models": [m.as_dict() for m in models]})


async def _report_of(request: web.Request) -> dict[str, Any]:
    model = request.match_info["model"]
    version = _int_param(request.query.get("version"), "version")
    default = request.app[MODELS].threshold
    limit = _float_param(request.query.get("threshold"), "threshold", default, 0.0, 1.0)
    hub_store = service(request).store

    def run() -> dict[str, Any]:
        from ..models.runtime import evaluation

        reader = hub_store.reader()  # own connection for this thread
        try:
            return evaluation(reader, model, threshold=limit, version=version)
        finally:
            reader.close()

    try:
        return await asyncio.to_thread(run)
    except LookupError as e:
        raise _error(web.HTTPNotFound, str(e.args[0] if e.args else e)) from None


@lead_only
async def get_evaluation(request: web.Request) -> web.Response:
    return web.json_response(await _report_of(request))


@lead_only
async def model_page(request: web.Request) -> web.Response:
    report = await _report_of(request)
    return _html(render_html(report, f"model {report['model']} v{report['version']}"))


@lead_only
async def models_page(request: web.Request) -> web.Response:
    rows = join(
        fmt(
            '<tr><td><a href="/models/{href}">{name}</a></td><td class="num">{latest}</td>'
            '<td class="num">{clips}</td></tr>',
            href=quote(m.model),
            name=m.model,
            latest=m.latest,
            clips=m.versions[-1]["clips"] if m.versions else 0,
        )
        for m in sql.models(service(request).store)
    )
    body = (
        fmt(
            "<table><thead><tr><th>model</th><th class=num>latest version</th>"
            "<th class=num>clips</th></tr></thead><tbody>{rows}</tbody></table>",
            rows=rows,
        )
        if rows
        else '<p class="empty">no predictions yet: '
        "<code>straat-hub predictions import FILE --model NAME</code></p>"
    )
    return _html(
        fmt(
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>models</title><style>{style}</style></head><body><main>"
            "<h1>models</h1>{body}</main></body></html>",
            style=Safe(STYLE),
            body=Safe(body),
        )
    )


def _html(text: str) -> web.Response:
    response = web.Response(text=text, content_type="text/html", charset="utf-8")
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["Cache-Control"] = "no-store"
    return response
