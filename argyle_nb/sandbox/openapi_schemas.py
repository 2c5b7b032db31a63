"""The component schemas of the sandbox's OpenAPI document: the objects it reads and serves.

Split from :mod:`argyle_nb.sandbox.openapi` (which has the paths, parameters and
responses) so that each stays small.

Examples:
    >>> schemas = component_schemas()
    >>> schemas["User"]["required"][:2], ref("User")
    (['id', 'created_at'], {'$ref': '#/components/schemas/User'})
"""

from __future__ import annotations

from typing import Any

from argyle_nb.models import MAX_METADATA_DEPTH

__all__ = ["UUID", "component_schemas", "ref"]

_TS = {"type": "string", "format": "date-time"}
_TS_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
_STR_OR_NULL = {"type": ["string", "null"]}
UUID = {"type": "string", "format": "uuid"}
_METADATA = (
    f"Any JSON value nested at most {MAX_METADATA_DEPTH} levels (objects and arrays); "
    "deeper answers 400 with the field error "
    f'`{{"external_metadata": ["Nested more than {MAX_METADATA_DEPTH} levels ..."]}}`.'
)


def ref(name: str) -> dict[str, str]:
    """A reference to the component schema ``name``."""
    return {"$ref": f"#/components/schemas/{name}"}


def component_schemas() -> dict[str, Any]:
    """The schemas of ``components.schemas`` (a fresh dict each call)."""
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
        return {"anyOf": [ref(name), {"type": "null"}]}

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
                "id": UUID,
                "created_at": _TS,
                "employers_connected": {"type": "array", "items": {"type": "string"}},
                "data_providers_connected": {"type": "array", "items": {"type": "string"}},
                "external_metadata": {"description": "Any JSON value."},
            },
        },
        "UserWrite": {
            "type": "object",
            "properties": {"external_metadata": {"description": _METADATA}},
        },
        "NewUser": {
            "type": "object",
            "required": ["id", "token"],
            "additionalProperties": False,
            "properties": {"id": UUID, "token": {"type": "string"}},
        },
        "UserTokenRequest": {
            "type": "object",
            "required": ["user"],
            "properties": {"user": UUID},
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
                "id": UUID,
                "user": UUID,
                "employers": {"type": "array", "items": {"type": "string"}},
                "link_item": _STR_OR_NULL,
                "data_partner": {**_STR_OR_NULL, "deprecated": True},
                "item": _STR_OR_NULL,
                "source": _STR_OR_NULL,
                "created_at": _TS,
                "updated_at": _TS_OR_NULL,
                "was_connected": {"type": "boolean"},
                "connection": ref("Connection"),
                "pay_distribution": {"anyOf": [ref("PayDistribution"), {"type": "null"}]},
                "availability": {"anyOf": [ref("Availability"), {"type": "null"}]},
                "status": {**_STR_OR_NULL, "deprecated": True},
                "error_code": {**_STR_OR_NULL, "deprecated": True},
            },
        },
        "UserPage": {
            **page,
            "properties": {
                **page["properties"],
                "results": {"type": "array", "items": ref("User"), "maxItems": 200},
            },
        },
        "AccountPage": {
            **page,
            "properties": {
                **page["properties"],
                "results": {"type": "array", "items": ref("Account"), "maxItems": 200},
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
