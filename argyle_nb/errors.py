"""The errors of argyle_nb: one hierarchy under :class:`ArgyleError`.

Everything the package raises for a cause outside it (a bad argument, data that is not
what the API promises, a file that cannot be read, an answer that failed) is an
:class:`ArgyleError`, so ``except argyle_nb.ArgyleError`` catches every one of them.
Where the cause is a value, the error is also the builtin exception Python code expects
(``ValueError``, ``KeyError``...), so ``except ValueError`` keeps working.

An error of a request carries the HTTP ``status`` (None when no answer came), the
server's ``detail``, and the ``method`` and ``path`` of the request, so a traceback in a
notebook says what was asked and what the service answered; the others carry their
message in ``detail`` (``status`` None, no request).

==================================  ==================================================
class                                raised for
==================================  ==================================================
:class:`AuthenticationError`         401: wrong key pair, or keys of the other environment
:class:`BadRequestError`             400: carries the field errors (``{"field": ["message"]}``)
:class:`NotFoundError`               404
:class:`RateLimitError`              429 once the retries are spent (``retry_after`` in seconds)
:class:`ServerError`                 5xx once the retries are spent
:class:`ResponseFormatError`         a body that is not what the API promises
  :class:`InvalidRecordsError`       ``strict=True`` and records of a list failed validation
:class:`APIConnectionError`          no answer at all (connection refused, reset, timed out)
:class:`NotCachedError`              offline mode and the answer is not in the cache
:class:`CacheFileError`              the cache's SQLite file cannot be opened or written
:class:`ArgyleValueError`            a bad value (also a ``ValueError``): an argument out of
                                     range or of an unknown kind, an id that is not a UUID
  ``frames.FrameError``              input that is not what the API promises (a page, a frame)
    ``frames.MissingColumnsError``   a frame lacks columns, or the users a metadata key
                                     (also an :class:`ArgyleKeyError`)
  ``dataset.DatasetError``           a dataset that cannot be written or read
  ``envelope.EnvelopeError``         bytes that are not a list page
:class:`ArgyleKeyError`              an unknown name (also a ``KeyError``): a column, a
                                     metadata key, a cohort
:class:`ArgyleTypeError`             an argument of the wrong type (also a ``TypeError``)
:class:`ArgyleRuntimeError`          an operation the current state forbids (a closed
                                     store, a sandbox that stopped, a missing extra)
==================================  ==================================================

Warnings (``RejectedRecordsWarning``, ``ListChangedWarning``,
``CacheFileRecoveredWarning``) are ``UserWarning`` subclasses, not errors. Left as they are: the
models' own validation (pydantic's ``ValidationError``, a ``ValueError``, when a model is
built by hand), a ``TimeoutError`` when the embedded sandbox does not start in time, and
``AttributeError`` for a name a module does not have.

Examples:
    >>> err = error_for_status(404, b'{"detail": "Not found."}', "GET", "/v1/users/x")
    >>> type(err).__name__, err.status, err.detail
    ('NotFoundError', 404, 'Not found.')
    >>> print(err)
    404 Not found. (GET /v1/users/x)
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = [
    "APIConnectionError",
    "ArgyleError",
    "ArgyleKeyError",
    "ArgyleRuntimeError",
    "ArgyleTypeError",
    "ArgyleValueError",
    "AuthenticationError",
    "BadRequestError",
    "CacheFileError",
    "InvalidRecordsError",
    "NotCachedError",
    "NotFoundError",
    "RateLimitError",
    "ResponseFormatError",
    "ServerError",
    "error_for_status",
]


class ArgyleError(Exception):
    """Base of every error argyle_nb raises.

    Attributes:
        status: the HTTP status (None when the service did not answer, or for an error
            that is not a request's).
        detail: the server's explanation (its ``detail`` field, else the body's text).
        method: the HTTP method of the request.
        path: the path (and query) of the request.
        body: the decoded JSON body of the answer, when it had one.
    """

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        method: str = "",
        path: str = "",
        body: Any = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.method = method
        self.path = path
        self.body = body

    def __str__(self) -> str:
        where = f" ({self.method} {self.path})" if self.method or self.path else ""
        status = f"{self.status} " if self.status is not None else ""
        return f"{status}{self.detail}{where}"

    def __repr__(self) -> str:
        if self.status is None and not self.method and not self.path:
            return f"{type(self).__name__}({self.detail!r})"
        return (
            f"{type(self).__name__}(status={self.status!r}, detail={self.detail!r}, "
            f"method={self.method!r}, path={self.path!r})"
        )


class ArgyleValueError(ArgyleError, ValueError):
    """A bad value: an argument out of range or of an unknown kind (also a ``ValueError``).

    Examples:
        >>> err = ArgyleValueError("alpha must be a number between 0 and 1, not 2")
        >>> isinstance(err, ValueError), str(err)
        (True, 'alpha must be a number between 0 and 1, not 2')
    """


class ArgyleKeyError(ArgyleError, KeyError):
    """An unknown name: a column, a metadata key, a cohort (also a ``KeyError``).

    Its message reads as written (a plain ``KeyError`` would show its quoted repr).

    Examples:
        >>> print(ArgyleKeyError("no metadata key 'plan' among the users"))
        no metadata key 'plan' among the users
    """


class ArgyleTypeError(ArgyleError, TypeError):
    """An argument of the wrong type (also a ``TypeError``)."""


class ArgyleRuntimeError(ArgyleError, RuntimeError):
    """An operation the current state forbids: a closed store, a sandbox that stopped while
    starting, an optional extra that is not installed (also a ``RuntimeError``)."""


class AuthenticationError(ArgyleError):
    """401: the key pair was refused (wrong pair, or a pair of the other environment)."""


class NotFoundError(ArgyleError):
    """404: no such user or account (or it was deleted)."""


class BadRequestError(ArgyleError):
    """400: the service rejected the request; :attr:`field_errors` says why, per field."""

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = 400,
        method: str = "",
        path: str = "",
        body: Any = None,
        field_errors: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(detail, status=status, method=method, path=path, body=body)
        #: ``{"field": ["message", ...]}`` as the service sent them (empty for a plain detail).
        self.field_errors: dict[str, list[str]] = field_errors or {}


class RateLimitError(ArgyleError):
    """429 after every retry: :attr:`retry_after` is the server's last ``Retry-After``."""

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = 429,
        method: str = "",
        path: str = "",
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(detail, status=status, method=method, path=path, body=body)
        self.retry_after = retry_after


class ServerError(ArgyleError):
    """5xx after every retry."""


class ResponseFormatError(ArgyleError):
    """An answer whose body is not what the API promises (not JSON, wrong shape or types)."""


class InvalidRecordsError(ResponseFormatError):
    """``strict=True``: some records of a list failed validation (``.rejected`` lists them).

    Without ``strict``, the client sets such records aside in ``client.rejected`` and
    warns with :class:`~argyle_nb.quarantine.RejectedRecordsWarning` instead.
    """

    def __init__(self, detail: str, *, rejected: Any = (), **where: Any) -> None:
        super().__init__(detail, **where)
        #: The :class:`~argyle_nb.quarantine.RejectedRecord` entries that failed.
        self.rejected: list[Any] = list(rejected)


class APIConnectionError(ArgyleError):
    """No answer: the connection failed or timed out on every attempt."""


class NotCachedError(ArgyleError):
    """Offline mode: the answer to this request is not in the cache."""


class CacheFileError(ArgyleError):
    """The cache's SQLite file cannot be used; the message names it and how to go on."""

    def __init__(self, path: object, problem: str) -> None:
        super().__init__(
            f"the cache file {path} cannot be used ({problem}): pass cache_path= a writable "
            "file elsewhere, or cache='memory'"
        )
        self.file = path


def _detail_and_fields(body: Any, text: str) -> tuple[str, dict[str, list[str]]]:
    if isinstance(body, dict):
        if isinstance(body.get("detail"), str):
            return body["detail"], {}
        fields = {
            str(k): [str(m) for m in v] if isinstance(v, list) else [str(v)]
            for k, v in body.items()
        }
        summary = "; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items())
        return summary or text, fields
    return text, {}


def error_for_status(
    status: int,
    content: bytes,
    method: str,
    path: str,
    *,
    retry_after: float | None = None,
) -> ArgyleError:
    """The error for an answer with a failing ``status`` and body ``content``.

    Examples:
        >>> err = error_for_status(400, b'{"user": ["Must be a valid UUID."]}', "POST", "/v1/t")
        >>> err.field_errors
        {'user': ['Must be a valid UUID.']}
    """
    content = content or b""
    try:
        body: Any = orjson.loads(content) if content else None
    except orjson.JSONDecodeError:
        body = None
    text = content[:500].decode("utf-8", "replace").strip() or f"HTTP {status}"
    detail, fields = _detail_and_fields(body, text)
    where: dict[str, Any] = {"status": status, "method": method, "path": path, "body": body}
    if status == 400:
        return BadRequestError(detail, field_errors=fields, **where)
    if status == 401:
        return AuthenticationError(detail, **where)
    if status == 404:
        return NotFoundError(detail, **where)
    if status == 429:
        return RateLimitError(detail, retry_after=retry_after, **where)
    if status >= 500:
        return ServerError(detail, **where)
    return ArgyleError(detail, **where)
