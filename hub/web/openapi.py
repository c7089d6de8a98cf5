"""The OpenAPI 3.1 document of /api/v1/ (served at /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

from ..service import HUB_VERSION

_ERR = {"$ref": "#/components/responses/Error"}
_AUTH = {"401": {"$ref": "#/components/responses/Unauthorized"}}
_LEAD = {**_AUTH, "403": {"$ref": "#/components/responses/Forbidden"}}
_POST = {**_AUTH, "403": {"$ref": "#/components/responses/Forbidden"}}


def _ok(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    content = {"application/json": {"schema": schema or {"type": "object"}}}
    return {"description": description, "content": content}


def _op(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"summary": summary, "responses": responses, **extra}


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


def _json_body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object", "properties": properties, "required": required}
            }
        },
    }


KIOSK = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "online": {"type": "boolean", "description": "heartbeat within online_within_s"},
        "last_seen": {"type": ["number", "null"], "description": "Unix time"},
        "operator": {"type": ["string", "null"], "description": "logged in now (if online)"},
        "outbox": {"type": "integer", "description": "labels waiting on the kiosk"},
        "cache_bytes": {"type": "integer"},
        "version": {"type": ["string", "null"]},
        "paired_at": {"type": "number"},
    },
}

OPERATOR = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "active": {"type": "boolean"},
        "locked": {"type": "boolean"},
        "hours_today": {"type": "number"},
        "hours_week": {"type": "number", "description": "since Monday 00:00, hub local time"},
        "clips_today": {"type": "integer"},
        "clips_week": {"type": "integer"},
        "clips_total": {"type": "integer"},
        "exposure_min_today": {"type": "number"},
        "breaks_today": {"type": ["integer", "null"], "description": "null: not reported"},
        "break_min_today": {"type": ["number", "null"], "description": "null: not reported"},
        "enforced_breaks_today": {
            "type": ["integer", "null"],
            "description": "breaks the schedule made; null: not reported",
        },
        "alerts_open": {"type": "integer"},
        "alerts_total": {"type": "integer"},
        "gold_accuracy": {"type": ["number", "null"]},
        "agreement": {"type": ["number", "null"]},
    },
}

PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/openapi.json": {
        "get": _op("This document", {"200": _ok("OpenAPI 3.1")}, security=[]),
    },
    "/api/v1/status": {
        "get": _op("Hub id, project, clip and label counts", {"200": _ok("status"), **_AUTH}),
    },
    "/api/v1/kiosks": {
        "get": _op(
            "Paired kiosks with online state, and open pairing codes",
            {
                "200": _ok(
                    "kiosks",
                    {
                        "type": "object",
                        "properties": {
                            "now": {"type": "number"},
                            "online_within_s": {"type": "number"},
                            "kiosks": {"type": "array", "items": KIOSK},
                            "pair_codes": {"type": "array", "items": {"type": "object"}},
                        },
                    },
                ),
                **_AUTH,
            },
        ),
    },
    "/api/v1/kiosks/pair-code": {
        "post": _op(
            "Make a one-time pairing code (typed at the new kiosk; valid 5 minutes)",
            {"201": _ok("code and expiry"), "400": _ERR, **_POST},
            requestBody={
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "digits": {"type": "integer", "minimum": 6, "maximum": 12},
                                "kiosk": {
                                    "type": "string",
                                    "description": "a code that re-pairs this paired kiosk "
                                    "id with a new key, and nothing else",
                                },
                            },
                        }
                    }
                },
            },
        ),
    },
    "/api/v1/kiosks/{kiosk}/unpair": {
        "post": _op(
            "Unpair a kiosk: it gets no more work and its labels are refused",
            {"200": _ok("done"), "404": _ERR, **_POST},
            parameters=[_path_param("kiosk", "kiosk id")],
        ),
    },
    "/api/v1/operators": {
        "get": _op(
            "Operators with hours, clips, exposure, alerts, agreement and gold accuracy",
            {
                "200": _ok(
                    "operators",
                    {
                        "type": "object",
                        "properties": {"operators": {"type": "array", "items": OPERATOR}},
                    },
                ),
                **_AUTH,
            },
        ),
        "post": _op(
            "Add an operator",
            {"201": _ok("added"), "400": _ERR, "409": _ERR, **_POST},
            requestBody=_json_body(
                {
                    "id": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"},
                    "name": {"type": "string", "maxLength": 100},
                    "pin": {"type": "string", "pattern": "^[0-9]{4,8}$"},
                },
                ["id", "pin"],
            ),
        ),
    },
    "/api/v1/operators/{operator}/pin": {
        "post": _op(
            "Set a new PIN (also lifts a lock-out)",
            {"200": _ok("done"), "400": _ERR, "404": _ERR, **_POST},
            parameters=[_path_param("operator", "operator id")],
            requestBody=_json_body({"pin": {"type": "string", "pattern": "^[0-9]{4,8}$"}}, ["pin"]),
        ),
    },
    "/api/v1/operators/{operator}/active": {
        "post": _op(
            "Deactivate (active=false) or reactivate an operator",
            {"200": _ok("done"), "400": _ERR, "404": _ERR, **_POST},
            parameters=[_path_param("operator", "operator id")],
            requestBody=_json_body({"active": {"type": "boolean"}}, ["active"]),
        ),
    },
    "/api/v1/operators/{operator}/statement": {
        "get": _op(
            "Work-experience figures for a period (default: first activity to today)",
            {"200": _ok("statement"), "400": _ERR, "404": _ERR, **_AUTH},
            parameters=[
                _path_param("operator", "operator id"),
                {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
                {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
            ],
        ),
    },
    "/api/v1/alerts": {
        "get": _op(
            "'This affected me' alerts, open ones first",
            {"200": _ok("alerts"), **_AUTH},
            parameters=[{"name": "open", "in": "query", "schema": {"type": "boolean"}}],
        ),
    },
    "/api/v1/alerts/{alert}/ack": {
        "post": _op(
            "Acknowledge an alert",
            {"200": _ok("done"), "404": _ERR, **_POST},
            parameters=[_path_param("alert", "alert uuid")],
        ),
    },
    "/api/v1/progress": {
        "get": _op(
            "Clips, done, backlog, labels, throughput per hour, votes per label, agreement per day",
            {"200": _ok("progress"), **_AUTH},
        ),
    },
    "/api/v1/quality": {
        "get": _op(
            "Quality report (lead): alpha, agreement per label and operator, confusion, gold",
            {"200": _ok("quality report"), **_LEAD},
        ),
    },
    "/api/v1/export/clips.jsonl": {
        "get": _op(
            "Dataset export (lead): one JSON line per clip, majority label and votes",
            {
                "200": {
                    "description": "JSON lines",
                    "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                },
                **_LEAD,
            },
        ),
    },
    "/api/v1/export/clips.csv": {
        "get": _op(
            "Dataset export (lead): CSV, one row per clip",
            {
                "200": {
                    "description": "CSV",
                    "content": {"text/csv": {"schema": {"type": "string"}}},
                },
                **_LEAD,
            },
        ),
    },
}

_TOKEN_ONLY = [{"bearer": []}]
PATHS.update(
    {
        "/api/v1/exports": {
            "get": _op(
                "Dataset snapshots (lead token): one summary per version, oldest first",
                {"200": _ok("snapshots"), **_LEAD},
                security=_TOKEN_ONLY,
            ),
            "post": _op(
                "Make a new versioned dataset snapshot (lead token)",
                {"201": _ok("the new snapshot's manifest"), "400": _ERR, **_LEAD},
                security=_TOKEN_ONLY,
                requestBody={
                    "required": False,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "formats": {"type": "array", "items": {"type": "string"}},
                                    "seed": {"type": "integer"},
                                },
                            }
                        }
                    },
                },
            ),
        },
        "/api/v1/exports/{version}": {
            "get": _op(
                "The manifest of one snapshot (lead token)",
                {"200": _ok("manifest"), "404": _ERR, **_LEAD},
                security=_TOKEN_ONLY,
                parameters=[_path_param("version", "v1, v2, …")],
            ),
        },
        "/api/v1/exports/{version}/{path}": {
            "get": _op(
                "One file of a snapshot (lead token)",
                {
                    "200": {"description": "the file", "content": {"*/*": {}}},
                    "404": _ERR,
                    **_LEAD,
                },
                security=_TOKEN_ONLY,
                parameters=[
                    _path_param("version", "v1, v2, …"),
                    _path_param("path", "file path inside the snapshot"),
                ],
            ),
        },
    }
)


_MODEL = [_path_param("model", "model name")]
PATHS.update(
    {
        "/api/v1/lockouts": {
            "get": _op(
                "Failed web logins per user name and source, and pairing lock-outs",
                {"200": _ok("lock-outs"), **_AUTH},
            ),
        },
        "/api/v1/lockouts/lift": {
            "post": _op(
                "Lift lock-outs of a user name and/or source address (neither: all)",
                {"200": _ok("how many were lifted"), "400": _ERR, **_POST},
                requestBody={
                    "required": False,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "user": {"type": "string"},
                                    "source": {"type": "string"},
                                },
                            }
                        }
                    },
                },
            ),
        },
        "/api/v1/models": {
            "get": _op(
                "Models with predictions and their versions (lead)", {"200": _ok("models"), **_LEAD}
            ),
        },
        "/api/v1/models/{model}/predictions": {
            "post": _op(
                "Import a model's predictions (lead): CSV, JSON Lines, JSON or Parquet body; "
                "`?version=N&format=csv|jsonl|json|parquet&min_overlap=0.5`",
                {"200": _ok("import report"), "201": _ok("import report"), "400": _ERR, **_LEAD},
                parameters=_MODEL,
                requestBody={"required": True, "content": {"*/*": {}}},
            ),
        },
        "/api/v1/models/{model}/evaluation": {
            "get": _op(
                "How a model's predictions compare with the consensus (lead)",
                {"200": _ok("evaluation"), "404": _ERR, **_LEAD},
                parameters=_MODEL,
            ),
        },
    }
)


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Annotatiestraat hub API",
            "version": HUB_VERSION,
            "description": (
                "What the dashboard shows, as JSON. Authenticate with a browser session "
                "(POST requests then need the X-CSRF-Token header) or with "
                "`Authorization: Bearer <token>` (`straat-hub token create --role staff|lead`). "
                "Staff may use everything except the endpoints marked (lead)."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": PATHS,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "straat_session"},
            },
            "responses": {
                "Error": _ok(
                    "error", {"type": "object", "properties": {"error": {"type": "string"}}}
                ),
                "Unauthorized": _ok("no or bad credentials"),
                "Forbidden": _ok("role too low, or CSRF token missing or wrong"),
            },
        },
    }
