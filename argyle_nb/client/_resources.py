"""The API's resources in the style of stripe-python: ``client.users``, ``client.user_tokens``
and ``client.accounts``.

Each speaks only to a :class:`Requester` (reads through the cache, lists walked whole,
writes, and the cache's invalidation after a write); argument checks happen here, before
any request.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterator, Mapping
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from argyle_nb.client import _invalidation as stale
from argyle_nb.client._args import as_uuid, check_json
from argyle_nb.errors import ArgyleError
from argyle_nb.models import Account, NewUser, User, UserToken

__all__ = ["Accounts", "Requester", "UserTokens", "Users"]

M = TypeVar("M", bound=BaseModel)


class Requester(Protocol):
    """What a resource needs of the client."""

    def get_object(self, path: str, model: type[M]) -> M:
        """``GET path`` (through the cache) as a validated ``model``."""
        ...

    def list_bodies(
        self, path: str, params: Mapping[str, str], progress: bool | None
    ) -> builtins.list[bytes]:
        """Every page of a list, as served."""
        ...

    def list_models(
        self, path: str, params: Mapping[str, str], model: type[M], progress: bool | None
    ) -> Iterator[M]:
        """Every record of a list as ``model`` (bad records set aside)."""
        ...

    def list_ids(self, path: str, params: Mapping[str, str]) -> builtins.list[str]:
        """The ids of every record of a list, read fresh from the service."""
        ...

    def cached_field(self, path: str, name: str) -> str | None:
        """Field ``name`` of the object at ``path``, from the cache or the service."""
        ...

    def write(
        self, method: str, path: str, body: Any = None, *, model: type[M], repeatable: bool = True
    ) -> M:
        """A write, its answer validated as ``model``."""
        ...

    def delete(self, path: str) -> None:
        """``DELETE path``."""
        ...

    def invalidate(self, what: stale.Stale) -> None:
        """Drop what a write made stale from the cache."""
        ...


class Users:
    """``/users``: list, get, create, update and delete users (``client.users``)."""

    def __init__(self, api: Requester) -> None:
        self._api = api

    def list(self, *, progress: bool | None = None) -> Iterator[User]:
        """Every user, as :class:`~argyle_nb.models.User` models (the whole list is read,
        and checked for changes while it was read, before the first is yielded).

        Examples:
            >>> [u.id for u in client.users.list()][:1]   # doctest: +SKIP
            [UUID('0994b847-cc69-4d98-bc99-c5e65e762add')]
        """
        return self._api.list_models("/users", {}, User, progress)

    def pages(self, *, progress: bool | None = None) -> builtins.list[bytes]:
        """Every page of ``GET /users`` as the raw JSON bytes served."""
        return self._api.list_bodies("/users", {}, progress)

    def get(self, id: str | uuid.UUID) -> User:
        """One user. Raises :class:`~argyle_nb.errors.NotFoundError` when there is none.

        Examples:
            >>> client.users.get("0994b847-cc69-4d98-bc99-c5e65e762add")   # doctest: +SKIP
        """
        return self._api.get_object(f"/users/{as_uuid(id, 'id')}", User)

    def create(self, *, external_metadata: Any = None) -> NewUser:
        """Create a user (with optional JSON metadata); returns its id and a user token.

        Examples:
            >>> client.users.create(external_metadata={"group": "A"}).id   # doctest: +SKIP
        """
        check_json(external_metadata)
        body = None if external_metadata is None else {"external_metadata": external_metadata}
        try:
            # A repeated POST /users would create a second user: never retried once sent.
            return self._api.write("POST", "/users", body, model=NewUser, repeatable=False)
        finally:
            self._api.invalidate(stale.user_created())

    def update(self, id: str | uuid.UUID, *, external_metadata: Any) -> User:
        """Replace a user's ``external_metadata``; returns the updated user.

        Examples:
            >>> client.users.update(user_id, external_metadata={"group": "B"})   # doctest: +SKIP
        """
        user_id = as_uuid(id, "id")
        check_json(external_metadata)
        body = {"external_metadata": external_metadata}
        try:
            return self._api.write("PATCH", f"/users/{user_id}", body, model=User)
        finally:
            self._api.invalidate(stale.user_updated(user_id))

    def delete(self, id: str | uuid.UUID) -> None:
        """Delete a user and all of their accounts.

        Examples:
            >>> client.users.delete(user_id)   # doctest: +SKIP
        """
        user_id = as_uuid(id, "id")
        try:
            accounts = self._api.list_ids("/accounts", {"user": user_id})
        except ArgyleError:
            accounts = []  # the user is unknown (or the listing failed): nothing to forget
        try:
            self._api.delete(f"/users/{user_id}")
        finally:
            self._api.invalidate(stale.user_deleted(user_id, accounts))


class UserTokens:
    """``/user-tokens`` (``client.user_tokens``): tokens are never cached nor logged."""

    def __init__(self, api: Requester) -> None:
        self._api = api

    def create(self, user_id: str | uuid.UUID) -> UserToken:
        """A new access token for Argyle Link for an existing user.

        Examples:
            >>> client.user_tokens.create(user_id).access   # doctest: +SKIP
        """
        body = {"user": as_uuid(user_id, "user_id")}
        return self._api.write("POST", "/user-tokens", body, model=UserToken)


def account_filter(user: str | uuid.UUID | None) -> dict[str, str]:
    """The query of ``GET /accounts`` for all accounts, or one user's."""
    return {} if user is None else {"user": as_uuid(user, "user")}


class Accounts:
    """``/accounts`` (``client.accounts``): list (all or one user's), get and delete."""

    def __init__(self, api: Requester) -> None:
        self._api = api

    def list(
        self, user: str | uuid.UUID | None = None, *, progress: bool | None = None
    ) -> Iterator[Account]:
        """Every account (of ``user`` when given), as :class:`~argyle_nb.models.Account`.

        Examples:
            >>> sum(1 for _ in client.accounts.list())   # doctest: +SKIP
            612
        """
        return self._api.list_models("/accounts", account_filter(user), Account, progress)

    def pages(
        self, user: str | uuid.UUID | None = None, *, progress: bool | None = None
    ) -> builtins.list[bytes]:
        """Every page of ``GET /accounts`` as the raw JSON bytes served.

        Examples:
            >>> pages = client.accounts.pages()   # doctest: +SKIP
        """
        return self._api.list_bodies("/accounts", account_filter(user), progress)

    def get(self, id: str | uuid.UUID) -> Account:
        """One account. Raises :class:`~argyle_nb.errors.NotFoundError` when there is none."""
        return self._api.get_object(f"/accounts/{as_uuid(id, 'id')}", Account)

    def delete(self, id: str | uuid.UUID) -> None:
        """Delete an account and everything Argyle holds for it.

        Examples:
            >>> client.accounts.delete(account_id)   # doctest: +SKIP
        """
        account_id = as_uuid(id, "id")
        path = f"/accounts/{account_id}"
        try:
            owner = self._api.cached_field(path, "user")
        except ArgyleError:
            owner = None
        try:
            self._api.delete(path)
        finally:
            self._api.invalidate(stale.account_deleted(account_id, owner))
