"""Frames of the sandbox's own generator, built without a server: for tests of what is
drawn, where the numbers only need to be realistic and fixed by the seed."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pandas as pd

from argyle_nb import frames
from argyle_nb.sandbox.synth import generate

#: ``(users, accounts, availability)`` frames.
Built = tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]


def synthetic_frames(users: int = 600, seed: int = 5) -> Built:
    """The frames of ``users`` generated users (as of 2026-11-01 UTC)."""
    pairs = list(generate(users, seed=seed, now=datetime(2026, 11, 1, tzinfo=UTC)))
    made = frames.users_frame(orjson.dumps([u for u, _ in pairs]))
    accounts, availability = frames.accounts_and_availability(
        orjson.dumps([a for _, accounts in pairs for a in accounts])
    )
    return made, accounts, availability
