"""Which cached answers a write makes stale: a pure policy, applied by the client through
:meth:`ArgyleCache.forget <argyle_nb.cache.ArgyleCache.forget>` and
:meth:`~argyle_nb.cache.ArgyleCache.forget_list` (requests-cache's own ``delete``).

Each function names what one kind of write changes, and nothing else: the objects (by
path) and the lists (by path and filter) whose cached pages no longer tell the truth.

Examples:
    >>> what = user_deleted("u1", ["a1"])
    >>> what.objects
    ('/users/u1', '/accounts/a1')
    >>> what.lists
    (('/users', ()), ('/accounts', ()), ('/accounts', (('user', 'u1'),)))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Stale", "account_deleted", "user_created", "user_deleted", "user_updated"]

#: A list: its path and its filters (``(("user", id),)`` for one user's accounts).
ListKey = tuple[str, tuple[tuple[str, str], ...]]

_USERS: ListKey = ("/users", ())
_ACCOUNTS: ListKey = ("/accounts", ())


def _accounts_of(user_id: str) -> ListKey:
    return ("/accounts", (("user", user_id),))


@dataclass(frozen=True)
class Stale:
    """What a write made stale: single objects and lists."""

    objects: tuple[str, ...] = ()
    lists: tuple[ListKey, ...] = ()


def user_created() -> Stale:
    """``POST /users``: the list of users has one more."""
    return Stale(lists=(_USERS,))


def user_updated(user_id: str) -> Stale:
    """``PATCH /users/{id}``: the user, and every page of users (it is on one of them)."""
    return Stale(objects=(f"/users/{user_id}",), lists=(_USERS,))


def user_deleted(user_id: str, account_ids: Sequence[str]) -> Stale:
    """``DELETE /users/{id}``: the user, their accounts (gone with them), and the lists of
    users, of accounts and of this user's accounts."""
    objects = (f"/users/{user_id}", *(f"/accounts/{a}" for a in account_ids))
    return Stale(objects=objects, lists=(_USERS, _ACCOUNTS, _accounts_of(user_id)))


def account_deleted(account_id: str, owner: str | None) -> Stale:
    """``DELETE /accounts/{id}``: the account, its owner (their connected lists change) and
    the lists of accounts, of users and of the owner's accounts."""
    if owner is None:
        return Stale(objects=(f"/accounts/{account_id}",), lists=(_ACCOUNTS, _USERS))
    return Stale(
        objects=(f"/accounts/{account_id}", f"/users/{owner}"),
        lists=(_ACCOUNTS, _USERS, _accounts_of(owner)),
    )
