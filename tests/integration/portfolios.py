"""One portfolio two ways: the in-memory frames and the exported dataset of the same data,
from an embedded sandbox of its own (what the DuckDB analyses are compared against)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from argyle_nb.client import ArgyleClient
from argyle_nb.dataset import Dataset
from argyle_nb.sandbox import start

__all__ = ["Portfolio", "portfolio"]


@dataclass
class Portfolio:
    users: pd.DataFrame
    accounts: pd.DataFrame
    availability: pd.DataFrame
    ds: Dataset


def portfolio(
    folder: Path,
    *,
    users: int,
    seed: int,
    batch_pages: int | None = None,
    prepare: Callable[[ArgyleClient], object] | None = None,
) -> Portfolio:
    """A sandbox of ``users`` demo users (``prepare`` may add more through the client),
    its frames, and its export to ``folder / "portfolio"`` (opened: close ``.ds``)."""
    with start(db=folder / "sandbox.sqlite", users=users, seed=seed) as sb:
        client = ArgyleClient(
            sb.key_id, sb.key_secret, base_url=sb.base_url, cache="memory", progress=False
        )
        with client:
            if prepare is not None:
                prepare(client)
            return Portfolio(
                client.users_frame(),
                client.accounts_frame(),
                client.availability_frame(),
                client.export(folder / "portfolio", batch_pages=batch_pages),
            )
