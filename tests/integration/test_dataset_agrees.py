"""Hostile metadata through the real sandbox, the frames and an export: integers beyond
int64 keep their exact value, flat keys holding dots (quotes, apostrophes, backslashes)
make the same cohorts on a dataset as on frames, and a real value that reads as the
missing-key label stays a cohort of its own. Every count is checked against a plain loop
over the metadata as it was sent."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from argyle_nb import analysis
from argyle_nb.client import ArgyleClient
from tests.integration.portfolios import Portfolio, portfolio

pytestmark = pytest.mark.embedded_only("exports users made in the embedded sandbox")

QUOTED_KEY = 'it\'s.a "key"'
SLASHED_KEY = "back\\slash.x"
#: (metadata, how many users carry it)
SHAPES: list[tuple[Any, int]] = [
    ({"utm.source": "google", "group": "A", "big": 5, "x": 3}, 3),
    ({"utm.source": "bing", "group": "(missing)", "big": 2**63, "x": 1.5e-6}, 2),
    ({"utm": {"source": "google"}, "group": "(other)", "big": 1.5, "x": 2.5e-5}, 1),
    (
        {QUOTED_KEY: "q", SLASHED_KEY: "b", "group": '"(missing)"', "big": 2**64 - 1, "x": 1e22},
        2,
    ),
    ({"a.b.c": 1, "big": 7, "group": "(rest)", "x": 0.1}, 1),
    ({"a": {"b.c": 2}}, 1),
    ({"a": {"b": {"c": 3}}}, 1),
    ({}, 2),
    ({"group": None}, 1),
]
KEYS = ["utm.source", "group", "big", QUOTED_KEY, SLASHED_KEY, "a.b.c", "x"]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Portfolio, dict[str, Any]]]:
    sent: dict[str, Any] = {}

    def make(client: ArgyleClient) -> None:
        for metadata, times in SHAPES:
            for _ in range(times):
                sent[str(client.users.create(external_metadata=metadata).id)] = metadata

    found = portfolio(tmp_path_factory.mktemp("agrees"), users=0, seed=1, prepare=make)
    yield found, sent
    found.ds.close()


def _leaves(metadata: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in metadata.items():
        if isinstance(value, dict) and value:
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _label(value: Any, floats: bool) -> str:
    """The documented labels: missing explicit, other values as JSON (the integers of a
    key of numbers that holds floats as floats, an integer beyond int64 as written), text
    as it is but a text reading as one of our labels quoted once more."""
    if value is None:
        return analysis.MISSING
    if isinstance(value, str):
        reserved = re.fullmatch(r'"*\((missing|other|rest)\)"*', value)
        return f'"{value}"' if reserved else value
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        return str(value)
    return orjson.dumps(float(value) if floats else value).decode()


def _expected(sent: dict[str, Any], key: str) -> dict[str, set[str]]:
    values = {user: dict(_leaves(metadata)).get(key) for user, metadata in sent.items()}
    kinds = {type(v) for v in values.values() if v is not None}
    huge = any(isinstance(v, int) and v >= 2**63 for v in values.values())
    floats = float in kinds and kinds <= {int, float} and not huge
    groups: dict[str, set[str]] = {}
    for user, value in values.items():
        groups.setdefault(_label(value, floats), set()).add(user)
    return groups


def test_integers_beyond_int64_keep_their_exact_value(made: tuple[Portfolio, Any]) -> None:
    found, sent = made
    users = found.users.set_index(found.users["id"].astype("str"))
    assert set(users.index) == set(sent)  # no user lost, no crash of the whole read
    for user, metadata in sent.items():
        assert json.loads(users.at[user, "external_metadata"]) == metadata
        if "big" in metadata and isinstance(metadata["big"], int) and metadata["big"] >= 2**63:
            assert users.at[user, "meta.big"] == str(metadata["big"])  # its exact text
        elif "big" in metadata:
            assert users.at[user, "meta.big"] == metadata["big"]
    written = dict(found.ds.sql("select id, external_metadata from users").fetchall())
    assert {str(k): json.loads(v) for k, v in written.items()} == sent


@pytest.mark.parametrize("key", KEYS)
def test_each_key_makes_the_same_cohorts_on_frames_and_dataset(
    made: tuple[Portfolio, Any], key: str
) -> None:
    found, sent = made
    expected = _expected(sent, key)
    sizes = {label: len(ids) for label, ids in expected.items()}
    frames = analysis.metadata_groups(found.users, found.accounts, key, min_users=1)
    assert frames["users"].to_dict() == sizes
    on_dataset = analysis.metadata_groups(found.ds, key, min_users=1)
    assert on_dataset["users"].to_dict() == sizes
    for label, ids in expected.items():
        members = analysis.users_in_group(found.users, key, label)
        assert set(members["id"].astype("str")) == ids, label
        members = analysis.users_in_group(found.ds, key, label)
        assert set(members["id"].astype("str")) == ids, label


def test_the_key_summaries_offer_the_same_keys(made: tuple[Portfolio, Any]) -> None:
    found, sent = made
    carried = Counter(  # users with a value (null is no value)
        name for metadata in sent.values() for name, value in _leaves(metadata) if value is not None
    )
    frames = analysis.metadata_key_summary(found.users, min_users=1)
    on_dataset = analysis.metadata_key_summary(found.ds, min_users=1)
    assert set(KEYS) <= set(frames.index) == set(on_dataset.index) == set(carried)
    assert on_dataset["users"].to_dict() == frames["users"].to_dict() == dict(carried)


def test_a_real_missing_label_is_compared_as_a_cohort_of_its_own(
    made: tuple[Portfolio, Any],
) -> None:
    found, sent = made
    expected = _expected(sent, "group")
    real = {label: len(ids) for label, ids in expected.items() if label != analysis.MISSING}
    assert real['"(missing)"'] == 2 and real['""(missing)""'] == 2
    frames = analysis.compare_cohorts(found.users, found.accounts, "group", min_users=1)
    on_dataset = analysis.compare_cohorts(found.ds, "group", min_users=1)
    for comparison in (frames, on_dataset):
        assert comparison.baseline == "A"  # the largest; the users without: left out
        assert comparison.table["users"].to_dict() == {
            label: n for label, n in real.items() if label != "A"
        }
