"""The cached Argyle API v1 client: :class:`ArgyleClient` and :func:`connect`.

Resources in the style of stripe-python::

    client.users.list() / .get(id) / .create(external_metadata=...) / .update(id, ...) / .delete(id)
    client.user_tokens.create(user_id)
    client.accounts.list(user=None) / .get(id) / .delete(id)

Lists follow every page (200 objects a request; the pages after the first are fetched
concurrently when the first carries ``count``) and yield typed models; ``.pages()``
returns the raw page bytes, which the ``*_frame()`` methods hand to
:mod:`argyle_nb.frames`. Every ``GET`` goes through the cache (:mod:`argyle_nb.cache`);
every write drops the cached answers it makes stale. 429, 5xx and connection errors are
retried with exponential backoff and jitter (:class:`RetryPolicy`), honouring
``Retry-After``.

Example:
    >>> import argyle_nb
    >>> client = argyle_nb.connect()                      # doctest: +SKIP
    argyle_nb: no API key configured: started the embedded sandbox ...
    >>> user = next(iter(client.users.list()))            # doctest: +SKIP
    >>> client.accounts.list(user=user.id)                # doctest: +SKIP
"""

from __future__ import annotations

import builtins
import logging
import math
import os
import random as _random
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar
from urllib.parse import urlencode, urlsplit

import orjson
import requests
from pydantic import BaseModel, TypeAdapter, ValidationError

from argyle_nb.cache import NOTEBOOK_LISTS, ArgyleCache, Backend, CacheReport
from argyle_nb.errors import (
    APIConnectionError,
    ArgyleError,
    InvalidRecordsError,
    NotCachedError,
    ResponseFormatError,
    error_for_status,
)
from argyle_nb.models import Account, NewUser, Page, User, UserToken
from argyle_nb.provenance import (
    ATTRS_KEY,
    SANDBOX_HEADER,
    SANDBOX_URL_VARIABLE,
    Provenance,
    environment_of,
    utc_or_none,
)
from argyle_nb.quarantine import RejectedRecord, RejectedRecordsWarning, rejected_frame

if TYPE_CHECKING:
    import pandas as pd

    from argyle_nb.sandbox import Sandbox

__all__ = [
    "DEFAULT_BASE_URL",
    "PAGE_SIZE",
    "Accounts",
    "ArgyleClient",
    "RetryPolicy",
    "UserTokens",
    "Users",
    "connect",
    "parse_retry_after",
]

log = logging.getLogger(__name__)

#: Argyle's sandbox environment: the default ``ARGYLE_BASE_URL``.
DEFAULT_BASE_URL: Final = "https://api-sandbox.argyle.com/v1"
#: Objects per list request (the API's maximum).
PAGE_SIZE: Final = 200
#: Pages fetched at once after the first.
DEFAULT_WORKERS: Final = 8

M = TypeVar("M", bound=BaseModel)

_USER_PAGE: Final = TypeAdapter(Page[User])
_ACCOUNT_PAGE: Final = TypeAdapter(Page[Account])


# ---------------------------------------------------------------------------
# Retries
# ---------------------------------------------------------------------------


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), or None.

    Example:
        >>> parse_retry_after("3")
        3.0
        >>> parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0)
        10.0
        >>> parse_retry_after("soon") is None
        True
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when - (time.time() if now is None else now)
    if math.isnan(seconds):
        return None
    return max(0.0, seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before repeating a failed request.

    Repeats answers 429 and 5xx and connection errors, at most ``max_attempts`` tries in
    all and at most ``max_wait`` seconds of waiting in all. Attempt ``n`` (1-based) waits
    ``min(backoff_max, backoff_base * 2**(n-1))`` scaled by a jitter in ``[0.5, 1)``; a
    ``Retry-After`` from the server is a floor (capped at ``max_retry_after``).

    Example:
        >>> policy = RetryPolicy(backoff_base=1.0, backoff_max=4.0)
        >>> [policy.delay(n, None, lambda: 0.0) for n in (1, 2, 3, 4)]
        [0.5, 1.0, 2.0, 2.0]
        >>> policy.delay(1, 3.0, lambda: 0.0)
        3.0
    """

    max_attempts: int = 8
    max_wait: float = 120.0
    backoff_base: float = 0.25
    backoff_max: float = 8.0
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, not {self.max_attempts}")
        if min(self.max_wait, self.backoff_base, self.backoff_max, self.max_retry_after) < 0:
            raise ValueError("waits must not be negative")

    def delay(self, attempt: int, retry_after: float | None, random: Callable[[], float]) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based)."""
        ceiling = min(self.backoff_max, self.backoff_base * 2.0 ** (attempt - 1))
        wait = ceiling * (0.5 + random() / 2)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_retry_after))
        return wait


_RETRY_STATUSES: Final = frozenset({429, 500, 502, 503, 504})


# ---------------------------------------------------------------------------
# Argument checks (before any request)
# ---------------------------------------------------------------------------


def _uuid(value: object, name: str) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value.strip()))
        except ValueError:
            pass
    raise ValueError(
        f"{name} must be a UUID such as '0994b847-cc69-4d98-bc99-c5e65e762add', not {value!r}"
    )


def _check_json(value: object, where: str = "external_metadata") -> None:
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} must be JSON: {value!r} is not a JSON number")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_json(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{where} must be JSON: object key {key!r} is not a string")
            _check_json(item, f"{where}[{key!r}]")
        return
    raise ValueError(
        f"{where} must be JSON (dict, list, str, int, float, bool or None), "
        f"not {type(value).__name__}"
    )


@dataclass(frozen=True)
class _Served:
    """One answer to a ``GET``: its body and where it came from."""

    raw: bytes
    url: str
    from_cache: bool
    created_at: datetime | None
    expires: datetime | None
    #: Records in the page (list pages only).
    size: int = 0


@dataclass
class _Listing:
    """Every page of one list, and when the fetch ran."""

    endpoint: str
    started: datetime
    pages: builtins.list[_Served] = field(default_factory=builtins.list)
    finished: datetime | None = None

    @property
    def bodies(self) -> builtins.list[bytes]:
        return [page.raw for page in self.pages]

    @property
    def records(self) -> int:
        return sum(page.size for page in self.pages)


def _page_shape(raw: bytes, method: str, path: str) -> tuple[int | None, bool, int]:
    """Check a list page cheaply: ``(count, has_next, number of results)``."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ResponseFormatError(
            f"list page is not JSON: {exc}", status=200, method=method, path=path
        ) from None
    if isinstance(data, list):
        results, count, has_next = data, None, False
    elif isinstance(data, dict) and isinstance(data.get("results"), list):
        results = data["results"]
        count = data.get("count")
        if count is not None and (not isinstance(count, int) or isinstance(count, bool)):
            raise ResponseFormatError(
                f"list page has a non-integer count {count!r}", status=200, method=method, path=path
            )
        has_next = data.get("next") is not None
    else:
        raise ResponseFormatError(
            "list page is neither an envelope with 'results' nor an array",
            status=200,
            method=method,
            path=path,
        )
    # Records are checked later, one by one: a bad record is set aside, not fatal.
    return count, has_next, len(results)


# ---------------------------------------------------------------------------
# Resources
# ---------------------------------------------------------------------------


class Users:
    """``/users``: list, get, create, update and delete users (``client.users``)."""

    def __init__(self, client: ArgyleClient) -> None:
        self._client = client

    def list(self, *, progress: bool | None = None) -> Iterator[User]:
        """Every user, page after page, as :class:`~argyle_nb.models.User` models.

        Example:
            >>> [u.id for u in client.users.list()][:1]   # doctest: +SKIP
            [UUID('0994b847-cc69-4d98-bc99-c5e65e762add')]
        """
        return self._client._models("/users", {}, _USER_PAGE, User, progress)

    def pages(self, *, progress: bool | None = None) -> builtins.list[bytes]:
        """Every page of ``GET /users`` as the raw JSON bytes served (checked cheaply)."""
        return self._client._listing("/users", {}, progress=progress).bodies

    def get(self, id: str | uuid.UUID) -> User:
        """One user. Raises :class:`~argyle_nb.errors.NotFoundError` when there is none.

        Example:
            >>> client.users.get("0994b847-cc69-4d98-bc99-c5e65e762add")   # doctest: +SKIP
        """
        user_id = _uuid(id, "id")
        return self._client._object(f"/users/{user_id}", User)

    def create(self, *, external_metadata: Any = None) -> NewUser:
        """Create a user (with optional JSON metadata); returns its id and a user token.

        Example:
            >>> client.users.create(external_metadata={"group": "A"}).id   # doctest: +SKIP
        """
        _check_json(external_metadata)
        body = None if external_metadata is None else {"external_metadata": external_metadata}
        try:
            # A repeated POST /users would create a second user: never retried once sent.
            raw = self._client._write("POST", "/users", body, repeatable=False)
        finally:
            self._client._forget_lists("/users")
        return self._client._parse(raw, NewUser, "POST", self._client._where("/users"))

    def update(self, id: str | uuid.UUID, *, external_metadata: Any) -> User:
        """Replace a user's ``external_metadata``; returns the updated user.

        Example:
            >>> client.users.update(user_id, external_metadata={"group": "B"})   # doctest: +SKIP
        """
        user_id = _uuid(id, "id")
        _check_json(external_metadata)
        path = f"/users/{user_id}"
        try:
            raw = self._client._write("PATCH", path, {"external_metadata": external_metadata})
        finally:
            self._client._forget_objects([path])
            self._client._forget_lists("/users")
        return self._client._parse(raw, User, "PATCH", self._client._where(path))

    def delete(self, id: str | uuid.UUID) -> None:
        """Delete a user and all of their accounts.

        Example:
            >>> client.users.delete(user_id)   # doctest: +SKIP
        """
        user_id = _uuid(id, "id")
        path = f"/users/{user_id}"
        client = self._client
        client._refuse_offline("DELETE", path)
        account_paths: list[str] = []
        try:
            for page in client._pages("/accounts", {"user": user_id}, progress=False, fresh=True):
                data = orjson.loads(page.raw)
                items = data if isinstance(data, list) else data.get("results", [])
                account_paths.extend(
                    f"/accounts/{item['id']}"
                    for item in items
                    if isinstance(item, dict) and isinstance(item.get("id"), str)
                )
        except ArgyleError:
            pass  # the user is unknown (or the listing failed): no accounts to forget
        try:
            client._write("DELETE", path)
        finally:
            client._forget_objects([path, *account_paths])
            client._forget_lists("/users")
            client._forget_lists("/accounts")
            client._forget_lists("/accounts", user=user_id)


class UserTokens:
    """``/user-tokens`` (``client.user_tokens``): tokens are never cached nor logged."""

    def __init__(self, client: ArgyleClient) -> None:
        self._client = client

    def create(self, user_id: str | uuid.UUID) -> UserToken:
        """A new access token for Argyle Link for an existing user.

        Example:
            >>> client.user_tokens.create(user_id).access   # doctest: +SKIP
        """
        user = _uuid(user_id, "user_id")
        raw = self._client._write("POST", "/user-tokens", {"user": user})
        return self._client._parse(raw, UserToken, "POST", self._client._where("/user-tokens"))


class Accounts:
    """``/accounts`` (``client.accounts``): list (all or one user's), get and delete."""

    def __init__(self, client: ArgyleClient) -> None:
        self._client = client

    @staticmethod
    def _params(user: str | uuid.UUID | None) -> dict[str, str]:
        return {} if user is None else {"user": _uuid(user, "user")}

    def list(
        self, user: str | uuid.UUID | None = None, *, progress: bool | None = None
    ) -> Iterator[Account]:
        """Every account (of ``user`` when given), as :class:`~argyle_nb.models.Account`.

        Example:
            >>> sum(1 for _ in client.accounts.list())   # doctest: +SKIP
            612
        """
        params = self._params(user)
        return self._client._models("/accounts", params, _ACCOUNT_PAGE, Account, progress)

    def pages(
        self, user: str | uuid.UUID | None = None, *, progress: bool | None = None
    ) -> builtins.list[bytes]:
        """Every page of ``GET /accounts`` as the raw JSON bytes served (checked cheaply).

        Example:
            >>> pages = client.accounts.pages()   # doctest: +SKIP
        """
        return self._client._listing("/accounts", self._params(user), progress=progress).bodies

    def get(self, id: str | uuid.UUID) -> Account:
        """One account. Raises :class:`~argyle_nb.errors.NotFoundError` when there is none."""
        account_id = _uuid(id, "id")
        return self._client._object(f"/accounts/{account_id}", Account)

    def delete(self, id: str | uuid.UUID) -> None:
        """Delete an account and everything Argyle holds for it.

        Example:
            >>> client.accounts.delete(account_id)   # doctest: +SKIP
        """
        account_id = _uuid(id, "id")
        path = f"/accounts/{account_id}"
        client = self._client
        client._refuse_offline("DELETE", path)
        owner: str | None = None
        cached = client.cache.content(client._url(path, {}))
        try:
            raw = cached if cached is not None else client._get(path, {}, fresh=True).raw
            owner = str(orjson.loads(raw)["user"])
        except (ArgyleError, orjson.JSONDecodeError, KeyError, TypeError):
            owner = None
        try:
            client._write("DELETE", path)
        finally:
            stale = [path] + ([f"/users/{owner}"] if owner else [])
            client._forget_objects(stale)
            client._forget_lists("/accounts")
            client._forget_lists("/users")
            if owner:
                client._forget_lists("/accounts", user=owner)


# ---------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------


class ArgyleClient:
    """A cached, retrying client of the Argyle API v1.

    Args:
        key_id, key_secret: the API key pair (default: ``ARGYLE_API_KEY_ID`` and
            ``ARGYLE_API_KEY_SECRET``).
        base_url: default ``ARGYLE_BASE_URL``, else Argyle's sandbox URL.
        cache: ``"sqlite"`` (default) or ``"memory"``.
        cache_path: the SQLite file (default: in the user's cache directory).
        offline: answer only from the cache.
        retry: the :class:`RetryPolicy`.
        workers: pages fetched at once after the first (1: sequential).
        progress: show a progress bar on multi-page fetches.
        timeout: seconds to connect and to read.
        strict: raise :class:`~argyle_nb.errors.InvalidRecordsError` when a record of a
            list fails validation, instead of setting it aside in :attr:`rejected` with
            a :class:`~argyle_nb.quarantine.RejectedRecordsWarning`.
        sleep, random, clock, now: injectable for tests (``time.sleep``,
            ``random.random``, ``time.monotonic``, and the UTC wall clock of provenance).

    Example:
        >>> client = ArgyleClient("key-id", "secret", cache="memory")
        >>> client.base_url, "secret" in repr(client)
        ('https://api-sandbox.argyle.com/v1', False)
    """

    def __init__(
        self,
        key_id: str | None = None,
        key_secret: str | None = None,
        *,
        base_url: str | None = None,
        cache: Backend = "sqlite",
        cache_path: str | Path | None = None,
        offline: bool = False,
        retry: RetryPolicy | None = None,
        workers: int = DEFAULT_WORKERS,
        progress: bool = True,
        timeout: float = 60.0,
        strict: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = _random.random,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        key_id = key_id if key_id is not None else os.environ.get("ARGYLE_API_KEY_ID")
        if key_secret is None:
            key_secret = os.environ.get("ARGYLE_API_KEY_SECRET")
        if not key_id or not key_secret:
            raise ValueError(
                "no API key: pass key_id and key_secret or set ARGYLE_API_KEY_ID and "
                "ARGYLE_API_KEY_SECRET (argyle_nb.connect() starts a local sandbox instead)"
            )
        if workers < 1:
            raise ValueError(f"workers must be >= 1, not {workers}")
        base = base_url or os.environ.get("ARGYLE_BASE_URL") or DEFAULT_BASE_URL
        if not base.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, not {base!r}")
        self.base_url: str = base.rstrip("/")
        self.key_id: str = key_id
        self._auth = (key_id, key_secret)
        self.retry = retry or RetryPolicy()
        self.workers = workers
        self.progress = progress
        self.timeout = timeout
        #: Raise on records that fail validation instead of setting them aside.
        self.strict = strict
        self._sleep = sleep
        self._random = random
        self._clock = clock
        self._now = now
        # Known at once when argyle-nb lab names this URL as its sandbox; else told by
        # the first answer (the embedded sandbox marks every answer).
        self._embedded = os.environ.get(SANDBOX_URL_VARIABLE) == self.base_url
        self._rejected: dict[tuple[str, str], builtins.list[RejectedRecord]] = {}
        self.cache = ArgyleCache.create(
            self.base_url, key_id, backend=cache, path=cache_path, offline=offline
        )
        adapter = requests.adapters.HTTPAdapter(pool_connections=2, pool_maxsize=workers + 2)
        self.cache.session.mount("http://", adapter)
        self.cache.session.mount("https://", adapter)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        #: The embedded sandbox this client runs on (set by :func:`connect`), else None.
        self.sandbox: Sandbox | None = None
        self.users = Users(self)
        self.user_tokens = UserTokens(self)
        self.accounts = Accounts(self)

    # -- life cycle ------------------------------------------------------------

    def close(self) -> None:
        """Close the HTTP session, the thread pool and an embedded sandbox."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        self.cache.close()
        if self.sandbox is not None:
            self.sandbox.stop()

    def __enter__(self) -> ArgyleClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"ArgyleClient(base_url={self.base_url!r}, environment={self.environment!r}, "
            f"key_id={self.key_id!r}, cache={self.cache.summary()})"
        )

    @property
    def environment(self) -> str:
        """``"embedded sandbox"``, ``"Argyle sandbox"``, ``"Argyle production"`` or
        ``"custom (<host>)"``, known without a request: the embedded sandbox when
        :func:`connect` started it or ``argyle-nb lab`` names its URL
        (:data:`~argyle_nb.provenance.SANDBOX_URL_VARIABLE`), Argyle's by host; a custom
        URL becomes ``"embedded sandbox"`` when its first answer carries the sandbox's mark.

        Example:
            >>> ArgyleClient("k", "s", base_url="https://api.argyle.com/v1",
            ...              cache="memory").environment
            'Argyle production'
        """
        return environment_of(self.base_url, embedded=self._embedded or self.sandbox is not None)

    # -- DataFrames --------------------------------------------------------------

    def users_frame(self, *, progress: bool | None = None) -> pd.DataFrame:
        """Every user as a typed DataFrame (:func:`argyle_nb.frames.users_frame`).

        ``df.attrs["provenance"]`` says where and when it came from
        (:func:`argyle_nb.provenance_of`); users that fail validation are left
        out, with a warning, and kept in :attr:`rejected`.
        """
        listing = self._listing("/users", {}, progress=progress)
        return self._screened(listing, "users", "users_frame()", _frames().users_frame)

    def accounts_frame(
        self, user: str | uuid.UUID | None = None, *, progress: bool | None = None
    ) -> pd.DataFrame:
        """Every account (of ``user``) as a typed DataFrame (``frames.accounts_frame``).

        Provenance and rejected records as for :meth:`users_frame`.
        """
        listing = self._listing("/accounts", Accounts._params(user), progress=progress)
        return self._screened(listing, "accounts", "accounts_frame()", _frames().accounts_frame)

    def availability_frame(
        self, user: str | uuid.UUID | None = None, *, progress: bool | None = None
    ) -> pd.DataFrame:
        """Per-resource availability of every account, one row per account and resource.

        Provenance and rejected records as for :meth:`users_frame` (``records`` in the
        provenance counts accounts, not rows).
        """
        listing = self._listing("/accounts", Accounts._params(user), progress=progress)
        build = _frames().availability_frame
        return self._screened(listing, "accounts", "availability_frame()", build)

    # -- provenance and rejected records -------------------------------------------

    @property
    def rejected(self) -> pd.DataFrame:
        """Records that failed validation in the latest read of each list.

        One row per record (:data:`~argyle_nb.quarantine.REJECTED_COLUMNS`): the list's
        endpoint, what read it (``accounts_frame()``, ``availability_frame()``,
        ``accounts.list()``...: each judges the fields it shows), the page URL, the
        record's position, its id when it has one, what was wrong, the raw JSON and when
        it was set aside. A new read of a list by the same method replaces those rows.

        Example:
            >>> client.rejected[["url", "error"]]   # doctest: +SKIP
        """
        return rejected_frame(r for records in self._rejected.values() for r in records)

    def _screened(
        self, listing: _Listing, noun: str, read_by: str, build: Callable[..., pd.DataFrame]
    ) -> pd.DataFrame:
        rejected: builtins.list[RejectedRecord] = []
        frame = build(listing.bodies, rejected=rejected)
        kept = listing.records - len(rejected)
        self._set_aside(listing, rejected, noun, read_by, kept)
        frame.attrs[ATTRS_KEY] = self._provenance(listing, kept, len(rejected)).to_attrs()
        return frame

    def _set_aside(
        self,
        listing: _Listing,
        rejected: builtins.list[RejectedRecord],
        noun: str,
        read_by: str,
        kept: int,
    ) -> None:
        """Keep what ``read_by`` rejected of a list; warn, or raise when :attr:`strict`."""
        when = self._now()
        located = [
            r.located(
                url=_where(listing.pages[r.page].url) if r.page < len(listing.pages) else "",
                endpoint=listing.endpoint,
                read_by=read_by,
                rejected_at=when,
            )
            for r in rejected
        ]
        self._rejected[listing.endpoint, read_by] = located
        if not located:
            return
        first = located[0]
        message = (
            f"{len(located)} of {kept + len(located)} {noun} from GET {listing.endpoint} "
            f"failed validation in {read_by} (first: {first.where}: {first.error})"
        )
        if self.strict:
            raise InvalidRecordsError(
                message + "; client.rejected lists them (strict=False sets them aside)",
                rejected=located,
                status=200,
                method="GET",
                path=listing.endpoint,
            )
        warnings.warn(
            message + " and were left out: client.rejected lists them",
            RejectedRecordsWarning,
            stacklevel=_outside_stacklevel(),
        )

    def _provenance(self, listing: _Listing, records: int, rejected: int) -> Provenance:
        served = [p.created_at for p in listing.pages if p.created_at is not None]
        expiries = [p.expires for p in listing.pages if p.expires is not None]
        return Provenance(
            endpoint=listing.endpoint,
            base_url=self.base_url,
            environment=self.environment,
            fetch_started=listing.started,
            fetch_finished=listing.finished or listing.started,
            pages=len(listing.pages),
            pages_from_cache=sum(p.from_cache for p in listing.pages),
            served_from=min(served) if served else None,
            served_to=max(served) if served else None,
            expires_at=min(expiries) if expiries else None,
            records=records,
            rejected=rejected,
        )

    # -- offline work ----------------------------------------------------------------

    def prefetch(self, *, progress: bool | None = None) -> CacheReport:
        """Fill the cache with every page the notebooks read, under one progress bar.

        Fetches every page of ``GET /users`` and ``GET /accounts`` (what
        :meth:`users_frame`, :meth:`accounts_frame` and :meth:`availability_frame` read;
        pages still fresh in the cache are not fetched again), then returns
        :meth:`ArgyleCache.report() <argyle_nb.cache.ArgyleCache.report>`: what is
        cached, how old, until when, and what an offline session would still miss.

        Example:
            >>> report = client.prefetch()   # doctest: +SKIP
            >>> client.cache.offline = True  # doctest: +SKIP
            >>> client.accounts_frame()      # doctest: +SKIP
        """
        show = self.progress if progress is None else progress
        bar = _bar(len(NOTEBOOK_LISTS), "prefetch", show, always=True)
        try:
            for path in NOTEBOOK_LISTS:
                self._listing(path, {}, progress=False, bar=bar)
        finally:
            bar.close()
        return self.cache.report()

    # -- HTTP ----------------------------------------------------------------------

    def _where(self, path: str) -> str:
        """``path`` as errors name it: the URL's path (``/v1/users``)."""
        return _where(self._url(path, {}))

    def _url(self, path: str, params: Mapping[str, str | int]) -> str:
        query = urlencode(sorted(params.items()))
        return f"{self.base_url}{path}" + (f"?{query}" if query else "")

    def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str | int],
        *,
        body: Any = None,
        fresh: bool = False,
        repeatable: bool = True,
    ) -> requests.Response:
        """One request with retries; returns a 2xx answer or raises an :class:`ArgyleError`.

        ``repeatable=False`` (a POST that creates an object) repeats only what cannot have
        been processed: 429 answers and connections that were never established.
        """
        url = self._url(path, params)
        where = _where(url)
        data = None if body is None else orjson.dumps(body)
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        extra: dict[str, Any] = {"force_refresh": True} if fresh and method == "GET" else {}
        started = self._clock()
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                response: requests.Response = self.cache.session.request(
                    method,
                    url,
                    data=data,
                    headers=headers,
                    auth=self._auth,
                    timeout=self.timeout,
                    **extra,
                )
            except requests.RequestException as exc:
                never_sent = isinstance(exc, requests.ConnectTimeout) or (
                    isinstance(exc, requests.ConnectionError)
                    and "NewConnectionError" in repr(exc.args)
                )
                failure: ArgyleError = APIConnectionError(
                    f"no answer: {type(exc).__name__}: {exc}", method=method, path=where
                )
                if not (repeatable or never_sent):
                    raise failure from exc
            else:
                status = response.status_code
                log.debug("%s %s -> %s", method, where, status)
                if 200 <= status < 300:
                    return response
                if self.cache.offline and status == 504:
                    raise NotCachedError(
                        "offline: this request is not in the cache (run it once online "
                        "to cache it, or set client.cache.offline = False)",
                        method=method,
                        path=where,
                    )
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                failure = error_for_status(
                    status, response.content, method, where, retry_after=retry_after
                )
                if status not in _RETRY_STATUSES or (status != 429 and not repeatable):
                    raise failure
            if attempt >= self.retry.max_attempts:
                raise failure
            delay = self.retry.delay(attempt, retry_after, self._random)
            elapsed = self._clock() - started
            if waited + delay > self.retry.max_wait or elapsed + delay > 2 * self.retry.max_wait:
                raise failure
            log.debug("retrying %s %s in %.2f s (attempt %d)", method, where, delay, attempt)
            self._sleep(delay)
            waited += delay

    def _get(self, path: str, params: Mapping[str, str | int], *, fresh: bool = False) -> _Served:
        """``GET`` through the cache: the body and where it came from."""
        response = self._send("GET", path, params, fresh=fresh)
        if SANDBOX_HEADER in response.headers:
            self._embedded = True
        return _Served(
            raw=response.content,
            url=self._url(path, params),
            from_cache=bool(getattr(response, "from_cache", False)),
            created_at=utc_or_none(getattr(response, "created_at", None)),
            expires=utc_or_none(getattr(response, "expires", None)),
        )

    def _refuse_offline(self, method: str, path: str) -> None:
        if self.cache.offline:
            raise NotCachedError(
                "offline: writes need the service (set client.cache.offline = False)",
                method=method,
                path=self._where(path),
            )

    def _write(self, method: str, path: str, body: Any = None, *, repeatable: bool = True) -> bytes:
        self._refuse_offline(method, path)
        return bytes(self._send(method, path, {}, body=body, repeatable=repeatable).content)

    @staticmethod
    def _parse(raw: bytes, model: type[M], method: str, path: str) -> M:
        try:
            return model.model_validate_json(raw)
        except ValidationError as exc:
            raise ResponseFormatError(
                f"the answer is not a valid {model.__name__}: {exc.error_count()} errors, "
                f"first: {exc.errors()[0]['msg']}",
                status=200,
                method=method,
                path=path,
            ) from None

    def _object(self, path: str, model: type[M]) -> M:
        raw = self._get(path, {}).raw
        return self._parse(raw, model, "GET", _where(self._url(path, {})))

    # -- pages -------------------------------------------------------------------

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="argyle-page")
            return self._pool

    def _page(
        self, path: str, params: Mapping[str, str], offset: int, fresh: bool
    ) -> tuple[_Served, tuple[int | None, bool, int]]:
        query: dict[str, str | int] = {**params, "limit": PAGE_SIZE, "offset": offset}
        served = self._get(path, query, fresh=fresh)
        try:
            shape = _page_shape(served.raw, "GET", _where(served.url))
        except ResponseFormatError:
            self.cache.forget([served.url])  # never serve a broken page again
            raise
        return replace(served, size=shape[2]), shape

    def _pages(
        self,
        path: str,
        params: Mapping[str, str],
        *,
        progress: bool | None,
        fresh: bool = False,
        bar: Any = None,
    ) -> Iterator[_Served]:
        """Every page of a list in order: the first, then the rest concurrently when counted.

        When the first page comes from the service (not the cache), the others are fetched
        fresh too, so a list never mixes answers from before and after a change. ``bar``:
        a shared progress bar (whose total grows as lists tell their size), else one of
        this list's own when it has several pages.
        """
        first, (count, has_next, size) = self._page(path, params, 0, fresh)
        yield first
        fresh = fresh or not first.from_cache
        show = self.progress if progress is None else progress
        own = bar is None
        if count is not None:
            offsets = list(range(PAGE_SIZE, count, PAGE_SIZE)) if size else []
            if own:
                if not offsets:
                    return
                bar = _bar(len(offsets) + 1, path, show)
            else:
                bar.total += len(offsets)
                bar.refresh()
            bar.update(1)  # the first page, fetched above
            try:
                if self.workers == 1 or len(offsets) <= 1:
                    results: Iterator[tuple[_Served, Any]] = (
                        self._page(path, params, o, fresh) for o in offsets
                    )
                else:
                    pool = self._executor()
                    results = pool.map(lambda o: self._page(path, params, o, fresh), offsets)
                for served, _ in results:
                    bar.update(1)
                    yield served
            finally:
                if own:
                    bar.close()
            return
        # No count: follow the pages one after the other until a short or last page.
        offset = 0
        if own:
            bar = _bar(None, path, show)
        bar.update(1)
        try:
            while has_next or size >= PAGE_SIZE:
                offset += size
                served, (_, has_next, size) = self._page(path, params, offset, fresh)
                if size == 0:
                    return
                if not own:
                    bar.total += 1
                bar.update(1)
                yield served
        finally:
            if own:
                bar.close()

    def _start_listing(self, path: str, params: Mapping[str, str]) -> _Listing:
        return _Listing(endpoint=_where(self._url(path, params)), started=self._now())

    def _listing(
        self,
        path: str,
        params: Mapping[str, str],
        *,
        progress: bool | None,
        bar: Any = None,
    ) -> _Listing:
        """Every page of a list, with when the fetch started and ended."""
        listing = self._start_listing(path, params)
        listing.pages.extend(self._pages(path, params, progress=progress, bar=bar))
        listing.finished = self._now()
        return listing

    def _models(
        self,
        path: str,
        params: Mapping[str, str],
        adapter: TypeAdapter[Any],
        model: type[M],
        progress: bool | None,
    ) -> Iterator[Any]:
        """Models of every record of a list; records that fail validation are set aside."""
        noun = path.strip("/")
        read_by = f"{noun}.list()"
        listing = self._start_listing(path, params)
        rejected: builtins.list[RejectedRecord] = []
        for position, served in enumerate(self._pages(path, params, progress=progress)):
            listing.pages.append(served)
            try:
                page = adapter.validate_json(served.raw)
            except ValidationError:
                pass
            else:
                yield from page.results
                continue
            data = orjson.loads(served.raw)
            items = data["results"] if isinstance(data, dict) else data
            good: builtins.list[M] = []
            bad: builtins.list[RejectedRecord] = []
            for index, item in enumerate(items):
                try:
                    good.append(model.model_validate(item))
                except ValidationError as exc:
                    bad.append(RejectedRecord.of(position, index, item, _reason(exc)))
            if bad and self.strict:
                listing.finished = self._now()
                kept = listing.records - len(rejected) - len(bad)
                self._set_aside(listing, [*rejected, *bad], noun, read_by, kept)
            rejected.extend(bad)
            yield from good
        listing.finished = self._now()
        self._set_aside(listing, rejected, noun, read_by, listing.records - len(rejected))

    # -- invalidation ----------------------------------------------------------

    def _forget_objects(self, paths: list[str]) -> None:
        self.cache.forget([self._url(p, {}) for p in paths])

    def _forget_lists(self, path: str, **params: str) -> None:
        """Drop every cached page of a list (its first page names how many there are)."""

        def url(offset: int) -> str:
            return self._url(path, {**params, "limit": PAGE_SIZE, "offset": offset})

        count = 0
        first = self.cache.content(url(0))
        if first is not None:
            try:
                data = orjson.loads(first)
                count = int(data.get("count") or 0) if isinstance(data, dict) else 0
            except (orjson.JSONDecodeError, TypeError, ValueError):
                count = 0
        urls = [url(o) for o in range(0, max(count, PAGE_SIZE), PAGE_SIZE)]
        offset = len(urls) * PAGE_SIZE
        while self.cache.contains(url(offset)):
            urls.append(url(offset))
            offset += PAGE_SIZE
        self.cache.forget(urls)


class _NoBar:
    total = 0

    def update(self, n: int = 1) -> None:
        pass

    def refresh(self) -> None:
        pass

    def close(self) -> None:
        pass


def _bar(total: int | None, path: str, show: bool, *, always: bool = False) -> Any:
    if not show or (not always and total is not None and total <= 1):
        return _NoBar()
    from tqdm.auto import tqdm

    # A prefetch's bar stays when done: it is the cell's record of what was cached.
    desc = path if always else f"GET {path}"
    return tqdm(total=total, desc=desc, unit="page", leave=always)


def _reason(exc: ValidationError) -> str:
    """The first problem pydantic found, with the field's path (and how many more)."""
    errors = exc.errors()
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"])
    text = f"{where}: {first['msg']}" if where else first["msg"]
    return text + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")


def _outside_stacklevel() -> int:
    """The ``stacklevel`` of a warning that names the first caller outside argyle_nb."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith("argyle_nb"):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def _where(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _frames() -> Any:
    import importlib

    return importlib.import_module("argyle_nb.frames")


def connect(
    key_id: str | None = None,
    key_secret: str | None = None,
    *,
    base_url: str | None = None,
    users: int | None = None,
    seed: int | None = None,
    **options: Any,
) -> ArgyleClient:
    """A client on the configured Argyle environment, or on a local demo sandbox.

    With a key pair (arguments, or ``ARGYLE_API_KEY_ID`` and ``ARGYLE_API_KEY_SECRET``) the
    client targets ``base_url`` (or ``ARGYLE_BASE_URL``, else Argyle's sandbox). With no key
    it starts the embedded sandbox seeded with ``users`` demo users (default
    :data:`~argyle_nb.sandbox.DEMO_USERS`) from ``seed`` (default
    :data:`~argyle_nb.sandbox.DEMO_SEED`), says so in one line, and caches in memory
    (the sandbox is temporary); ``client.close()`` stops it. ``users`` and ``seed`` shape
    only that demo dataset: a real Argyle environment is what it is. A ``base_url``
    without a key is an error (the embedded sandbox picks its own address).
    ``options`` go to :class:`ArgyleClient`.

    Example:
        >>> client = connect()   # doctest: +SKIP
        argyle_nb: no API key configured: started the embedded sandbox ...
    """
    key_id = key_id if key_id is not None else os.environ.get("ARGYLE_API_KEY_ID")
    if key_secret is None:
        key_secret = os.environ.get("ARGYLE_API_KEY_SECRET")
    if key_id and key_secret:
        return ArgyleClient(key_id, key_secret, base_url=base_url, **options)
    if base_url is not None:
        raise ValueError(
            f"base_url={base_url!r} needs a key: set ARGYLE_API_KEY_ID and "
            "ARGYLE_API_KEY_SECRET (or pass key_id and key_secret), or leave base_url "
            "unset to use the embedded sandbox"
        )
    from argyle_nb import sandbox as embedded

    users = embedded.DEMO_USERS if users is None else users
    seed = embedded.DEMO_SEED if seed is None else seed
    if isinstance(users, bool) or not isinstance(users, int) or users < 0:
        raise ValueError(f"users must be a whole number >= 0, not {users!r}")
    running = embedded.start(users=users, seed=seed)
    options.setdefault("cache", "memory")
    try:
        client = ArgyleClient(
            running.key_id, running.key_secret, base_url=running.base_url, **options
        )
    except BaseException:
        running.stop()
        raise
    client.sandbox = running
    print(
        f"argyle_nb: no API key configured: started the embedded sandbox with "
        f"{users} demo users at {running.base_url}"
    )
    return client
