"""Fixtures shared by the unit tests of the one engine's semantics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine_given import ENGINES, Build, building


@pytest.fixture(params=ENGINES)
def build(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Build]:
    """Records given as frames, or as a dataset of them (see tests.engine_given)."""
    yield from building(request.param, tmp_path)


@pytest.fixture(params=(*ENGINES, "export"))
def build_or_export(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Build]:
    """As ``build``, and as an export written and opened again."""
    yield from building(request.param, tmp_path)
