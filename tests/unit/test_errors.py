"""The error hierarchy: status -> class, the server's detail, field errors, the request."""

from __future__ import annotations

import pytest

from argyle_nb.errors import (
    APIConnectionError,
    ArgyleError,
    AuthenticationError,
    BadRequestError,
    NotCachedError,
    NotFoundError,
    RateLimitError,
    ResponseFormatError,
    ServerError,
    error_for_status,
)


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
