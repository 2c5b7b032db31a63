"""The cache against a server: isolation, invalidation, offline mode, permissions.

The tests on ``target`` hold on any faithful server and delete the users they create; those
that need an outage (fault injection), a stopped server, a second environment or a seeded
layout run on sandboxes of their own and only on the embedded target.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from argyle_nb.client import ArgyleClient, RetryPolicy
from argyle_nb.errors import AuthenticationError, NotCachedError, NotFoundError
from argyle_nb.sandbox import Faults, Sandbox, start
from tests.integration.clients import Endpoint, Scratch, Target, client_on


@pytest.fixture
def small(tmp_path: Path) -> Iterator[Sandbox]:
    """A sandbox of its own with 250 users: two pages of users, several of accounts."""
    with start(db=tmp_path / "small.sqlite", users=250, seed=3) as running:
        yield running


def _client(where: Endpoint, path: Path, **kwargs: object) -> ArgyleClient:
    retry = RetryPolicy(max_attempts=3, backoff_base=0.01)
    return client_on(where, cache_path=path, retry=retry, **kwargs)


def _outage(sandbox: Sandbox) -> None:
    """From now on every request fails: only the cache can answer."""
    sandbox.faults = Faults(server_error=1.0)


@pytest.mark.embedded_only("an outage by fault injection shows the cache answering")
def test_reads_are_cached(small: Sandbox, tmp_path: Path) -> None:
    with _client(small, tmp_path / "c.sqlite") as client:
        users = [u.id for u in client.users.list()]
        one = client.users.get(users[-1])
        accounts = client.accounts.pages()
        _outage(small)
        assert [u.id for u in client.users.list()] == users
        assert client.users.get(users[-1]) == one
        assert client.accounts.pages() == accounts


def test_two_key_ids_never_share_entries(target: Target, scratch: Scratch, tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    made = scratch.user()["id"]
    with _client(target, path) as owner:
        users = list(owner.users.list())
        mine = owner.users.get(made)
    stranger = ArgyleClient(
        "another-key-id",
        target.key_secret,
        base_url=target.base_url,
        cache_path=path,
        progress=False,
    )
    with stranger:
        assert stranger.cache.info().responses > 0  # the same file, full of the owner's pages
        with pytest.raises(AuthenticationError):
            list(stranger.users.list())
        with pytest.raises(AuthenticationError):
            stranger.users.get(made)
        stranger.cache.offline = True
        with pytest.raises(NotCachedError):
            stranger.users.get(made)
    # The owner still reads its entries after the stranger came by: from the cache alone.
    with _client(target, path, offline=True) as owner:
        assert [u.id for u in owner.users.list()] == [u.id for u in users]
        assert owner.users.get(made) == mine


@pytest.mark.embedded_only("starts a second sandbox as the other environment")
def test_two_environments_never_share_entries(small: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    with (
        start(db=tmp_path / "other.sqlite", users=5, seed=99) as other,
        _client(small, path) as first,
        _client(other, path) as second,
    ):
        assert len(list(first.users.list())) == 250
        assert len(list(second.users.list())) == 5
        assert len(list(first.users.list())) == 250


def test_invalidation_after_create_user(target: Target, scratch: Scratch, tmp_path: Path) -> None:
    with _client(target, tmp_path / "c.sqlite") as client:
        before = [u.id for u in client.users.list()]
        new = client.users.create(external_metadata="fresh")
        scratch.add(new.id)
        after = [u.id for u in client.users.list()]
        assert len(after) == len(before) + 1
        assert set(after) - set(before) == {new.id}


def test_invalidation_after_update_of_a_new_user(
    target: Target, scratch: Scratch, tmp_path: Path
) -> None:
    made = scratch.user({"tag": "new"})["id"]
    with _client(target, tmp_path / "c.sqlite") as client:
        listed = {str(u.id): u for u in client.users.list()}
        assert listed[made].external_metadata == {"tag": "new"}
        client.users.get(made)
        client.users.update(made, external_metadata={"tag": "updated"})
        assert client.users.get(made).external_metadata == {"tag": "updated"}
        listed = {str(u.id): u for u in client.users.list()}
        assert listed[made].external_metadata == {"tag": "updated"}


@pytest.mark.embedded_only("updates a seeded user on the second page of the list")
def test_invalidation_after_update_user(small: Sandbox, tmp_path: Path) -> None:
    with _client(small, tmp_path / "c.sqlite") as client:
        users = list(client.users.list())
        last = users[-1]  # on the second page
        client.users.get(last.id)
        client.users.update(last.id, external_metadata={"tag": "updated"})
        assert client.users.get(last.id).external_metadata == {"tag": "updated"}
        listed = {u.id: u for u in client.users.list()}
        assert listed[last.id].external_metadata == {"tag": "updated"}


def test_invalidation_after_delete_of_a_new_user(
    target: Target, scratch: Scratch, tmp_path: Path
) -> None:
    made = scratch.user("to delete")["id"]
    with _client(target, tmp_path / "c.sqlite") as client:
        assert made in [str(u.id) for u in client.users.list()]
        client.users.get(made)
        assert list(client.accounts.list(user=made)) == []

        client.users.delete(made)

        with pytest.raises(NotFoundError):
            client.users.get(made)
        assert made not in [str(u.id) for u in client.users.list()]
        assert list(client.accounts.list(user=made)) == []


@pytest.mark.embedded_only("deletes a seeded user and its accounts")
def test_invalidation_after_delete_user(small: Sandbox, tmp_path: Path) -> None:
    with _client(small, tmp_path / "c.sqlite") as client:
        accounts = list(client.accounts.list())
        victim = accounts[-1].user
        theirs = [a for a in accounts if a.user == victim]
        client.users.get(victim)
        assert list(client.accounts.list(user=victim)) == theirs
        for account in theirs:
            client.accounts.get(account.id)
        users_before = [u.id for u in client.users.list()]

        client.users.delete(victim)

        with pytest.raises(NotFoundError):
            client.users.get(victim)
        for account in theirs:
            with pytest.raises(NotFoundError):
                client.accounts.get(account.id)
        assert list(client.accounts.list(user=victim)) == []
        remaining = [a.id for a in client.accounts.list()]
        assert remaining == [a.id for a in accounts if a.user != victim]
        assert [u.id for u in client.users.list()] == [u for u in users_before if u != victim]


@pytest.mark.embedded_only("deletes a seeded account: Argyle's API cannot create accounts")
def test_invalidation_after_delete_account(small: Sandbox, tmp_path: Path) -> None:
    with _client(small, tmp_path / "c.sqlite") as client:
        accounts = list(client.accounts.list())
        target = accounts[-1]  # on the last page
        owner = target.user
        mine_before = list(client.accounts.list(user=owner))
        client.accounts.get(target.id)
        client.users.get(owner)
        list(client.users.list())

        client.accounts.delete(target.id)

        with pytest.raises(NotFoundError):
            client.accounts.get(target.id)
        assert [a.id for a in client.accounts.list()] == [
            a.id for a in accounts if a.id != target.id
        ]
        assert [a.id for a in client.accounts.list(user=owner)] == [
            a.id for a in mine_before if a.id != target.id
        ]
        # The owner (and the users list) are re-read from the service, not the cache.
        _outage(small)
        client.cache.offline = True
        with pytest.raises(NotCachedError):
            client.users.get(owner)
        with pytest.raises(NotCachedError):
            list(client.users.list())


@pytest.mark.embedded_only("deletes a seeded account: Argyle's API cannot create accounts")
def test_delete_account_not_in_cache_still_invalidates(small: Sandbox, tmp_path: Path) -> None:
    with _client(small, tmp_path / "c.sqlite") as client:
        accounts = list(client.accounts.list())
        target = accounts[0]
        mine = list(client.accounts.list(user=target.user))
        client.accounts.delete(target.id)
        assert [a.id for a in client.accounts.list(user=target.user)] == [
            a.id for a in mine if a.id != target.id
        ]


@pytest.mark.embedded_only("stops the server")
def test_offline_answers_from_the_cache_and_names_what_is_missing(
    small: Sandbox, tmp_path: Path
) -> None:
    with _client(small, tmp_path / "c.sqlite") as client:
        users = [u.id for u in client.users.list()]
        pages = client.accounts.pages()
    small.stop()  # the service is gone
    with _client(small, tmp_path / "c.sqlite", offline=True) as offline:
        assert offline.cache.offline
        assert [u.id for u in offline.users.list()] == users
        assert offline.accounts.pages() == pages
        with pytest.raises(NotCachedError) as caught:
            offline.users.get(users[0])
        assert "not in the cache" in str(caught.value)
        assert caught.value.path == f"/v1/users/{users[0]}"
        with pytest.raises(NotCachedError, match="offline"):
            offline.users.create()


def test_cache_file_is_owner_only_and_holds_no_token(
    target: Target, scratch: Scratch, tmp_path: Path
) -> None:
    path = tmp_path / "cache" / "c.sqlite"
    with _client(target, path) as client:
        list(client.users.list())
        new = client.users.create()
        scratch.add(new.id)
        token = client.user_tokens.create(new.id)
        client.users.get(new.id)
        info = client.cache.info()
        assert info.path == path and info.responses > 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for companion in path.parent.iterdir():
        assert stat.S_IMODE(companion.stat().st_mode) & 0o077 == 0, companion
    stored = b"".join(p.read_bytes() for p in path.parent.iterdir())
    assert token.access.encode() not in stored
    assert new.token.encode() not in stored
    assert target.key_secret.encode() not in stored


def test_clear_drops_this_clients_entries(target: Target, tmp_path: Path) -> None:
    with _client(target, tmp_path / "c.sqlite") as client:
        pages = client.users.pages()
        assert client.cache.info().responses == len(pages) >= 1
        assert client.cache.clear() == len(pages)
        assert client.cache.info().responses == 0
        client.cache.offline = True
        with pytest.raises(NotCachedError):
            list(client.users.list())


@pytest.mark.embedded_only("a second environment with another key id shares the cache file")
def test_clear_keeps_other_key_ids_entries(small: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    with (
        start(users=30, seed=5, key_id="another-key-id", key_secret="another-secret") as other,
        _client(small, path) as mine,
        _client(other, path) as theirs,
    ):
        mine.users.pages()
        theirs_users = [u.id for u in theirs.users.list()]
        theirs.accounts.pages()
        theirs_count = theirs.cache.info().responses - mine.cache.clear()
        assert theirs_count >= 2
        assert mine.cache.info().responses == theirs_count  # one file: only theirs are left
        mine.cache.offline = theirs.cache.offline = True
        with pytest.raises(NotCachedError):
            mine.users.pages()
        assert [u.id for u in theirs.users.list()] == theirs_users  # offline, from the cache
        assert theirs.cache.report().complete
        assert mine.cache.clear(everything=True) == theirs_count
        with pytest.raises(NotCachedError):
            theirs.users.pages()
