"""Body shapes the sandbox never serves: a bare-array list (as on the seed pages) and bodies
that break the API's promise. A tiny stand-in for the remote Argyle service serves them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest

from argyle_nb.client import ArgyleClient
from argyle_nb.errors import ResponseFormatError

USERS = [
    {"id": f"00000000-0000-4000-8000-{n:012d}", "created_at": "2022-04-22T14:26:40Z"}
    for n in range(450)
]


class _Remote(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path == "/v1/users":
            limit, offset = int(query["limit"][0]), int(query.get("offset", ["0"])[0])
            self._send(orjson.dumps(USERS[offset : offset + limit]))
        elif url.path == "/v1/accounts":
            self._send(b"<html>maintenance</html>")
        elif url.path.startswith("/v1/users/"):
            self._send(b'{"id": "not-a-uuid"}')
        else:
            self._send(b'{"results": "not a list"}')

    def _send(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def remote() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Remote)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def _client(base_url: str) -> ArgyleClient:
    return ArgyleClient("kid", "s", base_url=base_url, cache="memory", progress=False)


def test_bare_array_pages_are_followed_until_a_short_page(remote: str) -> None:
    users = list(_client(remote).users.list())
    assert [str(u.id) for u in users] == [u["id"] for u in USERS]
    assert len(_client(remote).users.pages()) == 3


def test_a_page_that_is_not_json_is_a_format_error(remote: str) -> None:
    client = _client(remote)
    with pytest.raises(ResponseFormatError) as caught:
        client.accounts.pages()
    assert client.cache.info().responses == 0  # the broken page was not kept
    assert caught.value.method == "GET"
    assert caught.value.path.startswith("/v1/accounts")


def test_an_object_that_breaks_the_schema_is_a_format_error(remote: str) -> None:
    with pytest.raises(ResponseFormatError, match="User"):
        _client(remote).users.get("00000000-0000-4000-8000-000000000001")
