"""Every resource method of the client against the target (embedded or Argyle's sandbox)."""

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
from tests.integration.clients import Scratch, Target, client_on, token_claims


def _raw_all(target: Target, path: str, **params: str) -> list[dict[str, object]]:
    """Every object of a list, read with plain requests (the reference)."""
    out: list[dict[str, object]] = []
    url: str | None = f"{target.base_url}{path}"
    query: dict[str, str | int] | None = {"limit": 200, **params}
    while url:
        page = requests.get(url, params=query, auth=target.auth, timeout=30).json()
        out.extend(page["results"])
        url, query = page["next"], None
    return out


@pytest.fixture
def client(target: Target) -> Iterator[ArgyleClient]:
    with client_on(target) as c:
        yield c


def test_users_list_follows_every_page(
    client: ArgyleClient, target: Target, scratch: Scratch
) -> None:
    scratch.user()  # at least one user, whatever the target holds
    users = list(client.users.list())
    reference = _raw_all(target, "/users")
    if target.embedded:
        assert len(reference) > 200  # more than one page
    assert reference
    assert all(isinstance(u, User) for u in users)
    assert [str(u.id) for u in users] == [u["id"] for u in reference]


def test_accounts_list_follows_every_page(client: ArgyleClient, target: Target) -> None:
    accounts = list(client.accounts.list())
    reference = _raw_all(target, "/accounts")
    target.require(reference, "accounts")
    if target.embedded:
        assert len(reference) > 400  # at least three pages
    assert all(isinstance(a, Account) for a in accounts)
    assert [str(a.id) for a in accounts] == [a["id"] for a in reference]


def test_accounts_of_one_user(client: ArgyleClient, target: Target) -> None:
    every = _raw_all(target, "/accounts")
    target.require(every, "accounts")
    user = str(every[0]["user"])
    mine = list(client.accounts.list(user=user))
    assert mine
    assert {str(a.user) for a in mine} == {user}
    assert [str(a.id) for a in mine] == [a["id"] for a in _raw_all(target, "/accounts", user=user)]


def test_pages_are_the_bytes_served(client: ArgyleClient) -> None:
    pages = client.accounts.pages()
    assert all(isinstance(p, bytes) for p in pages)
    decoded = [orjson.loads(p) for p in pages]
    assert sum(len(d["results"]) for d in decoded) == decoded[0]["count"]
    assert len(pages) == max(1, -(-decoded[0]["count"] // 200))  # an empty list: one page


def test_get_user_and_account(client: ArgyleClient, target: Target) -> None:
    every = _raw_all(target, "/accounts")
    target.require(every, "accounts")
    account = every[0]
    got = client.accounts.get(str(account["id"]))
    assert isinstance(got, Account)
    assert str(got.id) == account["id"]
    user = client.users.get(UUID(str(account["user"])))
    assert isinstance(user, User)
    assert str(user.id) == account["user"]


def test_user_life_cycle(target: Target, scratch: Scratch) -> None:
    with client_on(target) as client:
        new = client.users.create(external_metadata={"cohort": "A", "n": [1, 2]})
        scratch.add(new.id)
        assert isinstance(new, NewUser)
        assert token_claims(target, new.token)["sub"] == str(new.id)
        assert client.users.get(new.id).external_metadata == {"cohort": "A", "n": [1, 2]}
        updated = client.users.update(new.id, external_metadata="group B")
        assert updated.external_metadata == "group B"
        assert client.users.get(new.id).external_metadata == "group B"
        token = client.user_tokens.create(new.id)
        assert isinstance(token, UserToken)
        assert token_claims(target, token.access)["user_id"] == str(new.id)
        assert new.id in [u.id for u in client.users.list()]
        client.users.delete(new.id)
        with pytest.raises(NotFoundError) as caught:
            client.users.get(new.id)
        assert caught.value.status == 404
        assert caught.value.path == f"/v1/users/{new.id}"
        assert new.id not in [u.id for u in client.users.list()]


def test_an_empty_sandbox_lists_only_what_was_created(fresh_sandbox: Sandbox) -> None:
    with client_on(fresh_sandbox) as client:
        assert list(client.users.list()) == []
        new = client.users.create(external_metadata="only")
        assert [u.id for u in client.users.list()] == [new.id]
        client.users.delete(new.id)
        assert list(client.users.list()) == []


def test_create_without_metadata(target: Target, scratch: Scratch) -> None:
    with client_on(target) as client:
        new = client.users.create()
        scratch.add(new.id)
        assert client.users.get(new.id).external_metadata is None


@pytest.mark.embedded_only("deletes a seeded account: Argyle's API cannot create accounts")
def test_delete_account(sandbox: Sandbox) -> None:
    with client_on(sandbox) as client:
        account = next(iter(client.accounts.list()))
        client.accounts.delete(account.id)
        with pytest.raises(NotFoundError):
            client.accounts.get(account.id)
        with pytest.raises(NotFoundError) as caught:
            client.accounts.delete(account.id)
        assert caught.value.method == "DELETE"


def test_wrong_secret_is_an_authentication_error(target: Target) -> None:
    client = ArgyleClient(
        target.key_id, "wrong", base_url=target.base_url, cache="memory", progress=False
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
    target: Target, scratch: Scratch, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = scratch.user()
    monkeypatch.setenv("ARGYLE_API_KEY_ID", target.key_id)
    monkeypatch.setenv("ARGYLE_API_KEY_SECRET", target.key_secret)
    monkeypatch.setenv("ARGYLE_BASE_URL", target.base_url)
    with connect(cache="memory", progress=False) as client:
        assert client.base_url == target.base_url
        assert client.sandbox is None
        assert str(client.users.get(made["id"]).id) == made["id"]
        assert made["id"] in [str(u.id) for u in client.users.list()]


@pytest.mark.embedded_only("starts the demo sandbox of argyle_nb.connect()")
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


def test_frames_get_the_pages(client: ArgyleClient, target: Target) -> None:
    pytest.importorskip("argyle_nb.frames")
    users = client.users_frame()
    assert len(users) == len(_raw_all(target, "/users"))
    accounts = client.accounts_frame()
    reference = _raw_all(target, "/accounts")
    assert len(accounts) == len(reference)
    target.require(reference, "accounts")
    availability = client.availability_frame()
    assert len(availability) > 0


def test_multi_page_fetches_show_a_progress_bar(
    target: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    count = requests.get(
        f"{target.base_url}/accounts", params={"limit": 1}, auth=target.auth, timeout=30
    ).json()["count"]
    target.require(count > 200, "more than 200 accounts (two pages)")
    with client_on(target) as quiet:
        quiet.accounts.pages()
    assert "page" not in capsys.readouterr().err
    with client_on(target) as client:
        client.progress = True
        client.accounts.pages()
        shown = capsys.readouterr().err
        assert "GET /accounts" in shown and "page" in shown
        client.accounts.pages(progress=False)
        assert capsys.readouterr().err == ""
