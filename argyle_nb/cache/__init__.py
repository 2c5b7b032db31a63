"""The HTTP cache of the Argyle client, built on requests-cache.

* **Where**: a SQLite file in the user's cache directory (``platformdirs``) by default,
  any path you choose, or memory. The file, its ``-wal``/``-shm`` companions and its folder
  are owner-only: ``0600`` (``0700``), made so even when they existed before, since cached
  pages hold personal payroll metadata. A file that is not a readable SQLite database is
  moved aside (never deleted) and a new one started, with a
  :class:`CacheFileRecoveredWarning` naming both.
* **Keys** (:func:`make_key_fn`): requests-cache's normalized request key, hashed together
  with the base URL, the API key id and a non-reversible fingerprint of the secret
  (:func:`secret_fingerprint`): two key pairs or two environments sharing one file never
  see each other's entries, and a wrong secret never reads cached data. Neither the
  secret nor an ``Authorization`` header is ever stored.
* **What is cached**: answers ``200`` to ``GET`` whose body is what the endpoint promises
  (a list page for lists, a JSON object for single objects); a broken answer is never
  stored. ``/user-tokens`` is never cached. List pages expire after :data:`LIST_EXPIRY`,
  single users and accounts after :data:`OBJECT_EXPIRY` (:func:`expiry_table`).
* **Offline** (:attr:`ArgyleCache.offline`): answer only from the cache, expired entries
  included; what is not cached raises :class:`~argyle_nb.errors.NotCachedError`.
* **Invalidation**: :meth:`ArgyleCache.forget` drops given URLs and
  :meth:`ArgyleCache.forget_list` every cached page of a list, found among the entries
  (never computed from a page's ``count``); the client applies its invalidation policy
  through them after every write.
* **Report** (:meth:`ArgyleCache.report`): per endpoint, what is cached, how old it is,
  when it expires, and what an offline session would miss.

Examples:
    >>> cache = ArgyleCache.create("https://api-sandbox.argyle.com/v1", "my-key-id",
    ...                            "my-secret", backend="memory")
    >>> cache.info().responses
    0
    >>> cache
    ArgyleCache(backend='memory', responses=0)
"""

from __future__ import annotations

from argyle_nb.cache._keys import (
    DEFAULT_CACHE_PATH,
    LIST_EXPIRY,
    NOTEBOOK_LISTS,
    OBJECT_EXPIRY,
    Backend,
    default_cache_path,
    expiry_table,
    make_key_fn,
    namespace,
    secret_fingerprint,
    secure_file,
)
from argyle_nb.cache._report import CacheInfo, CacheReport, CacheReportRow
from argyle_nb.cache._store import ArgyleCache, CacheFileRecoveredWarning

__all__ = [
    "DEFAULT_CACHE_PATH",
    "LIST_EXPIRY",
    "NOTEBOOK_LISTS",
    "OBJECT_EXPIRY",
    "ArgyleCache",
    "Backend",
    "CacheFileRecoveredWarning",
    "CacheInfo",
    "CacheReport",
    "CacheReportRow",
    "default_cache_path",
    "expiry_table",
    "make_key_fn",
    "namespace",
    "secret_fingerprint",
    "secure_file",
]
