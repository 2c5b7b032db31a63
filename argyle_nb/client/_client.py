"""The cached Argyle API v1 client: :class:`ArgyleClient`.

It puts the parts together: the cache (:mod:`argyle_nb.cache`), the
:class:`~argyle_nb.client._transport.Transport` every request goes through, the
:class:`~argyle_nb.client._pagination.Paginator` that walks lists, the resources, and the
DataFrames built from what they fetch (:mod:`argyle_nb.frames`, with provenance and
rejected records).
"""

from __future__ import annotations

import os
import random as _random
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final, TypeVar

from pydantic import BaseModel

from argyle_nb.cache import NOTEBOOK_LISTS, ArgyleCache, Backend, CacheReport
from argyle_nb.client._http import LimitedAdapter
from argyle_nb.client._listing import Quarantine
from argyle_nb.client._pagination import Page, Paginator
from argyle_nb.client._progress import Progress
from argyle_nb.client._requester import PAGE_SIZE, Requester
from argyle_nb.client._resources import Accounts, Users, UserTokens, account_filter
from argyle_nb.client._retry import RetryPolicy
from argyle_nb.client._transport import Limits, Transport, where
from argyle_nb.errors import ArgyleValueError
from argyle_nb.provenance import SANDBOX_URL_VARIABLE

if TYPE_CHECKING:
    import pandas as pd

    from argyle_nb.dataset import Dataset
    from argyle_nb.frames import Table
    from argyle_nb.sandbox import Sandbox

__all__ = ["DEFAULT_BASE_URL", "PAGE_SIZE", "ArgyleClient"]

#: Argyle's sandbox environment: the default ``ARGYLE_BASE_URL``.
DEFAULT_BASE_URL: Final = "https://api-sandbox.argyle.com/v1"
#: Pages fetched at once after the first.
DEFAULT_WORKERS: Final = 8

M = TypeVar("M", bound=BaseModel)


class ArgyleClient(Requester):
    """A cached, retrying client of the Argyle API v1.

    Args:
        key_id: the API key's id (default: ``ARGYLE_API_KEY_ID``).
        key_secret: the API key's secret (default: ``ARGYLE_API_KEY_SECRET``).
        base_url: default ``ARGYLE_BASE_URL``, else Argyle's sandbox URL. Only its origin
            (scheme, host, port) is ever contacted: links and redirects elsewhere are refused.
        cache: ``"sqlite"`` (default) or ``"memory"``.
        cache_path: the SQLite file (default: in the user's cache directory).
        offline: answer only from the cache.
        retry: the :class:`RetryPolicy`.
        workers: pages fetched at once after the first (1: sequential).
        progress: show a progress bar on multi-page fetches.
        timeout: seconds one request may take in all, connecting to the last byte of the
            answer (a slow-dripping server cannot stretch it); retries wait on top.
        max_response_bytes: the largest answer accepted, after decompression (64 MiB).
        strict: raise :class:`~argyle_nb.errors.InvalidRecordsError` when a record of a
            list fails validation, instead of setting it aside in :attr:`rejected` with
            a :class:`~argyle_nb.quarantine.RejectedRecordsWarning`.
        sleep: how the client waits between retries (``time.sleep``; tests inject).
        random: the retries' jitter (``random.random``; tests inject).
        clock: the monotonic clock of deadlines (``time.monotonic``; tests inject).
        now: the UTC wall clock of provenance (tests inject).

    Examples:
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
        max_response_bytes: int = Limits.max_response_bytes,
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
            raise ArgyleValueError(
                "no API key: pass key_id and key_secret or set ARGYLE_API_KEY_ID and "
                "ARGYLE_API_KEY_SECRET (argyle_nb.connect() starts a local sandbox instead)"
            )
        if workers < 1:
            raise ArgyleValueError(f"workers must be >= 1, not {workers}")
        base = base_url or os.environ.get("ARGYLE_BASE_URL") or DEFAULT_BASE_URL
        if not base.startswith(("http://", "https://")):
            raise ArgyleValueError(f"base_url must be an http(s) URL, not {base!r}")
        self.base_url: str = base.rstrip("/")
        self.key_id: str = key_id
        self.workers = workers
        self.progress = progress
        #: Raise on records that fail validation instead of setting them aside.
        self.strict = strict
        self._now = now
        # Known at once when argyle-nb lab names this URL as its sandbox; else told by
        # the first answer (the embedded sandbox marks every answer).
        self._embedded = os.environ.get(SANDBOX_URL_VARIABLE) == self.base_url
        self.limits = Limits(timeout=timeout, max_response_bytes=max_response_bytes)
        self.cache = ArgyleCache.create(
            self.base_url, key_id, key_secret, backend=cache, path=cache_path, offline=offline
        )
        adapter = LimitedAdapter(max_bytes=self.limits.max_response_bytes, pool_maxsize=workers + 2)
        self.cache.session.mount("http://", adapter)
        self.cache.session.mount("https://", adapter)
        self.transport = Transport(
            self.cache.session,
            base_url=self.base_url,
            auth=(key_id, key_secret),
            retry=retry or RetryPolicy(),
            limits=self.limits,
            offline=lambda: self.cache.offline,
            sleep=sleep,
            random=random,
            clock=clock,
        )
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self.paginator = Paginator(
            self._page, base_url=self.base_url, executor=self._executor, workers=workers
        )
        self._quarantine = Quarantine(strict=lambda: self.strict, now=now)
        #: The embedded sandbox this client runs on (set by :func:`connect`), else None.
        self.sandbox: Sandbox | None = None
        self.users = Users(self)
        self.user_tokens = UserTokens(self)
        self.accounts = Accounts(self)

    @property
    def retry(self) -> RetryPolicy:
        """The :class:`RetryPolicy` of every request."""
        return self.transport.retry

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

    # -- DataFrames --------------------------------------------------------------

    def users_frame(self, *, progress: bool | None = None) -> pd.DataFrame:
        """Every user as a typed DataFrame (:func:`argyle_nb.frames.users_frame`).

        ``df.attrs["provenance"]`` says where and when it came from and whether the list
        was read consistently (:func:`argyle_nb.provenance_of`); users that fail
        validation are left out, with a warning, and kept in :attr:`rejected`.
        """
        return self._frame("/users", {}, "users", "users_frame()", progress)

    def accounts_frame(
        self, user: str | uuid.UUID | None = None, *, progress: bool | None = None
    ) -> pd.DataFrame:
        """Every account (of ``user``) as a typed DataFrame (``frames.accounts_frame``).

        Provenance and rejected records as for :meth:`users_frame`.
        """
        params = account_filter(user)
        return self._frame("/accounts", params, "accounts", "accounts_frame()", progress)

    def availability_frame(
        self, user: str | uuid.UUID | None = None, *, progress: bool | None = None
    ) -> pd.DataFrame:
        """Per-resource availability of every account, one row per account and resource.

        Provenance and rejected records as for :meth:`users_frame` (``records`` in the
        provenance counts accounts, not rows).
        """
        params = account_filter(user)
        return self._frame("/accounts", params, "availability", "availability_frame()", progress)

    def _frame(
        self,
        path: str,
        params: dict[str, str],
        table: Table,
        read_by: str,
        progress: bool | None,
    ) -> pd.DataFrame:
        """The frame of ``table`` of a list, built page by page as the pages come."""
        from argyle_nb.client._frames import FrameSink

        sink = FrameSink(table)
        listing = self._listing(path, params, progress, sink=sink)
        frame, rejected, kept = sink.result(listing.walk)
        noun = "users" if table == "users" else "accounts"
        return self._quarantine.frame(listing, noun, read_by, frame, rejected, kept)

    def export(
        self,
        path: str | os.PathLike[str],
        *,
        progress: bool | None = None,
        batch_pages: int | None = None,
        storage_options: dict[str, str] | None = None,
        keep: int | None = None,
    ) -> Dataset:
        """Add every user and account as one more snapshot of the dataset at ``path``,
        page batch by page batch, in memory that does not grow with the portfolio;
        returns the new snapshot opened.

        ``path`` is a folder (made if missing) or an ``s3://`` URL (with deltalake's
        ``storage_options``): a Delta Lake store of every export (see
        :mod:`argyle_nb.dataset`), where only what changed since the last is written. A
        snapshot is added whole or not at all: an interrupted export leaves the dataset
        as it was. Tables ``users``, ``accounts``, ``availability`` and ``rejected`` (the
        records set aside, with their reasons). ``batch_pages`` pages (default
        :data:`~argyle_nb.dataset.BATCH_PAGES`) are read at a time. ``keep``: once the
        snapshot is added, forget all but the newest ``keep`` snapshots and remove the
        files only they needed (default: keep every snapshot). The pages go to the
        dataset only: the HTTP cache neither serves nor keeps them (an offline client
        exports from its cache).

        Examples:
            >>> ds = client.export("portfolio")                          # doctest: +SKIP
            >>> ds.sql("select count(*) from accounts").fetchall()       # doctest: +SKIP
            >>> ds.snapshots                                             # doctest: +SKIP
        """
        from argyle_nb.client._export import export
        from argyle_nb.dataset import BATCH_PAGES

        return export(
            path,
            # the pages go to the dataset, not a second time to the cache
            paginator=self.paginator.fetching(
                lambda url, fresh: self._page(url, fresh, store=False)
            ),
            first_page=lambda p: self._first_page(p, {}),
            endpoint=lambda p: where(self._url(p, {})),
            base_url=self.base_url,
            environment=lambda: self.environment,
            now=self._now,
            progress=self.progress if progress is None else progress,
            batch_pages=BATCH_PAGES if batch_pages is None else batch_pages,
            storage_options=storage_options,
            keep=keep,
        )

    @property
    def rejected(self) -> pd.DataFrame:
        """Records that failed validation in the latest read of each list.

        One row per record (:data:`~argyle_nb.quarantine.REJECTED_COLUMNS`): the list's
        endpoint, what read it (``accounts_frame()``, ``availability_frame()``,
        ``accounts.list()``...: each judges the fields it shows), the page URL, the
        record's position, its id when it has one, what was wrong, the raw JSON and when
        it was set aside. A new read of a list by the same method replaces those rows.

        Examples:
            >>> client.rejected[["url", "error"]]   # doctest: +SKIP
        """
        return self._quarantine.frame_of_rejected()

    # -- offline work ----------------------------------------------------------------

    def prefetch(self, *, progress: bool | None = None) -> CacheReport:
        """Fill the cache with every page the notebooks read, under one progress bar.

        Fetches every page of ``GET /users`` and ``GET /accounts`` (what
        :meth:`users_frame`, :meth:`accounts_frame` and :meth:`availability_frame` read;
        pages still fresh in the cache are not fetched again), then returns
        :meth:`ArgyleCache.report() <argyle_nb.cache.ArgyleCache.report>`: what is
        cached, how old, until when, and what an offline session would still miss.

        Examples:
            >>> report = client.prefetch()   # doctest: +SKIP
            >>> client.cache.offline = True  # doctest: +SKIP
            >>> client.accounts_frame()      # doctest: +SKIP
        """
        show = self.progress if progress is None else progress
        bar = Progress("prefetch", show=show, always=True)
        try:
            for path in NOTEBOOK_LISTS:
                self._listing(path, {}, False, bar=bar, sink=_Discard())
        finally:
            bar.close()
        return self.cache.report()

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="argyle-page")
            return self._pool


class _Discard:
    """A sink that lets every page go (:meth:`ArgyleClient.prefetch` only fills the cache)."""

    def begin(self, number: int) -> None:
        pass

    def page(self, page: Page) -> None:
        pass
