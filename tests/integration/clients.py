"""One way for integration tests to build a client on a live sandbox."""

from __future__ import annotations

from typing import Any

from argyle_nb.client import ArgyleClient
from argyle_nb.sandbox import Sandbox


def client_on(sandbox: Sandbox, **options: Any) -> ArgyleClient:
    """A quiet client on ``sandbox``; an in-memory cache unless ``cache_path`` is given."""
    if "cache_path" not in options:
        options.setdefault("cache", "memory")
    options.setdefault("progress", False)
    return ArgyleClient(sandbox.key_id, sandbox.key_secret, base_url=sandbox.base_url, **options)
