"""Fixtures of the integration tests: one suite, two targets (real HTTP, no mocks).

* ``target`` (session): where the contract tests run, a :class:`~tests.integration.clients.
  Target`. By default the embedded ``sandbox`` below; with ``ARGYLE_LIVE=1`` Argyle's own
  sandbox at ``ARGYLE_BASE_URL`` (default ``argyle_nb.client.DEFAULT_BASE_URL``) with
  ``ARGYLE_API_KEY_ID``/``ARGYLE_API_KEY_SECRET``. Tests on ``target`` assume no data
  beyond what they create, and delete what they create (``scratch``).
* ``sandbox`` (session): ``start(users=320, seed=7)`` on a temporary database. Tests that
  write to it must not assume the seeded counts afterwards.
* ``fresh_sandbox`` (function): an empty sandbox of its own.
* ``scratch`` (function): users created on the target, deleted when the test ends.

Under ``ARGYLE_LIVE=1`` every integration test that needs the emulator itself is skipped,
saying why: those marked ``embedded_only``, those using ``sandbox`` or ``fresh_sandbox``,
and those not using ``target``. Without the keys every integration test is skipped, naming
the missing variables. In default mode the one test marked ``live`` is skipped, saying how
to run the suite against Argyle.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from argyle_nb.sandbox import Sandbox, start
from tests.integration.clients import (
    LIVE_HINT,
    Scratch,
    Target,
    argyle_target,
    live_requested,
    missing_keys,
)

SEEDED_USERS = 320
SEED = 7

HERE = Path(__file__).resolve().parent
LIVE = live_requested(os.environ)
MISSING = missing_keys(os.environ) if LIVE else []
NO_KEYS = (
    f"ARGYLE_LIVE=1 but {' and '.join(MISSING)} "
    f"{'is' if len(MISSING) == 1 else 'are'} not set: set Argyle sandbox keys to run the "
    "integration tests against Argyle's sandbox, or unset ARGYLE_LIVE to run them on the "
    "embedded sandbox"
)
EMBEDDED_FIXTURES = ("sandbox", "fresh_sandbox")


def _embedded_only(item: pytest.Item) -> str | None:
    """Why ``item`` needs the embedded sandbox, or None when it runs on any target."""
    marker = item.get_closest_marker("embedded_only")
    if marker is not None:
        return str(marker.args[0]) if marker.args else "needs the emulator itself"
    names = getattr(item, "fixturenames", ())
    used = [name for name in EMBEDDED_FIXTURES if name in names]
    if used:
        return f"uses the `{used[0]}` fixture"
    if "target" not in names:
        return "does not use the `target` fixture"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip what does not belong on this run's target (integration tests only)."""
    for item in items:
        if not item.path.resolve().is_relative_to(HERE):
            continue
        if LIVE and MISSING:
            item.add_marker(pytest.mark.skip(reason=NO_KEYS))
        elif LIVE:
            why = _embedded_only(item)
            if why is not None:
                reason = f"embedded sandbox only ({why}): skipped under ARGYLE_LIVE=1"
                item.add_marker(pytest.mark.skip(reason=reason))
        elif item.get_closest_marker("live") is not None:
            item.add_marker(pytest.mark.skip(reason=LIVE_HINT))


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox seeded with 320 users (seed 7), shared by the session."""
    if LIVE:
        pytest.skip("embedded sandbox only: skipped under ARGYLE_LIVE=1")
    db = tmp_path_factory.mktemp("sandbox") / "sandbox.sqlite"
    with start(db=db, users=SEEDED_USERS, seed=SEED) as running:
        yield running


@pytest.fixture
def fresh_sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    """An empty sandbox for one test."""
    if LIVE:
        pytest.skip("embedded sandbox only: skipped under ARGYLE_LIVE=1")
    with start(db=tmp_path / "fresh.sqlite") as running:
        yield running


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Target:
    """Where the contract tests run: the embedded ``sandbox``, or Argyle's (ARGYLE_LIVE=1)."""
    if LIVE:
        if MISSING:
            pytest.skip(NO_KEYS)
        return argyle_target(os.environ)
    running: Sandbox = request.getfixturevalue("sandbox")
    return Target(
        base_url=running.base_url,
        key_id=running.key_id,
        key_secret=running.key_secret,
        kind="embedded",
        sandbox=running,
    )


@pytest.fixture
def scratch(target: Target) -> Iterator[Scratch]:
    """Users the test creates on the target; all deleted when it ends, pass or fail."""
    made = Scratch(target)
    try:
        yield made
    finally:
        made.clean()
