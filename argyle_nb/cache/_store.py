"""The cache of one client: a requests-cache ``CachedSession`` and what it holds."""

from __future__ import annotations

import os
import pickle
import sqlite3
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

import orjson
import requests
from requests_cache import CachedSession
from requests_cache.serializers import SerializerPipeline, Stage
from requests_cache.serializers.preconf import base_stage

from argyle_nb.cache._keys import (
    LIST_EXPIRY,
    NOTEBOOK_LISTS,
    OBJECT_EXPIRY,
    Backend,
    default_cache_path,
    expiry_table,
    make_key_fn,
    secure_file,
)
from argyle_nb.cache._report import (
    CacheInfo,
    CacheReport,
    CacheReportRow,
    _count,
    _Entry,
    _offline,
)
from argyle_nb.envelope import EnvelopeError, parse_list_page
from argyle_nb.errors import ArgyleValueError, CacheFileError
from argyle_nb.provenance import format_age, utc_or_none

__all__ = ["ArgyleCache", "CacheFileRecoveredWarning"]


class ArgyleCache:
    """The cache of one client: a requests-cache ``CachedSession`` and what it holds.

    Create it with :meth:`create`; the client exposes it as ``client.cache``.
    """

    def __init__(
        self, session: Any, *, backend: Backend, path: Path | None, base_url: str = ""
    ) -> None:
        self.session: Any = session
        self.backend: Backend = backend
        self.path = path
        self.base_url = base_url.rstrip("/")

    @classmethod
    def create(
        cls,
        base_url: str,
        key_id: str,
        key_secret: str,
        *,
        backend: Backend = "sqlite",
        path: str | Path | None = None,
        offline: bool = False,
    ) -> ArgyleCache:
        """A cache for ``base_url`` and this key pair on ``backend`` (SQLite file ``path``).

        The secret only enters the keys as a fingerprint (:func:`secret_fingerprint`). A
        SQLite file that is not a readable database is moved aside and replaced, with a
        :class:`CacheFileRecoveredWarning`.
        """
        common: dict[str, Any] = {
            "key_fn": make_key_fn(base_url, key_id, key_secret),
            "urls_expire_after": expiry_table(base_url),
            "expire_after": LIST_EXPIRY,
            "allowable_methods": ("GET",),
            "allowable_codes": (200,),
            "cache_control": False,
            "filter_fn": _well_formed,
        }
        if backend == "memory":
            session = CachedSession(backend="memory", **common)
            cache = cls(session, backend="memory", path=None, base_url=base_url)
        elif backend == "sqlite":
            file = secure_file(Path(path) if path is not None else default_cache_path())
            session = _open_sqlite(file, common)
            cache = cls(session, backend="sqlite", path=file, base_url=base_url)
        else:
            raise ArgyleValueError(f"cache backend must be 'sqlite' or 'memory', not {backend!r}")
        cache.offline = offline
        return cache

    @property
    def offline(self) -> bool:
        """Whether requests are answered only from the cache (expired entries included)."""
        return bool(self.session.settings.only_if_cached)

    @offline.setter
    def offline(self, value: bool) -> None:
        self.session.settings.only_if_cached = bool(value)
        self.session.settings.stale_if_error = bool(value)

    def key(self, url: str) -> str:
        """The cache key of ``GET url`` for this client."""
        key: str = self.session.cache.create_key(requests.Request("GET", url).prepare())
        return key

    def contains(self, url: str) -> bool:
        """Whether ``GET url`` has an entry (fresh or expired)."""
        return bool(self.session.cache.contains(key=self.key(url)))

    def content(self, url: str) -> bytes | None:
        """The cached body of ``GET url`` (fresh or expired), or None."""
        response = self.session.cache.get_response(self.key(url))
        return None if response is None else bytes(response.content)

    def forget(self, urls: list[str]) -> None:
        """Drop the entries of ``GET`` these URLs (requests-cache's ``delete(urls=...)``)."""
        if urls:
            self.session.cache.delete(urls=urls)

    def forget_list(self, page_url: Callable[[int], str], limit: int) -> None:
        """Drop every cached page of one list; ``page_url(offset)`` names its pages.

        How many pages to try comes from the cached first page's ``count``, but never more
        than the cache holds entries, so a lying count costs nothing; pages past that
        are dropped while they are found.
        """
        first = self.content(page_url(0))
        count = _count(first) if first is not None else None
        held = len(self.session.cache.responses)
        pages = min(-(-(count or 0) // limit), held) if limit > 0 else 0
        urls = [page_url(n * limit) for n in range(max(pages, 1))]
        while self.contains(page_url(len(urls) * limit)) and len(urls) <= held:
            urls.append(page_url(len(urls) * limit))
        self.forget(urls)

    def info(self) -> CacheInfo:
        """Backend, file, number of responses, size on disk, mode and the expiry table."""
        size = None
        if self.path is not None:
            size = sum(
                p.stat().st_size
                for p in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm"))
                if p.exists()
            )
        return CacheInfo(
            backend=self.backend,
            path=self.path,
            responses=len(self.session.cache.responses),
            size_bytes=size,
            offline=self.offline,
            list_expiry=LIST_EXPIRY,
            object_expiry=OBJECT_EXPIRY,
        )

    def _entries(self) -> Iterator[_Entry]:
        """The cached ``GET`` answers of this client's base URL and key (not others').

        Safe beside other writers of the same file: the keys are read in one query, and
        an entry deleted (or rewritten) meanwhile is skipped.
        """
        root = urlsplit(self.base_url).path.rstrip("/")
        cache = self.session.cache
        for key in list(cache.responses.keys()):
            try:
                response = cache.get_response(key)
            except (KeyError, ValueError, TypeError, OSError):
                response = None
            if response is None:
                continue
            request = getattr(response, "request", None)
            url = str(getattr(request, "url", None) or getattr(response, "url", "") or "")
            if not url.startswith(self.base_url) or self.key(url) != key:
                continue
            parts = urlsplit(url)
            yield _Entry(
                key=key,
                url=url,
                path=parts.path[len(root) :] or "/",
                params=dict(parse_qsl(parts.query)),
                created_at=utc_or_none(getattr(response, "created_at", None)),
                expires=utc_or_none(getattr(response, "expires", None)),
                body=bytes(response.content),
            )

    def report(self, *, now: datetime | None = None) -> CacheReport:
        """Per endpoint: what is cached, how old, its first expiry, what offline would miss.

        The lists the notebooks read (:data:`NOTEBOOK_LISTS`) always have a row, cached or
        not; a list is complete offline when every page its first page counts is held.

        Examples:
            >>> client.cache.report()   # doctest: +SKIP
            cache of http://127.0.0.1:41823/v1
            endpoint            cached        oldest  first expiry  offline
            GET /v1/users       5 of 5 pages  2 min   in 3 min      complete
            ...
        """
        now = datetime.now(UTC) if now is None else now
        root = urlsplit(self.base_url).path.rstrip("/")
        groups: dict[tuple[str, str], list[_Entry]] = {}
        for entry in self._entries():
            segments = [s for s in entry.path.split("/") if s]
            if len(segments) == 2:
                group = (f"/{segments[0]}/{{id}}", "objects")
            elif "user" in entry.params:
                group = (f"{entry.path}?user={{id}}", "lists")
            else:
                group = (entry.path, "list")
            groups.setdefault(group, []).append(entry)
        for path in NOTEBOOK_LISTS:
            groups.setdefault((path, "list"), [])
        rows: list[CacheReportRow] = []
        missing: list[str] = []
        for (path, kind), entries in sorted(groups.items()):
            endpoint = f"GET {root}{path}"
            expected, offline = _offline(kind, entries)
            if kind == "list" and path in NOTEBOOK_LISTS and offline != "complete":
                missing.append(f"{endpoint}: {offline}")
            served = [e.created_at for e in entries if e.created_at is not None]
            expiries = [e.expires for e in entries if e.expires is not None]
            rows.append(
                CacheReportRow(
                    endpoint=endpoint,
                    kind=kind,
                    cached=len(entries),
                    expected=expected,
                    oldest=min(served) if served else None,
                    newest=max(served) if served else None,
                    expires=min(expiries) if expiries else None,
                    expired=sum(1 for e in expiries if e <= now),
                    offline=offline,
                )
            )
        return CacheReport(rows=rows, now=now, base_url=self.base_url, missing=missing)

    def summary(self) -> str:
        """``memory, 12 responses, oldest 3 min``: what ``repr(client)`` shows.

        Examples:
            >>> cache = ArgyleCache.create("https://api.argyle.com/v1", "k", "s", backend="memory")
            >>> cache.summary()
            'memory, 0 responses'
        """
        info = self.info()
        parts = [info.backend if info.path is None else f"{info.backend} at {info.path}"]
        parts.append(f"{info.responses} responses")
        if info.size_bytes is not None:
            parts.append(f"{info.size_bytes / 1e6:.1f} MB")
        served = [e.created_at for e in self._entries() if e.created_at is not None]
        if served:
            parts.append(f"oldest {format_age(datetime.now(UTC) - min(served))}")
        if info.offline:
            parts.append("offline")
        return ", ".join(parts)

    def clear(self, *, everything: bool = False) -> int:
        """Drop this client's entries (its base URL and key id); returns how many.

        Entries of other key ids and environments sharing the file stay, and so does a
        copy another client prefetched for offline work. ``everything=True`` empties the
        whole file, every key pair's entries.

        Examples:
            >>> client.cache.clear()   # doctest: +SKIP
            14
        """
        if everything:
            count = len(self.session.cache.responses)
            self.session.cache.clear()
        else:
            keys = [entry.key for entry in self._entries()]
            if keys:
                self.session.cache.delete(*keys)
            count = len(keys)
        if self.path is not None and self.path.exists():
            os.chmod(self.path, 0o600)
        return count

    def close(self) -> None:
        """Close the session and its backend."""
        self.session.close()

    def __repr__(self) -> str:
        where = f", path={str(self.path)!r}" if self.path else ""
        offline = ", offline" if self.offline else ""
        count = len(self.session.cache.responses)
        return f"ArgyleCache(backend={self.backend!r}{where}, responses={count}{offline})"


class CacheFileRecoveredWarning(UserWarning):
    """The cache file was not a readable SQLite database: it was moved aside (the warning
    names where) and a new one started."""


def _open_sqlite(file: Path, settings: dict[str, Any]) -> Any:
    """A ``CachedSession`` on ``file``; a file that is not a readable database is moved
    aside once (never deleted) and a new one made. Every file of it ends owner-only."""
    problem = _unreadable(file)
    if problem is not None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        aside = file.with_name(f"{file.name}.corrupt-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{file}{suffix}")
            if source.exists():
                source.rename(f"{aside}{suffix}")
        warnings.warn(
            f"the cache file {file} is not a readable SQLite database ({problem}): moved it "
            f"to {aside} and started a new cache; delete {aside} once you no longer need it",
            CacheFileRecoveredWarning,
            stacklevel=4,
        )
        secure_file(file)
    try:
        session = CachedSession(
            str(file), backend="sqlite", wal=True, serializer=_SERIALIZER, **settings
        )
    except sqlite3.DatabaseError as exc:  # a folder we cannot write, a file locked away
        raise CacheFileError(file, str(exc)) from None
    for companion in (Path(f"{file}-wal"), Path(f"{file}-shm")):
        if companion.exists():
            secure_file(companion)
    return session


def _without_authorization(entry: Any) -> Any:
    """A stored answer's request without its ``Authorization`` header: requests-cache
    already writes ``REDACTED`` for its value; here the header does not reach the file."""
    if isinstance(entry, dict) and isinstance(entry.get("request"), dict):
        headers = entry["request"].get("headers")
        if isinstance(headers, dict):
            for name in [h for h in headers if str(h).lower() == "authorization"]:
                del headers[name]
    return entry


#: requests-cache's pickle serializer with one more stage: no ``Authorization`` stored.
_SERIALIZER: Final = SerializerPipeline(
    [base_stage, Stage(dumps=_without_authorization, loads=lambda entry: entry), Stage(pickle)],
    name="argyle_nb-pickle",
    is_binary=True,
)


def _unreadable(file: Path) -> str | None:
    """What makes ``file`` unusable as a SQLite database, or None (empty files are fine)."""
    if not file.exists() or file.stat().st_size == 0:
        return None
    try:
        connection = sqlite3.connect(f"file:{file}?mode=ro", uri=True, timeout=10)
        try:
            query = "SELECT name FROM sqlite_master WHERE type = 'table'"
            tables = [r[0] for r in connection.execute(query)]
            for table in tables:  # walks each table's b-tree: cheap, and finds a cut file
                if table.isidentifier():
                    connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()
            pages = connection.execute("PRAGMA page_count").fetchone()[0]
            page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    wal = Path(f"{file}-wal")
    size = file.stat().st_size
    if size < pages * page_size and not (wal.exists() and wal.stat().st_size):
        return f"truncated: {size} bytes of {pages * page_size}"
    return None


def _well_formed(response: Any) -> bool:
    """requests-cache's ``filter_fn``: store only a body the endpoint promises, a list page
    for ``GET /users`` and ``GET /accounts``, a JSON object otherwise. Decided once per
    answer (cached answers were judged when stored). An answer to a ``no-store`` request
    (an export's pages) is never stored: it is not read here, only by its reader (a list
    page that is not one is refused, and forgotten by the cache, there)."""
    if getattr(response, "from_cache", False):
        return True
    request = getattr(response, "request", None)
    if request is not None and "no-store" in str(request.headers.get("Cache-Control") or ""):
        return True
    known = getattr(response, "_argyle_nb_well_formed", None)
    if known is not None:
        return bool(known)
    body = response.content or b""
    path = urlsplit(str(response.url)).path.rstrip("/")
    verdict = True
    if path.endswith(("/users", "/accounts")):
        try:
            parse_list_page(body)
        except EnvelopeError:
            verdict = False
    else:
        try:
            verdict = isinstance(orjson.loads(body), dict)
        except orjson.JSONDecodeError:
            verdict = False
    response._argyle_nb_well_formed = verdict
    return verdict
