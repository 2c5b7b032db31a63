"""The HTTP cache of the Argyle client, built on requests-cache.

* **Where**: a SQLite file in the user's cache directory (``platformdirs``) by default,
  any path you choose, or memory. The file (and its folder) is created owner-only:
  ``0600`` (``0700``), since cached pages hold personal payroll metadata.
* **Keys**: requests-cache's normalized request key, hashed together with the base URL
  and the API key *id* (never the secret): two key pairs or two environments sharing one
  cache file never see each other's entries (:func:`make_key_fn`).
* **Expiry** (:func:`expiry_table`): list pages expire after :data:`LIST_EXPIRY`,
  single users and accounts after :data:`OBJECT_EXPIRY`; ``/user-tokens`` is never
  cached (nor is any POST: requests-cache caches only ``GET``).
* **Offline** (:attr:`ArgyleCache.offline`): answer only from the cache, expired entries
  included; what is not cached raises :class:`~argyle_nb.errors.NotCachedError`.
* **Invalidation**: :meth:`ArgyleCache.forget` drops the entries of given URLs; the
  client calls it after every write.
* **Report** (:meth:`ArgyleCache.report`): per endpoint, what is cached, how old it is,
  when it expires, and what an offline session would miss.

Example:
    >>> cache = ArgyleCache.create("https://api-sandbox.argyle.com/v1", "my-key-id",
    ...                            backend="memory")
    >>> cache.info().responses
    0
    >>> cache
    ArgyleCache(backend='memory', responses=0)
"""

from __future__ import annotations

import html
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from hashlib import blake2b
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import parse_qsl, urlsplit

import orjson
import platformdirs
import requests
from requests_cache import DO_NOT_CACHE, CachedSession, create_key

from argyle_nb.provenance import format_age, utc_or_none

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_CACHE_PATH",
    "LIST_EXPIRY",
    "NOTEBOOK_LISTS",
    "OBJECT_EXPIRY",
    "ArgyleCache",
    "Backend",
    "CacheInfo",
    "CacheReport",
    "CacheReportRow",
    "default_cache_path",
    "expiry_table",
    "make_key_fn",
    "namespace",
    "secure_file",
]

#: Backends of the cache.
Backend = Literal["sqlite", "memory"]

#: How long a list page (``GET /users``, ``GET /accounts``) is reused.
LIST_EXPIRY: Final = timedelta(minutes=5)
#: How long a single object (``GET /users/{id}``, ``GET /accounts/{id}``) is reused.
OBJECT_EXPIRY: Final = timedelta(hours=1)
#: The lists the notebooks read in full: what an offline session needs cached.
NOTEBOOK_LISTS: Final = ("/users", "/accounts")


def default_cache_path() -> Path:
    """``<user cache dir>/argyle_nb/http_cache.sqlite`` (platform-specific folder)."""
    return platformdirs.user_cache_path("argyle_nb", appauthor=False) / "http_cache.sqlite"


#: The default SQLite file of the cache (computed when the module loads).
DEFAULT_CACHE_PATH: Final = default_cache_path()


def namespace(base_url: str, key_id: str) -> str:
    """A short, stable digest of the base URL and the key id: the cache's partition.

    Example:
        >>> url = "https://api.argyle.com/v1"
        >>> namespace(url + "/", "a") == namespace(url, "a")
        True
        >>> namespace(url, "a") == namespace(url, "b")
        False
    """
    text = f"{base_url.rstrip('/')}\x00{key_id}"
    return blake2b(text.encode(), digest_size=8).hexdigest()


def make_key_fn(base_url: str, key_id: str) -> Any:
    """A requests-cache ``key_fn`` whose keys also depend on the base URL and the key id.

    requests-cache leaves ``Authorization`` out of its keys; this puts the key *id* back
    in (hashed), so two key pairs never share an entry. The secret is never used.
    """
    space = namespace(base_url, key_id)

    def key_fn(request: Any, **kwargs: Any) -> str:
        inner: str = create_key(request, **kwargs)
        return blake2b(f"{space}:{inner}".encode(), digest_size=16).hexdigest()

    return key_fn


def expiry_table(base_url: str) -> dict[re.Pattern[str], Any]:
    """Per-endpoint expiry of a base URL: requests-cache's ``urls_expire_after``.

    ==========================================  =======================
    endpoint                                    expiry
    ==========================================  =======================
    ``POST /user-tokens`` (and any token URL)   never cached
    ``GET /users/{id}``, ``GET /accounts/{id}``  :data:`OBJECT_EXPIRY`
    ``GET /users``, ``GET /accounts`` (pages)   :data:`LIST_EXPIRY`
    ==========================================  =======================

    Example:
        >>> from requests_cache.policy.expiration import get_url_expiration
        >>> table = expiry_table("https://api.argyle.com/v1")
        >>> get_url_expiration("https://api.argyle.com/v1/accounts?limit=200&offset=0", table)
        datetime.timedelta(seconds=300)
        >>> get_url_expiration("https://api.argyle.com/v1/users/0994b847", table)
        datetime.timedelta(seconds=3600)
    """
    root = re.escape(base_url.rstrip("/"))
    return {
        re.compile(rf"^{root}/user-tokens"): DO_NOT_CACHE,
        re.compile(rf"^{root}/(users|accounts)/[^/?#]+/?(\?|$)"): OBJECT_EXPIRY,
        re.compile(rf"^{root}/(users|accounts)/?(\?|$)"): LIST_EXPIRY,
    }


def secure_file(path: Path) -> Path:
    """Create ``path`` (and its folder) owner-only, or make an existing one owner-only."""
    path = path.expanduser()
    folder_existed = path.parent.exists()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not folder_existed:
        os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    if stat.S_IMODE(path.stat().st_mode) != 0o600:
        os.chmod(path, 0o600)
    return path


@dataclass(frozen=True)
class CacheInfo:
    """What :meth:`ArgyleCache.info` reports."""

    backend: str
    path: Path | None
    responses: int
    size_bytes: int | None
    offline: bool
    list_expiry: timedelta
    object_expiry: timedelta

    def __str__(self) -> str:
        where = f" at {self.path}" if self.path else ""
        size = f", {self.size_bytes / 1e6:.1f} MB" if self.size_bytes is not None else ""
        mode = ", offline" if self.offline else ""
        return (
            f"{self.backend} cache{where}: {self.responses} responses{size}{mode}; "
            f"lists expire after {self.list_expiry}, objects after {self.object_expiry}"
        )


@dataclass(frozen=True)
class CacheReportRow:
    """What the cache holds for one endpoint (a list, a family of lists, or objects).

    Attributes:
        endpoint: ``GET /v1/users``, ``GET /v1/accounts?user={id}``, ``GET /v1/users/{id}``.
        kind: ``"list"`` (pages of one list), ``"lists"`` (pages of many per-user lists)
            or ``"objects"``.
        cached: entries held (pages, or objects).
        expected: entries the endpoint has, where the cache can tell (a list's first page
            gives its count), else None.
        oldest, newest: when the oldest and newest entries were served (UTC).
        expires: the earliest expiry among them; ``expired``: how many have expired
            (an offline session still reads expired entries).
        offline: what an offline session would miss here, or ``"complete"``.
    """

    endpoint: str
    kind: str
    cached: int
    expected: int | None
    oldest: datetime | None
    newest: datetime | None
    expires: datetime | None
    expired: int
    offline: str

    @property
    def complete(self) -> bool:
        """Whether an offline session would miss nothing of this endpoint."""
        return self.offline == "complete"


@dataclass(frozen=True)
class CacheReport:
    """Per endpoint, what the cache holds for one client and what offline work would miss.

    Shown as a table in a notebook; :meth:`to_frame` gives a DataFrame.
    """

    rows: list[CacheReportRow]
    now: datetime
    base_url: str
    missing: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Whether every list the notebooks read is cached in full."""
        return not self.missing

    def to_frame(self) -> pd.DataFrame:
        """The rows as a DataFrame (one row per endpoint)."""
        import pandas as pd

        columns = [
            "endpoint",
            "kind",
            "cached",
            "expected",
            "oldest",
            "newest",
            "expires",
            "expired",
            "offline",
        ]
        data = [[getattr(row, c) for c in columns] for row in self.rows]
        frame = pd.DataFrame(data, columns=columns)
        frame["expected"] = frame["expected"].astype("Int64")
        for name in ("oldest", "newest", "expires"):
            frame[name] = pd.to_datetime(frame[name], utc=True)
        return frame

    def _cells(self, row: CacheReportRow) -> list[str]:
        total = f" of {row.expected}" if row.expected is not None else ""
        age = format_age(self.now - row.oldest) if row.oldest else "-"
        if row.expires is None:
            expiry = "-"
        elif row.expires <= self.now:
            expiry = f"expired {format_age(self.now - row.expires)} ago"
        else:
            expiry = f"in {format_age(row.expires - self.now)}"
        return [row.endpoint, f"{row.cached}{total} {_unit(row)}", age, expiry, row.offline]

    def __str__(self) -> str:
        head = ["endpoint", "cached", "oldest", "first expiry", "offline"]
        lines = [head, *(self._cells(row) for row in self.rows)]
        widths = [max(len(line[i]) for line in lines) for i in range(len(head) - 1)]
        text = [
            "  ".join(cell.ljust(w) for cell, w in zip(line[:-1], widths, strict=False))
            + "  "
            + line[-1]
            for line in lines
        ]
        verdict = (
            "offline: every list the notebooks read is cached"
            if self.complete
            else "offline would miss: " + "; ".join(self.missing)
        )
        return "\n".join([f"cache of {self.base_url}", *text, verdict])

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        head = "".join(
            f"<th>{h}</th>" for h in ("endpoint", "cached", "oldest", "first expiry", "offline")
        )
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in self._cells(row)) + "</tr>"
            for row in self.rows
        )
        verdict = (
            "offline: every list the notebooks read is cached"
            if self.complete
            else "offline would miss: " + "; ".join(self.missing)
        )
        return (
            f"<div><b>cache of {html.escape(self.base_url)}</b><table>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            f"<p>{html.escape(verdict)}</p></div>"
        )


def _unit(row: CacheReportRow) -> str:
    return "objects" if row.kind == "objects" else "pages"


@dataclass
class _Entry:
    key: str
    path: str
    params: dict[str, str]
    created_at: datetime | None
    expires: datetime | None
    body: bytes


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
        *,
        backend: Backend = "sqlite",
        path: str | Path | None = None,
        offline: bool = False,
    ) -> ArgyleCache:
        """A cache for ``base_url`` and ``key_id`` on ``backend`` (SQLite file ``path``)."""
        common: dict[str, Any] = {
            "key_fn": make_key_fn(base_url, key_id),
            "urls_expire_after": expiry_table(base_url),
            "expire_after": LIST_EXPIRY,
            "allowable_methods": ("GET",),
            "allowable_codes": (200,),
            "cache_control": False,
        }
        if backend == "memory":
            session = CachedSession(backend="memory", **common)
            cache = cls(session, backend="memory", path=None, base_url=base_url)
        elif backend == "sqlite":
            file = secure_file(Path(path) if path is not None else default_cache_path())
            session = CachedSession(str(file), backend="sqlite", wal=True, **common)
            cache = cls(session, backend="sqlite", path=file, base_url=base_url)
        else:
            raise ValueError(f"cache backend must be 'sqlite' or 'memory', not {backend!r}")
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

    def forget(self, urls: list[str]) -> int:
        """Drop the entries of ``GET`` these URLs; returns how many there were."""
        keys = [self.key(url) for url in urls]
        present = [k for k in keys if self.session.cache.contains(key=k)]
        if present:
            self.session.cache.delete(*present)
        return len(present)

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
        """The cached ``GET`` answers of this client's base URL and key (not others')."""
        root = urlsplit(self.base_url).path.rstrip("/")
        for key, response in list(self.session.cache.responses.items()):
            request = getattr(response, "request", None)
            url = str(getattr(request, "url", None) or getattr(response, "url", "") or "")
            if not url.startswith(self.base_url) or self.key(url) != key:
                continue
            parts = urlsplit(url)
            yield _Entry(
                key=key,
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

        Example:
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

        Example:
            >>> ArgyleCache.create("https://api.argyle.com/v1", "k", backend="memory").summary()
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

        Example:
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


def _offline(kind: str, entries: list[_Entry]) -> tuple[int | None, str]:
    """``(entries expected, what offline would miss)`` of one endpoint's entries."""
    if kind == "objects":
        return None, f"only these {len(entries)} objects" if entries else "no objects cached"
    lists: dict[tuple[tuple[str, str], ...], dict[int, _Entry]] = {}
    for entry in entries:
        others = tuple(sorted((k, v) for k, v in entry.params.items() if k not in _PAGING))
        offset = int(entry.params.get("offset", "0") or 0)
        lists.setdefault(others, {})[offset] = entry
    if not lists:
        return None, "not cached: every page would be missing"
    expected_total = 0
    gaps: list[str] = []
    for pages in lists.values():
        first = pages.get(0)
        count = _count(first.body) if first is not None else None
        if count is None:
            gaps.append("the first page")
            continue
        limit = int(first.params.get("limit", "0") or 0) if first is not None else 0
        offsets = range(0, count, limit) if limit > 0 else range(1)
        expected_total += max(1, len(offsets))
        absent = [o for o in offsets if o not in pages]
        if absent:
            gaps.append(f"{len(absent)} pages (offsets {', '.join(map(str, absent[:5]))}...)")
    if kind == "lists":
        detail = f"{len(lists)} lists cached; other users' lists would be missing"
        return expected_total or None, detail if not gaps else detail + "; " + gaps[0]
    if gaps:
        return (expected_total or None), "misses " + "; ".join(gaps)
    return expected_total, "complete"


_PAGING: Final = ("limit", "offset")


def _count(body: bytes) -> int | None:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    count = data.get("count") if isinstance(data, dict) else None
    return count if isinstance(count, int) and not isinstance(count, bool) else None
