"""Provenance of fetched frames, ``client.prefetch()`` and ``client.cache.report()`` on a live
sandbox: where the data came from, how old it is, and what offline work would miss."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from argyle_nb import NotCachedError, connect, provenance_of
from argyle_nb.cache import LIST_EXPIRY
from argyle_nb.provenance import SANDBOX_URL_VARIABLE, Provenance
from argyle_nb.sandbox import Sandbox, start
from tests.integration.clients import client_on

USERS = 450  # 3 pages of users, about 650 accounts: 4 pages


@pytest.fixture(scope="module")
def sandbox450(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with start(db=tmp_path_factory.mktemp("prov") / "s.sqlite", users=USERS, seed=5) as running:
        yield running


def prov(frame: object) -> Provenance:
    found = provenance_of(frame)  # type: ignore[arg-type]
    assert found is not None
    return found


def test_the_environment_is_named_without_a_request(
    sandbox450: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SANDBOX_URL_VARIABLE, sandbox450.base_url)  # as argyle-nb lab does
    with client_on(sandbox450) as client:
        assert "environment='embedded sandbox'" in repr(client)
        assert client.cache.info().responses == 0  # no request was needed to say so
    monkeypatch.setenv(SANDBOX_URL_VARIABLE, "http://127.0.0.1:1/v1")  # another sandbox's
    with client_on(sandbox450) as client:
        assert client.environment == "custom (127.0.0.1)"
    for name in (SANDBOX_URL_VARIABLE, "ARGYLE_API_KEY_ID", "ARGYLE_API_KEY_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with connect(users=3, seed=1, progress=False) as client:  # connect() started it
        assert client.environment == "embedded sandbox"
        assert client.cache.info().responses == 0


def test_a_fetched_frame_says_where_and_when_it_came_from(sandbox450: Sandbox) -> None:
    ticks = iter(datetime(2030, 1, 1, 12, 0, s, tzinfo=UTC) for s in range(0, 60))
    with client_on(sandbox450, now=lambda: next(ticks)) as client:
        assert client.environment == "custom (127.0.0.1)"  # a loopback URL, before an answer
        first = client.accounts_frame()
        p = prov(first)
        assert client.environment == "embedded sandbox"
        assert (p.environment, p.base_url, p.endpoint) == (
            "embedded sandbox",
            sandbox450.base_url,
            "/v1/accounts",
        )
        assert p.fetch_started == datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)
        assert p.fetch_finished == datetime(2030, 1, 1, 12, 0, 1, tzinfo=UTC)
        pages = -(-len(first) // 200)
        assert (p.pages, p.pages_from_cache, p.records, p.rejected) == (pages, 0, len(first), 0)
        assert p.served_from is not None and p.served_to is not None and p.expires_at is not None
        assert p.served_from <= p.served_to
        assert p.expires_at - p.served_from == pytest.approx(LIST_EXPIRY, abs=timedelta(seconds=5))

        again = client.accounts_frame()
        q = prov(again)
        assert q.pages_from_cache == q.pages == pages
        # The same cached pages: served when first fetched (requests-cache stamps its
        # stored copy a few microseconds after the answer it hands back).
        assert q.served_from - p.served_from < timedelta(milliseconds=50)  # type: ignore[operator]
        assert q.expires_at - p.expires_at < timedelta(milliseconds=50)  # type: ignore[operator]

        users = client.users_frame()
        assert prov(users).endpoint == "/v1/users" and prov(users).records == USERS
        one = first["user"].iloc[0]
        mine = client.accounts_frame(one)
        assert prov(mine).endpoint == f"/v1/accounts?user={one}"
        assert prov(client.availability_frame()).records == len(first)


def test_repr_of_the_client_shows_the_cache_size_and_age(sandbox450: Sandbox) -> None:
    with client_on(sandbox450) as client:
        assert re.search(r"cache=memory, 0 responses\)$", repr(client))
        client.users_frame()
        text = repr(client)
        assert "environment='embedded sandbox'" in text
        assert re.search(r"cache=memory, 3 responses, oldest \d+ s\)$", text), text
        assert sandbox450.key_secret not in text


def test_prefetch_fills_the_cache_for_offline_work(sandbox450: Sandbox, tmp_path: Path) -> None:
    file = tmp_path / "cache.sqlite"
    with client_on(sandbox450, cache_path=file) as client:
        before = client.cache.report()
        assert not before.complete
        assert [r.endpoint for r in before.rows] == ["GET /v1/accounts", "GET /v1/users"]
        assert all(r.cached == 0 and "not cached" in r.offline for r in before.rows)
        assert len(before.missing) == 2

        report = client.prefetch(progress=False)
        assert report.complete and not report.missing
        rows = {r.endpoint: r for r in report.rows}
        assert rows["GET /v1/users"].cached == rows["GET /v1/users"].expected == 3
        assert rows["GET /v1/accounts"].offline == "complete"
        frame = report.to_frame()
        assert frame["cached"].tolist() == [r.cached for r in report.rows]
        assert "every list the notebooks read is cached" in str(report)
        assert "<table>" in report._repr_html_()

    # A new session, offline, on the same cache file: the notebooks' frames load.
    with client_on(sandbox450, cache_path=file, offline=True) as offline:
        users = offline.users_frame()
        accounts = offline.accounts_frame()
        assert len(users) == USERS
        assert prov(accounts).pages_from_cache == prov(accounts).pages
        # What the report said would be missing is missing.
        with pytest.raises(NotCachedError):
            offline.users.get(users["id"].iloc[0])


def test_the_report_names_missing_pages_and_other_endpoints(sandbox450: Sandbox) -> None:
    with client_on(sandbox450) as client:
        pages = client.users.pages()
        assert len(pages) == 3
        # Drop the middle page: an offline session would miss it.
        client.cache.forget([f"{sandbox450.base_url}/users?limit=200&offset=200"])
        user = client.users_frame()["id"].iloc[0]  # fetches the page again...
        client.cache.forget([f"{sandbox450.base_url}/users?limit=200&offset=200"])  # ...gone
        client.users.get(user)
        list(client.accounts.list(user=user))
        report = client.cache.report()
        rows = {r.endpoint: r for r in report.rows}
        users_row = rows["GET /v1/users"]
        assert (users_row.cached, users_row.expected) == (2, 3)
        assert "offsets 200" in users_row.offline
        assert rows["GET /v1/users/{id}"].cached == 1
        assert "only these 1 objects" in rows["GET /v1/users/{id}"].offline
        assert rows["GET /v1/accounts?user={id}"].kind == "lists"
        assert any("GET /v1/users" in m for m in report.missing)
        assert any("GET /v1/accounts:" in m for m in report.missing)  # never fetched


def test_prefetch_shows_one_progress_bar(
    sandbox450: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    with client_on(sandbox450, progress=True) as client:
        client.prefetch()
    err = capsys.readouterr().err
    accounts_pages = -(-len(client_on(sandbox450).accounts_frame()) // 200)
    total = 3 + accounts_pages
    assert f"{total}/{total}" in err  # one bar, ending full
    assert "GET /" not in err  # no bar of its own per list
