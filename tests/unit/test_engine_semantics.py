"""One semantics for the cohort analyses, on frames and on a dataset alike, pinned against
plain loops over the raw JSON records (tests/raw_reference.py), never against another
path of our own code: which record wins for a user seen twice; labels of text, numeric,
boolean, array and missing metadata; dotted keys and keys with quotes; the missing group;
accounts of unknown users and users without accounts. Outcomes, the funnel and the time
to connect: test_engine_semantics_outcomes.py."""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from argyle_nb import analysis
from tests import raw_reference as ref
from tests.engine_given import (
    ENGINES,
    ODD_KEY,
    Build,
    Given,
    account,
    messy,
    user,
    user_id,
)


def group_users(groups: pd.DataFrame) -> dict[str, int]:
    """``metadata_groups``' users per cohort, in its order."""
    return {str(g): int(n) for g, n in groups["users"].items()}


def expected_users(users: list[dict[str, Any]], key: str) -> dict[str, int]:
    return {g: n for g, (n, _, _) in ref.counts(users, [], key, "connected", "users").items()}


def assert_users_as_the_loop(groups: pd.DataFrame, users: list[dict[str, Any]], key: str) -> None:
    """The cohorts, their users and their order as the plain loop has them."""
    assert list(group_users(groups).items()) == list(expected_users(users, key).items())


def check_members(data: Given, users: list[dict[str, Any]], key: str) -> None:
    """``users_in_group`` of every cohort: its users as the plain loop has them, each
    once, in the order the records list them."""
    cohort_of = ref.labels(users, key)
    for group in dict.fromkeys(cohort_of.values()):
        members = data.of_users(analysis.users_in_group, key, group)
        assert list(members["id"]) == [u for u, g in cohort_of.items() if g == group], group


def check_groups(
    groups: pd.DataFrame,
    users: list[dict[str, Any]],
    accounts: list[Any],
    key: str,
    min_users: int = 30,
) -> None:
    """Every count, share, interval and top code of ``metadata_groups`` against the loop."""
    per_users = ref.counts(users, accounts, key, "connected", "users")
    per_accounts = ref.counts(users, accounts, key, "connected", "accounts")
    errors = ref.counts(users, accounts, key, "error", "accounts")
    codes = ref.top_error_codes(users, accounts, key)
    assert list(groups.index) == list(per_users), "cohorts or their order"
    for g, (n_users, _, connected) in per_users.items():
        row = groups.loc[g]
        _, n_accounts, connected_accounts = per_accounts[g]
        assert int(row["users"]) == n_users, g
        assert int(row["accounts"]) == n_accounts, g
        assert int(row["connected_users"]) == connected, g
        assert row["connected_share"] == pytest.approx(connected / n_users), g
        low, high = ref.wilson(connected, n_users)
        assert (row["connected_low"], row["connected_high"]) == pytest.approx((low, high)), g
        if n_accounts:
            assert row["accounts_connected_share"] == pytest.approx(connected_accounts / n_accounts)
            assert row["accounts_error_share"] == pytest.approx(errors[g][2] / n_accounts)
        else:  # a share of nothing is missing
            assert pd.isna(row["accounts_connected_share"]), g
            assert pd.isna(row["accounts_error_share"]), g
        code = row["top_error_code"]
        assert (None if pd.isna(code) else str(code)) == codes[g], g
        assert bool(row["small"]) == (n_users < min_users), g


# -- the whole table, every rule at once -------------------------------------------------


@pytest.mark.parametrize("key", ["group", "score", "flag", "tags", "region.zone", ODD_KEY])
def test_metadata_groups_counts_every_cohort_as_the_raw_records_say(
    build_or_export: Build, key: str
) -> None:
    users, accounts = messy()
    data = build_or_export(users, accounts)
    check_groups(data.cohort(analysis.metadata_groups, key, min_users=2), users, accounts, key, 2)


@pytest.mark.parametrize("key", ["group", "score", "flag", "region.zone", ODD_KEY])
def test_users_in_group_lists_every_cohort_as_the_raw_records_say(
    build_or_export: Build, key: str
) -> None:
    users, accounts = messy()
    check_members(build_or_export(users, accounts), users, key)


# -- 1. a user seen twice: once, the first record wins -----------------------------------


def test_a_user_seen_twice_counts_once_in_the_cohort_of_its_first_record(build: Build) -> None:
    users = [user(1, {"plan": "gold"}), user(2, {"plan": "basic"}), user(1, {"plan": "basic"})]
    accounts = [account(1, 1, "connected"), account(2, 1, "error", code="x"), account(3, 2)]
    groups = build(users, accounts).cohort(analysis.metadata_groups, "plan")
    assert group_users(groups) == {"basic": 1, "gold": 1}
    assert int(groups.loc["gold", "accounts"]) == 2  # its accounts once, not once per record
    check_groups(groups, users, accounts, "plan")


def test_users_seen_twice_pages_apart_count_in_their_first_cohort(
    build_or_export: Build,
) -> None:
    # An export holds each page batch in its own file (60 here), read in parallel: the
    # first record must win by the order the walk saw them, not by whichever thread
    # answers first (DuckDB's any_value got about half of them wrong).
    n = 3000
    users = [user(i, {"plan": "first"}) for i in range(n)]
    users += [user(i, {"plan": "second"}) for i in range(n)]
    build_or_export.per_page = 100
    data = build_or_export(users, [])
    assert group_users(data.cohort(analysis.metadata_groups, "plan")) == {"first": n}


def test_a_second_record_does_not_change_how_the_others_are_labelled(build: Build) -> None:
    # Among the first records the key holds numbers only, one a float: its ints are
    # floats. The second record of user 1 (a text) must not make them ints again.
    users = [user(1, {"k": 0.5}), user(2, {"k": 2}), user(1, {"k": "text"}), user(3, {"k": 2.0})]
    data = build(users, [])
    groups = data.cohort(analysis.metadata_groups, "k")
    assert group_users(groups) == {"2.0": 2, "0.5": 1}
    assert_users_as_the_loop(groups, users, "k")
    check_members(data, users, "k")


def test_users_in_group_lists_a_user_seen_twice_once_in_its_first_cohort(build: Build) -> None:
    users = [user(1, {"plan": "gold"}), user(2, {"plan": "basic"}), user(1, {"plan": "basic"})]
    data = build(users, [])
    basic = data.of_users(analysis.users_in_group, "plan", "basic")
    gold = data.of_users(analysis.users_in_group, "plan", "gold")
    assert list(basic["id"]) == [user_id(2)]
    assert list(gold["id"]) == [user_id(1)]


def test_key_summary_counts_a_user_seen_twice_once(build: Build) -> None:
    users = [user(1, {"plan": "gold"}), user(2, {"plan": "basic"}), user(1, {"plan": "silver"})]
    summary = build(users, []).of_users(analysis.metadata_key_summary)
    assert int(summary.loc["plan", "users"]) == 2
    assert int(summary.loc["plan", "values"]) == 2  # gold, basic: not the second record's
    assert summary.loc["plan", "share"] == pytest.approx(1.0)


# -- 2. labels ----------------------------------------------------------------------------


def test_labels_of_text_numbers_booleans_arrays_and_missing(build: Build) -> None:
    values: list[Any] = ["west", 7, True, False, [1, "a"], None, {"x": 1}, "west", 7]
    users = [user(i, {"k": v}) for i, v in enumerate(values)] + [user(50, {"other": 1})]
    data = build(users, [])
    groups = data.cohort(analysis.metadata_groups, "k")
    assert group_users(groups) == {
        "7": 2,
        "west": 2,
        '[1,"a"]': 1,
        "false": 1,
        "true": 1,
        "(missing)": 3,  # null, an object, and no key at all
    }
    assert_users_as_the_loop(groups, users, "k")
    check_members(data, users, "k")


def test_a_key_of_ints_and_floats_labels_its_ints_as_floats(build: Build) -> None:
    values: list[Any] = [2, 2.0, 2.5, 3, None]
    users = [user(i, {"k": v}) for i, v in enumerate(values)]
    data = build(users, [])
    groups = data.cohort(analysis.metadata_groups, "k")
    assert group_users(groups) == {"2.0": 2, "2.5": 1, "3.0": 1, "(missing)": 1}
    assert_users_as_the_loop(groups, users, "k")
    check_members(data, users, "k")


def test_a_key_of_ints_alone_keeps_them_ints(build: Build) -> None:
    users = [user(i, {"k": v}) for i, v in enumerate([2, 2, 10, -1])]
    groups = build(users, []).cohort(analysis.metadata_groups, "k")
    assert group_users(groups) == {"2": 2, "-1": 1, "10": 1}


def test_booleans_never_merge_with_ones_and_zeros(build: Build) -> None:
    # A key holding booleans is not one of numbers: its ints stay ints beside its floats.
    users = [user(i, {"k": v}) for i, v in enumerate([True, 1, False, 0, 1.0, True])]
    groups = build(users, []).cohort(analysis.metadata_groups, "k")
    assert group_users(groups) == {"true": 2, "0": 1, "1": 1, "1.0": 1, "false": 1}
    assert_users_as_the_loop(groups, users, "k")


def test_an_object_of_keys_is_missing_and_an_empty_object_a_value(build: Build) -> None:
    # An object under a key holds keys of its own (k.x): the key k has no value there. An
    # empty object is a value, "{}", as the users frame's column "meta.k" holds it.
    users = [user(1, {"k": {}}), user(2, {"k": {"x": 1}}), user(3, {"k": "a"}), user(4, {})]
    groups = build(users, []).cohort(analysis.metadata_groups, "k")
    assert group_users(groups) == {"a": 1, "{}": 1, "(missing)": 2}
    assert_users_as_the_loop(groups, users, "k")


def test_a_real_missing_text_is_its_own_quoted_cohort(build: Build) -> None:
    users = [user(1, {"k": "(missing)"}), user(2, {"k": "(missing)"}), user(3, {}), user(4, None)]
    data = build(users, [])
    groups = data.cohort(analysis.metadata_groups, "k")
    assert group_users(groups) == {'"(missing)"': 2, "(missing)": 2}
    real = data.of_users(analysis.users_in_group, "k", '"(missing)"')
    absent = data.of_users(analysis.users_in_group, "k", "(missing)")
    assert sorted(real["id"]) == [user_id(1), user_id(2)]
    assert sorted(absent["id"]) == [user_id(3), user_id(4)]


# -- 3. keys: dots, quotes, backslashes ---------------------------------------------------


def test_a_dotted_key_is_found_nested_and_flat(build: Build) -> None:
    users = [
        user(1, {"a": {"b": 1}}),
        user(2, {"a.b": 1}),
        user(3, {"a": {"b": 2}}),
        user(4, {"a": 5}),  # "a" is no object: no a.b
        user(5, {"a": {"c": 1}}),
    ]
    data = build(users, [])
    groups = data.cohort(analysis.metadata_groups, "a.b")
    assert group_users(groups) == {"1": 2, "2": 1, "(missing)": 2}
    assert_users_as_the_loop(groups, users, "a.b")
    check_members(data, users, "a.b")
    summary = data.of_users(analysis.metadata_key_summary)
    assert int(summary.loc["a.b", "users"]) == 3
    assert int(summary.loc["a.b", "values"]) == 2


@pytest.mark.parametrize("key", [ODD_KEY, "it's", "back\\slash", 'dotted."quoted"', "a.b.c"])
def test_keys_with_quotes_backslashes_and_dots(build: Build, key: str) -> None:
    nested: dict[str, Any] = {}
    node = nested
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = "deep"
    users = [user(1, {key: "flat"}), user(2, nested), user(3, {key: "flat"}), user(4, {"z": 1})]
    data = build(users, [])
    groups = data.cohort(analysis.metadata_groups, key)
    assert group_users(groups) == {"flat": 2, "deep": 1, "(missing)": 1}
    assert_users_as_the_loop(groups, users, key)
    check_members(data, users, key)


def test_a_bracket_in_a_key_name_is_no_array(build: Build) -> None:
    users = [
        user(1, {"slot[0]": "x", "tags": ["p", "q"]}),
        user(2, {"slot[0]": "y", "tags": ["p"]}),
        user(3, {"slot[0]": "x"}),
    ]
    summary = build(users, []).of_users(analysis.metadata_key_summary)
    # A plain count: users carrying each key (an array is one value, never keys).
    carried = {k: sum(k in u["external_metadata"] for u in users) for k in ("slot[0]", "tags")}
    assert {k: int(summary.loc[k, "users"]) for k in carried} == carried
    assert int(summary.loc["slot[0]", "values"]) == 2
    assert set(summary.index) == {"slot[0]", "tags"}


# -- 4. the missing group, unknown users, users without accounts ---------------------------


def test_the_missing_group_is_last_and_the_others_by_size_then_name(build: Build) -> None:
    plans = ["b", None, "c", "a", None, "c", "b", None, None, "z"]
    users = [user(i, {"plan": p} if p else {}) for i, p in enumerate(plans)]
    groups = build(users, []).cohort(analysis.metadata_groups, "plan")
    assert list(groups.index) == ["b", "c", "a", "z", "(missing)"]


def test_accounts_of_unknown_users_are_left_out_and_users_without_accounts_count(
    build: Build,
) -> None:
    users = [user(1, {"plan": "a"}), user(2, {"plan": "a"}), user(3, {"plan": "b"})]
    accounts = [
        account(1, 1, "connected"),
        account(2, 77, "connected"),  # user 77 is not among the users
        account(3, 77, "error", code="x"),
    ]
    groups = build(users, accounts).cohort(analysis.metadata_groups, "plan")
    assert group_users(groups) == {"a": 2, "b": 1}
    assert int(groups["accounts"].sum()) == 1
    assert int(groups.loc["b", "accounts"]) == 0
    check_groups(groups, users, accounts, "plan")


def test_pool_small_pools_small_cohorts_into_other_but_never_the_missing(build: Build) -> None:
    plans = ["a", "a", "a", "b", "c", "c", None]
    users = [user(i, {"plan": p} if p else {}) for i, p in enumerate(plans)]
    groups = build(users, []).cohort(analysis.metadata_groups, "plan", min_users=2, pool_small=True)
    expected = ref.counts(users, [], "plan", "connected", "users", pool_small_under=2)
    assert group_users(groups) == {g: n for g, (n, _, _) in expected.items()}
    assert list(groups.index) == ["a", "c", "(other)", "(missing)"]


# -- a property: metadata_groups equals the plain loop on random records --------------------

_TEXTS = st.sampled_from(["a", "b", "(missing)", '"(other)"', "", 'q"uote', "back\\", "é"])
_VALUES = st.one_of(
    st.none(),
    _TEXTS,
    st.integers(-1000, 1000),
    st.integers(-(2**53), 2**53),  # beyond, a float key keeps an int by its exact text
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.lists(st.integers(0, 3), max_size=2),
    st.just({"deeper": 1}),
)
_META = st.one_of(
    st.none(),
    st.fixed_dictionaries({}, optional={"k": _VALUES, "other": _TEXTS}),
    st.builds(lambda v: {"n": {"k": v}}, _VALUES),
    st.builds(lambda v: {"n.k": v}, _VALUES),
)
_RECORDS = st.tuples(
    st.lists(st.tuples(st.integers(0, 7), _META), min_size=1, max_size=12),
    st.lists(
        st.tuples(
            st.integers(0, 9),  # users 8 and 9 are never among the users
            st.sampled_from(["connected", "error", "connecting"]),
            st.sampled_from([None, True, False]),
            st.sampled_from([None, "auth_required", "system_error"]),
        ),
        max_size=14,
    ),
)


@pytest.mark.property
@pytest.mark.parametrize("engine", ENGINES)
@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=_RECORDS, nested=st.booleans())
def test_metadata_groups_equals_the_plain_loop_on_random_records(
    engine: str, tmp_path: Path, records: tuple[list[Any], list[Any]], nested: bool
) -> None:
    people, owned = records
    key = "n.k" if nested else "k"
    users = [user(i, meta) for i, meta in people]
    accounts = [
        account(j, owner, status, was=was, code=code if status == "error" else None)
        for j, (owner, status, was, code) in enumerate(owned)
    ]
    # the key must be carried by someone (else no cohort of it exists: an error)
    assume(any(g != ref.MISSING for g in ref.labels(users, key).values()))
    made = Build(engine, tmp_path)
    try:
        groups = made(users, accounts).cohort(analysis.metadata_groups, key, min_users=3)
        check_groups(groups, users, accounts, key, 3)
    finally:
        made.close()


# -- the key summary against a plain walk of the metadata ---------------------------------

_LEAF = st.one_of(
    st.sampled_from(["x", "y", "{x", "a {b}", " {", 1, 7, True, False, None, [1, {"z": 1}], {}]),
    st.lists(st.integers(0, 3), max_size=2),
)
_NESTED = st.recursive(
    _LEAF,
    lambda inner: st.dictionaries(st.sampled_from(["a", "b", "c"]), inner, max_size=3),
    max_leaves=6,
)
# metadata: an object of nested keys (and one flat dotted key), or no object at all
_METADATA = st.one_of(
    st.dictionaries(st.sampled_from(["a", "b", "c", "d.e"]), _NESTED, max_size=4),
    _LEAF,
)


def _leaves(meta: Any, prefix: str | None = None) -> list[tuple[str, Any]]:
    """The plain walk: (dotted key, value) of every leaf; ``meta`` for no object."""
    if not isinstance(meta, dict):
        return [("meta", meta)] if prefix is None else [(prefix, meta)]
    out: list[tuple[str, Any]] = []
    for key, value in meta.items():
        name = key if prefix is None else f"{prefix}.{key}"
        if isinstance(value, dict) and value:
            out += _leaves(value, name)
        else:
            out.append((name, value))
    return out


@pytest.mark.property
@pytest.mark.parametrize("engine", ENGINES)
@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(metadata=st.lists(_METADATA, min_size=1, max_size=12))
def test_key_summary_equals_a_plain_walk_of_random_metadata(
    engine: str, tmp_path: Path, metadata: list[Any]
) -> None:
    import json

    users = [user(i, meta) for i, meta in enumerate(metadata)]
    per_value: dict[str, Counter[str]] = {}
    for u in users:
        if u.get("external_metadata") is None:
            continue  # no metadata: no keys
        for name, value in _leaves(u["external_metadata"]):
            label = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
            per_value.setdefault(name, Counter())
            if value is not None:
                per_value[name][label] += 1
    made = Build(engine, tmp_path)
    try:
        summary = made(users, []).of_users(analysis.metadata_key_summary)
    finally:
        made.close()
    assert set(summary.index) == set(per_value)
    for name, values in per_value.items():
        assert int(summary.loc[name, "users"]) == sum(values.values()), name
        assert int(summary.loc[name, "values"]) == len(values), name
        median = statistics.median(values.values()) if values else 0.0
        assert summary.loc[name, "median_group"] == pytest.approx(median), name
