"""Metadata of every JSON shape reads the same in DuckDB as in pandas: nested objects
dotted, arrays as values, empty objects, nulls, keys with quotes and spaces, and
metadata that is not an object (the key ``meta``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from argyle_nb import analysis, dataset
from argyle_nb.client import ArgyleClient
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


def test_the_same_keys_with_the_same_verdicts(odd: Portfolio) -> None:
    want = analysis.metadata_key_summary(odd.users, min_users=2)
    got = analysis.metadata_key_summary(odd.ds, min_users=2)
    assert {"plan.tier", "plan.extra.deep", "tags", "objs", "empty", "gone", "meta"} <= set(
        want.index
    )
    assert {'say "hi"', "it's", "back\\slash"} <= set(want.index)
    pd.testing.assert_frame_equal(got, want)


def test_every_key_groups_and_lists_alike(odd: Portfolio) -> None:
    for key in analysis.metadata_key_summary(odd.users).index:
        if key == "gone":  # carried by nobody (always null): no cohorts to draw
            with pytest.raises(dataset.DatasetError, match="has the metadata key"):
                analysis.metadata_groups(odd.ds, key)
            continue
        want = analysis.metadata_groups(odd.users, odd.accounts, key, min_users=2)
        got = analysis.metadata_groups(odd.ds, key, min_users=2)
        assert got.index.tolist() == want.index.tolist(), key
        assert got["users"].tolist() == want["users"].tolist(), key
        for group in want.index:
            members = analysis.users_in_group(odd.ds, key, str(group))
            expected = analysis.users_in_group(odd.users, key, str(group))
            assert sorted(members["id"]) == sorted(expected["id"].astype("str")), (key, group)
