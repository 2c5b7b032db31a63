"""A server that writes numbers no int64 or double holds (a 30-digit id, a 20-digit decimal,
1e400) and link items that read as our missing label: the client's frames, its export and
the dataset keep every value exact and agree on the cohorts (a loopback fake: the sandbox
itself stores metadata through a double)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from argyle_nb import analysis
from argyle_nb.client import ArgyleClient
from tests.hostile import Reply, Request, json_reply, serve
from tests.unit.test_frames import sandbox

#: Numbers as a server may write them (the cohorts are compared on all but the decimal of
#: 20 digits: DuckDB's JSON functions read it as the nearest double, see
#: argyle_nb.dataset.metadata_groups).
NUMBERS = [
    "123456789012345678901234567890",
    "-98765432109876543210",
    "1e400",
    "7",
    "0.5",
    "1.50",
    "1E2",
]
LONG_DECIMAL = "0.12345678901234567890"
LINK_ITEMS = ["(missing)", '"(other)"', None, "item_1"]


@pytest.fixture(scope="module")
def served() -> tuple[bytes, bytes, list[str], list[dict[str, Any]]]:
    """The users' page (as text: numbers as written), the accounts' page, each user's
    metadata text, and the accounts."""
    users, accounts = sandbox(users=60, seed=9)
    texts = []
    for i, user in enumerate(users):
        user["external_metadata"] = {"n": "@n@", "id.number": "@n@", "d": "@d@"}
        text = orjson.dumps(user).decode().replace('"@n@"', NUMBERS[i % len(NUMBERS)])
        texts.append(text.replace('"@d@"', LONG_DECIMAL if i % 2 else "0.25"))
    for i, account in enumerate(accounts):
        account["link_item"] = LINK_ITEMS[i % len(LINK_ITEMS)]
    head = f'{{"count": {len(texts)}, "next": null, "previous": null, "results": ['
    users_page = f"{head}{','.join(texts)}]}}".encode()
    accounts_page = orjson.dumps(
        {"count": len(accounts), "next": None, "previous": None, "results": accounts}
    )
    return users_page, accounts_page, texts, accounts


@pytest.fixture
def client(served: tuple[bytes, bytes, Any, Any]) -> Iterator[ArgyleClient]:
    users_page, accounts_page, _, _ = served

    def handle(request: Request) -> Reply:
        if request.path == "/v1/users":
            return Reply(body=users_page, headers={"Content-Type": "application/json"})
        if request.path == "/v1/accounts":
            return Reply(body=accounts_page, headers={"Content-Type": "application/json"})
        return json_reply({"count": 0, "next": None, "previous": None, "results": []})

    with serve(handle) as fake:
        made = fake.client()
        with made:
            yield made


def _exact(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


def _label(text: str) -> str:
    """A number's cohort label, by the documented rule: its text when an int64 or a double
    would change it, else the JSON of the int or the float."""
    if re.fullmatch(r"-?[0-9]+", text):
        return str(int(text)) if -(2**63) <= int(text) < 2**63 else text
    double = float(text)
    kept = Decimal(repr(double)) == Decimal(text)
    return orjson.dumps(double).decode() if kept else text


def _item_label(item: str | None) -> str:
    if item is None:
        return analysis.MISSING
    return f'"{item}"' if re.fullmatch(r'"*\((missing|other|rest)\)"*', item) else item


def test_frames_and_export_keep_each_number_exact(
    client: ArgyleClient, served: tuple[Any, Any, list[str], Any], tmp_path: Path
) -> None:
    _, _, texts, _ = served
    sent = {json.loads(t)["id"]: _exact(t)["external_metadata"] for t in texts}
    users = client.users_frame()
    read = {
        uid: _exact(raw) for uid, raw in zip(users["id"], users["external_metadata"], strict=True)
    }
    assert read == sent  # never 1.2345678901234568e+29
    numbers = [
        json.loads(t, parse_float=str, parse_int=str)["external_metadata"]["n"] for t in texts
    ]
    assert [str(v) for v in users["meta.n"]] == [_label(n) for n in numbers]
    assert users["meta.d"].tolist() == [LONG_DECIMAL if i % 2 else 0.25 for i in range(len(texts))]
    with client.export(tmp_path / "portfolio") as ds:
        written = ds.sql("select id, external_metadata from users").fetchall()
    assert {str(uid): _exact(raw) for uid, raw in written} == sent


@pytest.mark.parametrize("key", ["n", "id.number"])
def test_cohorts_of_exact_numbers_agree_on_frames_and_dataset(
    client: ArgyleClient, served: tuple[Any, Any, list[str], Any], tmp_path: Path, key: str
) -> None:
    _, _, texts, _ = served
    numbers = [
        json.loads(t, parse_float=str, parse_int=str)["external_metadata"]["n"] for t in texts
    ]
    expected = dict(Counter(_label(n) for n in numbers))
    users, accounts = client.users_frame(), client.accounts_frame()
    frames = analysis.metadata_groups(users, accounts, key, min_users=1)
    assert frames["users"].to_dict() == expected
    with client.export(tmp_path / "portfolio") as ds:
        assert analysis.metadata_groups(ds, key, min_users=1)["users"].to_dict() == expected


def test_link_items_reading_as_our_labels_stay_their_own_groups(
    client: ArgyleClient, served: tuple[Any, Any, Any, list[dict[str, Any]]], tmp_path: Path
) -> None:
    _, _, _, accounts = served
    expected = dict(Counter(_item_label(a["link_item"]) for a in accounts))
    assert expected['"(missing)"'] and expected[analysis.MISSING]
    on_frames = analysis.connection_status_distribution(client.accounts_frame())
    assert on_frames["total"].to_dict() == expected
    with client.export(tmp_path / "portfolio") as ds:
        on_dataset = analysis.connection_status_distribution(ds)
    assert on_dataset["total"].to_dict() == expected


def test_models_read_a_big_integer_alike_whether_a_page_holds_a_bad_record_or_not() -> None:
    """users.list() reads a page with pydantic, or record by record when one is bad: an
    integer beyond 64 bits is the same Python int either way (never a float, nor text)."""
    users, _ = sandbox(users=2, seed=2)
    texts = [
        json.dumps(u)[:-1] + ', "external_metadata": {"n": 123456789012345678901234567890}}'
        for u in users[:2]
    ]
    pages = {
        "0": '{"count": 3, "next": "@next", "previous": null, "results": [' + texts[0] + "]}",
        "1": '{"count": 3, "next": null, "previous": null, "results": ['
        + texts[1]
        + ', {"id": "not a uuid"}]}',
    }

    def handle(request: Request) -> Reply:
        which = request.query.get("offset", "0")
        body = pages["1" if which != "0" else "0"].replace(
            "@next", f"{fake.base_url}/users?limit=1&offset=1"
        )
        return Reply(body=body.encode(), headers={"Content-Type": "application/json"})

    with serve(handle) as fake, pytest.warns(Warning):
        client = fake.client()
        read = list(client.users.list())
    assert [u.external_metadata for u in read] == [{"n": 123456789012345678901234567890}] * 2
