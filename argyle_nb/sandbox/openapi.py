"""The OpenAPI 3.1 description of the sandbox, served at ``/openapi.json``.

Written by hand so that it says exactly what the handlers do: every status each
operation can answer (including the injected faults 429/500/503), the limit policy,
``ordering``, 404 for malformed ids, the body media types and limits (1 MiB, metadata
nested at most :data:`~argyle_nb.models.MAX_METADATA_DEPTH` levels) and the
Django-REST-style error bodies.

Examples:
    >>> doc = openapi_document()
    >>> sorted(doc["paths"])
    ['/v1/accounts', '/v1/accounts/{id}', '/v1/user-tokens', '/v1/users', '/v1/users/{id}']
"""

from __future__ import annotations

from typing import Any

from argyle_nb.sandbox.openapi_schemas import UUID, component_schemas, ref
from argyle_nb.sandbox.parsing import FORM_TYPE, JSON_TYPE

__all__ = ["openapi_document"]


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}

_COMMON = {
    "401": {
        **_json(ref("Detail"), "Missing or wrong API key: `Invalid username/password.`"),
        "headers": {
            "WWW-Authenticate": {"required": True, "schema": {"type": "string"}},
        },
    },
    "429": {
        **_json(ref("Detail"), "Throttled (fault injection)."),
        "headers": _RETRY_AFTER,
    },
    "500": _json(ref("Detail"), "Internal server error (fault injection)."),
    "503": _json(
        ref("Detail"),
        "Service unavailable: fault injection, more connections or requests at once than "
        "the server's limit (256 by default), or a busy database.",
    ),
}
_NOT_FOUND = {"404": _json(ref("Detail"), "No such object, or a malformed id: `Not found.`")}
_BAD = {"400": _json(ref("FieldErrors"), "Invalid query or body: field errors.")}
_BODY_ERRORS = {
    "400": _json(
        ref("FieldErrors"),
        "Invalid body: field errors (metadata nested too deep included), or a `detail` "
        "(`JSON parse error - ...`, also for JSON too deep to parse).",
    ),
    "408": {
        **_json(ref("Detail"), "The body did not arrive within the request timeout (10 s)."),
        "headers": {"Connection": {"required": True, "schema": {"const": "close"}}},
    },
    "413": _json(ref("Detail"), "Request body larger than 1 MiB."),
    "415": _json(
        ref("Detail"),
        'A body of another media type: `Unsupported media type "text/plain" in request.`',
    ),
}

_LIMIT = {
    "name": "limit",
    "in": "query",
    "required": False,
    "description": (
        "Objects per page. Default 10; values above 200 are clamped to 200; below 1 is a 400."
    ),
    "schema": {"type": "integer", "minimum": 1, "default": 10},
}
_OFFSET = {
    "name": "offset",
    "in": "query",
    "required": False,
    "description": "Objects to skip. Default 0.",
    "schema": {"type": "integer", "minimum": 0, "default": 0},
}
_ORDERING = {
    "name": "ordering",
    "in": "query",
    "required": False,
    "description": (
        "`created_at`: oldest first; `-created_at`: newest first (the default); ties by id "
        "in the same direction. Comma-separated terms: the first known one decides, "
        "unknown ones are ignored (Django REST framework's OrderingFilter)."
    ),
    "schema": {"type": "string"},
    "examples": {
        "oldest": {"value": "created_at"},
        "newest": {"value": "-created_at"},
    },
}
_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "Object id (a malformed id answers 404).",
    "schema": UUID,
}


def _write_body(required: bool) -> dict[str, Any]:
    return {
        "required": required,
        "description": (
            "JSON. A form-encoded body is read too, like Django REST framework reads it into "
            "a JSONField: `external_metadata` is then JSON text (text that is not JSON "
            'answers `{"external_metadata": ["Value must be valid JSON."]}`).'
        ),
        "content": {JSON_TYPE: {"schema": ref("UserWrite")}},
    }


def _paths() -> dict[str, Any]:
    no_content = {"204": {"description": "Deleted; empty body."}}
    return {
        "/v1/users": {
            "get": {
                "operationId": "listUsers",
                "summary": "List users, newest first (or as `ordering` says).",
                "parameters": [_LIMIT, _OFFSET, _ORDERING],
                "responses": {
                    "200": _json(ref("UserPage"), "A page of users."),
                    **_BAD,
                    **_COMMON,
                },
            },
            "post": {
                "operationId": "createUser",
                "summary": "Create a user; answers only its id and an access token.",
                "requestBody": _write_body(False),
                "responses": {
                    "201": _json(ref("NewUser"), "The new user's id and access token."),
                    **_BODY_ERRORS,
                    **_COMMON,
                },
            },
        },
        "/v1/users/{id}": {
            "parameters": [_ID],
            "get": {
                "operationId": "getUser",
                "summary": "Retrieve a user.",
                "responses": {"200": _json(ref("User"), "The user."), **_NOT_FOUND, **_COMMON},
            },
            "patch": {
                "operationId": "updateUser",
                "summary": "Replace a user's external_metadata (absent key: unchanged).",
                "requestBody": _write_body(False),
                "responses": {
                    "200": _json(ref("User"), "The updated user."),
                    **_BODY_ERRORS,
                    **_NOT_FOUND,
                    **_COMMON,
                },
            },
            "delete": {
                "operationId": "deleteUser",
                "summary": "Delete a user and all its accounts.",
                "responses": {**no_content, **_NOT_FOUND, **_COMMON},
            },
        },
        "/v1/user-tokens": {
            "post": {
                "operationId": "createUserToken",
                "summary": "Create an access (and deprecated refresh) token for an existing user.",
                "requestBody": {
                    "required": True,
                    "description": "JSON, or form-encoded (`user=<id>`).",
                    "content": {
                        JSON_TYPE: {"schema": ref("UserTokenRequest")},
                        FORM_TYPE: {"schema": ref("UserTokenRequest")},
                    },
                },
                "responses": {
                    "200": _json(ref("UserToken"), "The tokens."),
                    **_BODY_ERRORS,
                    **_COMMON,
                },
            },
        },
        "/v1/accounts": {
            "get": {
                "operationId": "listAccounts",
                "summary": "List accounts (optionally of one user), newest first.",
                "parameters": [
                    {
                        "name": "user",
                        "in": "query",
                        "required": False,
                        "description": "Only the accounts of this user; empty: no filter.",
                        "schema": {"anyOf": [UUID, {"type": "string", "maxLength": 0}]},
                    },
                    _LIMIT,
                    _OFFSET,
                    _ORDERING,
                ],
                "responses": {
                    "200": _json(ref("AccountPage"), "A page of accounts."),
                    **_BAD,
                    **_COMMON,
                },
            },
        },
        "/v1/accounts/{id}": {
            "parameters": [_ID],
            "get": {
                "operationId": "getAccount",
                "summary": "Retrieve an account.",
                "responses": {
                    "200": _json(ref("Account"), "The account."),
                    **_NOT_FOUND,
                    **_COMMON,
                },
            },
            "delete": {
                "operationId": "deleteAccount",
                "summary": "Delete an account.",
                "responses": {**no_content, **_NOT_FOUND, **_COMMON},
            },
        },
    }


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document (a fresh dict each call)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Argyle API v1 sandbox (argyle_nb)",
            "version": "1.0.0",
            "description": (
                "Local emulator of Argyle API v1 users, user tokens and accounts. "
                "Lists are newest first (created_at, then id, descending; `ordering=created_at`: "
                "the reverse); `limit` defaults to 10 and is clamped to 200. Bodies are JSON or "
                "form-encoded, at most 1 MiB, and must arrive within the request timeout."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"basicAuth": []}],
        "paths": _paths(),
        "components": {
            "schemas": component_schemas(),
            "securitySchemes": {
                "basicAuth": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "Username: API key id; password: API key secret.",
                }
            },
        },
    }
