"""Fixtures of the integration tests: live sandboxes (real HTTP server, real SQLite file).

* ``sandbox`` (session): ``start(users=300, seed=7)`` on a temporary database. Tests that
  write to it must not assume the seeded counts afterwards.
* ``fresh_sandbox`` (function): an empty sandbox of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from argyle_nb.sandbox import Sandbox, start

SEEDED_USERS = 300
SEED = 7


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox seeded with 300 users (seed 7), shared by the session."""
    db = tmp_path_factory.mktemp("sandbox") / "sandbox.sqlite"
    with start(db=db, users=SEEDED_USERS, seed=SEED) as running:
        yield running


@pytest.fixture
def fresh_sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    """An empty sandbox for one test."""
    with start(db=tmp_path / "fresh.sqlite") as running:
        yield running
