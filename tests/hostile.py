"""Small loopback servers that misbehave on purpose: the remote service as it should never
be (lying counts, endless links, dripping bytes, huge or inflating bodies, redirects).

A test gives :func:`serve` a handler ``(request) -> Reply``; the server runs on 127.0.0.1
in a thread, HTTP/1.0 (one request per connection), and stops when the block ends.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import orjson

if TYPE_CHECKING:
    from argyle_nb.client import ArgyleClient


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: seconds between header lines (a slow drip of headers)
    header_drip: float = 0.0
    #: seconds between body chunks
    body_drip: float = 0.0


def json_reply(value: Any, status: int = 200) -> Reply:
    return Reply(
        status=status, body=orjson.dumps(value), headers={"Content-Type": "application/json"}
    )


def users(n: int, start: int = 0) -> list[dict[str, Any]]:
    """``n`` valid users, newest first by position."""
    return [
        {"id": f"00000000-0000-4000-8000-{i:012d}", "created_at": "2026-01-01T00:00:00Z"}
        for i in range(start, start + n)
    ]


class Fake:
    """A running fake: its base URL (``/v1``), and every request it received."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.requests: list[Request] = []

    @property
    def origin(self) -> str:
        return self.base_url.removesuffix("/v1")

    def count(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    def client(self, secret: str = "secret", **options: Any) -> ArgyleClient:
        """A client of this fake: in-memory cache, no progress bar, one attempt a request
        (``options`` override these and pass on to :class:`ArgyleClient`)."""
        from argyle_nb.client import ArgyleClient, RetryPolicy

        chosen: dict[str, Any] = {"cache": "memory", "progress": False, **options}
        chosen.setdefault("retry", RetryPolicy(max_attempts=1))
        return ArgyleClient("kid", secret, base_url=self.base_url, **chosen)


@contextmanager
def serve(handler: Callable[[Request], Reply]) -> Iterator[Fake]:
    fake: Fake

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                method=self.command,
                path=url.path,
                query={k: v[0] for k, v in parse_qs(url.query).items()},
                headers={k: v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            fake.requests.append(request)
            reply = handler(request)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._write(reply)  # (the client may give up: what these servers are for)

        def _write(self, reply: Reply) -> None:
            chunks = [reply.body] if isinstance(reply.body, bytes) else reply.body
            self.send_response_only(reply.status)
            headers = dict(reply.headers)
            if isinstance(reply.body, bytes):
                headers.setdefault("Content-Length", str(len(reply.body)))
            for name, value in headers.items():
                self.send_header(name, value)
                if reply.header_drip:
                    self.flush_headers()
                    time.sleep(reply.header_drip)
            self.end_headers()
            for chunk in chunks:
                self.wfile.write(chunk)
                if reply.body_drip:
                    self.wfile.flush()
                    time.sleep(reply.body_drip)

        do_GET = do_POST = do_PATCH = do_DELETE = _handle

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake = Fake(f"http://127.0.0.1:{server.server_address[1]}/v1")
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
