"""Browser tests: skip with a clear reason where Chromium is missing, but fail in CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.lab import browser_missing_reason


@pytest.fixture(scope="session")
def chromium() -> Path:
    """The Debian Chromium binary; ``make test`` installs it when run as root."""
    reason = browser_missing_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"browser test cannot run in CI: {reason}")
        pytest.skip(reason)
    return Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where browser tests leave screenshots: ``test-artifacts/`` (git-ignored)."""
    path = Path(__file__).resolve().parents[2] / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path
