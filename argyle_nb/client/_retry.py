"""When to repeat a failed request and how long to wait: :class:`RetryPolicy`."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Final

from argyle_nb.errors import ArgyleValueError

__all__ = ["RETRY_STATUSES", "RetryPolicy", "parse_retry_after"]

#: Statuses worth repeating: rate limited, or the service failing for a moment.
RETRY_STATUSES: Final = frozenset({429, 500, 502, 503, 504})


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), or None.

    Examples:
        >>> parse_retry_after("3")
        3.0
        >>> parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0)
        10.0
        >>> parse_retry_after("soon") is None
        True
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when - (time.time() if now is None else now)
    if math.isnan(seconds):
        return None
    return max(0.0, seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before repeating a failed request.

    Repeats answers 429 and 5xx and connection errors, at most ``max_attempts`` tries in
    all and at most ``max_wait`` seconds of waiting in all. Attempt ``n`` (1-based) waits
    ``min(backoff_max, backoff_base * 2**(n-1))`` scaled by a jitter in ``[0.5, 1)``; a
    ``Retry-After`` from the server is a floor (capped at ``max_retry_after``).

    Examples:
        >>> policy = RetryPolicy(backoff_base=1.0, backoff_max=4.0)
        >>> [policy.delay(n, None, lambda: 0.0) for n in (1, 2, 3, 4)]
        [0.5, 1.0, 2.0, 2.0]
        >>> policy.delay(1, 3.0, lambda: 0.0)
        3.0
    """

    max_attempts: int = 8
    max_wait: float = 120.0
    backoff_base: float = 0.25
    backoff_max: float = 8.0
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ArgyleValueError(f"max_attempts must be >= 1, not {self.max_attempts}")
        if min(self.max_wait, self.backoff_base, self.backoff_max, self.max_retry_after) < 0:
            raise ArgyleValueError("waits must not be negative")

    def delay(self, attempt: int, retry_after: float | None, random: Callable[[], float]) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based)."""
        ceiling = min(self.backoff_max, self.backoff_base * 2.0 ** (attempt - 1))
        wait = ceiling * (0.5 + random() / 2)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_retry_after))
        return wait
