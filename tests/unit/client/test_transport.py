"""One request against servers that drip, flood, inflate or redirect (loopback fakes), and
what reaches the cache file: never a secret."""

from __future__ import annotations

import base64
import gzip
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from argyle_nb.client import ArgyleClient, RetryPolicy
from argyle_nb.errors import APIConnectionError, AuthenticationError, ResponseFormatError
from tests.hostile import Reply, Request, json_reply, serve, users

USER = users(1)[0]
SECRET = "s3cret-value-never-stored"


def page_of(records: list[Any]) -> bytes:
    import orjson

    return orjson.dumps({"count": len(records), "next": None, "results": records})


@pytest.mark.parametrize("where", ["body", "headers"])
def test_a_dripping_server_cannot_stretch_the_deadline(where: str) -> None:
    body = page_of(users(3))

    def handle(request: Request) -> Reply:
        if where == "body":
            return Reply(body=[body[i : i + 1] for i in range(len(body))], body_drip=0.5)
        headers = {f"X-Drip-{n}": "x" for n in range(30)}
        return Reply(body=body, headers=headers, header_drip=0.5)

    with serve(handle) as fake:
        client = fake.client(SECRET, timeout=1)
        started = time.monotonic()
        with pytest.raises(APIConnectionError, match="within 1 s"):
            client.users.pages()
        elapsed = time.monotonic() - started
    assert elapsed < 3, f"the request ran {elapsed:.1f} s with timeout=1"


def _endless(chunk: bytes, total: int) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield chunk
        sent += len(chunk)


def test_a_huge_body_is_refused_as_it_streams() -> None:
    chunk = b" " * (1 << 20)  # 300 MiB of whitespace, one MiB at a time

    def handle(request: Request) -> Reply:
        return Reply(body=_endless(chunk, 300 << 20), headers={"Content-Type": "application/json"})

    with serve(handle) as fake:
        tracemalloc.start()
        try:
            with pytest.raises(ResponseFormatError, match="larger than the cap"):
                fake.client(SECRET, max_response_bytes=4 << 20).users.pages()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 40e6, f"peak {peak / 1e6:.0f} MB"


def test_a_small_gzip_that_inflates_hugely_is_refused() -> None:
    bomb = gzip.compress(b" " * (64 << 20), compresslevel=9)  # about 64 KiB on the wire
    assert len(bomb) < 200_000

    def handle(request: Request) -> Reply:
        return Reply(body=bomb, headers={"Content-Encoding": "gzip"})

    with serve(handle) as fake:
        tracemalloc.start()
        try:
            with pytest.raises(ResponseFormatError, match="larger than the cap"):
                fake.client(SECRET, max_response_bytes=1 << 20).users.pages()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 20e6, f"peak {peak / 1e6:.0f} MB"


def test_gzip_answers_are_inflated_and_cached_plain(tmp_path: Path) -> None:
    body = page_of(users(5))

    def handle(request: Request) -> Reply:
        return Reply(body=gzip.compress(body), headers={"Content-Encoding": "gzip"})

    with (
        serve(handle) as fake,
        fake.client(SECRET, cache="sqlite", cache_path=tmp_path / "c") as client,
    ):
        assert client.users.pages() == [body]
        assert client.users.pages() == [body]  # from the cache, still plain
        assert fake.count("/v1/users") == 1


def _scan(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.iterdir() if p.is_file())


def test_same_origin_redirects_are_followed_and_no_secret_reaches_the_cache(
    tmp_path: Path,
) -> None:
    path = tmp_path / "cache.sqlite"

    def handle(request: Request) -> Reply:
        if request.path == "/v1/users" and "moved" not in request.query:
            return Reply(status=301, headers={"Location": "/v1/users?limit=200&moved=1"})
        if request.path == f"/v1/users/{USER['id']}":
            return Reply(status=302, headers={"Location": f"{fake.base_url}/users/{USER['id']}/x"})
        if request.path.endswith("/x"):
            return json_reply(USER)
        if request.path == "/v1/accounts":
            return Reply(status=503, headers={"Retry-After": "0"})
        return Reply(body=page_of([USER]))

    with serve(handle) as fake:
        with fake.client(
            SECRET, cache="sqlite", cache_path=path, retry=RetryPolicy(3, 1, 0, 0)
        ) as c:
            assert len(c.users.pages()) == 1
            assert str(c.users.get(USER["id"]).id) == USER["id"]
            with pytest.raises(Exception, match="503"):
                c.accounts.pages()  # errors and retries leave nothing either
        stored = _scan(path)
    basic = base64.b64encode(f"kid:{SECRET}".encode())
    for secret in (SECRET.encode(), basic, b"Authorization", b"authorization"):
        assert secret not in stored, secret


def test_a_redirect_to_another_origin_is_refused_and_nothing_cached(tmp_path: Path) -> None:
    with serve(lambda r: Reply(body=page_of(users(2)))) as elsewhere:

        def handle(request: Request) -> Reply:
            return Reply(status=302, headers={"Location": f"{elsewhere.base_url}/users"})

        with (
            serve(handle) as fake,
            fake.client(SECRET, cache="sqlite", cache_path=tmp_path / "c") as c,
        ):
            with pytest.raises(ResponseFormatError, match="outside the API's origin"):
                c.users.pages()
            assert c.cache.info().responses == 0
    assert elsewhere.requests == []


def test_a_307_on_user_tokens_is_not_reposted_elsewhere() -> None:
    tokens = {"access": "a", "refresh": "r"}
    with serve(lambda r: json_reply(tokens)) as elsewhere:

        def handle(request: Request) -> Reply:
            return Reply(status=307, headers={"Location": f"{elsewhere.base_url}/user-tokens"})

        with serve(handle) as fake, pytest.raises(ResponseFormatError, match="refused"):
            fake.client(SECRET).user_tokens.create(USER["id"])
    assert elsewhere.requests == []


def test_a_wrong_secret_is_never_answered_from_the_cache(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    right = f"Basic {base64.b64encode(f'kid:{SECRET}'.encode()).decode()}"

    def handle(request: Request) -> Reply:
        if request.headers.get("Authorization") != right:
            return json_reply({"detail": "Invalid username/password."}, status=401)
        return Reply(body=page_of(users(3)))

    with serve(handle) as fake:
        with fake.client(SECRET, cache="sqlite", cache_path=path) as owner:
            assert len(owner.users.pages()) == 1
        wrong = ArgyleClient(
            "kid", "not-the-secret", base_url=fake.base_url, cache_path=path, progress=False
        )
        with wrong, pytest.raises(AuthenticationError):
            wrong.users.pages()
        with fake.client(SECRET, cache="sqlite", cache_path=path, offline=True) as again:
            assert len(again.users.pages()) == 1  # the right pair still reads it offline


def test_a_broken_single_object_is_not_kept() -> None:
    broken = [True]

    def handle(request: Request) -> Reply:
        if broken[0]:
            return Reply(body=b"<html>maintenance</html>", headers={"Content-Type": "text/html"})
        return json_reply(USER)

    with serve(handle) as fake:
        client = fake.client(SECRET)
        with pytest.raises(ResponseFormatError):
            client.users.get(USER["id"])
        assert client.cache.info().responses == 0
        broken[0] = False  # the server recovers: so does the client, at once
        assert str(client.users.get(USER["id"]).id) == USER["id"]
