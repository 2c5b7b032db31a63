"""The cache layer: keys, the expiry table, permissions, offline flag, forget."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from requests_cache import DO_NOT_CACHE
from requests_cache.policy.expiration import get_url_expiration

from argyle_nb.cache import (
    LIST_EXPIRY,
    OBJECT_EXPIRY,
    ArgyleCache,
    CacheFileRecoveredWarning,
    default_cache_path,
    expiry_table,
    make_key_fn,
    namespace,
    secret_fingerprint,
    secure_file,
)

BASE = "https://api-sandbox.argyle.com/v1"
USER = "0994b847-cc69-4d98-bc99-c5e65e762add"


def _key(base: str, key_id: str, url: str, secret: str = "secret") -> str:
    key: str = make_key_fn(base, key_id, secret)(requests.Request("GET", url).prepare())
    return key


def test_key_depends_on_the_key_pair_and_base_url_never_on_the_sent_header() -> None:
    url = f"{BASE}/users?limit=200&offset=0"
    assert _key(BASE, "a", url) == _key(BASE, "a", url)
    assert _key(BASE, "a", url) != _key(BASE, "b", url)
    assert _key(BASE, "a", url) != _key("https://api.argyle.com/v1", "a", url)
    # a wrong secret with the right key id never reads the right one's entries
    assert _key(BASE, "a", url, "right") != _key(BASE, "a", url, "wrong")
    # what the request carries does not matter: only the pair the cache was made for
    with_secret = requests.Request("GET", url, auth=("a", "secret-1")).prepare()
    other_secret = requests.Request("GET", url, auth=("a", "secret-2")).prepare()
    key_fn = make_key_fn(BASE, "a", "secret")
    assert key_fn(with_secret) == key_fn(other_secret) == _key(BASE, "a", url)


def test_the_secret_is_only_a_fingerprint() -> None:
    fingerprint = secret_fingerprint("s3cret-value")
    assert "s3cret" not in fingerprint and len(fingerprint) == 32
    assert fingerprint == secret_fingerprint("s3cret-value")


def test_key_ignores_query_order() -> None:
    a = _key(BASE, "a", f"{BASE}/accounts?limit=200&offset=400&user={USER}")
    b = _key(BASE, "a", f"{BASE}/accounts?user={USER}&offset=400&limit=200")
    assert a == b


def test_namespace_normalizes_trailing_slash() -> None:
    assert namespace(BASE + "/", "k", "s") == namespace(BASE, "k", "s")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"{BASE}/users?limit=200&offset=0", LIST_EXPIRY),
        (f"{BASE}/users", LIST_EXPIRY),
        (f"{BASE}/accounts?limit=200&offset=400&user={USER}", LIST_EXPIRY),
        (f"{BASE}/users/{USER}", OBJECT_EXPIRY),
        (f"{BASE}/accounts/{USER}", OBJECT_EXPIRY),
        (f"{BASE}/user-tokens", DO_NOT_CACHE),
        ("https://elsewhere.example/v1/users/x", None),
    ],
)
def test_expiry_table(url: str, expected: object) -> None:
    assert get_url_expiration(url, expiry_table(BASE)) == expected


def test_lists_expire_sooner_than_objects() -> None:
    assert timedelta(0) < LIST_EXPIRY < OBJECT_EXPIRY


def test_default_path_is_in_the_user_cache_dir() -> None:
    path = default_cache_path()
    assert path.name == "http_cache.sqlite"
    assert "argyle_nb" in path.parts


def test_secure_file_creates_owner_only(tmp_path: Path) -> None:
    path = secure_file(tmp_path / "new" / "cache.sqlite")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_secure_file_tightens_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    path.write_bytes(b"")
    path.chmod(0o644)
    secure_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_sqlite_cache_file_is_owner_only(tmp_path: Path) -> None:
    cache = ArgyleCache.create(BASE, "k", "s", path=tmp_path / "c.sqlite")
    try:
        info = cache.info()
        assert info.backend == "sqlite"
        assert info.path == tmp_path / "c.sqlite"
        assert info.responses == 0
        assert stat.S_IMODE((tmp_path / "c.sqlite").stat().st_mode) == 0o600
        cache.clear()
        assert stat.S_IMODE((tmp_path / "c.sqlite").stat().st_mode) == 0o600
    finally:
        cache.close()


def test_offline_flag_sets_only_if_cached() -> None:
    cache = ArgyleCache.create(BASE, "k", "s", backend="memory")
    assert not cache.offline
    cache.offline = True
    assert cache.session.settings.only_if_cached
    assert "offline" in repr(cache)
    assert cache.info().offline
    cache.offline = False
    assert not cache.session.settings.only_if_cached


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="sqlite"):
        ArgyleCache.create(BASE, "k", "s", backend="redis")  # type: ignore[arg-type]


def test_forget_on_empty_cache_is_a_no_op() -> None:
    cache = ArgyleCache.create(BASE, "k", "s", backend="memory")
    cache.forget([f"{BASE}/users/{USER}"])
    assert not cache.contains(f"{BASE}/users/{USER}")
    assert cache.content(f"{BASE}/users/{USER}") is None


# ---------------------------------------------------------------------------
# A cache file that is damaged, shared or left loose
# ---------------------------------------------------------------------------


def _filled(path: Path, key_id: str = "k", pages: int = 30) -> None:
    """A cache file holding ``pages`` stored list pages of ``key_id``."""
    from tests.hostile import Reply, serve

    body = b'{"count": 1, "next": null, "results": [{"id": "x"}]}' + b" " * 20_000
    with serve(lambda r: Reply(body=body)) as fake:
        cache = ArgyleCache.create(fake.base_url, key_id, "s", path=path)
        try:
            for n in range(pages):
                cache.session.get(f"{fake.base_url}/users?limit=200&offset={n * 200}")
        finally:
            cache.close()


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_cache_file_is_moved_aside_not_deleted(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "c.sqlite"
    if damage == "garbage":
        path.write_bytes(b"this is not a database" * 100)
    else:
        _filled(path)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    original = path.read_bytes()
    with pytest.warns(CacheFileRecoveredWarning, match=r"not a readable SQLite database") as seen:
        cache = ArgyleCache.create(BASE, "k", "s", path=path)
    try:
        assert cache.info().responses == 0  # a new, working cache
        (aside,) = (
            p
            for p in tmp_path.glob("c.sqlite.corrupt-*")
            if p.name[-4:] != "-wal" and p.name[-4:] != "-shm"
        )
        assert aside.read_bytes() == original  # kept, as it was
        assert str(aside) in str(seen[0].message) and str(path) in str(seen[0].message)
    finally:
        cache.close()


def test_every_file_of_the_cache_is_owner_only_even_if_it_existed(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    _filled(path, pages=2)
    for suffix in ("", "-wal", "-shm"):
        companion = Path(f"{path}{suffix}")
        companion.touch()
        companion.chmod(0o644)
    cache = ArgyleCache.create(BASE, "k", "s", path=path)
    try:
        for suffix in ("", "-wal", "-shm"):
            assert stat.S_IMODE(Path(f"{path}{suffix}").stat().st_mode) == 0o600, suffix
    finally:
        cache.close()


def test_the_report_holds_up_while_another_client_writes_the_file(tmp_path: Path) -> None:
    import threading

    path = tmp_path / "shared.sqlite"
    _filled(path, key_id="mine", pages=20)
    stop = threading.Event()
    failures: list[BaseException] = []

    def other_writer() -> None:
        try:
            while not stop.is_set():
                _filled(path, key_id="theirs", pages=5)
                theirs = ArgyleCache.create(BASE, "theirs", "s", path=path)
                try:
                    theirs.clear()
                finally:
                    theirs.close()
        except BaseException as exc:  # pragma: no cover - only when the test fails
            failures.append(exc)

    thread = threading.Thread(target=other_writer)
    thread.start()
    try:
        mine = ArgyleCache.create(BASE, "mine", "s", path=path)
        try:
            for _ in range(60):
                repr(mine), mine.info(), mine.summary(), mine.report()
        finally:
            mine.close()
    finally:
        stop.set()
        thread.join(timeout=60)
    assert failures == []
