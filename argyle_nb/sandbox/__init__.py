"""The embedded Argyle sandbox: a local emulator of Argyle API v1 users, user tokens and accounts.

A real HTTP server on loopback over a real SQLite file, with HTTP Basic auth,
deterministic synthetic data, a 30-day sweep of never-connected accounts and fault
injection for resilience tests. Start it from Python, from the shell
(``argyle-nb sandbox serve`` or ``python -m argyle_nb.sandbox``), or let
``argyle-nb lab`` start the demo dataset for JupyterLab.

Examples:
    >>> import requests
    >>> from argyle_nb.sandbox import DEMO_SEED, start
    >>> with start(users=50, seed=DEMO_SEED) as sandbox:              # doctest: +SKIP
    ...     page = requests.get(f"{sandbox.base_url}/accounts", params={"limit": 200},
    ...                         auth=sandbox.auth).json()
    ...     sandbox.faults = Faults(rate_limit=0.5, retry_after=1)  # now half answer 429
"""

from __future__ import annotations

from typing import Final

from argyle_nb.sandbox.faults import Faults
from argyle_nb.sandbox.server import DEMO_KEY_ID, DEMO_KEY_SECRET, Sandbox, start

__all__ = [
    "DEMO_KEY_ID",
    "DEMO_KEY_SECRET",
    "DEMO_SEED",
    "DEMO_USERS",
    "Faults",
    "Sandbox",
    "start",
]

#: Users of the demo dataset that ``argyle_nb.connect()`` and ``argyle-nb lab`` start.
DEMO_USERS: Final = 10_000
#: Seed of the demo dataset.
DEMO_SEED: Final = 42
