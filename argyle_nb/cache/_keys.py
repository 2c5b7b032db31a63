"""Where the cache lives, how its keys are made and how long entries are kept."""

from __future__ import annotations

import hmac
import os
import re
import stat
from datetime import timedelta
from hashlib import blake2b
from pathlib import Path
from typing import Any, Final, Literal

import platformdirs
from requests_cache import DO_NOT_CACHE, create_key

__all__ = [
    "DEFAULT_CACHE_PATH",
    "LIST_EXPIRY",
    "NOTEBOOK_LISTS",
    "OBJECT_EXPIRY",
    "Backend",
    "default_cache_path",
    "expiry_table",
    "make_key_fn",
    "namespace",
    "secret_fingerprint",
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


def secret_fingerprint(key_secret: str) -> str:
    """A non-reversible fingerprint of an API secret: HMAC-SHA256 keyed by the secret.

    It goes into the cache's partition, so a wrong secret never reads what the right one
    cached; the secret itself is never stored.

    Examples:
        >>> len(secret_fingerprint("s3cret")), secret_fingerprint("a") == secret_fingerprint("b")
        (32, False)
    """
    return hmac.new(key_secret.encode(), b"argyle_nb cache partition", "sha256").hexdigest()[:32]


def namespace(base_url: str, key_id: str, key_secret: str) -> str:
    """A short, stable digest of the base URL, the key id and the secret's fingerprint: the
    cache's partition.

    Examples:
        >>> url = "https://api.argyle.com/v1"
        >>> namespace(url + "/", "a", "s") == namespace(url, "a", "s")
        True
        >>> namespace(url, "a", "s") == namespace(url, "b", "s")
        False
        >>> namespace(url, "a", "s") == namespace(url, "a", "wrong secret")
        False
    """
    text = f"{base_url.rstrip('/')}\x00{key_id}\x00{secret_fingerprint(key_secret)}"
    return blake2b(text.encode(), digest_size=8).hexdigest()


def make_key_fn(base_url: str, key_id: str, key_secret: str) -> Any:
    """A requests-cache ``key_fn`` whose keys also depend on the base URL, the key id and a
    fingerprint of the secret (:func:`secret_fingerprint`).

    requests-cache leaves ``Authorization`` out of its keys (and out of what it stores);
    this puts the key pair back in, hashed, so two key pairs, or a key id with a wrong
    secret, never share an entry.
    """
    space = namespace(base_url, key_id, key_secret)

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

    Examples:
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
