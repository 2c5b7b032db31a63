"""One request to the Argyle API, end to end: the cache, hard limits, redirects kept at
home, retries with backoff, and every failure mapped to an :class:`~argyle_nb.errors.ArgyleError`.

Everything the resources and the paginator send goes through :meth:`Transport.request`,
the client's one narrow interface to HTTP. Swap it in a test by building the client's
``Transport`` over another session.

Examples:
    >>> Limits().timeout, Limits().max_response_bytes
    (60.0, 67108864)
    >>> same_origin("https://api.argyle.com/v1/users?x=1", "https://api.argyle.com/v1")
    True
    >>> same_origin("https://evil.example/v1/users", "https://api.argyle.com/v1")
    False
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from urllib.parse import urljoin, urlsplit

import orjson
import requests

from argyle_nb.client._http import (
    ACCEPT_ENCODING,
    ResponseTooLarge,
    UnsupportedEncoding,
    deadline,
)
from argyle_nb.client._retry import RETRY_STATUSES, RetryPolicy, parse_retry_after
from argyle_nb.errors import (
    APIConnectionError,
    ArgyleError,
    ArgyleValueError,
    NotCachedError,
    ResponseFormatError,
    error_for_status,
)
from argyle_nb.provenance import utc_or_none

__all__ = ["Answer", "Limits", "Transport", "same_origin", "where"]

log = logging.getLogger("argyle_nb.client")

_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class Limits:
    """Hard limits of one request.

    Attributes:
        timeout: seconds one attempt may take, from connecting to the answer's last byte
            (redirects included); a server that drips bytes cannot stretch it.
        max_response_bytes: the largest answer accepted, counted after decompression as it
            arrives (default 64 MiB: a page of 200 accounts is about 400 KB).
        max_redirects: redirects followed within the API's own origin.
    """

    timeout: float = 60.0
    max_response_bytes: int = 64 * 2**20
    max_redirects: int = 5

    def __post_init__(self) -> None:
        if not self.timeout > 0:
            raise ArgyleValueError(f"timeout must be > 0 seconds, not {self.timeout!r}")
        if self.max_response_bytes < 1 or self.max_redirects < 0:
            raise ArgyleValueError("max_response_bytes must be >= 1 and max_redirects >= 0")


@dataclass(frozen=True)
class Answer:
    """A 2xx answer: its body, and where it came from."""

    status: int
    content: bytes
    url: str
    headers: Any
    from_cache: bool
    created_at: datetime | None
    expires: datetime | None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def same_origin(url: str, base_url: str) -> bool:
    """Whether ``url`` has the scheme, host and port of ``base_url``."""
    return _origin(url) == _origin(base_url)


def where(url: str) -> str:
    """``url`` as errors name it: its path and query."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class Transport:
    """Sends one request at a time through the cache, within :class:`Limits`, retrying
    as :class:`~argyle_nb.client.RetryPolicy` says.

    Args:
        session: the requests-cache ``CachedSession`` (its adapter enforces the limits).
        base_url: the API's root; only its origin is ever contacted.
        auth: the key pair (HTTP Basic); it never leaves this object.
        offline: tells whether the cache is in offline mode right now.
    """

    def __init__(
        self,
        session: Any,
        *,
        base_url: str,
        auth: tuple[str, str],
        retry: RetryPolicy,
        limits: Limits,
        offline: Callable[[], bool],
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = lambda: 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.retry = retry
        self.limits = limits
        self._auth = auth
        self._offline = offline
        self._sleep = sleep
        self._random = random
        self._clock = clock

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r}, limits={self.limits!r})"

    def request(
        self,
        method: str,
        url: str,
        *,
        body: Any = None,
        fresh: bool = False,
        store: bool = True,
        repeatable: bool = True,
    ) -> Answer:
        """``method url`` with retries; a 2xx :class:`Answer` or an ``ArgyleError``.

        ``fresh`` skips the cache for a ``GET``; ``store=False`` leaves the cache out of
        it (neither read nor written: what an export walks goes to its dataset, not a
        second time to the cache), unless the cache is offline, which answers alone.
        ``repeatable=False`` (a POST that creates something) repeats only what cannot
        have been processed: 429 answers and connections never made.
        """
        if not same_origin(url, self.base_url):
            raise ResponseFormatError(
                f"refused to send {method} to {url}: not the API's origin ({self.base_url})",
                method=method,
                path=where(url),
            )
        data = None if body is None else _body(body)
        started = self._clock()
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                response = self._follow(method, url, data, fresh, store)
            except requests.RequestException as exc:
                failure = self._connection_failure(method, url, exc)
                never_sent = isinstance(exc, requests.ConnectTimeout) or (
                    isinstance(exc, requests.ConnectionError)
                    and "NewConnectionError" in repr(exc.args)
                )
                if isinstance(failure, ResponseFormatError) or not (repeatable or never_sent):
                    raise failure from exc
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return Answer(
                        status=status,
                        content=bytes(response.content),
                        url=str(response.url),
                        headers=response.headers,
                        from_cache=bool(getattr(response, "from_cache", False)),
                        created_at=utc_or_none(getattr(response, "created_at", None)),
                        expires=utc_or_none(getattr(response, "expires", None)),
                    )
                if self._offline() and status == 504:
                    raise NotCachedError(
                        "offline: this request is not in the cache (run it once online "
                        "to cache it, or set client.cache.offline = False)",
                        method=method,
                        path=where(url),
                    )
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                failure = error_for_status(
                    status, response.content, method, where(url), retry_after=retry_after
                )
                if status not in RETRY_STATUSES or (status != 429 and not repeatable):
                    raise failure
            if attempt >= self.retry.max_attempts:
                raise failure
            delay = self.retry.delay(attempt, retry_after, self._random)
            elapsed = self._clock() - started
            if waited + delay > self.retry.max_wait or elapsed + delay > 2 * self.retry.max_wait:
                raise failure
            log.debug("retrying %s %s in %.2f s (attempt %d)", method, where(url), delay, attempt)
            self._sleep(delay)
            waited += delay

    def _follow(
        self, method: str, url: str, data: bytes | None, fresh: bool, store: bool = True
    ) -> Any:
        """One attempt: the request and the redirects it leads to within our origin, all
        within one deadline. Redirects are followed here (never by requests), so no
        redirect history, and no ``Authorization`` header in it, reaches the cache."""
        headers = {"Accept": "application/json", "Accept-Encoding": ACCEPT_ENCODING}
        if data is not None:
            headers["Content-Type"] = "application/json"
        extra: dict[str, Any] = {"force_refresh": True} if fresh and method == "GET" else {}
        if not store and method == "GET" and not self._offline():
            # requests-cache neither reads nor writes (a standard header: sent too)
            headers["Cache-Control"] = "no-store"
            extra = {}
        with deadline(self.limits.timeout) as at:
            for _ in range(self.limits.max_redirects + 1):
                left = max(at - time.monotonic(), 0.001)
                response = self.session.request(
                    method,
                    url,
                    data=data,
                    headers=headers,
                    auth=self._auth,
                    timeout=(left, left),
                    allow_redirects=False,
                    **extra,
                )
                log.debug("%s %s -> %s", method, where(url), response.status_code)
                if response.status_code not in _REDIRECTS:
                    return response
                url = self._redirect(method, url, response)
        raise ResponseFormatError(
            f"more than {self.limits.max_redirects} redirects",
            status=response.status_code,
            method=method,
            path=where(url),
        )

    def _redirect(self, method: str, url: str, response: Any) -> str:
        location = str(response.headers.get("Location") or "")
        status = response.status_code
        if not location:
            raise ResponseFormatError(
                "a redirect without a Location", status=status, method=method, path=where(url)
            )
        target = urljoin(url, location)
        if not same_origin(target, self.base_url):
            raise ResponseFormatError(
                f"redirected to {target}, outside the API's origin ({self.base_url}): refused "
                "(Argyle has no reason to send a client elsewhere)",
                status=status,
                method=method,
                path=where(url),
            )
        if method != "GET" and status not in (307, 308):
            raise ResponseFormatError(
                f"a {status} redirect of a {method} to {where(target)}: refused (it would "
                "turn the request into a GET)",
                status=status,
                method=method,
                path=where(url),
            )
        return target

    def _connection_failure(self, method: str, url: str, exc: Exception) -> ArgyleError:
        if isinstance(exc, ResponseTooLarge | UnsupportedEncoding):
            return ResponseFormatError(str(exc), method=method, path=where(url))
        if isinstance(exc, requests.Timeout):
            return APIConnectionError(
                f"no complete answer within {self.limits.timeout:g} s: {exc}",
                method=method,
                path=where(url),
            )
        return APIConnectionError(
            f"no answer: {type(exc).__name__}: {exc}", method=method, path=where(url)
        )


def _body(body: Any) -> bytes:
    """``body`` as JSON: orjson, or the standard library for an integer beyond 64 bits
    (orjson cannot write one; it is sent exactly, never as a float)."""
    try:
        return orjson.dumps(body)
    except TypeError:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
