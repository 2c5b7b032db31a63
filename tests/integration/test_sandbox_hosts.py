"""The sandbox answers only the ``Host`` names it serves (a DNS-rebinding defence), over real
HTTP on 127.0.0.1: raw requests, so the ``Host`` header is exactly the one written here.

A page whose name an attacker makes resolve to 127.0.0.1 sends its own name in ``Host``
(``evil.example:PORT``); such a request must answer 400 with the API's error JSON, before
authentication, faults or any write. Loopback names (with or without the port), the
address served on and the names added with ``allowed_hosts`` are answered.
"""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from contextlib import closing
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
import requests

from argyle_nb.sandbox import Faults, Sandbox, start

pytestmark = pytest.mark.embedded_only("checks the emulator's own Host rule")

EXTRA = ["box.local", "*.lan.example"]


@pytest.fixture(scope="module")
def guarded() -> Iterator[Sandbox]:
    with start(users=3, seed=5, allowed_hosts=EXTRA) as box:
        yield box


def port_of(server: Sandbox) -> int:
    port = urlsplit(server.base_url).port
    assert port is not None
    return port


def raw(
    server: Sandbox, head: str, *, body: bytes = b"", auth: bool = True
) -> tuple[int, Any, bytes]:
    """Send ``head`` (request line and headers, ``{port}`` filled in) and read the answer
    to the end: its status, its JSON body (None when there is none) and its raw bytes."""
    lines = head.format(port=port_of(server)).strip().split("\n")
    if auth:
        pair = base64.b64encode(f"{server.key_id}:{server.key_secret}".encode()).decode()
        lines.append(f"Authorization: Basic {pair}")
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    request = "\r\n".join([*lines, "Connection: close", "", ""]).encode("latin-1") + body
    with closing(socket.create_connection(("127.0.0.1", port_of(server)), timeout=10)) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    payload = rest.partition(b"\r\n\r\n")[2]
    return int(status_line.split()[1]), orjson.loads(payload) if payload else None, answer


REFUSED = [
    "evil.example",
    "evil.example:{port}",
    "localhost.evil.example:{port}",
    "127.0.0.1.nip.io:{port}",
    "lan.example",  # the pattern *.lan.example names its subdomains only
    "box.local.evil.example",
    "[::2]:{port}",
    "",
]


@pytest.mark.parametrize("host", REFUSED)
def test_a_host_it_does_not_serve_answers_400_with_the_api_error_shape(
    guarded: Sandbox, host: str
) -> None:
    status, body, answer = raw(guarded, f"GET /v1/users HTTP/1.1\nHost: {host}")
    assert status == 400, answer[:300]
    assert list(body) == ["detail"] and body["detail"].startswith("Invalid Host header")
    assert b"content-type: application/json" in answer.lower()
    assert b'"results"' not in answer  # nothing of the API's data


def test_a_request_with_no_host_answers_400(guarded: Sandbox) -> None:
    status, body, _ = raw(guarded, "GET /v1/users HTTP/1.0")
    assert status == 400 and "(none)" in body["detail"]


@pytest.mark.parametrize(
    "host",
    [
        "localhost:{port}",
        "localhost",
        "LOCALHOST:{port}",
        "127.0.0.1:{port}",
        "127.0.0.1",
        "[::1]:{port}",
        "[::1]",
        "box.local:{port}",
        "box.local",
        "a.lan.example:{port}",
    ],
)
def test_loopback_names_and_the_allowed_names_are_answered(guarded: Sandbox, host: str) -> None:
    status, body, answer = raw(guarded, f"GET /v1/users HTTP/1.1\nHost: {host}")
    assert status == 200, answer[:300]
    assert body["count"] == 3


def test_a_refused_host_writes_nothing_even_with_the_right_keys(guarded: Sandbox) -> None:
    before = guarded.store.counts()
    status, _, _ = raw(
        guarded,
        "POST /v1/users HTTP/1.1\nHost: evil.example:{port}",
        body=b'{"external_metadata": {"from": "rebinding"}}',
    )
    assert status == 400
    assert guarded.store.counts() == before
    # and it is refused before the fault injector: a sandbox answering 429 to all still 400s
    guarded.faults = Faults(rate_limit=1.0, retry_after=1)
    try:
        assert raw(guarded, "GET /v1/users HTTP/1.1\nHost: evil.example")[0] == 400
        assert raw(guarded, "GET /v1/users HTTP/1.1\nHost: localhost:{port}")[0] == 429
    finally:
        guarded.faults = Faults()


def test_without_extra_names_only_loopback_is_answered() -> None:
    with start(users=1, seed=1) as box:
        assert box.allowed_hosts == ["localhost", "127.0.0.1", "[::1]"]
        assert raw(box, "GET /v1/users HTTP/1.1\nHost: box.local")[0] == 400
        assert raw(box, "GET /v1/users HTTP/1.1\nHost: 127.0.0.1:{port}")[0] == 200
        # requests (and so the client) sends the base URL's host:port
        answer = requests.get(f"{box.base_url}/users", auth=box.auth, timeout=10)
        assert answer.status_code == 200 and answer.json()["count"] == 1


@pytest.mark.parametrize(
    "name", ["box.local:8000", "http://box.local", "box local", "box.local/v1", "*evil", ""]
)
def test_an_allowed_host_that_is_no_host_name_is_refused_at_start(name: str) -> None:
    with pytest.raises(ValueError, match="not a host name"):
        start(allowed_hosts=[name])
