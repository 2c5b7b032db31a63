"""The pure parts of the client: configuration, argument checks, the backoff schedule."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from argyle_nb.client import (
    DEFAULT_BASE_URL,
    ArgyleClient,
    RetryPolicy,
    parse_retry_after,
)
from argyle_nb.errors import NotCachedError

USER = "0994b847-cc69-4d98-bc99-c5e65e762add"


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ARGYLE_API_KEY_ID", "ARGYLE_API_KEY_SECRET", "ARGYLE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def _client(**kwargs: object) -> ArgyleClient:
    return ArgyleClient("kid", "top-secret", cache="memory", **kwargs)  # type: ignore[arg-type]


def test_configuration_from_the_environment(monkeypatch: pytest.MonkeyPatch, no_env: None) -> None:
    monkeypatch.setenv("ARGYLE_API_KEY_ID", "env-id")
    monkeypatch.setenv("ARGYLE_API_KEY_SECRET", "env-secret")
    monkeypatch.setenv("ARGYLE_BASE_URL", "https://api.argyle.com/v1/")
    client = ArgyleClient(cache="memory")
    assert client.key_id == "env-id"
    assert client.base_url == "https://api.argyle.com/v1"


def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch, no_env: None) -> None:
    monkeypatch.setenv("ARGYLE_API_KEY_ID", "env-id")
    monkeypatch.setenv("ARGYLE_API_KEY_SECRET", "env-secret")
    client = ArgyleClient("arg-id", "arg-secret", base_url="http://127.0.0.1:1/v1", cache="memory")
    assert (client.key_id, client.base_url) == ("arg-id", "http://127.0.0.1:1/v1")


def test_default_base_url_is_argyles_sandbox(no_env: None) -> None:
    assert _client().base_url == DEFAULT_BASE_URL == "https://api-sandbox.argyle.com/v1"


def test_missing_key_is_refused(no_env: None) -> None:
    with pytest.raises(ValueError, match="ARGYLE_API_KEY_ID"):
        ArgyleClient(cache="memory")
    with pytest.raises(ValueError, match="ARGYLE_API_KEY_SECRET"):
        ArgyleClient("only-id", cache="memory")


def test_bad_base_url_is_refused(no_env: None) -> None:
    with pytest.raises(ValueError, match="http"):
        ArgyleClient("a", "b", base_url="api.argyle.com/v1", cache="memory")


def test_repr_shows_url_and_cache_never_the_secret(tmp_path: Path, no_env: None) -> None:
    client = ArgyleClient("kid", "top-secret", cache_path=tmp_path / "c.sqlite")
    text = repr(client)
    assert DEFAULT_BASE_URL in text
    assert str(tmp_path / "c.sqlite") in text
    assert "top-secret" not in text
    assert "top-secret" not in repr(client.cache) + str(client.cache.info())
    client.close()


@pytest.mark.parametrize("bad", ["not-a-uuid", "", "0994b847", 42, None])
def test_malformed_ids_fail_before_any_request(bad: object, no_env: None) -> None:
    # The base URL points nowhere: a request would raise a connection error instead.
    client = ArgyleClient("kid", "s", base_url="http://127.0.0.1:9/v1", cache="memory")
    for call in (
        client.users.get,
        client.users.delete,
        client.accounts.get,
        client.accounts.delete,
        client.user_tokens.create,
        lambda v: client.users.update(v, external_metadata={}),
        lambda v: client.accounts.list(user=v),
    ):
        if bad is None and call is not client.users.get:
            continue
        with pytest.raises(ValueError, match="UUID"):
            call(bad)


@pytest.mark.parametrize(
    "bad",
    [{1: "int key"}, {"when": object()}, [math.nan], {"x": {"y": math.inf}}, {1, 2}, b"bytes"],
)
def test_non_json_metadata_fails_before_any_request(bad: object, no_env: None) -> None:
    client = ArgyleClient("kid", "s", base_url="http://127.0.0.1:9/v1", cache="memory")
    with pytest.raises(ValueError, match="JSON"):
        client.users.create(external_metadata=bad)
    with pytest.raises(ValueError, match="JSON"):
        client.users.update(USER, external_metadata=bad)


def test_writes_are_refused_offline(no_env: None) -> None:
    client = ArgyleClient("kid", "s", base_url="http://127.0.0.1:9/v1", cache="memory")
    client.cache.offline = True
    with pytest.raises(NotCachedError, match="offline"):
        client.users.create()
    with pytest.raises(NotCachedError, match="offline"):
        client.accounts.delete(USER)


def test_workers_must_be_positive(no_env: None) -> None:
    with pytest.raises(ValueError, match="workers"):
        _client(workers=0)


# -- backoff ---------------------------------------------------------------------


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_max=4.0)
    top = [policy.delay(n, None, lambda: 0.999999) for n in range(1, 7)]
    low = [policy.delay(n, None, lambda: 0.0) for n in range(1, 7)]
    assert low == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]
    assert top == pytest.approx([0.5, 1.0, 2.0, 4.0, 4.0, 4.0], rel=1e-5)


def test_jitter_spreads_the_delays() -> None:
    policy = RetryPolicy()
    draws = iter([0.1, 0.9])
    first, second = (policy.delay(3, None, lambda: next(draws)) for _ in range(2))
    assert first < second


def test_retry_after_is_a_floor_capped_by_policy() -> None:
    policy = RetryPolicy(backoff_base=0.1, max_retry_after=5.0)
    assert policy.delay(1, 2.0, lambda: 0.5) == 2.0
    assert policy.delay(1, 600.0, lambda: 0.5) == 5.0
    assert policy.delay(1, 0.0, lambda: 0.0) == pytest.approx(0.05)


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(max_wait=-1)


@pytest.mark.parametrize(
    ("header", "expected"),
    [("2", 2.0), ("0", 0.0), (" 1.5 ", 1.5), ("-3", 0.0), ("", None), (None, None), ("x", None)],
)
def test_parse_retry_after_seconds(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_parse_retry_after_http_date() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0


def test_connection_errors_are_retried_with_backoff_then_raised(no_env: None) -> None:
    """Nothing listens on port 9: every attempt fails, the schedule is the policy's."""
    from argyle_nb.errors import APIConnectionError

    slept: list[float] = []
    client = ArgyleClient(
        "kid",
        "s",
        base_url="http://127.0.0.1:9/v1",
        cache="memory",
        retry=RetryPolicy(max_attempts=4, backoff_base=1.0, backoff_max=8.0),
        sleep=slept.append,
        random=lambda: 0.0,
    )
    with pytest.raises(APIConnectionError) as caught:
        client.users.get(USER)
    assert slept == [0.5, 1.0, 2.0]
    assert caught.value.method == "GET"
    assert caught.value.path == f"/v1/users/{USER}"


def test_total_wait_is_bounded(no_env: None) -> None:
    from argyle_nb.errors import APIConnectionError

    slept: list[float] = []
    client = ArgyleClient(
        "kid",
        "s",
        base_url="http://127.0.0.1:9/v1",
        cache="memory",
        retry=RetryPolicy(max_attempts=100, backoff_base=1.0, backoff_max=1.0, max_wait=3.0),
        sleep=slept.append,
        random=lambda: 0.999,
    )
    with pytest.raises(APIConnectionError):
        client.users.get(USER)
    assert sum(slept) <= 3.0
    assert len(slept) == 3


def test_user_creation_is_retried_only_when_never_sent(no_env: None) -> None:
    """A refused connection never reached the server: even POST /users may be repeated."""
    from argyle_nb.errors import APIConnectionError

    slept: list[float] = []
    client = ArgyleClient(
        "kid",
        "s",
        base_url="http://127.0.0.1:9/v1",
        cache="memory",
        retry=RetryPolicy(max_attempts=3),
        sleep=slept.append,
    )
    with pytest.raises(APIConnectionError):
        client.users.create()
    assert len(slept) == 2
