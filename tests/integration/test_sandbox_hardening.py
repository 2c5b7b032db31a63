"""The embedded sandbox under hostile input: any body, slow clients, floods (real HTTP, no mocks).

These check the emulator's own rules, so they run on the embedded sandbox only: the
metadata nesting limit (:data:`argyle_nb.models.MAX_METADATA_DEPTH`), its timeouts and
connection cap (``start(request_timeout=..., keep_alive_timeout=..., max_connections=...)``)
and how it reads ``external_metadata`` from a form. Every loop is bounded and every socket
is on 127.0.0.1.
"""

from __future__ import annotations

import base64
import select
import socket
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
import requests

from argyle_nb.models import MAX_METADATA_DEPTH
from argyle_nb.sandbox import Sandbox, start

pytestmark = pytest.mark.embedded_only("checks the emulator's own limits and timeouts")

JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
#: The timeout the slow-client tests give their sandbox, and how late the server may be.
TIMEOUT = 0.5
SLACK = 2.5
#: The metadata of the module's user, which no refused write may change.
KEPT = {"kept": True}


def nested(depth: int, shape: str) -> bytes:
    """A JSON value nesting ``depth`` arrays or objects."""
    if shape == "array":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


def request(server: Sandbox, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(
        method, f"{server.base_url}{path}", auth=server.auth, timeout=30, **kwargs
    )


def count_users(server: Sandbox) -> int:
    count: int = request(server, "get", "/users").json()["count"]
    return count


# -- 1. no 5xx on any body ------------------------------------------------------------


@pytest.fixture(scope="module")
def user_id(sandbox: Sandbox) -> str:
    made: str = request(sandbox, "post", "/users", json={"external_metadata": KEPT}).json()["id"]
    return made


@pytest.mark.parametrize("shape", ["array", "object"])
@pytest.mark.parametrize("depth", [33, 100, 254, 255, 256, 300, 1000, 1023])
def test_too_deep_metadata_is_a_field_error(
    sandbox: Sandbox, user_id: str, depth: int, shape: str
) -> None:
    body = b'{"external_metadata": ' + nested(depth, shape) + b"}"
    before = count_users(sandbox)
    for method, path in (("post", "/users"), ("patch", f"/users/{user_id}")):
        answer = request(sandbox, method, path, data=body, headers=JSON)
        assert answer.status_code == 400, (method, depth, answer.text)
        errors = answer.json()
        assert list(errors) == ["external_metadata"], errors
        (message,) = errors["external_metadata"]
        assert f"more than {MAX_METADATA_DEPTH} levels" in message
    assert count_users(sandbox) == before  # nothing created
    assert request(sandbox, "get", f"/users/{user_id}").json()["external_metadata"] == KEPT


@pytest.mark.parametrize("shape", ["array", "object"])
@pytest.mark.parametrize("depth", [1024, 1025, 2000, 5000, 100_000])
def test_metadata_too_deep_to_parse_answers_400(
    sandbox: Sandbox, user_id: str, depth: int, shape: str
) -> None:
    body = b'{"external_metadata": ' + nested(depth, shape) + b"}"
    for method, path in (("post", "/users"), ("patch", f"/users/{user_id}")):
        answer = request(sandbox, method, path, data=body, headers=JSON)
        assert answer.status_code == 400, (method, depth, answer.text)
        errors = answer.json()
        if "detail" in errors:  # deeper than the JSON parser goes: a parse error
            assert errors["detail"].startswith("JSON parse error - ")
        else:
            assert f"more than {MAX_METADATA_DEPTH} levels" in errors["external_metadata"][0]


def test_metadata_at_the_limit_is_kept(sandbox: Sandbox, user_id: str) -> None:
    value = orjson.loads(nested(MAX_METADATA_DEPTH, "object"))
    answer = request(sandbox, "post", "/users", json={"external_metadata": value})
    assert answer.status_code == 201, answer.text
    created = answer.json()["id"]
    assert request(sandbox, "get", f"/users/{created}").json()["external_metadata"] == value
    patched = request(sandbox, "patch", f"/users/{user_id}", json={"external_metadata": value})
    assert patched.status_code == 200 and patched.json()["external_metadata"] == value
    request(sandbox, "patch", f"/users/{user_id}", json={"external_metadata": KEPT})
    assert request(sandbox, "delete", f"/users/{created}").status_code == 204


ODD_BODIES = [
    (JSON, b'{"external_metadata": 1e400}'),
    (JSON, b'{"external_metadata": NaN}'),
    (JSON, b'{"external_metadata": 123456789012345678901234567890}'),
    (JSON, b'{"external_metadata": "\\ud800"}'),
    (JSON, b'{"external_metadata": "a\x00b"}'),
    (JSON, b'{"user": ' + nested(5000, "array") + b"}"),
    (JSON, b'{"other": ' + nested(1000, "object") + b', "user": []}'),
    (JSON, b"\x00\xff" * 100),
    (FORM, b"external_metadata=" + b"%5B" * 5000),
    (FORM, b"external_metadata=%ff%fe&user=%ff"),
    (FORM, b"&&&==&=x&user"),
    (FORM, b"a=1&" * 5000),
    ({"Content-Type": "application/json; charset=latin-1"}, b'{"user": 1}'),
    ({"Content-Type": "multipart/form-data; boundary=x"}, b"--x--"),
    ({"Content-Type": "\x7f/;;;"}, b"{}"),
]


@pytest.mark.parametrize(("headers", "body"), ODD_BODIES)
def test_no_body_answers_5xx(
    sandbox: Sandbox, user_id: str, headers: dict[str, str], body: bytes
) -> None:
    for method, path in (
        ("post", "/users"),
        ("patch", f"/users/{user_id}"),
        ("post", "/user-tokens"),
    ):
        answer = request(sandbox, method, path, data=body, headers=headers)
        assert answer.status_code < 500, (method, path, answer.text)
        assert isinstance(answer.json(), dict)
        if method == "post" and answer.status_code == 201:
            request(sandbox, "delete", f"/users/{answer.json()['id']}")


def test_a_failing_database_answers_503_not_500(tmp_path: Path) -> None:
    db = tmp_path / "broken.sqlite"
    with start(db=db) as box:
        user_id = request(box, "post", "/users", json={}).json()["id"]
        with closing(sqlite3.connect(db)) as other:  # break the store under the server
            other.execute("ALTER TABLE users RENAME TO gone")
        for method, path in (("post", "/users"), ("patch", f"/users/{user_id}")):
            answer = request(box, method, path, json={"external_metadata": 1})
            assert answer.status_code == 503, (method, answer.text)
            assert answer.headers["Retry-After"] == "1" and "detail" in answer.json()


# -- forms: external_metadata is JSON text, as in a DRF JSONField ---------------------


def test_form_metadata_is_read_as_json_text(sandbox: Sandbox) -> None:
    answer = request(sandbox, "post", "/users", data={"external_metadata": '{"a": [1, 2]}'})
    assert answer.status_code == 201, answer.text
    made = answer.json()["id"]
    assert request(sandbox, "get", f"/users/{made}").json()["external_metadata"] == {"a": [1, 2]}
    patched = request(sandbox, "patch", f"/users/{made}", data={"external_metadata": '"group B"'})
    assert patched.status_code == 200 and patched.json()["external_metadata"] == "group B"
    for text in ("group B", "", "{"):
        bad = request(sandbox, "patch", f"/users/{made}", data={"external_metadata": text})
        assert bad.status_code == 400
        assert bad.json() == {"external_metadata": ["Value must be valid JSON."]}
    deep = nested(MAX_METADATA_DEPTH + 1, "array").decode()
    bad = request(sandbox, "patch", f"/users/{made}", data={"external_metadata": deep})
    assert bad.status_code == 400
    assert f"more than {MAX_METADATA_DEPTH} levels" in bad.json()["external_metadata"][0]
    unchanged = request(sandbox, "get", f"/users/{made}").json()
    assert unchanged["external_metadata"] == "group B"
    assert request(sandbox, "delete", f"/users/{made}").status_code == 204


# -- ordering: ties by id, in the same direction ------------------------------------


def test_ordering_breaks_ties_by_id_in_the_same_direction() -> None:
    moment = datetime(2026, 2, 1, tzinfo=UTC)
    with start(clock=lambda: moment) as box:
        made = [request(box, "post", "/users", json={}).json()["id"] for _ in range(5)]
        for ordering, reverse in (("created_at", False), ("-created_at", True), (None, True)):
            seen: list[str] = []
            url: str | None = f"{box.base_url}/users?limit=2"
            if ordering is not None:
                url += f"&ordering={ordering}"
            for _ in range(10):  # three pages of two
                if url is None:
                    break
                page = requests.get(url, auth=box.auth, timeout=30).json()
                seen += [u["id"] for u in page["results"]]
                url = page["next"]
            assert seen == sorted(made, reverse=reverse), ordering


# -- 2. slow clients, floods ----------------------------------------------------------


@pytest.fixture(scope="module")
def strict() -> Iterator[Sandbox]:
    """A sandbox that gives a request head or body only half a second."""
    with start(users=5, seed=2, request_timeout=TIMEOUT, keep_alive_timeout=TIMEOUT) as box:
        yield box


def address(server: Sandbox) -> tuple[str, int]:
    parts = urlsplit(server.base_url)
    assert parts.hostname == "127.0.0.1" and parts.port is not None
    return parts.hostname, parts.port


def auth_header(server: Sandbox) -> bytes:
    pair = f"{server.key_id}:{server.key_secret}".encode()
    return b"Authorization: Basic " + base64.b64encode(pair) + b"\r\n"


@contextmanager
def connection(server: Sandbox) -> Iterator[socket.socket]:
    with closing(socket.create_connection(address(server), timeout=10)) as sock:
        yield sock


def read_until_closed(sock: socket.socket, within: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and when it closed.

    Fails when the connection is still open after ``within`` seconds.
    """
    begin = time.monotonic()
    received = b""
    while True:
        left = within - (time.monotonic() - begin)
        if left <= 0:
            raise AssertionError(f"still open after {within} s; received {received[:200]!r}")
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            return received, time.monotonic() - begin
        received += chunk


def json_answer(raw: bytes) -> tuple[int, dict[str, str], Any]:
    """Status, headers and JSON body of one raw HTTP/1.1 answer."""
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, orjson.loads(body)


def test_a_stalled_request_head_is_answered_408_and_closed(strict: Sandbox) -> None:
    with connection(strict) as sock:
        sock.sendall(b"GET /v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # no blank line
        raw, elapsed = read_until_closed(sock, TIMEOUT + SLACK)
    assert elapsed >= TIMEOUT * 0.8
    status, headers, body = json_answer(raw)
    assert status == 408 and headers["content-type"] == "application/json"
    assert headers["connection"] == "close" and "detail" in body


def test_a_silent_connection_is_closed(strict: Sandbox) -> None:
    with connection(strict) as sock:
        raw, elapsed = read_until_closed(sock, TIMEOUT + SLACK)
    assert raw == b"" and elapsed >= TIMEOUT * 0.8


def test_a_dribbled_request_head_is_cut_off(strict: Sandbox) -> None:
    head = b"GET /v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200
    with connection(strict) as sock:
        begin = time.monotonic()
        for byte in head:  # one byte every 20 ms: 4 s for all, far beyond the timeout
            readable, _, _ = select.select([sock], [], [], 0.02)
            if readable:
                break
            sock.sendall(bytes([byte]))
        raw, _ = read_until_closed(sock, SLACK)
        elapsed = time.monotonic() - begin
    assert elapsed < TIMEOUT + SLACK
    assert json_answer(raw)[0] == 408


def test_many_stalled_connections_are_closed_and_others_served(strict: Sandbox) -> None:
    socks = [socket.create_connection(address(strict), timeout=10) for _ in range(150)]
    try:
        for sock in socks:
            sock.sendall(b"GET /v1/users HTTP/1.1\r\nHost: 1")
        assert request(strict, "get", "/users").status_code == 200  # served meanwhile
        for sock in socks:
            read_until_closed(sock, TIMEOUT + SLACK)
    finally:
        for sock in socks:
            sock.close()


@pytest.mark.parametrize("dribble", [False, True])
def test_a_slow_request_body_is_answered_408(strict: Sandbox, dribble: bool) -> None:
    head = (
        b"POST /v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + auth_header(strict)
        + b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    )
    before = count_users(strict)
    with connection(strict) as sock:
        sock.sendall(head + b'{"external_metadata": "')
        begin = time.monotonic()
        for _ in range(200 if dribble else 0):  # a byte every 20 ms: 4 s for all of them
            readable, _, _ = select.select([sock], [], [], 0.02)
            if readable:
                break
            sock.sendall(b"x")
        raw, _ = read_until_closed(sock, TIMEOUT + SLACK)
        elapsed = time.monotonic() - begin
    assert elapsed < TIMEOUT + SLACK
    status, headers, body = json_answer(raw)
    assert status == 408 and headers["connection"] == "close" and "detail" in body
    assert count_users(strict) == before


def test_an_unread_body_cannot_hold_the_connection(strict: Sandbox) -> None:
    """The handler answers without reading the body; dribbling the rest is cut off too."""
    head = (
        b"GET /v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + auth_header(strict)
        + b"Content-Length: 1000\r\n\r\n"
    )
    with connection(strict) as sock:
        sock.sendall(head)
        begin = time.monotonic()
        closed = False
        for _ in range(200):  # a byte every 20 ms: 4 s for all of them
            readable, _, _ = select.select([sock], [], [], 0.02)
            if readable and not sock.recv(65536):
                closed = True
                break
            try:
                sock.sendall(b"x")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
        elapsed = time.monotonic() - begin
    assert closed and elapsed < TIMEOUT + SLACK


def test_an_idle_keep_alive_connection_is_closed(strict: Sandbox) -> None:
    with connection(strict) as sock:
        sock.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        raw, elapsed = read_until_closed(sock, TIMEOUT + SLACK)
    assert raw.startswith(b"HTTP/1.1 200 ")
    assert elapsed < TIMEOUT + SLACK


def test_a_request_head_over_the_limit_answers_400_in_json(strict: Sandbox) -> None:
    with connection(strict) as sock:
        sock.sendall(b"GET /v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 20_000)
        raw, _ = read_until_closed(sock, SLACK)
    status, headers, body = json_answer(raw)
    assert status == 400 and headers["content-type"] == "application/json"
    assert "detail" in body


def test_a_client_gone_mid_body_leaves_the_server_serving(strict: Sandbox) -> None:
    head = (
        b"POST /v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + auth_header(strict)
        + b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
    )
    before = count_users(strict)
    for _ in range(5):
        with connection(strict) as sock:
            sock.sendall(head)
    assert request(strict, "get", "/users").status_code == 200
    assert count_users(strict) == before


def test_normal_concurrent_load_is_served(strict: Sandbox) -> None:
    def worker(n: int) -> list[int]:
        with requests.Session() as session:
            session.auth = strict.auth
            url = f"{strict.base_url}/users"
            return [session.get(url, timeout=30).status_code for _ in range(50)]

    with ThreadPoolExecutor(8) as pool:
        codes = [code for batch in pool.map(worker, range(8)) for code in batch]
    assert codes == [200] * 400


def test_connections_beyond_the_cap_answer_503() -> None:
    with start(max_connections=4, request_timeout=10) as box:
        idle = [socket.create_connection(address(box), timeout=10) for _ in range(4)]
        try:
            time.sleep(0.3)  # the server has accepted them
            answer = request(box, "get", "/users")
            assert answer.status_code == 503
            assert answer.headers["content-type"] == "application/json"
            assert "detail" in answer.json()
        finally:
            for sock in idle:
                sock.close()
        codes = []
        for _ in range(50):  # the server notices the closed connections
            codes.append(request(box, "get", "/users").status_code)
            if codes[-1] == 200:
                break
            time.sleep(0.1)
        assert codes[-1] == 200, codes


def test_timeouts_must_be_positive() -> None:
    for bad in ({"request_timeout": 0}, {"keep_alive_timeout": -1}, {"max_connections": 0}):
        with pytest.raises(ValueError):
            start(**bad)  # type: ignore[arg-type]
