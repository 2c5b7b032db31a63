"""Metadata of every JSON shape, made in the real sandbox and exported: nested objects
dotted, arrays as values, empty objects, nulls, keys with quotes and spaces, and
metadata that is not an object (the key ``meta``). Every cohort is checked against a
plain loop over the metadata as the server sent it, on frames and on the export."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from argyle_nb import analysis
from argyle_nb.client import ArgyleClient
from tests import raw_reference as raw
from tests.integration.portfolios import Portfolio, portfolio

pytestmark = pytest.mark.embedded_only("exports users made in the embedded sandbox")

#: One user per shape; each shape repeated so that keys have groups of several users.
SHAPES: list[Any] = [
    {"plan": {"tier": "gold", "seats": 3}, "tags": ["a", "b"], "gone": None, "empty": {}},
    {"plan": {"tier": "silver", "seats": 3}, "tags": [], "it's": "apostrophe"},
    {
        "plan": {"tier": "gold", "extra": {"deep": True}},
        'say "hi"': "quoted",
        "n": 1.5,
        "back\\slash": "b",
    },
    {"customer group": "a b", "objs": [{"x": 1}], "n": 2},
    "plain text",
    42,
    [1, 2],
    None,
    {},
]


def _make_users(client: ArgyleClient) -> None:
    for _ in range(3):
        for shape in SHAPES:
            client.users.create(external_metadata=shape)


@pytest.fixture(scope="module")
def odd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portfolio]:
    found = portfolio(tmp_path_factory.mktemp("metadata"), users=0, seed=1, prepare=_make_users)
    assert len(found.users) == 3 * len(SHAPES)
    yield found
    found.ds.close()


def _raw(odd: Portfolio) -> list[dict[str, Any]]:
    """The users as the server sent them (their metadata parsed from its JSON text)."""
    return [
        {"id": str(uid), "external_metadata": json.loads(text)}
        for uid, text in zip(odd.users["id"], odd.users["external_metadata"], strict=True)
    ]


def test_the_same_keys_with_the_same_verdicts(odd: Portfolio) -> None:
    want = analysis.metadata_key_summary(odd.users, min_users=2)
    got = analysis.metadata_key_summary(odd.ds, min_users=2)
    assert {"plan.tier", "plan.extra.deep", "tags", "objs", "empty", "gone", "meta"} <= set(
        want.index
    )
    assert {'say "hi"', "it's", "back\\slash"} <= set(want.index)
    pd.testing.assert_frame_equal(got, want)
    users = _raw(odd)
    for key in want.index:
        carrying = [u for u in users if raw.raw_value(u, str(key)) is not None]
        present = [u for u in carrying if raw.labels([u], str(key))[u["id"]] != analysis.MISSING]
        assert want.loc[key, "users"] == len(present), key


def test_every_key_groups_and_lists_as_the_plain_loop(odd: Portfolio) -> None:
    users = _raw(odd)
    for key in analysis.metadata_key_summary(odd.users).index:
        cohort_of = raw.labels(users, str(key))
        sizes = Counter(cohort_of.values())
        for data in ((odd.users, odd.accounts), (odd.ds,)):
            got = analysis.metadata_groups(*data, key, min_users=2)  # type: ignore[call-overload]
            assert got["users"].to_dict() == dict(sizes), key
        for group in sizes:
            want = sorted(uid for uid, label in cohort_of.items() if label == group)
            for source in (odd.users, odd.ds):
                members = analysis.users_in_group(source, str(key), group)
                assert sorted(members["id"].astype("str")) == want, (key, group)
