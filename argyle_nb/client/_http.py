"""HTTP with hard limits, under requests: a deadline per request that no slow server can
stretch, and a cap on the size of the answer, checked on the decompressed bytes as they
arrive.

requests' own ``timeout`` bounds each socket operation, so a server that drips a byte
(or a header line) every half second keeps a request alive forever. Here every read of
the answer (status line, headers, body) waits at most until the request's deadline,
set by :func:`deadline` around the request; past it the read fails with a timeout. The
body is read by :class:`LimitedAdapter` itself, in chunks, inflated (``gzip``,
``deflate``) with a bound on each step, so neither a huge body nor a small gzip that
inflates to gigabytes is ever held beyond the cap.

Examples:
    >>> adapter = LimitedAdapter(max_bytes=1024)
    >>> adapter.max_bytes
    1024
"""

from __future__ import annotations

import io
import socket
import threading
import time
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from argyle_nb.errors import ArgyleValueError

__all__ = [
    "ACCEPT_ENCODING",
    "LimitedAdapter",
    "ResponseTooLarge",
    "UnsupportedEncoding",
    "deadline",
]

#: What we ask servers to compress with: the encodings :class:`LimitedAdapter` inflates.
ACCEPT_ENCODING: Final = "gzip, deflate"
_CHUNK: Final = 64 * 1024

_local = threading.local()


@contextmanager
def deadline(seconds: float) -> Iterator[float]:
    """Every socket read of this thread, until the block ends, finishes within ``seconds``
    from now (yields the deadline on :func:`time.monotonic`'s clock)."""
    previous = getattr(_local, "at", None)
    _local.at = time.monotonic() + seconds
    try:
        yield _local.at
    finally:
        _local.at = previous


def _left() -> float | None:
    at = getattr(_local, "at", None)
    return None if at is None else at - time.monotonic()


class _DeadlineIO(socket.SocketIO):
    """The reading side of a socket, each read bounded by the thread's deadline."""

    def __init__(self, sock: Any) -> None:
        super().__init__(sock, "rb")
        self._socket = sock

    def readinto(self, buffer: Any) -> int | None:
        left = _left()
        if left is not None:
            if left <= 0:
                raise TimeoutError("the request's deadline passed while reading the answer")
            current = self._socket.gettimeout()
            self._socket.settimeout(left if current is None else min(current, left))
        return super().readinto(buffer)


class _DeadlineSocket:
    """A connected socket whose reading file (what http.client reads the answer from)
    honours the deadline; everything else goes to the socket itself."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock

    def makefile(self, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if mode != "rb":
            return self._sock.makefile(mode, *args, **kwargs)
        raw = _DeadlineIO(self._sock)
        self._sock._io_refs += 1  # as socket.makefile does: the socket outlives the file
        return io.BufferedReader(raw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _HTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        self.sock = _DeadlineSocket(self.sock)


class _HTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        self.sock = _DeadlineSocket(self.sock)


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class ResponseTooLarge(requests.RequestException):
    """The answer (decompressed) is larger than the adapter's ``max_bytes``."""


class UnsupportedEncoding(requests.RequestException):
    """The answer is compressed with an encoding we did not ask for."""


def _decoder(encoding: str) -> Any:
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(wbits=31)
    if encoding == "deflate":
        return zlib.decompressobj(wbits=47)  # zlib or gzip header, detected
    raise UnsupportedEncoding(
        f"the answer is compressed with {encoding!r}, which we did not ask for"
    )


def read_capped(raw: Any, max_bytes: int) -> bytes:
    """The whole body of urllib3 response ``raw``, inflated, or :class:`ResponseTooLarge`
    as soon as more than ``max_bytes`` arrive (or would come out of the decompressor)."""
    encoding = str(raw.headers.get("Content-Encoding", "")).strip().lower()
    decoder = _decoder(encoding)
    declared = raw.headers.get("Content-Length")
    if decoder is None and declared and declared.isdigit() and int(declared) > max_bytes:
        raise ResponseTooLarge(
            f"the answer is {int(declared):,} bytes, over the cap of {max_bytes:,}"
        )
    out = bytearray()

    def too_large() -> ResponseTooLarge:
        return ResponseTooLarge(f"the answer is larger than the cap of {max_bytes:,} bytes")

    for chunk in raw.stream(_CHUNK, decode_content=False):
        if decoder is None:
            out += chunk
        else:
            data = chunk
            while data:
                out += decoder.decompress(data, max_bytes + 1 - len(out))
                if len(out) > max_bytes:
                    raise too_large()
                data = decoder.unconsumed_tail
        if len(out) > max_bytes:
            raise too_large()
    if decoder is not None:
        out += decoder.flush()
        if len(out) > max_bytes:
            raise too_large()
    return bytes(out)


class LimitedAdapter(HTTPAdapter):
    """A requests adapter whose connections read under the thread's :func:`deadline` and
    whose answers are read whole here, inflated, and refused past ``max_bytes``.

    The answer handed on carries the body as plain bytes (``Content-Encoding`` removed),
    so requests, and requests-cache storing it, never decode it again.
    """

    def __init__(self, *, max_bytes: int, pool_maxsize: int = 10) -> None:
        if max_bytes < 1:
            raise ArgyleValueError(f"max_bytes must be >= 1, not {max_bytes}")
        self.max_bytes = max_bytes
        super().__init__(pool_connections=2, pool_maxsize=pool_maxsize, max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        response = super().send(
            request, stream=True, timeout=timeout, verify=verify, cert=cert, proxies=proxies
        )
        try:
            body = read_capped(response.raw, self.max_bytes)
        except requests.RequestException:  # too large, or an encoding we did not ask for
            response.close()
            raise
        except (TimeoutError, urllib3.exceptions.ReadTimeoutError) as exc:
            response.close()
            raise requests.ReadTimeout(f"the answer did not arrive in time: {exc}") from exc
        except (urllib3.exceptions.HTTPError, OSError, zlib.error) as exc:
            response.close()
            raise requests.ConnectionError(f"the answer broke off: {exc}") from exc
        response.raw.release_conn()  # read to the end: the connection goes back to the pool
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-encoding"}
        headers["Content-Length"] = str(len(body))
        response.headers = requests.structures.CaseInsensitiveDict(headers)
        response.raw = urllib3.HTTPResponse(
            body=io.BytesIO(body),
            headers=headers,
            status=response.status_code,
            reason=response.reason,
            preload_content=False,
            decode_content=False,
            request_url=str(request.url),
        )
        return response
