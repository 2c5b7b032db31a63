"""The invalidation policy: what each write makes stale, and nothing more."""

from __future__ import annotations

from argyle_nb.client import _invalidation as stale


def test_creating_a_user_stales_only_the_list_of_users() -> None:
    assert stale.user_created() == stale.Stale(lists=(("/users", ()),))


def test_updating_a_user_stales_the_user_and_the_users_pages() -> None:
    what = stale.user_updated("u")
    assert what.objects == ("/users/u",)
    assert what.lists == (("/users", ()),)


def test_deleting_a_user_stales_their_accounts_and_every_list_they_are_on() -> None:
    what = stale.user_deleted("u", ["a", "b"])
    assert what.objects == ("/users/u", "/accounts/a", "/accounts/b")
    assert set(what.lists) == {("/users", ()), ("/accounts", ()), ("/accounts", (("user", "u"),))}


def test_deleting_an_account_stales_its_owner_when_known() -> None:
    known = stale.account_deleted("a", "u")
    assert known.objects == ("/accounts/a", "/users/u")
    assert ("/accounts", (("user", "u"),)) in known.lists
    unknown = stale.account_deleted("a", None)
    assert unknown.objects == ("/accounts/a",)
    assert set(unknown.lists) == {("/accounts", ()), ("/users", ())}
