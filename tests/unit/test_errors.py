"""The error hierarchy: status -> class, the server's detail, field errors, the request."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

import argyle_nb
from argyle_nb import analysis, envelope, frames
from argyle_nb.client import ArgyleClient, RetryPolicy
from argyle_nb.dataset import Dataset, DatasetError
from argyle_nb.envelope import EnvelopeError
from argyle_nb.errors import (
    APIConnectionError,
    ArgyleError,
    ArgyleKeyError,
    ArgyleRuntimeError,
    ArgyleTypeError,
    ArgyleValueError,
    AuthenticationError,
    BadRequestError,
    NotCachedError,
    NotFoundError,
    RateLimitError,
    ResponseFormatError,
    ServerError,
    error_for_status,
)
from argyle_nb.frames import FrameError, MissingColumnsError
from argyle_nb.sandbox.faults import Faults
from tests.unit.dataset.exports import write_version


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (404, NotFoundError),
        (429, RateLimitError),
        (500, ServerError),
        (503, ServerError),
        (418, ArgyleError),
    ],
)
def test_status_maps_to_class(status: int, cls: type[ArgyleError]) -> None:
    err = error_for_status(status, b'{"detail": "nope"}', "GET", "/v1/users")
    assert type(err) is cls
    assert (err.status, err.detail, err.method, err.path) == (status, "nope", "GET", "/v1/users")
    assert str(err) == f"{status} nope (GET /v1/users)"


def test_every_class_is_an_argyle_error() -> None:
    for cls in (
        AuthenticationError,
        NotFoundError,
        BadRequestError,
        RateLimitError,
        ServerError,
        ResponseFormatError,
        APIConnectionError,
        NotCachedError,
    ):
        assert issubclass(cls, ArgyleError)


def test_bad_request_carries_field_errors() -> None:
    body = b'{"user": ["Must be a valid UUID."], "limit": ["A valid integer is required."]}'
    err = error_for_status(400, body, "POST", "/v1/user-tokens")
    assert isinstance(err, BadRequestError)
    assert err.field_errors == {
        "user": ["Must be a valid UUID."],
        "limit": ["A valid integer is required."],
    }
    assert "user: Must be a valid UUID." in err.detail


def test_non_json_body_keeps_its_text() -> None:
    err = error_for_status(502, b"<html>Bad gateway</html>", "GET", "/v1/accounts")
    assert isinstance(err, ServerError)
    assert err.detail == "<html>Bad gateway</html>"
    assert err.body is None
    empty = error_for_status(503, b"", "GET", "/v1/accounts")
    assert empty.detail == "HTTP 503"


def test_rate_limit_keeps_retry_after() -> None:
    err = error_for_status(429, b'{"detail": "slow down"}', "GET", "/v1/users", retry_after=2.0)
    assert isinstance(err, RateLimitError)
    assert err.retry_after == 2.0


def test_repr_names_the_request() -> None:
    err = NotFoundError("Not found.", status=404, method="DELETE", path="/v1/accounts/x")
    assert repr(err) == (
        "NotFoundError(status=404, detail='Not found.', method='DELETE', path='/v1/accounts/x')"
    )


# ---------------------------------------------------------------------------
# One root: every exception class of the package is an ArgyleError
# ---------------------------------------------------------------------------

#: Exceptions that never leave the package (caught where they are raised), with where.
INTERNAL = {
    # the sandbox server's error answer: turned into an HTTP response by the app
    "argyle_nb.sandbox.parsing.ApiError",
    # requests' own exceptions, raised inside the adapter and turned into ours by _transport
    "argyle_nb.client._http.ResponseTooLarge",
    "argyle_nb.client._http.UnsupportedEncoding",
    # the fast reader's failure, caught by the accounts builder (which then screens records)
    "argyle_nb.frames._read._Invalid",
}


def _exception_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(argyle_nb.__path__, prefix="argyle_nb."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__.startswith("argyle_nb")
            ):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return found


def test_every_exception_class_of_the_package_is_an_argyle_error() -> None:
    classes = _exception_classes()
    # The walk sees the classes defined all over the package (it cannot pass by seeing none).
    for where in (
        "argyle_nb.frames.FrameError",
        "argyle_nb.frames.MissingColumnsError",
        "argyle_nb.dataset._tables.DatasetError",
        "argyle_nb.envelope.EnvelopeError",
        "argyle_nb.errors.CacheFileError",
        "argyle_nb.quarantine.RejectedRecordsWarning",
        *INTERNAL,
    ):
        assert where in classes, where
    outside = sorted(
        where
        for where, cls in classes.items()
        if not issubclass(cls, (ArgyleError, Warning)) and where not in INTERNAL
    )
    assert outside == []


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (FrameError, ValueError),
        (MissingColumnsError, KeyError),
        (MissingColumnsError, ValueError),
        (DatasetError, ValueError),
        (EnvelopeError, ValueError),
        (ArgyleValueError, ValueError),
        (ArgyleKeyError, KeyError),
        (ArgyleTypeError, TypeError),
        (ArgyleRuntimeError, RuntimeError),
    ],
)
def test_errors_of_a_value_stay_the_builtin_callers_catch(
    cls: type[ArgyleError], builtin: type[Exception]
) -> None:
    assert issubclass(cls, ArgyleError)
    assert issubclass(cls, builtin)


def test_a_key_error_reads_as_written() -> None:
    # KeyError's own str() is the repr of its argument (quotes around the message).
    err = MissingColumnsError("no metadata key 'plan' among the users (keys: 'tier')")
    assert str(err) == "no metadata key 'plan' among the users (keys: 'tier')"
    assert (
        repr(err)
        == "MissingColumnsError(\"no metadata key 'plan' among the users (keys: 'tier')\")"
    )


# ---------------------------------------------------------------------------
# Representative bad calls end in an ArgyleError (and the builtin they always were)
# ---------------------------------------------------------------------------

USERS = frames.users_frame(
    [
        orjson.dumps(
            {
                "next": None,
                "results": [
                    {
                        "id": f"00000000-0000-4000-8000-{i:012d}",
                        "created_at": "2026-01-01T00:00:00Z",
                        "external_metadata": {"tier": "gold" if i % 2 else "silver"},
                    }
                    for i in range(6)
                ],
            }
        )
    ]
)
ACCOUNTS = frames.accounts_frame(b"[]")
#: A client never used for a request: the bad id is refused before any is sent.
CLIENT = ArgyleClient("key", "secret", base_url="http://127.0.0.1:9", cache="memory")


def _bad_calls(
    tmp_path: Path, ds: Dataset
) -> list[tuple[str, Callable[[], object], type[Exception], str]]:
    return [
        (
            "a frames function given a frame of another kind",
            lambda: frames.attach_metadata(USERS, USERS),
            KeyError,
            "'user'",
        ),
        (
            "an analysis given something that is not a frame",
            lambda: analysis.connection_status_distribution([1, 2]),  # type: ignore[arg-type]
            ValueError,
            "needs a DataFrame",
        ),
        (
            "a Dataset on a path holding none",
            lambda: Dataset(tmp_path / "nowhere"),
            ValueError,
            "no dataset at",
        ),
        (
            "an analysis of an unknown metadata key",
            lambda: analysis.metadata_groups(USERS, ACCOUNTS, "plan"),
            KeyError,
            "no metadata key 'plan'",
        ),
        (
            "a comparison against an unknown cohort",
            lambda: analysis.compare_cohorts(USERS, ACCOUNTS, "tier", baseline="bronze"),
            KeyError,
            "'bronze' is not a cohort",
        ),
        (
            "an analysis with an argument out of range",
            lambda: analysis.compare_cohorts(USERS, ACCOUNTS, "tier", alpha=2),
            ValueError,
            "alpha must be",
        ),
        (
            "a grouping by an unknown column",
            lambda: analysis.connection_status_distribution(ACCOUNTS, by="nope"),
            KeyError,
            "column 'nope'",
        ),
        (
            "a dataset grouped by an unknown column",
            lambda: analysis.connection_status_distribution(ds, by="nope"),
            KeyError,
            "no column 'nope'",
        ),
        (
            "a dataset's availability by an unknown column",
            lambda: analysis.availability_windows(ds, by="nope"),
            KeyError,
            "no column 'nope'",
        ),
        (
            "a list page that is not one",
            lambda: envelope.parse_list_page(b'{"results": 3}'),
            ValueError,
            "results",
        ),
        (
            "account pages that are not JSON",
            lambda: frames.accounts_frame(b"<html>"),
            ValueError,
            "JSON",
        ),
        (
            "a retry policy that never tries",
            lambda: RetryPolicy(max_attempts=0),
            ValueError,
            "max_attempts",
        ),
        (
            "a client id that is not a UUID",
            lambda: CLIENT.users.get("not-a-uuid"),
            ValueError,
            "not-a-uuid",
        ),
        (
            "sandbox faults out of range",
            lambda: Faults(server_error=1.5),
            ValueError,
            "server_error",
        ),
    ]


def test_bad_calls_raise_argyle_errors(tmp_path: Path) -> None:
    write_version(tmp_path / "ds", 3)
    with Dataset(tmp_path / "ds") as ds:
        for what, call, builtin, says in _bad_calls(tmp_path, ds):
            with pytest.raises(ArgyleError) as caught:
                call()
            assert isinstance(caught.value, builtin), what
            assert says in str(caught.value), (what, str(caught.value))
