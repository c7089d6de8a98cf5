"""Export API: create, list and download dataset snapshots. Lead tokens only.

    POST /api/v1/exports                    {"formats": [...], "seed": 0} (both optional)
                                            → 201, the new snapshot's manifest
    GET  /api/v1/exports                    → {"snapshots": [summary, …]}, oldest first
    GET  /api/v1/exports/{version}          → the manifest of v1, v2, …
    GET  /api/v1/exports/{version}/{path}   → one file of the snapshot

Every request needs `Authorization: Bearer <token>` with a token made by
`straat-hub token create --role lead`: no or an unknown token → 401, a staff token → 403.
A version or path that is not a file inside that snapshot (`..`, absolute, encoded,
symlinks out, hidden files) → 404.

Wiring: `add_export_routes(app, lambda request: service.store, data / "exports")`. A
dashboard that has its own logins may pass `session_principal(request)`: asked only
when a request carries no `Authorization` header (CSRF for browser POSTs is then the
caller's middleware's job).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from aiohttp import web

from ..export.snapshot import VERSION_DIR, ExportError, create_snapshot, list_snapshots
from ..store import Store
from ..store.accounts import Principal, check_token

GetStore = Callable[[web.Request], Store]
GetPrincipal = Callable[[web.Request], Principal | None]
CONTENT_TYPES = {
    ".md": "text/markdown; charset=utf-8",
    ".json": "application/json",
    ".jsonl": "application/x-ndjson",
    ".csv": "text/csv; charset=utf-8",
    ".parquet": "application/vnd.apache.parquet",
    ".xml": "application/xml",
    "": "text/plain; charset=utf-8",  # SHA256SUMS
}
PREFIX = "/api/v1/exports"
SUMMARY_KEYS = (
    "version",
    "path",
    "created_at",
    "project",
    "schema_version",
    "formats",
    "consensus_method",
    "seed",
)


def _error(cls: type[web.HTTPException], message: str, **kw: Any) -> web.HTTPException:
    return cls(text=json.dumps({"error": message}), content_type="application/json", **kw)


def _summary(manifest: dict[str, Any]) -> dict[str, Any]:
    out = {k: manifest[k] for k in SUMMARY_KEYS if k in manifest}
    stats = manifest.get("stats") or {}
    out["clips"] = stats.get("clips")
    out["annotations"] = stats.get("annotations")
    out["files"] = manifest.get("files", [])
    if "error" in manifest:
        out["error"] = manifest["error"]
    return out


def resolve_export_file(root: Path, version: str, path: str) -> Path | None:
    """The file `root/version/path` if it is a regular file inside that snapshot, else
    None. Refuses `..`, absolute paths, backslashes, NUL, hidden names, a snapshot folder
    whose real path is not directly in the exports folder, and anything whose real path
    (symlinks followed) leaves the snapshot folder."""
    if not VERSION_DIR.match(version) or not path or "\x00" in path or "\\" in path:
        return None
    rel = PurePosixPath(path)
    if rel.is_absolute() or any(p in ("", ".", "..") or p.startswith(".") for p in rel.parts):
        return None
    try:
        real_root = root.resolve(strict=True)
        base = (root / version).resolve(strict=True)
        target = (base / rel).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        return None
    # every step stays inside the exports folder: a snapshot folder that is a link to
    # somewhere else (the hub's data folder, with hub.db and hub.key) serves nothing
    if base.parent != real_root or not target.is_relative_to(base) or not target.is_file():
        return None
    return target


def _bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def add_export_routes(
    app: web.Application,
    get_store: GetStore,
    export_root: Path,
    *,
    session_principal: GetPrincipal | None = None,
) -> None:
    """Register the export API on `app`. `get_store(request)` gives the hub's `Store`
    (for token checks and for the database path: the export opens its own connection
    in a worker thread); snapshots go to `export_root`."""
    root = Path(export_root)
    lock: list[asyncio.Lock] = []  # made on first use, inside the running loop

    def require_lead(request: web.Request) -> Principal:
        token = _bearer(request)
        principal = None
        if token is not None:
            principal = check_token(get_store(request), token)
        elif session_principal is not None and "Authorization" not in request.headers:
            principal = session_principal(request)
        if principal is None:
            raise _error(
                web.HTTPUnauthorized,
                "a lead API token is needed (Authorization: Bearer …)",
                headers={"WWW-Authenticate": 'Bearer realm="annotatiestraat"'},
            )
        if not principal.can("lead"):
            raise _error(web.HTTPForbidden, "exports need a token with the lead role")
        return principal

    async def create(request: web.Request) -> web.Response:
        require_lead(request)
        body: Any = {}
        if request.can_read_body:
            try:
                body = await request.json()
            except (ValueError, RecursionError):  # RecursionError: nested past Python's limit
                raise _error(web.HTTPBadRequest, "the body is not JSON") from None
        if not isinstance(body, dict):
            raise _error(web.HTTPBadRequest, "the body must be a JSON object")
        formats = body.get("formats")
        seed = body.get("seed", 0)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise _error(web.HTTPBadRequest, "seed must be an integer")
        if formats is not None and not (
            isinstance(formats, str)
            or (isinstance(formats, list) and all(isinstance(f, str) for f in formats))
        ):
            raise _error(web.HTTPBadRequest, "formats must be a list of names")
        db_path = get_store(request).path

        def run() -> dict[str, Any]:
            store = Store(db_path, readonly=True)  # own connection for this thread
            try:
                return create_snapshot(store, root, formats, seed).manifest
            finally:
                store.close()

        if not lock:
            lock.append(asyncio.Lock())
        async with lock[0]:
            try:
                manifest = await asyncio.to_thread(run)
            except ExportError as e:
                raise _error(web.HTTPBadRequest, str(e)) from None
        return web.json_response(
            manifest, status=201, headers={"Location": f"{PREFIX}/{manifest['path']}"}
        )

    async def index(request: web.Request) -> web.Response:
        require_lead(request)
        snapshots = await asyncio.to_thread(list_snapshots, root)
        return web.json_response({"snapshots": [_summary(m) for m in snapshots]})

    async def manifest(request: web.Request) -> web.StreamResponse:
        require_lead(request)
        target = resolve_export_file(root, request.match_info["version"], "snapshot.json")
        if target is None:
            raise _error(web.HTTPNotFound, "no such snapshot")
        return web.FileResponse(target, headers={"Content-Type": "application/json"})

    async def download(request: web.Request) -> web.StreamResponse:
        require_lead(request)
        target = resolve_export_file(
            root, request.match_info["version"], request.match_info["path"]
        )
        if target is None:
            raise _error(web.HTTPNotFound, "no such file in this snapshot")
        kind = CONTENT_TYPES.get(target.suffix, "application/octet-stream")
        return web.FileResponse(target, headers={"Content-Type": kind})

    app.router.add_post(PREFIX, create)
    app.router.add_get(PREFIX, index)
    app.router.add_get(PREFIX + "/{version}", manifest)
    app.router.add_get(PREFIX + "/{version}/{path:.+}", download)
