"""``connect()``: a client on the configured Argyle environment, or on a local demo sandbox."""

from __future__ import annotations

import os
from typing import Any

from argyle_nb.client._client import ArgyleClient
from argyle_nb.errors import ArgyleValueError

__all__ = ["connect"]


def connect(
    key_id: str | None = None,
    key_secret: str | None = None,
    *,
    base_url: str | None = None,
    users: int | None = None,
    seed: int | None = None,
    **options: Any,
) -> ArgyleClient:
    """A client on the configured Argyle environment, or on a local demo sandbox.

    With a key pair (arguments, or ``ARGYLE_API_KEY_ID`` and ``ARGYLE_API_KEY_SECRET``) the
    client targets ``base_url`` (or ``ARGYLE_BASE_URL``, else Argyle's sandbox). With no key
    it starts the embedded sandbox seeded with ``users`` demo users (default
    :data:`~argyle_nb.sandbox.DEMO_USERS`) from ``seed`` (default
    :data:`~argyle_nb.sandbox.DEMO_SEED`), says so in one line, caches in memory (the
    sandbox is temporary) and keeps the sandbox's time (``client.sandbox.advance(days)``
    moves it: provenance and snapshots are stamped with it); ``client.close()`` stops
    it. ``users`` and ``seed`` shape only that demo dataset: a real Argyle environment is
    what it is. A ``base_url`` without a key is an error (the embedded sandbox picks its
    own address).
    ``options`` go to :class:`ArgyleClient`.

    Examples:
        >>> client = connect()   # doctest: +SKIP
        argyle_nb: no API key configured: started the embedded sandbox ...
    """
    key_id = key_id if key_id is not None else os.environ.get("ARGYLE_API_KEY_ID")
    if key_secret is None:
        key_secret = os.environ.get("ARGYLE_API_KEY_SECRET")
    if key_id and key_secret:
        return ArgyleClient(key_id, key_secret, base_url=base_url, **options)
    if base_url is not None:
        raise ArgyleValueError(
            f"base_url={base_url!r} needs a key: set ARGYLE_API_KEY_ID and "
            "ARGYLE_API_KEY_SECRET (or pass key_id and key_secret), or leave base_url "
            "unset to use the embedded sandbox"
        )
    from argyle_nb import sandbox as embedded

    users = embedded.DEMO_USERS if users is None else users
    seed = embedded.DEMO_SEED if seed is None else seed
    if isinstance(users, bool) or not isinstance(users, int) or users < 0:
        raise ArgyleValueError(f"users must be a whole number >= 0, not {users!r}")
    running = embedded.start(users=users, seed=seed)
    options.setdefault("cache", "memory")
    # The sandbox's clock, which advance() moves: what an export of it is stamped with.
    options.setdefault("now", running.now)
    try:
        client = ArgyleClient(
            running.key_id, running.key_secret, base_url=running.base_url, **options
        )
    except BaseException:
        running.stop()
        raise
    client.sandbox = running
    print(
        f"argyle_nb: no API key configured: started the embedded sandbox with "
        f"{users} demo users at {running.base_url}"
    )
    return client
