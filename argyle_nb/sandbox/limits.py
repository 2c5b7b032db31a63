"""Limits of the sandbox's HTTP server: slow clients are cut off, a flood answers 503.

uvicorn's h11 protocol (the one the sandbox runs) leaves gaps a slow or hostile client
can use, and answers its own errors in plain text:

* it has no timeout for a request head: a connection that sends part of a head, or
  nothing at all, stays open for ever (its keep-alive timer starts only after an answer);
* a body the application never reads (a 401, a GET with a body) can be dribbled for
  ever after the answer: every byte cancels the keep-alive timer;
* its ``limit_concurrency`` answer (503) and its answer to an unparsable request (400,
  a head over :data:`MAX_HEAD` included) are ``text/plain``.

:class:`GuardedH11Protocol` closes them. Whenever the client owes bytes that no handler
is reading (a request head from the connection's opening, or from the first byte after a
keep-alive pause; the rest of a body the handler did not read), a deadline of
``request_timeout`` seconds runs; it is a deadline, not an idle timer, so dribbling does
not extend it. When it passes, a partial head is answered 408 and the connection closed;
a connection that sent nothing, or owes only the rest of an answered request, is closed.
The application bounds the bodies it reads itself (408, :func:`~argyle_nb.sandbox.parsing.
read_body`). Beyond ``limit_concurrency`` open connections or running requests, requests
answer 503. Every answer is JSON (``{"detail": "..."}``) marked as the sandbox's.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar, Final

import h11
import orjson
from starlette.types import Receive, Scope, Send
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import STATUS_PHRASES, H11Protocol
from uvicorn.server import ServerState

from argyle_nb.provenance import SANDBOX_HEADER

__all__ = [
    "KEEP_ALIVE_TIMEOUT",
    "MAX_CONNECTIONS",
    "MAX_HEAD",
    "REQUEST_TIMEOUT",
    "GuardedH11Protocol",
    "guarded_protocol",
]

#: Seconds a client has to send a request head, and then the body it announced.
REQUEST_TIMEOUT: Final = 10.0
#: Seconds an idle keep-alive connection stays open after an answer.
KEEP_ALIVE_TIMEOUT: Final = 5.0
#: Open connections (and running requests) beyond which requests answer 503.
MAX_CONNECTIONS: Final = 256
#: Bytes of a request head (request line and headers); a larger one answers 400.
MAX_HEAD: Final = 16 * 1024

_MARK: Final = (SANDBOX_HEADER.lower().encode(), b"1")
_BUSY: Final = b'{"detail": "Service unavailable: too many concurrent connections."}'
_SLOW_HEAD: Final = b'{"detail": "Request head not received in time."}'


def _headers(body: bytes) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        _MARK,
    ]


#: The whole 408 answer, written past h11 (which cannot answer a request it has not read).
_SLOW_HEAD_ANSWER: Final = b"".join(
    [
        b"HTTP/1.1 408 Request Timeout\r\n",
        *(name + b": " + value + b"\r\n" for name, value in _headers(_SLOW_HEAD)),
        b"\r\n",
        _SLOW_HEAD,
    ]
)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a request deadline and JSON answers of its own.

    uvicorn creates one per connection from the class: configure a subclass with
    :func:`guarded_protocol`. ``limit_concurrency`` comes from the uvicorn config.
    """

    request_timeout: ClassVar[float] = REQUEST_TIMEOUT
    keep_alive_timeout: ClassVar[float] = KEEP_ALIVE_TIMEOUT

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        # uvicorn types it int; loop.call_later takes any float
        self.timeout_keep_alive = self.keep_alive_timeout  # type: ignore[assignment]
        # uvicorn's own check answers text/plain: the gate below answers JSON instead
        self._limit, self.limit_concurrency = self.limit_concurrency, None
        self._app = self.app
        if self._limit is not None:
            self.app = self._gate
        self._deadline: asyncio.TimerHandle | None = None

    async def _gate(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The application, or 503 while over the limit (this request and connection count)."""
        limit = self._limit
        if limit is not None and (len(self.connections) > limit or len(self.tasks) > limit):
            await send({"type": "http.response.start", "status": 503, "headers": _headers(_BUSY)})
            await send({"type": "http.response.body", "body": _BUSY})
            return
        await self._app(scope, receive, send)

    # -- the deadline ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch(after_answer=False)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch(after_answer=True)

    def _watch(self, *, after_answer: bool) -> None:
        """Run the deadline while the client owes bytes no handler reads; else stop it.

        Right after an answer an idle connection is the keep-alive timer's business.
        """
        handling = self.cycle is not None and not self.cycle.response_complete
        state = self.conn.their_state
        owes = state is h11.SEND_BODY or (state is h11.IDLE and not after_answer)
        if owes and not handling and not self.transport.is_closing():
            self._arm()
        else:
            self._disarm()

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.request_timeout, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        """408 for a partial head; a silent close otherwise (nothing sent, or answered)."""
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.conn.their_state is h11.IDLE and self.conn.trailing_data[0]:
            self.transport.write(_SLOW_HEAD_ANSWER)
        self.transport.close()

    # -- JSON instead of text/plain --------------------------------------------------------

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request h11 cannot parse, as a JSON ``detail``."""
        body = orjson.dumps({"detail": msg})
        answer = h11.Response(status_code=400, headers=_headers(body), reason=STATUS_PHRASES[400])
        for event in (answer, h11.Data(data=body), h11.EndOfMessage()):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.close()


def guarded_protocol(
    *, request_timeout: float, keep_alive_timeout: float
) -> type[GuardedH11Protocol]:
    """A :class:`GuardedH11Protocol` with these timeouts, for ``uvicorn.Config(http=...)``."""

    class Configured(GuardedH11Protocol):
        pass

    Configured.request_timeout = request_timeout
    Configured.keep_alive_timeout = keep_alive_timeout
    return Configured
