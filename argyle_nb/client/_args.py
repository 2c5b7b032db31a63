"""Checks of the caller's arguments, made before any request is sent."""

from __future__ import annotations

import math
import uuid

from argyle_nb.errors import ArgyleValueError
from argyle_nb.models import MAX_METADATA_DEPTH, metadata_depth

__all__ = ["as_uuid", "check_json"]


def as_uuid(value: object, name: str) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value.strip()))
        except ValueError:
            pass
    raise ArgyleValueError(
        f"{name} must be a UUID such as '0994b847-cc69-4d98-bc99-c5e65e762add', not {value!r}"
    )


def check_json(value: object, where: str = "external_metadata") -> None:
    """Refuse metadata that is not JSON, or nests deeper than the API's limit
    (:data:`~argyle_nb.models.MAX_METADATA_DEPTH`), before any request."""
    depth = metadata_depth(value)
    if depth > MAX_METADATA_DEPTH:
        raise ArgyleValueError(
            f"{where} nests more than {MAX_METADATA_DEPTH} levels of objects and arrays; "
            f"at most {MAX_METADATA_DEPTH} are allowed"
        )
    _check_json(value, where)


def _check_json(value: object, where: str) -> None:
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ArgyleValueError(f"{where} must be JSON: {value!r} is not a JSON number")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_json(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ArgyleValueError(f"{where} must be JSON: object key {key!r} is not a string")
            _check_json(item, f"{where}[{key!r}]")
        return
    raise ArgyleValueError(
        f"{where} must be JSON (dict, list, str, int, float, bool or None), "
        f"not {type(value).__name__}"
    )
