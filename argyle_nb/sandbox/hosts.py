"""Which ``Host`` headers the sandbox answers: a defence against DNS rebinding.

A web page cannot read a loopback server's answers across origins, unless its own name
is made to resolve to 127.0.0.1 (DNS rebinding): then the browser sends the page's name
in ``Host``. The sandbox answers only requests whose ``Host`` names localhost
(``localhost``, ``127.0.0.1``, ``[::1]``), the address it serves on, or a name added with
``start(allowed_hosts=[...])`` / ``argyle-nb sandbox serve --allow-host NAME``; any other
``Host`` (or none) answers 400 ``{"detail": "..."}``. The port is not compared: a browser
always sends the port it connects to, and the name is what a rebinding page controls.

Starlette's :class:`~starlette.middleware.trustedhost.TrustedHostMiddleware` decides
(it parses ``Host``, IPv6 literals included, and knows ``*.example.com`` patterns);
:class:`HostGuard` only gives its refusal the API's JSON shape.

Examples:
    >>> allowed_hosts("0.0.0.0", ["box.local", "10.0.0.7", "fe80::1"])
    ['localhost', '127.0.0.1', '[::1]', 'box.local', '10.0.0.7', '[fe80::1]']
    >>> allowed_hosts("192.168.1.5", [])
    ['localhost', '127.0.0.1', '[::1]', '192.168.1.5']
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, MutableMapping
from typing import Any, Final

import orjson
from starlette.datastructures import Headers
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from argyle_nb.errors import ArgyleValueError

__all__ = ["LOCAL_HOSTS", "HostGuard", "allowed_hosts"]

#: The names of loopback every sandbox answers to.
LOCAL_HOSTS: Final = ("localhost", "127.0.0.1", "[::1]")
#: Bind addresses that mean "every interface": they name no host of their own.
_ANY_ADDRESS: Final = frozenset({"", "0.0.0.0", "::", "[::]"})
#: A host name (or IPv4 address), optionally a ``*.`` pattern: letters, digits, ``-``, ``.``
_NAME: Final = re.compile(r"(?:\*\.)?[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?")
_MARK: Final = "argyle_nb.host_allowed"
_REFUSED: Final = (
    "Invalid Host header {host}: this sandbox answers localhost and the names it was "
    "started with (start(allowed_hosts=...), argyle-nb sandbox serve --allow-host NAME)."
)


def _host_name(name: str) -> str:
    """``name`` as a ``Host`` header spells it (IPv6 in brackets); ValueError if none."""
    text = name.strip()
    if text == "*":
        return text
    bare = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    if ":" in bare:
        try:
            return f"[{ipaddress.IPv6Address(bare)}]"
        except ValueError:
            pass
    elif _NAME.fullmatch(bare):
        return bare.lower()
    raise ArgyleValueError(
        f"{name!r} is not a host name: give a name or address without a port "
        "(box.local, 10.0.0.7, fe80::1, *.example.com; the port is not checked)"
    )


def allowed_hosts(bind_host: str, extra: Iterable[str] = ()) -> list[str]:
    """The ``Host`` names a sandbox bound to ``bind_host`` answers: localhost, the bind
    address (unless it is every interface, ``0.0.0.0``/``::``) and ``extra``.

    ``extra`` takes host names, IP addresses and ``*.example.com`` patterns; ``"*"``
    turns the check off. Raises ValueError for anything else (a port, a path, a space).
    """
    names = list(LOCAL_HOSTS)
    extra = [extra] if isinstance(extra, str) else extra  # one name, not its letters
    wanted = [] if bind_host.strip() in _ANY_ADDRESS else [bind_host]
    for name in (*wanted, *extra):
        spelled = _host_name(name)
        if spelled not in names:
            names.append(spelled)
    return names


class HostGuard:
    """ASGI middleware: ``app`` answers requests whose ``Host`` is in ``hosts``; others
    answer 400 with the API's error JSON (no other ASGI scope is checked)."""

    def __init__(self, app: ASGIApp, hosts: Iterable[str]) -> None:
        self.app = app
        self.hosts = list(hosts)
        self._check = TrustedHostMiddleware(_let_through, self.hosts, www_redirect=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self._check(scope, receive, _discard)  # calls _let_through if allowed
        if scope.pop(_MARK, False):
            await self.app(scope, receive, send)
        else:
            host = Headers(scope=scope).get("host")
            shown = "(none)" if host is None else repr(host[:100])
            body = orjson.dumps({"detail": _REFUSED.format(host=shown)})
            await Response(body, 400, media_type="application/json")(scope, receive, send)


async def _let_through(scope: Scope, receive: Receive, send: Send) -> None:
    scope[_MARK] = True


async def _discard(message: MutableMapping[str, Any]) -> None:
    """Where TrustedHostMiddleware's own (plain text) refusal goes: nowhere."""
