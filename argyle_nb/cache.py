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

Example:
    >>> cache = ArgyleCache.create("https://api-sandbox.argyle.com/v1", "my-key-id",
    ...                            backend="memory")
    >>> cache.info().responses
    0
    >>> cache
    ArgyleCache(backend='memory', responses=0)
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from datetime import timedelta
from hashlib import blake2b
from pathlib import Path
from typing import Any, Final, Literal

import platformdirs
import requests
from requests_cache import DO_NOT_CACHE, CachedSession, create_key

__all__ = [
    "DEFAULT_CACHE_PATH",
    "LIST_EXPIRY",
    "OBJECT_EXPIRY",
    "ArgyleCache",
    "Backend",
    "CacheInfo",
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


class ArgyleCache:
    """The cache of one client: a requests-cache ``CachedSession`` and what it holds.

    Create it with :meth:`create`; the client exposes it as ``client.cache``.
    """

    def __init__(self, session: Any, *, backend: Backend, path: Path | None) -> None:
        self.session: Any = session
        self.backend: Backend = backend
        self.path = path

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
            cache = cls(session, backend="memory", path=None)
        elif backend == "sqlite":
            file = secure_file(Path(path) if path is not None else default_cache_path())
            session = CachedSession(str(file), backend="sqlite", wal=True, **common)
            cache = cls(session, backend="sqlite", path=file)
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

    def clear(self) -> None:
        """Empty the cache (every key pair's entries in this file)."""
        self.session.cache.clear()
        if self.path is not None and self.path.exists():
            os.chmod(self.path, 0o600)

    def close(self) -> None:
        """Close the session and its backend."""
        self.session.close()

    def __repr__(self) -> str:
        where = f", path={str(self.path)!r}" if self.path else ""
        offline = ", offline" if self.offline else ""
        count = len(self.session.cache.responses)
        return f"ArgyleCache(backend={self.backend!r}{where}, responses={count}{offline})"
