"""Export API: create, list and download dataset snapshots. Lead tokens only.

    POST /api/v1/exports                    {"formats": [...], "seed": 0} (both optional)
                                            → 201, the new snapshot's manifest
    GET  /api/v1/exports                    → {"snapshots": [summary, …]}, oldest first
    GET  /api/v1/exports/{version}          → the manifest of v1, v2, …
    GET  /api/v1/exports/{version}/{path}   → one file of the snapshot

Every request needs `Authorization: Bearer <token>` with a token made by
`straat-hub token create --role lead` (the auth middleware checks it, see `hub.web.auth`):
no or an unknown token, or a browser session instead of a token → 401, a staff token → 403.
A version or path that is not a file inside that snapshot (`..`, absolute, encoded,
symlinks out, hidden files) → 404.

The routes are in `hub.web.routes.ROUTES`; the snapshots' folder is the app's
`EXPORTS` state (`create_app(..., export_root=...)`).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path, PurePosixPath
from typing import Any

from aiohttp import web

from ..export.snapshot import VERSION_DIR, ExportError, create_snapshot, list_snapshots
from .auth import lead_only, tokens_only
from .state import EXPORTS, service

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


@lead_only
@tokens_only
async def create_export(request: web.Request) -> web.Response:
    exports = request.app[EXPORTS]
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
    hub_store = service(request).store

    def run() -> dict[str, Any]:
        store = hub_store.reopen()  # own connection for this thread (it may write the key)
        try:
            return create_snapshot(store, exports.root, formats, seed).manifest
        finally:
            store.close()

    async with exports.lock:  # one snapshot at a time
        try:
            manifest = await asyncio.to_thread(run)
        except ExportError as e:
            raise _error(web.HTTPBadRequest, str(e)) from None
    return web.json_response(
        manifest, status=201, headers={"Location": f"{PREFIX}/{manifest['path']}"}
    )


@lead_only
@tokens_only
async def list_exports(request: web.Request) -> web.Response:
    snapshots = await asyncio.to_thread(list_snapshots, request.app[EXPORTS].root)
    return web.json_response({"snapshots": [_summary(m) for m in snapshots]})


@lead_only
@tokens_only
async def export_manifest(request: web.Request) -> web.StreamResponse:
    root = request.app[EXPORTS].root
    target = resolve_export_file(root, request.match_info["version"], "snapshot.json")
    if target is None:
        raise _error(web.HTTPNotFound, "no such snapshot")
    return web.FileResponse(target, headers={"Content-Type": "application/json"})


@lead_only
@tokens_only
async def export_file(request: web.Request) -> web.StreamResponse:
    root = request.app[EXPORTS].root
    target = resolve_export_file(root, request.match_info["version"], request.match_info["path"])
    if target is None:
        raise _error(web.HTTPNotFound, "no such file in this snapshot")
    kind = CONTENT_TYPES.get(target.suffix, "application/octet-stream")
    return web.FileResponse(target, headers={"Content-Type": kind})
