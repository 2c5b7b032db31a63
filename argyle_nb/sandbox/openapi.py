"""The OpenAPI 3.1 description of the sandbox, served at ``/openapi.json``.

Written by hand so that it says exactly what the handlers do: every status each
operation can answer (including the injected faults 429/500/503), the limit policy,
404 for malformed ids and the Django-REST-style error bodies.

Example:
    >>> doc = openapi_document()
    >>> sorted(doc["paths"])
    ['/v1/accounts', '/v1/accounts/{id}', '/v1/user-tokens', '/v1/users', '/v1/users/{id}']
"""

from __future__ import annotations

from typing import Any

__all__ = ["openapi_document"]

_TS = {"type": "string", "format": "date-time"}
_TS_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
_STR_OR_NULL = {"type": ["string", "null"]}
_UUID = {"type": "string", "format": "uuid"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _schemas() -> dict[str, Any]:
    resource: dict[str, Any] = {
        "type": "object",
        "required": ["status"],
        "properties": {
            "status": {"type": "string", "enum": ["in_progress", "synced", "sync_failed"]},
            "updated_at": _TS_OR_NULL,
        },
    }
    event = {
        "type": "object",
        "required": ["status"],
        "properties": {
            **resource["properties"],
            "available_count": {"type": ["integer", "null"], "minimum": 0},
            "available_from": _TS_OR_NULL,
            "available_to": _TS_OR_NULL,
        },
    }
    upload = {
        "type": "object",
        "required": ["status"],
        "properties": {
            **resource["properties"],
            "files_count": {"type": ["integer", "null"], "minimum": 0},
            "in_progress_count": {"type": ["integer", "null"], "minimum": 0},
        },
    }

    def nullable(name: str) -> dict[str, Any]:
        return {"anyOf": [_ref(name), {"type": "null"}]}

    availability = {
        "type": "object",
        "properties": {
            **{name: nullable("ResourceAvailability") for name in (
                "profiles", "employments", "finances", "reputations", "documents",
                "vehicles", "pay_allocations",
            )},
            "payouts": nullable("EventAvailability"),
            "activities": nullable("EventAvailability"),
            "forms": nullable("UploadAvailability"),
            "user_uploads": nullable("UploadAvailability"),
        },
    }  # fmt: skip
    page: dict[str, Any] = {
        "type": "object",
        "required": ["count", "next", "previous", "results"],
        "properties": {
            "count": {"type": "integer", "minimum": 0},
            "next": {"type": ["string", "null"], "format": "uri"},
            "previous": {"type": ["string", "null"], "format": "uri"},
        },
    }
    return {
        "User": {
            "type": "object",
            "required": [
                "id",
                "created_at",
                "employers_connected",
                "data_providers_connected",
                "external_metadata",
            ],
            "properties": {
                "id": _UUID,
                "created_at": _TS,
                "employers_connected": {"type": "array", "items": {"type": "string"}},
                "data_providers_connected": {"type": "array", "items": {"type": "string"}},
                "external_metadata": {"description": "Any JSON value."},
            },
        },
        "UserWrite": {
            "type": "object",
            "properties": {"external_metadata": {"description": "Any JSON value."}},
        },
        "NewUser": {
            "type": "object",
            "required": ["id", "token"],
            "additionalProperties": False,
            "properties": {"id": _UUID, "token": {"type": "string"}},
        },
        "UserTokenRequest": {
            "type": "object",
            "required": ["user"],
            "properties": {"user": _UUID},
        },
        "UserToken": {
            "type": "object",
            "required": ["access", "refresh"],
            "properties": {"access": {"type": "string"}, "refresh": {"type": "string"}},
        },
        "Connection": {
            "type": "object",
            "required": ["status"],
            "properties": {
                "status": {"type": "string", "enum": ["connecting", "connected", "error"]},
                "error_code": _STR_OR_NULL,
                "error_message": _STR_OR_NULL,
                "updated_at": _TS_OR_NULL,
            },
        },
        "PayDistribution": {
            "type": "object",
            "properties": {
                "status": _STR_OR_NULL,
                "error_code": _STR_OR_NULL,
                "error_message": _STR_OR_NULL,
                "updated_at": _TS_OR_NULL,
            },
        },
        "ResourceAvailability": resource,
        "EventAvailability": event,
        "UploadAvailability": upload,
        "Availability": availability,
        "Account": {
            "type": "object",
            "required": ["id", "user", "created_at", "was_connected", "connection"],
            "properties": {
                "id": _UUID,
                "user": _UUID,
                "employers": {"type": "array", "items": {"type": "string"}},
                "link_item": _STR_OR_NULL,
                "data_partner": {**_STR_OR_NULL, "deprecated": True},
                "item": _STR_OR_NULL,
                "source": _STR_OR_NULL,
                "created_at": _TS,
                "updated_at": _TS_OR_NULL,
                "was_connected": {"type": "boolean"},
                "connection": _ref("Connection"),
                "pay_distribution": {"anyOf": [_ref("PayDistribution"), {"type": "null"}]},
                "availability": {"anyOf": [_ref("Availability"), {"type": "null"}]},
                "status": {**_STR_OR_NULL, "deprecated": True},
                "error_code": {**_STR_OR_NULL, "deprecated": True},
            },
        },
        "UserPage": {
            **page,
            "properties": {
                **page["properties"],
                "results": {"type": "array", "items": _ref("User"), "maxItems": 200},
            },
        },
        "AccountPage": {
            **page,
            "properties": {
                **page["properties"],
                "results": {"type": "array", "items": _ref("Account"), "maxItems": 200},
            },
        },
        "Detail": {
            "type": "object",
            "required": ["detail"],
            "properties": {"detail": {"type": "string"}},
        },
        "FieldErrors": {
            "type": "object",
            "description": "Errors by field name (or `non_field_errors`), or a `detail`.",
            "minProperties": 1,
            "additionalProperties": {
                "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]
            },
        },
    }


_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}

_COMMON = {
    "401": {
        **_json(_ref("Detail"), "Missing or wrong API key: `Invalid username/password.`"),
        "headers": {
            "WWW-Authenticate": {"required": True, "schema": {"type": "string"}},
        },
    },
    "429": {
        **_json(_ref("Detail"), "Throttled (fault injection)."),
        "headers": _RETRY_AFTER,
    },
    "500": _json(_ref("Detail"), "Internal server error (fault injection)."),
    "503": _json(_ref("Detail"), "Service unavailable (fault injection)."),
}
_NOT_FOUND = {"404": _json(_ref("Detail"), "No such object, or a malformed id: `Not found.`")}
_BAD = {"400": _json(_ref("FieldErrors"), "Invalid query or body: field errors.")}
_BODY_ERRORS = {
    **_BAD,
    "413": _json(_ref("Detail"), "Request body larger than 1 MiB."),
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
_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "Object id (a malformed id answers 404).",
    "schema": _UUID,
}


def _write_body(required: bool) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": _ref("UserWrite")}}}


def _paths() -> dict[str, Any]:
    no_content = {"204": {"description": "Deleted; empty body."}}
    return {
        "/v1/users": {
            "get": {
                "operationId": "listUsers",
                "summary": "List users, newest first.",
                "parameters": [_LIMIT, _OFFSET],
                "responses": {
                    "200": _json(_ref("UserPage"), "A page of users."),
                    **_BAD,
                    **_COMMON,
                },
            },
            "post": {
                "operationId": "createUser",
                "summary": "Create a user; answers only its id and an access token.",
                "requestBody": _write_body(False),
                "responses": {
                    "201": _json(_ref("NewUser"), "The new user's id and access token."),
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
                "responses": {"200": _json(_ref("User"), "The user."), **_NOT_FOUND, **_COMMON},
            },
            "patch": {
                "operationId": "updateUser",
                "summary": "Replace a user's external_metadata (absent key: unchanged).",
                "requestBody": _write_body(False),
                "responses": {
                    "200": _json(_ref("User"), "The updated user."),
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
                    "content": {"application/json": {"schema": _ref("UserTokenRequest")}},
                },
                "responses": {
                    "200": _json(_ref("UserToken"), "The tokens."),
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
                        "description": "Only the accounts of this user.",
                        "schema": _UUID,
                    },
                    _LIMIT,
                    _OFFSET,
                ],
                "responses": {
                    "200": _json(_ref("AccountPage"), "A page of accounts."),
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
                    "200": _json(_ref("Account"), "The account."),
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
                "Lists are newest first (created_at, then id, descending); `limit` defaults "
                "to 10 and is clamped to 200."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"basicAuth": []}],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "basicAuth": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "Username: API key id; password: API key secret.",
                }
            },
        },
    }
