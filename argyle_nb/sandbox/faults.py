"""Fault injection: 429 and 5xx answers, slow answers, and corrupt records in list pages.

:class:`Faults` says what to inject; :class:`FaultInjector` is the ASGI middleware that
does it. Faults apply to the API paths (``/v1/...``) only, never to ``/openapi.json``.

Examples:
    >>> Faults(rate_limit=0.2, retry_after=2).rate_limit
    0.2
    >>> Faults(server_error=1.5)
    Traceback (most recent call last):
    ...
    argyle_nb.errors.ArgyleValueError: server_error must be a fraction in [0, 1], not 1.5
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from hashlib import blake2b
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from argyle_nb.errors import ArgyleTypeError, ArgyleValueError

__all__ = ["DAMAGED_FIELDS", "FaultInjector", "Faults"]


@dataclass(frozen=True)
class Faults:
    """What a sandbox injects into its answers.

    Attributes:
        rate_limit: fraction of requests answered ``429`` with a ``Retry-After`` header.
        retry_after: seconds announced in ``Retry-After``.
        server_error: fraction of requests answered with ``server_error_status``.
        server_error_status: ``503`` (default) or ``500``.
        latency: seconds added to every API request (an async sleep: it does not
            serialize concurrent requests).
        corrupt: fraction of the records in list pages (``GET /v1/users``,
            ``GET /v1/accounts``) served corrupt: a field of the wrong type, or a value
            that is not an object at all. Which records is decided by the record's id
            and ``seed`` (:meth:`corrupts`), so a record is corrupt on every page and
            every request, and a test can tell which ones are.
        seed: seed of the randomness that picks the faulty requests and records
            (None: unseeded requests, records picked as with seed 0).
    """

    rate_limit: float = 0.0
    retry_after: float = 1.0
    server_error: float = 0.0
    server_error_status: int = 503
    latency: float = 0.0
    corrupt: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("rate_limit", "server_error", "corrupt"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ArgyleValueError(f"{name} must be a fraction in [0, 1], not {value}")
        if self.rate_limit + self.server_error > 1.0:
            raise ArgyleValueError("rate_limit + server_error must not exceed 1")
        if self.retry_after < 0 or self.latency < 0:
            raise ArgyleValueError("retry_after and latency must not be negative")
        if self.server_error_status not in (500, 503):
            raise ArgyleValueError("server_error_status must be 500 or 503")

    @property
    def active(self) -> bool:
        """Whether these faults change anything."""
        return bool(self.rate_limit or self.server_error or self.latency)

    def corrupts(self, record_id: str) -> bool:
        """Whether the record with this id is served corrupt (stable for a seed).

        Examples:
            >>> faults = Faults(corrupt=0.5, seed=1)
            >>> faults.corrupts("a") == faults.corrupts("a")
            True
            >>> Faults().corrupts("a")
            False
        """
        return self.corrupt > 0 and _draw(self.seed, record_id) < self.corrupt

    def corrupt_record(self, kind: str, raw: bytes) -> bytes:
        """``raw`` (one user or account as JSON), corrupt if :meth:`corrupts` picks it.

        The damage is one of a few, chosen by the record's id: a timestamp that is not
        one, a string where an object or a list belongs, a number where a UUID belongs,
        or a value of an unknown shape in place of the record.
        """
        record = orjson.loads(raw)
        record_id = str(record.get("id", ""))
        if not self.corrupts(record_id):
            return raw
        return orjson.dumps(_DAMAGE[kind][self.damage(kind, record_id)](record))

    def damage(self, kind: str, record_id: str) -> str:
        """Which field the record's damage hits (``"shape"``: the whole record), when
        :meth:`corrupts` picks it: fixed by the id and the seed.

        Examples:
            >>> faults = Faults(corrupt=1.0, seed=2)
            >>> faults.damage("accounts", "some-id") in DAMAGED_FIELDS["accounts"]
            True
        """
        labels = DAMAGED_FIELDS[kind]
        return labels[int(_draw(self.seed, "kind:" + record_id) * len(labels))]

    def retry_after_header(self) -> str:
        """The ``Retry-After`` value: whole seconds, rounded up (at least 0)."""
        whole = int(self.retry_after)
        return str(whole if whole == self.retry_after else whole + 1)


def _draw(seed: int | None, text: str) -> float:
    """A number in [0, 1) fixed by ``seed`` and ``text``."""
    digest = blake2b(f"{seed or 0}:{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _with(record: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**record, **changes}


def _bad_window(record: dict[str, Any]) -> dict[str, Any]:
    availability = dict(record.get("availability") or {})
    availability["payouts"] = {"status": "synced", "available_count": "many"}
    return _with(record, availability=availability)


_Damage = Callable[[dict[str, Any]], Any]
_DAMAGE: dict[str, dict[str, _Damage]] = {
    "users": {
        "created_at": lambda r: _with(r, created_at="yesterday"),
        "employers_connected": lambda r: _with(r, employers_connected="Walmart"),
        "id": lambda r: _with(r, id=int(str(r["id"])[:8], 16)),
        "shape": lambda r: ["unexpected", "shape", r["id"]],
    },
    "accounts": {
        "created_at": lambda r: _with(r, created_at="yesterday"),
        "connection": lambda r: _with(r, connection="connected"),
        "employers": lambda r: _with(r, employers="Walmart"),
        "user": lambda r: _with(r, user=12345),
        "availability": _bad_window,
        "shape": lambda r: ["unexpected", "shape", r["id"]],
    },
}
#: The fields :meth:`Faults.corrupt_record` damages, per kind of record (``"shape"``: the
#: record itself is replaced by an array).
DAMAGED_FIELDS: dict[str, tuple[str, ...]] = {kind: tuple(d) for kind, d in _DAMAGE.items()}


class FaultInjector:
    """ASGI middleware applying the current :class:`Faults` (changeable while running)."""

    def __init__(self, app: ASGIApp, faults: Faults | None = None) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._faults = Faults()
        self._rng = random.Random()
        self.faults = faults or Faults()

    @property
    def faults(self) -> Faults:
        """The faults in force; assign to change them on a running server."""
        return self._faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        if not isinstance(value, Faults):
            raise ArgyleTypeError(f"expected Faults, got {type(value).__name__}")
        with self._lock:
            self._faults = value
            self._rng = random.Random(value.seed)

    def _draw(self) -> float:
        with self._lock:
            return self._rng.random()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        faults = self._faults
        if scope["type"] != "http" or not faults.active or not scope["path"].startswith("/v1"):
            await self.app(scope, receive, send)
            return
        if faults.latency:
            await asyncio.sleep(faults.latency)
        roll = self._draw() if (faults.rate_limit or faults.server_error) else 1.0
        if roll < faults.rate_limit:
            body = b'{"detail": "Request was throttled. Expected available in '
            body += faults.retry_after_header().encode() + b' seconds."}'
            extra = [(b"retry-after", faults.retry_after_header().encode())]
            await _answer(send, 429, body, extra)
        elif roll < faults.rate_limit + faults.server_error:
            status = faults.server_error_status
            text = b"Service unavailable." if status == 503 else b"Internal server error."
            await _answer(send, status, b'{"detail": "' + text + b'"}', [])
        else:
            await self.app(scope, receive, send)


async def _answer(send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
