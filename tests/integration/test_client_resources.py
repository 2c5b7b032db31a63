"""Every resource method of the client against the live sandbox (loopback HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import orjson
import pytest
import requests

from argyle_nb.client import ArgyleClient, connect
from argyle_nb.errors import AuthenticationError, BadRequestError, NotFoundError
from argyle_nb.models import Account, NewUser, User, UserToken
from argyle_nb.sandbox import Sandbox
from tests.integration.clients import client_on


def _client(sandbox: Sandbox, **kwargs: object) -> ArgyleClient:
    return client_on(sandbox, **kwargs)


def _raw_all(sandbox: Sandbox, path: str, **params: str) -> list[dict[str, object]]:
    """Every object of a list, read with plain requests (the reference)."""
    out: list[dict[str, object]] = []
    url: str | None = f"{sandbox.base_url}{path}"
    query: dict[str, str | int] | None = {"limit": 200, **params}
    while url:
        page = requests.get(url, params=query, auth=sandbox.auth, timeout=30).json()
        out.extend(page["results"])
        url, query = page["next"], None
    return out


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[ArgyleClient]:
    with _client(sandbox) as c:
        yield c


def test_users_list_follows_every_page(client: ArgyleClient, sandbox: Sandbox) -> None:
    users = list(client.users.list())
    reference = _raw_all(sandbox, "/users")
    assert len(reference) > 200  # more than one page
    assert all(isinstance(u, User) for u in users)
    assert [str(u.id) for u in users] == [u["id"] for u in reference]


def test_accounts_list_follows_every_page(client: ArgyleClient, sandbox: Sandbox) -> None:
    accounts = list(client.accounts.list())
    reference = _raw_all(sandbox, "/accounts")
    assert len(reference) > 400  # at least three pages
    assert all(isinstance(a, Account) for a in accounts)
    assert [str(a.id) for a in accounts] == [a["id"] for a in reference]


def test_accounts_of_one_user(client: ArgyleClient, sandbox: Sandbox) -> None:
    user = str(_raw_all(sandbox, "/accounts")[0]["user"])
    mine = list(client.accounts.list(user=user))
    assert mine
    assert {str(a.user) for a in mine} == {user}
    assert [str(a.id) for a in mine] == [a["id"] for a in _raw_all(sandbox, "/accounts", user=user)]


def test_pages_are_the_bytes_served(client: ArgyleClient, sandbox: Sandbox) -> None:
    pages = client.accounts.pages()
    assert all(isinstance(p, bytes) for p in pages)
    decoded = [orjson.loads(p) for p in pages]
    assert sum(len(d["results"]) for d in decoded) == decoded[0]["count"]
    assert len(pages) == -(-decoded[0]["count"] // 200)


def test_get_user_and_account(client: ArgyleClient, sandbox: Sandbox) -> None:
    account = _raw_all(sandbox, "/accounts")[0]
    got = client.accounts.get(str(account["id"]))
    assert isinstance(got, Account)
    assert str(got.id) == account["id"]
    user = client.users.get(UUID(str(account["user"])))
    assert isinstance(user, User)
    assert str(user.id) == account["user"]


def test_user_life_cycle(fresh_sandbox: Sandbox) -> None:
    with _client(fresh_sandbox) as client:
        assert list(client.users.list()) == []
        new = client.users.create(external_metadata={"cohort": "A", "n": [1, 2]})
        assert isinstance(new, NewUser)
        assert fresh_sandbox.decode_token(new.token)["sub"] == str(new.id)
        assert client.users.get(new.id).external_metadata == {"cohort": "A", "n": [1, 2]}
        updated = client.users.update(new.id, external_metadata="group B")
        assert updated.external_metadata == "group B"
        token = client.user_tokens.create(new.id)
        assert isinstance(token, UserToken)
        assert fresh_sandbox.decode_token(token.access)["user_id"] == str(new.id)
        assert [u.id for u in client.users.list()] == [new.id]
        client.users.delete(new.id)
        with pytest.raises(NotFoundError) as caught:
            client.users.get(new.id)
        assert caught.value.status == 404
        assert caught.value.path == f"/v1/users/{new.id}"
        assert list(client.users.list()) == []


def test_create_without_metadata(fresh_sandbox: Sandbox) -> None:
    with _client(fresh_sandbox) as client:
        new = client.users.create()
        assert client.users.get(new.id).external_metadata is None


def test_delete_account(sandbox: Sandbox) -> None:
    with _client(sandbox) as client:
        account = next(iter(client.accounts.list()))
        client.accounts.delete(account.id)
        with pytest.raises(NotFoundError):
            client.accounts.get(account.id)
        with pytest.raises(NotFoundError) as caught:
            client.accounts.delete(account.id)
        assert caught.value.method == "DELETE"


def test_wrong_secret_is_an_authentication_error(sandbox: Sandbox) -> None:
    client = ArgyleClient(
        sandbox.key_id, "wrong", base_url=sandbox.base_url, cache="memory", progress=False
    )
    with pytest.raises(AuthenticationError) as caught:
        list(client.users.list())
    assert caught.value.status == 401
    assert caught.value.detail == "Invalid username/password."


def test_token_for_a_missing_user_is_a_bad_request(client: ArgyleClient) -> None:
    with pytest.raises(BadRequestError) as caught:
        client.user_tokens.create("00000000-0000-4000-8000-000000000000")
    assert "user" in caught.value.field_errors
    assert caught.value.method == "POST"


def test_connect_with_keys_targets_the_configured_url(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARGYLE_API_KEY_ID", sandbox.key_id)
    monkeypatch.setenv("ARGYLE_API_KEY_SECRET", sandbox.key_secret)
    monkeypatch.setenv("ARGYLE_BASE_URL", sandbox.base_url)
    with connect(cache="memory", progress=False) as client:
        assert client.base_url == sandbox.base_url
        assert client.sandbox is None
        assert client.users.get(next(iter(client.users.list())).id)


def test_connect_without_keys_starts_the_demo_sandbox(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from argyle_nb.sandbox import DEMO_USERS

    for name in ("ARGYLE_API_KEY_ID", "ARGYLE_API_KEY_SECRET", "ARGYLE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    client = connect(progress=False)
    try:
        said = capsys.readouterr().out.strip().splitlines()
        assert len(said) == 1
        assert "sandbox" in said[0]
        assert client.sandbox is not None
        assert client.sandbox.base_url in said[0]
        assert client.base_url == client.sandbox.base_url
        assert len(list(client.users.list())) == DEMO_USERS
    finally:
        client.close()
    assert client.sandbox is not None and not client.sandbox.running


def test_frames_get_the_pages(client: ArgyleClient, sandbox: Sandbox) -> None:
    pytest.importorskip("argyle_nb.frames")
    accounts = client.accounts_frame()
    assert len(accounts) == len(_raw_all(sandbox, "/accounts"))
    users = client.users_frame()
    assert len(users) == len(_raw_all(sandbox, "/users"))
    availability = client.availability_frame()
    assert len(availability) > 0


def test_multi_page_fetches_show_a_progress_bar(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    with _client(sandbox) as quiet:
        quiet.accounts.pages()
    assert "page" not in capsys.readouterr().err
    with _client(sandbox) as client:
        client.progress = True
        client.accounts.pages()
        shown = capsys.readouterr().err
        assert "GET /accounts" in shown and "page" in shown
        client.accounts.pages(progress=False)
        assert capsys.readouterr().err == ""
