"""Checks of the caller's arguments, made before any request is sent."""

from __future__ import annotations

import math
import uuid

__all__ = ["as_uuid", "check_json"]


def as_uuid(value: object, name: str) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value.strip()))
        except ValueError:
            pass
    raise ValueError(
        f"{name} must be a UUID such as '0994b847-cc69-4d98-bc99-c5e65e762add', not {value!r}"
    )


def check_json(value: object, where: str = "external_metadata") -> None:
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} must be JSON: {value!r} is not a JSON number")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            check_json(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{where} must be JSON: object key {key!r} is not a string")
            check_json(item, f"{where}[{key!r}]")
        return
    raise ValueError(
        f"{where} must be JSON (dict, list, str, int, float, bool or None), "
        f"not {type(value).__name__}"
    )
