"""Retries against the sandbox's fault injection: complete, duplicate-free data anyway."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from argyle_nb.client import ArgyleClient, RetryPolicy
from argyle_nb.errors import RateLimitError, ServerError
from argyle_nb.sandbox import Faults, Sandbox, start
from tests.integration.clients import client_on

pytestmark = pytest.mark.embedded_only("injects faults into the embedded sandbox")


class Sleeps:
    """An injected ``sleep``: records every wait and sleeps a hundredth of it."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.waits.append(seconds)
        time.sleep(seconds / 100)


@pytest.fixture
def faulty(tmp_path: Path) -> Iterator[Sandbox]:
    """A sandbox of its own (500 users: several pages of users and of accounts)."""
    with start(db=tmp_path / "faulty.sqlite", users=500, seed=11) as running:
        yield running


def _client(sandbox: Sandbox, sleeps: Sleeps, **kwargs: object) -> ArgyleClient:
    return client_on(sandbox, sleep=sleeps, **kwargs)


def test_lists_are_complete_under_429_and_503(faulty: Sandbox) -> None:
    with _client(faulty, Sleeps()) as clean:
        users = [u.id for u in clean.users.list()]
        accounts = [a.id for a in clean.accounts.list()]
    assert len(users) == 500 and len(accounts) > 600

    faulty.faults = Faults(rate_limit=0.3, retry_after=1, server_error=0.1, seed=5)
    sleeps = Sleeps()
    with _client(faulty, sleeps, retry=RetryPolicy(max_attempts=30)) as client:
        got_users = [u.id for u in client.users.list()]
        got_accounts = [a.id for a in client.accounts.list()]
        got_pages = client.accounts.pages()
    assert got_users == users
    assert got_accounts == accounts
    assert len(set(got_accounts)) == len(got_accounts)
    assert len(got_pages) == -(-len(accounts) // 200)
    assert sleeps.waits, "with 40% faults some request must have been retried"
    # Retry-After: 1 is honoured: every 429 waited at least a second.
    assert sum(1 for w in sleeps.waits if w >= 1.0) >= 1


def test_retry_after_is_honoured_then_the_error_raised(faulty: Sandbox) -> None:
    faulty.faults = Faults(rate_limit=1.0, retry_after=2)
    sleeps = Sleeps()
    with (
        _client(faulty, sleeps, retry=RetryPolicy(max_attempts=3)) as client,
        pytest.raises(RateLimitError) as caught,
    ):
        client.users.get("00000000-0000-4000-8000-000000000000")
    assert caught.value.retry_after == 2.0
    assert caught.value.status == 429
    assert len(sleeps.waits) == 2
    assert all(w >= 2.0 for w in sleeps.waits)


def test_creating_a_user_is_not_repeated_after_a_server_error(fresh_sandbox: Sandbox) -> None:
    fresh_sandbox.faults = Faults(server_error=1.0)
    sleeps = Sleeps()
    with _client(fresh_sandbox, sleeps) as client:
        with pytest.raises(ServerError) as caught:
            client.users.create(external_metadata={"x": 1})
        assert caught.value.status == 503
        assert caught.value.method == "POST"
        assert sleeps.waits == []
        fresh_sandbox.faults = Faults()
        assert list(client.users.list()) == []


def test_creating_a_user_is_repeated_after_429(fresh_sandbox: Sandbox) -> None:
    """A 429 was never processed: repeating it cannot create a second user."""
    fresh_sandbox.faults = Faults(rate_limit=0.5, retry_after=0, seed=3)
    sleeps = Sleeps()
    with _client(fresh_sandbox, sleeps, retry=RetryPolicy(max_attempts=50)) as client:
        made = [client.users.create().id for _ in range(10)]
        fresh_sandbox.faults = Faults()
        listed = [u.id for u in client.users.list()]
    assert sorted(listed) == sorted(made)
    assert sleeps.waits


def test_idempotent_writes_are_repeated_after_503(faulty: Sandbox) -> None:
    with _client(faulty, Sleeps()) as client:
        user = next(iter(client.users.list()))
        faulty.faults = Faults(server_error=0.5, seed=1)
        for n in range(5):
            assert client.users.update(user.id, external_metadata={"n": n}).external_metadata == {
                "n": n
            }
        faulty.faults = Faults()
        assert client.users.get(user.id).external_metadata == {"n": 4}
