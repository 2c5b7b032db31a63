"""What a Vega-Lite spec draws: its rows, inline or in ``datasets`` (where Altair moves
inline rows, under a name the spec's ``data`` refers to)."""

from __future__ import annotations

from typing import Any


def spec_rows(spec: dict[str, Any], part: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The rows of the data of ``part`` of ``spec`` (a layer; default: its top level)."""
    data = (spec if part is None else part).get("data", {})
    named: dict[str, list[dict[str, Any]]] = spec.get("datasets", {})
    return list(data.get("values") or named.get(str(data.get("name")), []))
