"""The walk over a list against servers that page oddly, lie or change while they are read
(loopback fakes: the remote service misbehaving cannot be had otherwise)."""

from __future__ import annotations

import threading
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from argyle_nb import ListChangedWarning, provenance_of
from argyle_nb.client._pagination import MAX_IDLE_PAGES, offset_template
from argyle_nb.errors import ResponseFormatError
from tests.hostile import Reply, Request, json_reply, serve, users


def offset_list(
    records: list[dict[str, Any]],
    base: Callable[[], str],
    *,
    count: Callable[[], Any] = lambda: None,
) -> Callable[[Request], Reply]:
    """A Django-REST-style offset list over ``records`` (which the test may change)."""
    lock = threading.Lock()

    def handle(request: Request) -> Reply:
        limit = int(request.query.get("limit", "10"))
        offset = int(request.query.get("offset", "0"))
        with lock:
            total = len(records)
            page = records[offset : offset + limit]
        following = offset + limit
        link = f"{base()}{request.path}?limit={limit}&offset={following}"
        said = count()
        return json_reply(
            {
                "count": total if said is None else said,
                "next": link if following < total else None,
                "previous": None,
                "results": page,
            }
        )

    return handle


def ids(client_users: list[Any]) -> list[str]:
    return [str(u.id) for u in client_users]


def test_cursor_links_are_followed_not_offsets_made_up() -> None:
    everyone = users(1000)

    def handle(request: Request) -> Reply:
        at = int(request.query.get("cursor", "0"))  # offset is ignored: cursors only
        page = everyone[at : at + 200]
        link = f"{fake.base_url}/users?limit=200&cursor={at + 200}" if at + 200 < 1000 else None
        return json_reply({"count": 1000, "next": link, "previous": None, "results": page})

    with serve(handle) as fake:
        got = ids(list(fake.client().users.list()))
    assert got == [u["id"] for u in everyone]  # all 1000, each once, in order
    assert all("offset" not in r.query for r in fake.requests[1:])


def test_offset_pages_are_fetched_concurrently_and_checked_against_next() -> None:
    everyone = users(1000)
    with serve(offset_list(everyone, lambda: fake.base_url)) as fake:
        got = ids(list(fake.client(workers=4).users.list()))
    assert got == [u["id"] for u in everyone]
    assert sorted(int(r.query["offset"]) for r in fake.requests) == list(range(0, 1000, 200))


def test_a_next_that_disagrees_with_offset_paging_is_followed_instead() -> None:
    everyone = users(1000)
    normal = offset_list(everyone, lambda: fake.base_url)

    def handle(request: Request) -> Reply:
        reply = normal(request)
        if request.query.get("offset") == "200":  # page 2 sends the walk elsewhere
            return json_reply(
                {
                    "count": 1000,
                    "next": f"{fake.base_url}/users?limit=200&cursor=tail",
                    "results": everyone[200:400],
                }
            )
        if request.query.get("cursor") == "tail":
            return json_reply({"count": 1000, "next": None, "results": everyone[400:]})
        return reply

    with serve(handle) as fake:
        got = ids(list(fake.client(workers=4).users.list()))
    assert got == [u["id"] for u in everyone]


def test_a_small_count_with_more_pages_is_not_a_silent_stop() -> None:
    everyone = users(1000)
    with (
        serve(offset_list(everyone, lambda: fake.base_url, count=lambda: 150)) as fake,
        pytest.warns(ListChangedWarning, match="count=150 but served 1000"),
    ):
        frame = fake.client().users_frame()
    assert len(frame) == 1000 and frame["id"].is_unique
    provenance = provenance_of(frame)
    assert provenance is not None and not provenance.consistent and provenance.passes == 3


def test_a_server_that_ignores_offset_cannot_walk_forever() -> None:
    everyone = users(200)

    def handle(request: Request) -> Reply:  # no count, the same page whatever the offset
        offset = int(request.query.get("offset", "0"))
        link = f"{fake.base_url}/users?limit=200&offset={offset + 200}"
        return json_reply({"next": link, "previous": None, "results": everyone})

    with serve(handle) as fake, pytest.raises(ResponseFormatError, match="no progress"):
        list(fake.client(workers=1).users.list())
    assert len(fake.requests) == MAX_IDLE_PAGES + 1
    with serve(handle) as fake, pytest.raises(ResponseFormatError, match="no progress"):
        list(fake.client(workers=8).users.list())
    assert len(fake.requests) <= MAX_IDLE_PAGES + 1 + 8  # at most a window more in flight


def test_a_next_link_to_itself_ends_in_an_error() -> None:
    def handle(request: Request) -> Reply:
        link = f"{fake.base_url}/users?limit=200&offset=0"
        return json_reply({"next": link, "results": users(200)})

    with serve(handle) as fake, pytest.raises(ResponseFormatError, match="links back"):
        list(fake.client(workers=1).users.list())
    assert len(fake.requests) == 1


def test_a_link_off_our_origin_is_never_followed() -> None:
    with serve(lambda r: json_reply({"results": []})) as elsewhere:
        away = f"{elsewhere.base_url}/users?limit=200&offset=200"

        def handle(request: Request) -> Reply:
            return json_reply({"count": 400, "next": away, "results": users(200)})

        with serve(handle) as fake, pytest.raises(ResponseFormatError, match="origin") as caught:
            list(fake.client().users.list())
    assert away in str(caught.value)
    assert elsewhere.requests == []


def test_a_huge_count_costs_no_memory_and_poisons_no_cache(tmp_path: Path) -> None:
    everyone = users(450)
    path = tmp_path / "c.sqlite"

    def handle(request: Request) -> Reply:
        if request.method == "POST":
            return json_reply({"id": everyone[0]["id"], "token": "t"}, status=201)
        return offset_list(everyone, lambda: fake.base_url, count=lambda: 10**15)(request)

    with serve(handle) as fake:
        tracemalloc.start()
        try:
            with pytest.warns(ListChangedWarning, match="count="):
                got = list(fake.client(cache="sqlite", cache_path=path).users.list())
            with fake.client(cache="sqlite", cache_path=path) as later:
                later.users.create()  # list invalidation, driven by the cached lying count
                report = later.cache.report()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert len(got) == 450
    assert peak < 60e6, f"{peak / 1e6:.0f} MB"
    assert report.rows  # and it came back at all


def test_records_deleted_after_page_one_cost_no_record_that_still_exists() -> None:
    everyone = users(1000)
    served_first = threading.Event()
    normal = offset_list(everyone, lambda: fake.base_url)

    def handle(request: Request) -> Reply:
        reply = normal(request)
        if request.query.get("offset") == "0" and not served_first.is_set():
            served_first.set()
            del everyone[:100]  # the 100 newest go, after page 1 was served
        return reply

    with serve(handle) as fake, warnings.catch_warnings():
        warnings.simplefilter("error", ListChangedWarning)
        frame = fake.client(workers=1).users_frame()
    assert sorted(frame["id"]) == sorted(u["id"] for u in everyone)  # all 900 left
    provenance = provenance_of(frame)
    assert provenance is not None and provenance.consistent and provenance.passes == 2


def test_records_created_at_the_head_while_paging_give_no_duplicates() -> None:
    everyone = users(470)
    normal = offset_list(everyone, lambda: fake.base_url)
    added = threading.Event()

    def handle(request: Request) -> Reply:
        reply = normal(request)
        if request.query.get("offset") == "0" and not added.is_set():
            added.set()
            everyone[:0] = users(20, start=5000)  # 20 new users, newest first
        return reply

    with serve(handle) as fake:
        frame = fake.client(workers=1).users_frame()
    assert frame["id"].is_unique
    assert set(frame["id"]) == {u["id"] for u in everyone}


def test_a_list_that_never_holds_still_is_merged_and_flagged() -> None:
    everyone = users(600)
    original = {u["id"] for u in everyone}
    normal = offset_list(everyone, lambda: fake.base_url)
    counter = iter(range(10_000, 20_000))

    def handle(request: Request) -> Reply:
        everyone.insert(0, users(1, start=next(counter))[0])  # one new user per request
        return normal(request)

    with serve(handle) as fake, pytest.warns(ListChangedWarning, match="changed in each"):
        frame = fake.client(workers=1).users_frame()
    assert frame["id"].is_unique
    assert original <= set(frame["id"])  # every user that existed throughout, once
    provenance = provenance_of(frame)
    assert provenance is not None and provenance.consistent is False
    assert provenance.note is not None and "changed" in provenance.note
    assert provenance.records == len(frame)


def test_a_merged_frame_keeps_what_only_an_earlier_read_served() -> None:
    """Pages are built as they come, pass by pass: a user deleted after the first read and
    windows of an account gone by the last are still in the merged frames, each once."""
    everyone = users(450)
    gone = everyone[300]
    normal = offset_list(everyone, lambda: fake.base_url)
    counter = iter(range(10_000, 20_000))
    requests = 0

    def handle(request: Request) -> Reply:
        nonlocal requests
        requests += 1
        if requests == 4 and gone in everyone:  # the first read is over: one user goes
            everyone.remove(gone)
        everyone.insert(0, users(1, start=next(counter))[0])  # and one comes per request
        return normal(request)

    with serve(handle) as fake, pytest.warns(ListChangedWarning, match="changed in each"):
        frame = fake.client(workers=1).users_frame()
    assert gone["id"] in set(frame["id"]) and frame["id"].is_unique
    assert not any(u["id"] == gone["id"] for u in everyone)
    provenance = provenance_of(frame)
    assert provenance is not None and provenance.records == len(frame)
    assert provenance.passes == 3


def test_offset_template_accepts_only_the_next_offset_page() -> None:
    first = "https://h/v1/accounts?limit=200&offset=0&user=u"
    assert offset_template(first, "https://h/v1/accounts?limit=200&offset=200&user=u")
    assert offset_template(first, "https://h/v1/accounts?limit=200&offset=400&user=u") is None
    assert offset_template(first, "https://h/v1/accounts?limit=100&offset=200&user=u") is None
    assert offset_template(first, "https://h/v1/accounts?limit=200&offset=200&user=v") is None
    assert offset_template(first, "https://other/v1/accounts?limit=200&offset=200&user=u") is None


def test_an_export_reads_a_changed_list_again_and_keeps_each_id_once(tmp_path: Path) -> None:

    everyone = users(470)
    normal = offset_list(everyone, lambda: fake.base_url)
    added = threading.Event()

    def handle(request: Request) -> Reply:
        reply = normal(request)
        if request.path == "/v1/accounts":
            return json_reply({"count": 0, "next": None, "previous": None, "results": []})
        if request.query.get("offset") == "0" and not added.is_set():
            added.set()
            everyone[:0] = users(20, start=5000)  # 20 new users while the first pass reads
        return reply

    with serve(handle) as fake, fake.client(workers=1) as client:
        ds = client.export(tmp_path / "portfolio", batch_pages=1)
    with ds:
        written = [row[0] for row in ds.sql("select id from users").fetchall()]
        found = ds.provenance("/v1/users")
    assert sorted(written) == sorted(u["id"] for u in everyone)  # the second, clean pass
    assert found.passes == 2 and found.consistent and found.records == len(everyone)


def test_an_export_of_a_list_that_never_holds_still_says_so(tmp_path: Path) -> None:
    everyone = users(600)
    normal = offset_list(everyone, lambda: fake.base_url)
    counter = iter(range(10_000, 20_000))

    def handle(request: Request) -> Reply:
        if request.path == "/v1/accounts":
            return json_reply({"count": 0, "next": None, "previous": None, "results": []})
        everyone.insert(0, users(1, start=next(counter))[0])  # one new user per request
        return normal(request)

    changed = pytest.warns(ListChangedWarning, match="changed in each")
    with serve(handle) as fake, changed, fake.client(workers=1) as client:
        ds = client.export(tmp_path / "portfolio", batch_pages=2)
    with ds:
        written = [row[0] for row in ds.sql("select id from users").fetchall()]
        found = ds.provenance("/v1/users")
    assert len(written) == len(set(written))  # each id once, though pages shifted
    assert found.consistent is False and found.note is not None and "changed" in found.note
    assert found.records == len(written)


def test_a_pass_remembers_ids_compactly_and_never_merges_two() -> None:
    """Canonical UUIDs are kept as numbers (the walk's memory per record); any other text
    stays text, so ids that differ by case or hyphens stay two ids."""
    from argyle_nb.client._passes import _compact

    canonical = "0994b847-cc69-4d98-bc99-c5e65e762add"
    others = [canonical.upper(), "0994b847cc69-4d98-bc99-c5e6-5e762add", " " + canonical[1:]]
    assert isinstance(_compact(canonical), int)
    assert len({_compact(i) for i in [canonical, *others]}) == 4
    assert _compact(canonical) == _compact(str(canonical))


def test_the_warning_of_overlapping_pages_counts_the_users_the_frame_holds() -> None:
    """Every page after the first starts 5 users early (pages overlap): the list never
    reads consistently, and the warning counts the users of the frame, each id once (it
    said "The 460 users kept" of a frame of 450)."""
    everyone = users(450)
    normal = offset_list(everyone, lambda: fake.base_url)

    def handle(request: Request) -> Reply:
        offset = int(request.query.get("offset", "0"))
        if offset:
            request.query["offset"] = str(offset - 5)
        return normal(request)

    with serve(handle) as fake, warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        frame = fake.client(workers=1).users_frame()
    changed = [str(w.message) for w in seen if issubclass(w.category, ListChangedWarning)]
    assert len(changed) == 1 and "came twice" in changed[0]
    assert len(frame) == len({u["id"] for u in everyone}) == 450
    assert f"The {len(frame)} users kept" in changed[0]
