"""HTTP tests of every endpoint and error, against a live server (no mocks).

The tests on ``target`` state the API contract: they hold on the embedded sandbox and on
Argyle's own (``ARGYLE_LIVE=1``), assume no data beyond what they create and delete what
they create. The rest (seeded data, cascades on seeded accounts, persistence, the sweep,
faults, concurrency) need the emulator itself and run only on the embedded sandbox.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from argyle_nb.models import Account, NewUser, Page, User, UserToken
from argyle_nb.sandbox import DEMO_KEY_ID, DEMO_KEY_SECRET, Faults, Sandbox, start
from tests.integration.clients import Endpoint, Scratch, Target, token_claims

SEEDED_USERS = 320  # the session fixture `sandbox` seeds 320 users

UNAUTHORIZED = {"detail": "Invalid username/password."}
NOT_FOUND = {"detail": "Not found."}


def get(server: Endpoint, path: str, **params: Any) -> requests.Response:
    return requests.get(f"{server.base_url}{path}", params=params, auth=server.auth, timeout=30)


def post(server: Endpoint, path: str, **kwargs: Any) -> requests.Response:
    return requests.post(f"{server.base_url}{path}", auth=server.auth, timeout=30, **kwargs)


def all_pages(server: Endpoint, path: str, **params: Any) -> list[dict[str, Any]]:
    url: str | None = f"{server.base_url}{path}"
    seen: list[dict[str, Any]] = []
    first = True
    while url:
        answer = requests.get(url, params=params if first else None, auth=server.auth, timeout=30)
        assert answer.status_code == 200, answer.text
        first = False
        page = answer.json()
        seen.extend(page["results"])
        url = page["next"]
    return seen


# -- auth ---------------------------------------------------------------------------


@pytest.mark.parametrize("auth", ["missing", "wrong", "wrong-secret", "empty"])
@pytest.mark.parametrize("path", ["/users", "/accounts", "/users/not-an-id"])
def test_missing_or_wrong_credentials_answer_401(target: Target, auth: str, path: str) -> None:
    pairs = {
        "missing": None,
        "wrong": ("wrong", "pair"),
        "wrong-secret": (target.key_id, "nope"),
        "empty": ("", ""),
    }
    answer = requests.get(f"{target.base_url}{path}", auth=pairs[auth], timeout=30)
    assert answer.status_code == 401
    assert answer.json() == UNAUTHORIZED
    assert answer.headers["WWW-Authenticate"].startswith("Basic")


def test_malformed_authorization_headers_answer_401(target: Target) -> None:
    for header in ["Basic", "Basic !!!", "Bearer abc", "Basic " + "A" * 10_000, "Basic w6k="]:
        answer = requests.get(
            f"{target.base_url}/users", headers={"Authorization": header}, timeout=30
        )
        assert answer.status_code == 401, header


@pytest.mark.embedded_only("the embedded sandbox's demo key pair")
def test_demo_pair_is_the_default(sandbox: Sandbox) -> None:
    assert (sandbox.key_id, sandbox.key_secret) == (DEMO_KEY_ID, DEMO_KEY_SECRET)
    assert DEMO_KEY_SECRET not in repr(sandbox)
    assert DEMO_KEY_SECRET not in sandbox._repr_html_()


# -- users --------------------------------------------------------------------------


def test_create_user_answers_201_with_id_and_token_only(target: Target, scratch: Scratch) -> None:
    answer = post(target, "/users", json={"external_metadata": {"customer group": "x"}})
    assert answer.status_code == 201
    body = answer.json()
    scratch.add(body["id"])
    assert set(body) == {"id", "token"}
    created = NewUser.model_validate(body)
    claims = token_claims(target, created.token)
    assert claims["sub"] == claims["user_id"] == body["id"]
    assert set(claims) == {"client_id", "exp", "iat", "iss", "jti", "sub", "user_id"}
    assert claims["exp"] - claims["iat"] == 30 * 86_400
    user = User.model_validate(get(target, f"/users/{body['id']}").json())
    assert user.external_metadata == {"customer group": "x"}
    assert user.employers_connected == user.data_providers_connected == []


@pytest.mark.parametrize("body", [None, b"", b"{}", b'{"external_metadata": null}'])
def test_create_user_without_metadata(target: Target, scratch: Scratch, body: bytes | None) -> None:
    answer = post(target, "/users", data=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 201, answer.text
    user = get(target, f"/users/{scratch.add(answer.json()['id'])}").json()
    assert user["external_metadata"] is None


@pytest.mark.parametrize("metadata", ["User group A", 7, [1, "a", None], {"a": {"b": [1.5]}}, {}])
def test_metadata_is_any_json(target: Target, scratch: Scratch, metadata: Any) -> None:
    answer = post(target, "/users", json={"external_metadata": metadata})
    user_id = scratch.add(answer.json()["id"])
    assert get(target, f"/users/{user_id}").json()["external_metadata"] == metadata


def test_patch_replaces_metadata_and_answers_the_user(target: Target, scratch: Scratch) -> None:
    user_id = scratch.user({"a": 1})["id"]
    url = f"{target.base_url}/users/{user_id}"
    answer = requests.patch(url, json={"external_metadata": {"b": 2}}, auth=target.auth, timeout=30)
    assert answer.status_code == 200
    assert answer.json()["external_metadata"] == {"b": 2}  # replaced, not merged
    assert answer.json() == get(target, f"/users/{user_id}").json()
    unchanged = requests.patch(url, json={}, auth=target.auth, timeout=30)
    assert unchanged.json()["external_metadata"] == {"b": 2}


def test_delete_user_answers_204_then_404(target: Target, scratch: Scratch) -> None:
    user_id = scratch.user()["id"]
    url = f"{target.base_url}/users/{user_id}"
    answer = requests.delete(url, auth=target.auth, timeout=30)
    assert answer.status_code == 204
    assert answer.content == b""
    for method in ("get", "patch", "delete"):
        again = requests.request(method, url, auth=target.auth, timeout=30)
        assert again.status_code == 404 and again.json() == NOT_FOUND


@pytest.mark.parametrize("bad_id", ["x", "123", "0994b847-cc69-4d98-bc99", "%00", "a" * 5000])
@pytest.mark.parametrize("resource", ["users", "accounts"])
def test_malformed_or_unknown_ids_answer_404(target: Target, resource: str, bad_id: str) -> None:
    for path_id in (bad_id, str(uuid.uuid4())):
        url = f"{target.base_url}/{resource}/{path_id}"
        for method in ("get", "delete"):
            answer = requests.request(method, url, auth=target.auth, timeout=30)
            assert answer.status_code == 404, (method, path_id)
            assert answer.json() == NOT_FOUND


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (b"{not json", "detail"),
        (b"[1, 2]", "non_field_errors"),
        (b'"text"', "non_field_errors"),
        (b"\xff\xfe", "detail"),
        (b"[" * 5000, "detail"),
    ],
)
def test_bad_bodies_answer_400(target: Target, scratch: Scratch, body: bytes, key: str) -> None:
    user_id = scratch.user()["id"]
    headers = {"Content-Type": "application/json"}
    for method, path in (("post", "/users"), ("patch", f"/users/{user_id}")):
        answer = requests.request(
            method,
            f"{target.base_url}{path}",
            data=body,
            headers=headers,
            auth=target.auth,
            timeout=30,
        )
        if method == "post" and answer.status_code == 201:
            scratch.add(answer.json()["id"])  # wrongly created: still leave nothing behind
        assert answer.status_code == 400, (method, answer.text)
        assert key in answer.json()


def test_huge_body_answers_413(target: Target) -> None:
    before = get(target, "/users").json()["count"]
    big = b'{"external_metadata": "' + b"x" * (2 << 20) + b'"}'
    answer = post(target, "/users", data=big, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413
    assert get(target, "/users").json()["count"] == before  # nothing created


# -- user tokens --------------------------------------------------------------------


def test_user_tokens(target: Target, scratch: Scratch) -> None:
    user_id = scratch.user()["id"]
    answer = post(target, "/user-tokens", json={"user": user_id})
    assert answer.status_code == 200
    tokens = UserToken.model_validate(answer.json())
    access = token_claims(target, tokens.access)
    assert access["user_id"] == access["sub"] == user_id
    assert tokens.refresh is not None
    refresh = token_claims(target, tokens.refresh)
    assert set(refresh) == {"exp", "iat", "iss", "jti", "sub"}
    assert access["jti"] != refresh["jti"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "This field is required."),
        ({"user": None}, "Must be a valid UUID."),
        ({"user": "nope"}, "Must be a valid UUID."),
        ({"user": 12}, "Must be a valid UUID."),
        ({"user": ["0994b847-cc69-4d98-bc99-c5e65e762add"]}, "Must be a valid UUID."),
        ({"user": "0994b847-cc69-4d98-bc99-c5e65e762add"}, "object does not exist"),
    ],
)
def test_user_token_field_errors(target: Target, body: dict[str, Any], message: str) -> None:
    answer = post(target, "/user-tokens", json=body)
    assert answer.status_code == 400
    errors = answer.json()["user"]
    assert isinstance(errors, list) and message in errors[0]


def test_user_token_needs_a_json_object(target: Target) -> None:
    for body in (b"", b"nope", b"[]"):
        answer = post(
            target, "/user-tokens", data=body, headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 400


# -- lists and pagination -----------------------------------------------------------


def test_lists_parse_and_follow_the_envelope(target: Target, scratch: Scratch) -> None:
    scratch.user()  # at least one user
    users = Page[User].model_validate(get(target, "/users", limit=200).json())
    assert users.count is not None and users.count >= 1
    if target.embedded:
        assert users.count >= SEEDED_USERS
    assert len(users.results) == min(users.count, 200)
    if users.count > 200:
        assert users.next is not None and users.next.startswith(target.base_url + "/users?")
    else:
        assert users.next is None
    assert users.previous is None
    accounts = get(target, "/accounts", limit=50).json()
    Page[Account].model_validate(accounts)
    target.require(accounts["results"], "accounts")
    assert {a["source"] for a in accounts["results"]} == {"argyle_sandbox"}


def test_default_limit_is_10_and_larger_limits_are_clamped_to_200(target: Target) -> None:
    users = get(target, "/users").json()
    if target.embedded:
        assert users["count"] >= SEEDED_USERS and get(target, "/accounts").json()["count"] > 200
    assert len(users["results"]) == min(users["count"], 10)
    page = get(target, "/accounts", limit=5000).json()
    assert len(page["results"]) == min(page["count"], 200)
    if page["count"] > 200:
        assert "limit=200" in page["next"]
    # the previous link says which limit was used, whatever the count
    assert "limit=200" in get(target, "/accounts", limit=5000, offset=1).json()["previous"]
    huge = get(target, "/users", limit=10**30).json()
    assert len(huge["results"]) == min(huge["count"], 200)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "1.5"}, "limit"),
        ({"limit": ""}, "limit"),
        ({"offset": "-5"}, "offset"),
        ({"offset": "x"}, "offset"),
        ({"user": "not-a-uuid"}, "user"),
    ],
)
def test_bad_list_parameters_answer_400(target: Target, params: dict[str, str], field: str) -> None:
    paths = ["/accounts"] if field == "user" else ["/users", "/accounts"]
    for path in paths:
        answer = get(target, path, **params)
        assert answer.status_code == 400, (path, params)
        assert isinstance(answer.json()[field], list)


def test_offset_past_the_end_is_an_empty_page(target: Target) -> None:
    for offset in (10**6, 10**30):
        page = get(target, "/users", offset=offset).json()
        assert page["results"] == [] and page["next"] is None
        assert page["previous"] is not None


def test_paging_yields_every_object_once_newest_first(target: Target, scratch: Scratch) -> None:
    for n in range(3):  # at least three users: three pages follow their next links
        scratch.user({"page": n})
    third = -(-get(target, "/users").json()["count"] // 3)
    for path, limit in (("/users", 37), ("/users", third), ("/accounts", 200), ("/accounts", 7)):
        seen = all_pages(target, path, limit=limit)
        ids = [o["id"] for o in seen]
        assert len(ids) == len(set(ids)) == get(target, path).json()["count"]
        keys = [(o["created_at"], o["id"]) for o in seen]
        assert keys == sorted(keys, reverse=True)


def test_previous_links_walk_back(target: Target, scratch: Scratch) -> None:
    for n in range(3):  # three users: pages of one
        scratch.user({"page": n})
    third = get(target, "/users", limit=1, offset=2).json()
    second = requests.get(third["previous"], auth=target.auth, timeout=30).json()
    first = get(target, "/users", limit=1, offset=1).json()
    assert second == first
    assert len(first["results"]) == 1
    if target.embedded:  # the seeded users fill pages of five too
        third = get(target, "/users", limit=5, offset=10).json()
        second = requests.get(third["previous"], auth=target.auth, timeout=30).json()
        assert second == get(target, "/users", limit=5, offset=5).json()
        assert len(second["results"]) == 5


def test_accounts_filter_by_user(target: Target) -> None:
    users = get(target, "/users", limit=200).json()["results"]
    user = next((u for u in users if len(u["data_providers_connected"]) >= 2), None)
    target.require(user, "user with two connected accounts among the newest 200")
    assert user is not None
    accounts = get(target, "/accounts", user=user["id"], limit=200).json()
    assert accounts["count"] == len(accounts["results"]) >= 2
    assert {a["user"] for a in accounts["results"]} == {user["id"]}
    assert sorted(user["data_providers_connected"]) == sorted(
        a["link_item"] for a in accounts["results"]
    )
    empty = get(target, "/accounts", user=str(uuid.uuid4())).json()
    assert empty["count"] == 0 and empty["results"] == []


def test_get_account(target: Target) -> None:
    page = get(target, "/accounts", limit=1).json()["results"]
    target.require(page, "accounts")
    listed = page[0]
    answer = get(target, f"/accounts/{listed['id']}")
    assert answer.status_code == 200
    assert answer.json() == listed
    assert get(target, f"/accounts/{listed['id'].upper()}").json() == listed


# -- Django REST framework fidelity: forms, media types, ordering, empty filters ----

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def created_key(record: dict[str, Any]) -> tuple[datetime, str]:
    """The order key of a list: ``created_at`` as a time (not text), then ``id``."""
    return datetime.fromisoformat(record["created_at"]), record["id"]


def test_user_token_accepts_a_form_body(target: Target, scratch: Scratch) -> None:
    user_id = scratch.user()["id"]
    answer = post(target, "/user-tokens", data={"user": user_id})  # form-encoded by requests
    assert answer.status_code == 200, answer.text
    tokens = UserToken.model_validate(answer.json())
    assert token_claims(target, tokens.access)["user_id"] == user_id


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "This field is required."),
        (b"other=x", "This field is required."),
        (b"user=nope", "Must be a valid UUID."),
        (b"user=0994b847-cc69-4d98-bc99-c5e65e762add", "object does not exist"),
    ],
)
def test_user_token_form_field_errors(target: Target, body: bytes, message: str) -> None:
    answer = post(target, "/user-tokens", data=body, headers=FORM)
    assert answer.status_code == 400, answer.text
    errors = answer.json()["user"]
    assert isinstance(errors, list) and message in errors[0]


def test_create_and_patch_a_user_with_a_form_body(target: Target, scratch: Scratch) -> None:
    answer = post(target, "/users", data={"unrelated": "x"})  # unknown fields are ignored
    if answer.status_code == 201:
        scratch.add(answer.json()["id"])
    assert answer.status_code == 201, answer.text
    url = f"{target.base_url}/users/{answer.json()['id']}"
    patched = requests.patch(url, data={"unrelated": "y"}, auth=target.auth, timeout=30)
    assert patched.status_code == 200, patched.text
    assert patched.json()["external_metadata"] is None


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/xml", "text/csv; charset=utf-8"]
)
def test_unsupported_media_types_answer_415(
    target: Target, scratch: Scratch, content_type: str
) -> None:
    user_id = scratch.user({"kept": True})["id"]
    before = get(target, "/users").json()["count"]
    for method, path in (
        ("post", "/users"),
        ("patch", f"/users/{user_id}"),
        ("post", "/user-tokens"),
    ):
        answer = requests.request(
            method,
            f"{target.base_url}{path}",
            data=b"user=x",
            headers={"Content-Type": content_type},
            auth=target.auth,
            timeout=30,
        )
        if method == "post" and answer.status_code == 201:
            scratch.add(answer.json()["id"])  # wrongly created: still leave nothing behind
        assert answer.status_code == 415, (method, path, answer.text)
        assert answer.json() == {"detail": f'Unsupported media type "{content_type}" in request.'}
    assert get(target, "/users").json()["count"] == before
    assert get(target, f"/users/{user_id}").json()["external_metadata"] == {"kept": True}


@pytest.mark.parametrize("path", ["/users", "/accounts"])
def test_ordering_by_created_at_is_honoured(target: Target, scratch: Scratch, path: str) -> None:
    for n in range(3):  # at least three users: pages of 37 follow their next links
        scratch.user({"ordering": n})
    default = all_pages(target, path, limit=200)
    target.require(len(default) >= 3, f"three {path[1:]}")
    oldest = all_pages(target, path, limit=37, ordering="created_at")
    newest = all_pages(target, path, limit=37, ordering="-created_at")
    assert [created_key(o) for o in oldest] == sorted(map(created_key, default))
    assert [created_key(o) for o in newest] == sorted(map(created_key, default), reverse=True)
    assert newest == default  # newest first is the default order
    # the links carry the ordering, so paging keeps to it
    first = get(target, path, limit=1, ordering="created_at").json()
    assert "ordering=created_at" in first["next"]
    second = requests.get(first["next"], auth=target.auth, timeout=30).json()
    assert "ordering=created_at" in second["previous"]
    assert second["results"] == oldest[1:2]
    back = requests.get(second["previous"], auth=target.auth, timeout=30).json()
    assert back["results"] == oldest[:1]


def test_ordering_applies_to_one_users_accounts(target: Target) -> None:
    users = get(target, "/users", limit=200).json()["results"]
    user = next((u for u in users if len(u["data_providers_connected"]) >= 3), None)
    target.require(user, "user with three connected accounts among the newest 200")
    assert user is not None
    newest = get(target, "/accounts", user=user["id"], limit=200).json()["results"]
    oldest = get(target, "/accounts", user=user["id"], limit=200, ordering="created_at")
    assert oldest.json()["results"] == newest[::-1]
    second = get(target, "/accounts", user=user["id"], limit=1, offset=1, ordering="created_at")
    assert second.json()["results"] == newest[-2:-1]
    assert f"user={user['id']}" in second.json()["next"]
    assert "ordering=created_at" in second.json()["next"]


@pytest.mark.parametrize(
    ("ordering", "oldest_first"),
    [("foo", False), ("-foo", False), ("", False), (",", False), ("foo,created_at", True)],
)
def test_unknown_ordering_fields_are_ignored(
    target: Target, scratch: Scratch, ordering: str, oldest_first: bool
) -> None:
    for n in range(2):
        scratch.user({"ordering": n})
    for path in ("/users", "/accounts"):
        answer = get(target, path, limit=50, ordering=ordering)
        assert answer.status_code == 200, answer.text
        expected = get(target, path, limit=50, ordering="created_at" if oldest_first else None)
        assert answer.json()["results"] == expected.json()["results"]


@pytest.mark.parametrize("value", ["", " "])
def test_an_empty_user_filter_is_ignored(target: Target, value: str) -> None:
    everything = get(target, "/accounts", limit=50).json()
    answer = get(target, "/accounts", limit=50, user=value)
    assert answer.status_code == 200, answer.text
    assert answer.json()["count"] == everything["count"]
    assert answer.json()["results"] == everything["results"]


# -- cascades and connected lists ---------------------------------------------------


@pytest.mark.embedded_only("deletes seeded accounts: Argyle's API cannot create accounts")
def test_deleting_a_user_deletes_its_accounts(tmp_path: Path) -> None:
    with start(db=tmp_path / "cascade.sqlite", users=40, seed=3) as box:
        users = all_pages(box, "/users", limit=200)
        user = next(u for u in users if u["data_providers_connected"])
        accounts = get(box, "/accounts", user=user["id"]).json()["results"]
        total = get(box, "/accounts").json()["count"]
        gone = requests.delete(f"{box.base_url}/users/{user['id']}", auth=box.auth, timeout=10)
        assert gone.status_code == 204
        assert get(box, "/accounts").json()["count"] == total - len(accounts)
        remaining = {a["id"] for a in all_pages(box, "/accounts", limit=200)}
        for account in accounts:
            assert account["id"] not in remaining
            assert get(box, f"/accounts/{account['id']}").status_code == 404
        assert get(box, "/accounts", user=user["id"]).json()["count"] == 0


@pytest.mark.embedded_only("deletes seeded accounts: Argyle's API cannot create accounts")
def test_deleting_an_account_updates_its_user(tmp_path: Path) -> None:
    with start(db=tmp_path / "one.sqlite", users=60, seed=5) as box:
        users = all_pages(box, "/users", limit=200)
        user = next(u for u in users if len(u["data_providers_connected"]) >= 2)
        accounts = get(box, "/accounts", user=user["id"]).json()["results"]
        victim = accounts[0]
        url = f"{box.base_url}/accounts/{victim['id']}"
        assert requests.delete(url, auth=box.auth, timeout=10).status_code == 204
        assert requests.delete(url, auth=box.auth, timeout=10).status_code == 404
        after = get(box, f"/users/{user['id']}").json()
        assert victim["link_item"] not in after["data_providers_connected"]
        expected = {a["link_item"] for a in accounts[1:]}
        assert set(after["data_providers_connected"]) == expected


# -- persistence, sweep, faults, concurrency ----------------------------------------


@pytest.mark.embedded_only("restarts the sandbox on its SQLite file")
def test_data_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "persist.sqlite"
    with start(db=db, users=25, seed=11) as first:
        created = post(first, "/users", json={"external_metadata": "kept"}).json()["id"]
        before = all_pages(first, "/accounts", limit=200)
        token = post(first, "/user-tokens", json={"user": created}).json()["access"]
    with start(db=db, users=25, seed=99) as second:  # seeding skipped: not empty
        assert get(second, f"/users/{created}").json()["external_metadata"] == "kept"
        assert get(second, "/users").json()["count"] == 26
        assert all_pages(second, "/accounts", limit=200) == before
        assert second.decode_token(token)["user_id"] == created  # same signing secret


@pytest.mark.embedded_only("moves the sandbox clock")
def test_never_connected_accounts_are_swept_after_30_days(tmp_path: Path) -> None:
    now = [datetime(2026, 3, 1, 12, tzinfo=UTC)]
    with start(db=tmp_path / "sweep.sqlite", users=200, seed=8, clock=lambda: now[0]) as box:
        accounts = all_pages(box, "/accounts", limit=200)
        never = [a for a in accounts if not a["was_connected"]]
        assert never, "the seeded data should hold never-connected accounts"
        now[0] += timedelta(days=31)
        # the next request runs the sweep on the sandbox clock
        after = all_pages(box, "/accounts", limit=200)
        assert len(after) == len(accounts) - len(never)
        assert all(a["was_connected"] for a in after)
        for account in never[:5]:
            assert get(box, f"/accounts/{account['id']}").status_code == 404
        assert box.sweep() == 0


@pytest.mark.embedded_only("injects faults")
def test_fault_injection_can_be_switched_on_while_running(fresh_sandbox: Sandbox) -> None:
    fresh_sandbox.faults = Faults(rate_limit=0.5, retry_after=2, seed=1)
    answers = [get(fresh_sandbox, "/users") for _ in range(40)]
    limited = [a for a in answers if a.status_code == 429]
    assert 5 < len(limited) < 35
    assert all(a.headers["Retry-After"] == "2" for a in limited)
    assert {a.status_code for a in answers} == {200, 429}
    fresh_sandbox.faults = Faults(server_error=1.0, server_error_status=500)
    assert get(fresh_sandbox, "/users").status_code == 500
    fresh_sandbox.faults = Faults(server_error=1.0)
    assert get(fresh_sandbox, "/users").status_code == 503
    fresh_sandbox.faults = Faults()
    assert get(fresh_sandbox, "/users").status_code == 200


@pytest.mark.embedded_only("injects latency")
def test_latency_does_not_serialize_requests(fresh_sandbox: Sandbox) -> None:
    fresh_sandbox.faults = Faults(latency=0.1)
    start_at = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(lambda _: get(fresh_sandbox, "/users").status_code, range(16)))
    elapsed = time.perf_counter() - start_at
    assert codes == [200] * 16
    assert 0.4 <= elapsed < 1.2  # 16 x 0.1 s serialized would take 1.6 s


@pytest.mark.embedded_only("needs a sandbox of its own")
def test_eight_threads_at_once_leave_a_consistent_state(fresh_sandbox: Sandbox) -> None:
    def worker(n: int) -> list[str]:
        mine: list[str] = []
        session = requests.Session()
        session.auth = fresh_sandbox.auth
        base = fresh_sandbox.base_url
        for i in range(15):
            created = session.post(f"{base}/users", json={"external_metadata": {"w": n, "i": i}})
            assert created.status_code == 201, created.text
            user_id = created.json()["id"]
            patched = session.patch(
                f"{base}/users/{user_id}", json={"external_metadata": {"w": n, "i": i, "p": 1}}
            )
            assert patched.status_code == 200 and patched.json()["id"] == user_id
            listed = session.get(f"{base}/users", params={"limit": 200})
            assert listed.status_code == 200
            Page[User].model_validate(listed.json())
            if i % 3 == 0:
                assert session.delete(f"{base}/users/{user_id}").status_code == 204
            else:
                mine.append(user_id)
        return mine

    with ThreadPoolExecutor(8) as pool:
        kept = [user for users in pool.map(worker, range(8)) for user in users]
    final = all_pages(fresh_sandbox, "/users", limit=200)
    assert sorted(u["id"] for u in final) == sorted(kept)
    assert all(u["external_metadata"]["p"] == 1 for u in final)


@pytest.mark.embedded_only("starts sandboxes")
def test_several_sandboxes_in_one_process() -> None:
    with start(users=3, seed=1) as one, start(users=5, seed=1) as two:
        assert one.base_url != two.base_url
        assert get(one, "/users").json()["count"] == 3
        assert get(two, "/users").json()["count"] == 5
        temp = one.db_path
    assert not temp.exists()
    assert not one.running


def test_unknown_paths_and_methods(target: Target) -> None:
    assert get(target, "/nothing").status_code == 404
    answer = requests.put(f"{target.base_url}/users", auth=target.auth, timeout=30)
    assert answer.status_code == 405
    assert "GET" in answer.headers["Allow"]
