"""HTTP Basic auth with an API key id (username) and secret (password), as Argyle does.

Examples:
    >>> check = BasicAuth.__new__(BasicAuth)
    >>> check._expected = ("id", "secret")
    >>> check.accepts(b"Basic aWQ6c2VjcmV0")
    True
    >>> check.accepts(b"Basic bm9wZQ==")
    False
"""

from __future__ import annotations

import base64
import binascii
import hmac

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["UNAUTHORIZED_BODY", "BasicAuth"]

#: The body of every 401 answer.
UNAUTHORIZED_BODY = b'{"detail": "Invalid username/password."}'


class BasicAuth:
    """ASGI middleware: every ``/v1`` request needs the key pair, else 401."""

    def __init__(self, app: ASGIApp, key_id: str, key_secret: str) -> None:
        self.app = app
        self._expected = (key_id, key_secret)

    def accepts(self, header: bytes | None) -> bool:
        """Whether an ``Authorization`` header value carries the right key pair."""
        if not header:
            return False
        scheme, _, encoded = header.partition(b" ")
        if scheme.lower() != b"basic":
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return False
        key_id, sep, key_secret = decoded.partition(":")
        if not sep:
            return False
        good_id = hmac.compare_digest(key_id.encode(), self._expected[0].encode())
        good_secret = hmac.compare_digest(key_secret.encode(), self._expected[1].encode())
        return good_id and good_secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1"):
            await self.app(scope, receive, send)
            return
        header = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = value
                break
        if self.accepts(header):
            await self.app(scope, receive, send)
            return
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(UNAUTHORIZED_BODY)).encode()),
            (b"www-authenticate", b'Basic realm="api"'),
        ]
        await send({"type": "http.response.start", "status": 401, "headers": headers})
        await send({"type": "http.response.body", "body": UNAUTHORIZED_BODY})
