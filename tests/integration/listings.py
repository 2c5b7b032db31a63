"""What the API lists now, fetched by hand with ``requests`` (not by the client): the
independent reference the history tests count against."""

from __future__ import annotations

from typing import Any

import requests

__all__ = ["listing", "status"]


def listing(base_url: str, auth: tuple[str, str], what: str = "accounts") -> list[dict[str, Any]]:
    """Every account (or user) the API lists now, following ``next``."""
    out: list[dict[str, Any]] = []
    url: str | None = f"{base_url}/{what}?limit=200"
    while url:
        page = requests.get(url, auth=auth, timeout=30).json()
        out += page["results"]
        url = page["next"]
    return out


def status(account: dict[str, Any]) -> str:
    """An account's connection status as listed."""
    return str(account["connection"]["status"])
