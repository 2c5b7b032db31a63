"""Cohort statistics at their edges: empty frames, unknown keys, one cohort, cohorts of 0 or
1, groups that all share one outcome, bad arguments.

Each gives a clear result or a clear error: never a traceback from deep inside pandas,
numpy or statsmodels, and never a missing interval without a reason beside it.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

import numpy as np
import orjson
import pandas as pd
import pytest
import vl_convert
from hypothesis import given, settings
from hypothesis import strategies as st

from argyle_nb import analysis, frames
from argyle_nb.errors import ArgyleKeyError
from tests.specs import spec_rows

SIGN_UP = datetime(2026, 1, 1, tzinfo=UTC)
AS_OF = "2026-03-01T00:00:00Z"
ACCOUNT_METRICS = ("ever_connected", "connected", "fully_synced", "error")
USER_METRICS = ("with_account", *ACCOUNT_METRICS)
BASELINES = (None, analysis.REST)
#: Float noise allowed where an interval meets its estimate (see test_wilson_bounds_are_exact).
TOLERANCE = 1e-12


class Frames(NamedTuple):
    users: pd.DataFrame
    accounts: pd.DataFrame
    availability: pd.DataFrame


def uid(i: int, kind: int = 0) -> str:
    return str(uuid.UUID(int=(kind << 64) | (i + 1), version=4))


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def user(i: int, metadata: dict[str, Any]) -> dict[str, Any]:
    return {"id": uid(i), "created_at": iso(SIGN_UP), "external_metadata": metadata}


def account(
    i: int,
    status: str,
    *,
    after_days: float = 1.0,
    code: str | None = None,
    synced: bool = True,
) -> dict[str, Any]:
    """An account of user ``i``, created ``after_days`` after the user's sign-up."""
    created = SIGN_UP + timedelta(days=after_days)
    connection: dict[str, Any] = {"status": status}
    if code:
        connection["error_code"] = code
    return {
        "id": uid(i, kind=1),
        "user": uid(i),
        "created_at": iso(created),
        "was_connected": status == "connected",
        "connection": connection,
        "availability": {
            "payouts": {
                "status": "synced" if synced else "in_progress",
                "updated_at": iso(created),
            }
        },
    }


def build(users: list[dict[str, Any]], accounts: list[dict[str, Any]]) -> Frames:
    accounts_df, availability_df = frames.accounts_and_availability(orjson.dumps(accounts))
    return Frames(frames.users_frame(orjson.dumps(users)), accounts_df, availability_df)


@cache
def edge() -> Frames:
    """Cohorts of ``group``: ``big`` (40 users, mixed), ``all_connected`` (6),
    ``all_error`` (6), ``one`` (1 user, connected), ``no_accounts`` (3 users without
    accounts), and 2 users without the key. ``region`` is a second key."""
    users: list[dict[str, Any]] = []
    accounts: list[dict[str, Any]] = []

    def add(i: int, group: str | None) -> None:
        metadata: dict[str, Any] = {"region": "east" if i % 2 else "west"}
        if group is not None:
            metadata["group"] = group
        users.append(user(i, metadata))

    for i in range(40):
        add(i, "big")
        if i % 4 == 3:
            continue
        if i % 2 == 0:
            accounts.append(account(i, "connected", after_days=1 + i % 10, synced=i % 4 == 0))
        else:
            accounts.append(account(i, "error", code="auth_required"))
    for i in range(40, 46):
        add(i, "all_connected")
        accounts.append(account(i, "connected", after_days=2))
    for i in range(46, 52):
        add(i, "all_error")
        accounts.append(account(i, "error", code="system_error"))
    add(52, "one")
    accounts.append(account(52, "connected", after_days=1))
    for i in range(53, 56):
        add(i, "no_accounts")
    for i in range(56, 58):
        add(i, None)
        accounts.append(account(i, "connected"))
    return build(users, accounts)


@cache
def empty() -> Frames:
    """The frames of an organisation without users or accounts."""
    accounts, availability = frames.accounts_and_availability(b"[]")
    return Frames(frames.users_frame(b"[]"), accounts, availability)


@cache
def zero_users() -> Frames:
    """No users left after filtering, but the metadata keys are still known."""
    users = edge().users.iloc[:0]
    return Frames(users, empty().accounts, empty().availability)


@cache
def only(*groups: str) -> Frames:
    """The users of some cohorts of ``group`` (their accounts follow them)."""
    users = edge().users
    kept = users[users["meta.group"].isin(groups).to_numpy()]
    return Frames(kept, edge().accounts, edge().availability)


@cache
def same_outcome(status: str) -> Frames:
    """Two cohorts of 8 users, every account of every user ``status``."""
    users = [
        user(i, {"group": "A" if i < 8 else "B", "region": "east" if i % 2 else "west"})
        for i in range(16)
    ]
    return build(users, [account(i, status) for i in range(16)])


def finite(value: Any) -> bool:
    return not pd.isna(value) and math.isfinite(float(value))


def message(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    return str(excinfo.value)


# ---------------------------------------------------------------------------
# Every analysis that takes a metadata key
# ---------------------------------------------------------------------------

Analysis = Callable[[Frames, str], object]

BY_KEY: dict[str, Analysis] = {
    "metadata_groups": lambda f, k: analysis.metadata_groups(f.users, f.accounts, k),
    "cohort_counts": lambda f, k: analysis.cohort_counts(f.users, f.accounts, k),
    "compare_cohorts users": lambda f, k: analysis.compare_cohorts(f.users, f.accounts, k),
    "compare_cohorts accounts": lambda f, k: analysis.compare_cohorts(
        f.users, f.accounts, k, unit="accounts"
    ),
    "compare_cohorts fully_synced": lambda f, k: analysis.compare_cohorts(
        f.users, f.accounts, k, metric="fully_synced", availability=f.availability
    ),
    "cohort_funnel": lambda f, k: analysis.cohort_funnel(f.users, f.accounts, f.availability, k),
    "time_to_connect": lambda f, k: analysis.time_to_connect(f.users, f.accounts, k, as_of=AS_OF),
    "time_to_connect_curves": lambda f, k: analysis.time_to_connect_curves(
        f.users, f.accounts, k, as_of=AS_OF
    ),
    "cohort_matrix rows": lambda f, k: analysis.cohort_matrix(f.users, f.accounts, k, "region"),
}


@pytest.mark.parametrize("name", list(BY_KEY))
def test_empty_frames_name_the_unknown_key(name: str) -> None:
    # users_frame(b"[]") has no metadata columns: no key is known, and the error says so.
    with pytest.raises(ArgyleKeyError) as excinfo:
        BY_KEY[name](empty(), "group")
    assert isinstance(excinfo.value, KeyError)
    assert "'group'" in message(excinfo)
    assert "keys: none" in message(excinfo)


def test_empty_frames_without_a_key() -> None:
    f = empty()
    summary = analysis.metadata_key_summary(f.users)
    assert summary.empty
    assert list(summary.columns) == ["users", "share", "values", "median_group", "cohort", "reason"]
    outcomes = analysis.user_outcomes(f.users, f.accounts, f.availability)
    assert outcomes.empty
    assert {"accounts", "connected", "fully_synced", "first_connected_at"} <= set(outcomes.columns)
    with pytest.raises(ValueError, match="no cohorts of 'group' to compare"):
        analysis.compare_proportions(
            pd.DataFrame({"successes": [], "trials": []}, index=pd.Index([], name="group"))
        )


UNKNOWN_KEY: dict[str, Analysis] = {
    **BY_KEY,
    "cohort_matrix columns": lambda f, k: analysis.cohort_matrix(f.users, f.accounts, "group", k),
    "users_in_group": lambda f, k: analysis.users_in_group(f.users, k, "x"),
}


@pytest.mark.parametrize("name", list(UNKNOWN_KEY))
def test_a_key_nobody_has_names_it_and_the_known_keys(name: str) -> None:
    with pytest.raises(ArgyleKeyError) as excinfo:
        UNKNOWN_KEY[name](edge(), "nobody")
    assert isinstance(excinfo.value, KeyError)
    assert "'nobody'" in message(excinfo)
    assert "keys: group, region" in message(excinfo)


# ---------------------------------------------------------------------------
# No users left (the keys are known): empty results, or a clear error
# ---------------------------------------------------------------------------


def test_zero_users_give_empty_tables() -> None:
    f = zero_users()
    groups = analysis.metadata_groups(f.users, f.accounts, "group")
    assert groups.empty
    assert {"users", "connected_share", "connected_low", "connected_high"} <= set(groups.columns)
    assert analysis.cohort_counts(f.users, f.accounts, "group").empty
    funnel = analysis.cohort_funnel(f.users, f.accounts, f.availability, "group")
    assert funnel.empty
    assert "conversion_low" in funnel.columns
    waits = analysis.time_to_connect(f.users, f.accounts, "group", as_of=AS_OF, days=(7,))
    assert waits.empty
    assert {"median_days", "within_7d", "within_7d_low", "note"} <= set(waits.columns)
    curves = analysis.time_to_connect_curves(f.users, f.accounts, "group", as_of=AS_OF)
    assert curves.empty
    assert list(curves.columns) == [
        "group",
        "days",
        "connected_share",
        "connected_low",
        "connected_high",
        "at_risk",
    ]


def test_zero_users_without_as_of_ask_for_it() -> None:
    f = zero_users()
    with pytest.raises(ValueError, match="give as_of"):
        analysis.time_to_connect(f.users, f.accounts, "group")
    with pytest.raises(ValueError, match="give as_of"):
        analysis.time_to_connect_curves(f.users, f.accounts, "group")


def test_zero_users_comparison() -> None:
    f = zero_users()
    with pytest.raises(ValueError, match="no cohorts of 'group' to compare"):
        analysis.compare_cohorts(f.users, f.accounts, "group")
    result = analysis.compare_cohorts(f.users, f.accounts, "group", baseline=analysis.REST)
    assert result.table.empty
    assert result.differing() == []
    assert result.overall.p_value is None
    assert "no test (fewer than two groups with data)" in result.summary()
    assert isinstance(result._repr_html_(), str)


def test_zero_users_matrix_is_a_clear_error() -> None:
    # A MultiIndex of columns cannot hold an empty level (matrix["share"] would fail):
    # the matrix of nobody is an error that says so.
    f = zero_users()
    with pytest.raises(ValueError, match="no users: nothing to put in a matrix of 'group'"):
        analysis.cohort_matrix(f.users, f.accounts, "group", "region")


def assert_says_empty(chart: Any) -> None:
    spec = chart.to_dict()
    assert spec["title"]
    texts = [row["message"] for row in spec_rows(spec)]
    assert any(t.startswith("no ") and t.endswith(" to show") for t in texts), texts
    assert "<svg" in vl_convert.vegalite_to_svg(spec)


def test_plots_of_empty_results_say_they_are_empty() -> None:
    f = zero_users()
    assert_says_empty(
        analysis.plot_metadata_groups(analysis.metadata_groups(f.users, f.accounts, "group"))
    )
    assert_says_empty(
        analysis.plot_cohort_funnel(
            analysis.cohort_funnel(f.users, f.accounts, f.availability, "group")
        )
    )
    assert_says_empty(
        analysis.plot_time_to_connect(
            analysis.time_to_connect_curves(f.users, f.accounts, "group", as_of=AS_OF)
        )
    )
    # A result filtered down to nothing.
    e = edge()
    matrix = analysis.cohort_matrix(e.users, e.accounts, "group", "region")
    assert_says_empty(analysis.plot_cohort_matrix(matrix.iloc[:0]))
    groups = analysis.metadata_groups(e.users, e.accounts, "group")
    assert_says_empty(analysis.plot_metadata_groups(groups.iloc[:0]))


def test_users_without_any_account() -> None:
    f = Frames(edge().users, empty().accounts, empty().availability)
    groups = analysis.metadata_groups(f.users, f.accounts, "group")
    assert (groups["accounts"] == 0).all()
    assert (groups["connected_share"] == 0).all()
    assert groups["connected_high"].gt(0).all()
    assert groups["accounts_connected_share"].isna().all()
    result = analysis.compare_cohorts(f.users, f.accounts, "group", unit="accounts")
    assert set(result.table["note"]) <= {"no accounts in the cohort", "no accounts in the baseline"}
    assert result.table["share"].isna().all()
    assert result.overall.p_value is None
    assert "fewer than two groups with data" in result.overall.note
    assert "Not compared" in result.summary()


# ---------------------------------------------------------------------------
# A single cohort
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "unit"),
    [(m, "users") for m in USER_METRICS] + [(m, "accounts") for m in ACCOUNT_METRICS],
)
def test_a_single_cohort_compares_without_crashing(metric: str, unit: str) -> None:
    f = only("big")
    result = analysis.compare_cohorts(
        f.users, f.accounts, "group", metric=metric, unit=unit, availability=f.availability
    )
    assert result.baseline == "big"
    assert result.table.empty
    assert result.differing() == []
    assert result.overall.p_value is None and result.overall.statistic is None
    assert result.overall.note == "fewer than two groups with data"
    text = result.summary()
    assert "against 'big'" in text
    assert "Overall: no test (fewer than two groups with data)." in text
    assert str(result) == text
    assert "big" in result._repr_html_()

    rest = analysis.compare_cohorts(
        f.users,
        f.accounts,
        "group",
        metric=metric,
        unit=unit,
        availability=f.availability,
        baseline=analysis.REST,
    )
    row = rest.table.loc["big"]
    assert finite(row["low"]) and finite(row["high"])
    assert pd.isna(row["difference"]) and pd.isna(row["p_value"])
    assert row["note"] == f"no {unit} in the baseline"
    assert "Not compared: big (no " in rest.summary()


def test_a_single_cohort_in_every_analysis() -> None:
    f = only("big")
    groups = analysis.metadata_groups(f.users, f.accounts, "group")
    assert groups.index.tolist() == ["big"]
    assert groups.loc["big", "users"] == 40
    assert groups.loc["big", "accounts"] == 30
    funnel = analysis.cohort_funnel(f.users, f.accounts, f.availability, "group")
    assert funnel.index.get_level_values(0).unique().tolist() == ["big"]
    assert funnel["users"].tolist() == [40, 30, 20, 20, 10]
    waits = analysis.time_to_connect(f.users, f.accounts, "group", as_of=AS_OF)
    assert waits.index.tolist() == ["big"]
    assert waits.loc["big", "connected"] == 20
    curves = analysis.time_to_connect_curves(f.users, f.accounts, "group", as_of=AS_OF)
    assert set(curves["group"]) == {"big"}
    matrix = analysis.cohort_matrix(f.users, f.accounts, "group", "region")
    assert matrix.index.tolist() == ["big"]
    assert int(matrix["users"].sum().sum()) == 40
    summary = analysis.metadata_key_summary(f.users)
    assert summary.loc["group", "reason"] == "a single value"


# ---------------------------------------------------------------------------
# Cohorts of one user, cohorts without accounts
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("metric", USER_METRICS)
def test_a_cohort_of_one_user_has_a_finite_interval(metric: str) -> None:
    e = edge()
    result = analysis.compare_cohorts(
        e.users, e.accounts, "group", metric=metric, availability=e.availability
    )
    row = result.table.loc["one"]
    assert row["users"] == row["trials"] == 1
    assert finite(row["low"]) and finite(row["high"])
    assert 0 <= row["low"] <= row["share"] <= row["high"] <= 1
    assert row["high"] - row["low"] > 0.5  # one user says little
    assert row["small"]
    assert row["note"] == "under 30 users: a wide interval"
    assert 0 <= row["p_value"] <= 1


def test_a_cohort_of_one_user_elsewhere() -> None:
    e = edge()
    groups = analysis.metadata_groups(e.users, e.accounts, "group")
    row = groups.loc["one"]
    for name in ("connected", "accounts_connected", "accounts_error"):
        assert finite(row[f"{name}_low"]) and finite(row[f"{name}_high"])
        assert 0 <= row[f"{name}_low"] <= row[f"{name}_share"] <= row[f"{name}_high"] <= 1
    waits = analysis.time_to_connect(e.users, e.accounts, "group", as_of=AS_OF)
    one = waits.loc["one"]
    assert one["connected"] == 1
    assert one["within_7d"] == 1.0
    assert finite(one["within_7d_low"]) and finite(one["within_7d_high"])
    counts = pd.DataFrame({"successes": [1, 30], "trials": [1, 100]}, index=["a", "b"])
    single = analysis.compare_proportions(counts).table.loc["a"]
    assert finite(single["low"]) and 0 < single["low"] < single["high"] == 1


@pytest.mark.parametrize("metric", ACCOUNT_METRICS)
def test_a_cohort_without_accounts_says_why_it_has_no_share(metric: str) -> None:
    e = edge()
    result = analysis.compare_cohorts(
        e.users, e.accounts, "group", metric=metric, unit="accounts", availability=e.availability
    )
    row = result.table.loc["no_accounts"]
    assert row["users"] == 3 and row["trials"] == 0
    for column in ("share", "low", "high", "difference", "difference_low", "difference_high"):
        assert pd.isna(row[column]), column
    assert pd.isna(row["p_value"]) and not row["differs"]
    assert row["note"] == "no accounts in the cohort"
    assert row["test"] == "none: an empty group"
    assert "Not compared: no_accounts (no accounts in the cohort)." in result.summary()
    assert "—" in result._repr_html_()

    # Of users, the cohort has a share: none of them did it.
    users = analysis.compare_cohorts(
        e.users, e.accounts, "group", metric=metric, availability=e.availability
    )
    of_users = users.table.loc["no_accounts"]
    assert of_users["share"] == 0 and of_users["low"] == pytest.approx(0, abs=TOLERANCE)
    assert 0 < of_users["high"] < 1


def test_a_baseline_without_accounts_says_so() -> None:
    e = edge()
    result = analysis.compare_cohorts(
        e.users, e.accounts, "group", unit="accounts", baseline="no_accounts"
    )
    assert result.table["note"].eq("no accounts in the baseline").all()
    assert result.table["difference"].isna().all()
    assert result.table["low"].notna().all()
    assert "Not compared: big, all_connected, all_error, one (no accounts in the baseline)." in (
        result.summary()
    )


# ---------------------------------------------------------------------------
# Groups that all share one outcome
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["connected", "error"])
@pytest.mark.parametrize("unit", ["users", "accounts"])
@pytest.mark.parametrize("metric", ["ever_connected", "connected", "error"])
@pytest.mark.parametrize("baseline", BASELINES)
def test_every_group_with_the_same_outcome(
    status: str, unit: str, metric: str, baseline: str | None
) -> None:
    f = same_outcome(status)
    result = analysis.compare_cohorts(
        f.users, f.accounts, "group", metric=metric, unit=unit, baseline=baseline, min_users=5
    )
    expected = 1.0 if (metric == "error") == (status == "error") else 0.0
    table = result.table
    assert len(table) == (2 if baseline == analysis.REST else 1)
    for _, row in table.iterrows():
        assert row["share"] == expected
        for column in ("low", "high"):
            assert finite(row[column]) and 0 <= row[column] <= 1
        assert row["low"] <= row["share"] <= row["high"]
        assert row["difference"] == 0
        for column in ("difference_low", "difference_high"):
            assert finite(row[column]) and -1 <= row[column] <= 1
        assert row["difference_low"] <= 0 <= row["difference_high"]
        assert 0 <= row["p_value"] <= 1 and 0 <= row["p_adjusted"] <= 1
        assert not row["differs"]
        assert row["note"] == ""
    assert result.differing() == []
    assert result.overall.p_value == 1.0
    assert result.overall.note == "every group has the same outcome"
    assert "every group has the same outcome" in result.summary()


@pytest.mark.parametrize("status", ["connected", "error"])
def test_same_outcome_in_groups_funnel_and_matrix(status: str) -> None:
    f = same_outcome(status)
    groups = analysis.metadata_groups(f.users, f.accounts, "group")
    for prefix in ("connected", "accounts_connected", "accounts_error"):
        low, high = groups[f"{prefix}_low"], groups[f"{prefix}_high"]
        assert low.notna().all() and high.notna().all()
        assert low.between(0, 1).all() and high.between(0, 1).all()
    funnel = analysis.cohort_funnel(f.users, f.accounts, f.availability, "group")
    assert funnel["of_cohort_low"].notna().all()
    assert funnel["of_cohort_high"].between(0, 1).all()
    matrix = analysis.cohort_matrix(f.users, f.accounts, "group", "region", metric=status)
    assert matrix["users"].to_numpy().sum() == 16
    assert (matrix["share"].to_numpy("float64") == 1.0).all()
    low = matrix["low"].to_numpy("float64")
    assert np.isfinite(low).all() and ((low > 0) & (low < 1)).all()


def test_all_connected_and_all_error_cohorts_in_mixed_data() -> None:
    e = edge()
    connected = analysis.compare_cohorts(e.users, e.accounts, "group").table
    assert connected.loc["all_connected", "share"] == 1.0
    assert connected.loc["all_connected", "high"] == 1.0
    assert 0 < connected.loc["all_connected", "low"] < 1
    assert connected.loc["all_error", "share"] == 0.0
    errors = analysis.compare_cohorts(e.users, e.accounts, "group", metric="error").table
    assert errors.loc["all_error", "share"] == 1.0
    assert 0 < errors.loc["all_error", "low"] < 1


def test_wilson_bounds_are_exact() -> None:
    e = edge()
    table = analysis.compare_cohorts(e.users, e.accounts, "group").table
    assert table.loc["all_error", "share"] == 0
    assert table.loc["all_error", "low"] == 0
    assert table.loc["no_accounts", "low"] == 0
    groups = analysis.metadata_groups(e.users, e.accounts, "group")
    assert (groups["connected_low"] <= groups["connected_share"]).all()
    assert (groups["accounts_error_low"].dropna() <= groups["accounts_error_share"].dropna()).all()
    funnel = analysis.cohort_funnel(e.users, e.accounts, e.availability, "group")
    assert (funnel["of_cohort_low"] <= funnel["of_cohort"]).all()


# ---------------------------------------------------------------------------
# Every figure in range, every missing interval explained
# ---------------------------------------------------------------------------

COMBOS = [(m, "users", b) for m in USER_METRICS for b in BASELINES] + [
    (m, "accounts", b) for m in ACCOUNT_METRICS for b in BASELINES
]


@pytest.mark.parametrize(("metric", "unit", "baseline"), COMBOS)
def test_comparison_figures_in_range_or_explained(
    metric: str, unit: str, baseline: str | None
) -> None:
    e = edge()
    result = analysis.compare_cohorts(
        e.users,
        e.accounts,
        "group",
        metric=metric,
        unit=unit,
        baseline=baseline,
        availability=e.availability,
        include_missing=True,
    )
    for group, row in result.table.iterrows():
        if pd.isna(row["share"]):
            assert row["note"], group
        else:
            assert 0 <= row["low"] <= row["share"] + TOLERANCE, group
            assert row["share"] <= row["high"] <= 1, group
        for column in ("low", "high", "difference_low", "difference_high", "p_value"):
            if pd.isna(row[column]):
                assert row["note"], (group, column)
        if not pd.isna(row["difference"]):
            assert -1 <= row["difference_low"] <= row["difference"] <= row["difference_high"] <= 1
            assert 0 <= row["p_value"] <= row["p_adjusted"] <= 1
    overall = result.overall
    if overall.p_value is None:
        assert overall.note
    else:
        assert 0 <= overall.p_value <= 1


def nan_rows(table: pd.DataFrame, columns: list[str]) -> pd.Series[bool]:
    return table[columns].isna().any(axis=1)


def test_groups_missing_intervals_follow_the_documented_rule() -> None:
    # "A share of nothing (a cohort without accounts) is missing."
    e = edge()
    groups = analysis.metadata_groups(e.users, e.accounts, "group")
    assert groups["connected_low"].notna().all() and groups["connected_high"].notna().all()
    of_accounts = [
        f"accounts_{m}_{end}" for m in ("connected", "error") for end in ("share", "low", "high")
    ]
    missing = nan_rows(groups, of_accounts)
    assert missing.any()
    assert (groups.loc[missing, "accounts"] == 0).all()


def test_time_to_connect_missing_figures_have_a_note() -> None:
    e = edge()
    waits = analysis.time_to_connect(e.users, e.accounts, "group", days=(0.5, 1, 7, 30, 365))
    bounds = [c for c in waits.columns if c.endswith(("_low", "_high"))]
    missing = nan_rows(waits, bounds)
    assert missing.any()
    assert waits.loc[missing, "note"].str.len().gt(0).all()
    for column in bounds:
        present = waits[column].dropna()
        assert present.between(0, math.inf if column.startswith("median") else 1).all()
    curves = analysis.time_to_connect_curves(e.users, e.accounts, "group")
    assert curves[["connected_low", "connected_high"]].notna().all().all()
    assert (curves["connected_low"] <= curves["connected_share"]).all()
    assert (curves["connected_share"] <= curves["connected_high"]).all()
    assert curves[["connected_low", "connected_high"]].stack().between(0, 1).all()


def test_time_to_connect_missing_median_bounds_are_explained() -> None:
    users = [user(i, {"group": "same" if i < 40 else "one"}) for i in range(41)]
    f = build(users, [account(i, "connected", after_days=2) for i in range(41)])
    waits = analysis.time_to_connect(f.users, f.accounts, "group", as_of=AS_OF)
    assert waits.loc["same", "median_days"] == 2.0
    for group, row in waits.iterrows():
        reasons = ("fewer than half", "no interval for the median")
        if pd.isna(row["median_low"]):
            assert any(r in row["note"] for r in (*reasons, "lower bound")), group
        if pd.isna(row["median_high"]):
            assert any(r in row["note"] for r in (*reasons, "upper bound")), group


FUNNEL_CASES = [
    pytest.param(("big",), id="every step reached"),
    pytest.param(
        ("big", "no_accounts", "all_error"),
        id="a step nobody reached",
    ),
]


@pytest.mark.parametrize("groups", FUNNEL_CASES)
def test_funnel_missing_intervals_follow_the_documented_rule(groups: tuple[str, ...]) -> None:
    f = only(*groups)
    funnel = analysis.cohort_funnel(f.users, f.accounts, f.availability, "group")
    assert funnel[["of_cohort", "of_cohort_low", "of_cohort_high"]].notna().all().all()
    missing = nan_rows(funnel, ["conversion", "conversion_low", "conversion_high"])
    steps = funnel.index.get_level_values("step")[missing.to_numpy()]
    # The first step has no previous step; a later one may follow a step nobody reached.
    assert "users" in set(steps)
    notes = funnel.loc[missing, "note"]
    assert notes.str.len().gt(0).all()
    first = funnel.index.get_level_values("step") == "users"
    assert (funnel.loc[first, "note"] == "the first step: no previous step").all()
    later = missing.to_numpy() & ~first
    assert (funnel.loc[later, "note"] == "no user reached the previous step").all()
    assert (funnel.loc[~missing.to_numpy(), "note"] == "").all()


MATRIX_CASES = [
    pytest.param("users", id="users"),
    pytest.param(
        "accounts",
        id="accounts",
    ),
]


@pytest.mark.parametrize("unit", MATRIX_CASES)
def test_matrix_missing_shares_follow_the_documented_rule(unit: str) -> None:
    # "A cell has no share exactly where there is nothing to share: its trials is 0."
    e = edge()
    matrix = analysis.cohort_matrix(e.users, e.accounts, "group", "region", unit=unit)  # type: ignore[arg-type]
    trials = matrix["trials"].to_numpy()
    for measure in ("share", "low", "high"):
        missing = matrix[measure].isna().to_numpy()
        assert (missing == (trials == 0)).all(), measure
        present = matrix[measure].to_numpy("float64", na_value=np.nan)[~missing]
        assert ((present >= 0) & (present <= 1)).all()


# ---------------------------------------------------------------------------
# Bad arguments
# ---------------------------------------------------------------------------


def compare(**kwargs: Any) -> Callable[[], object]:
    e = edge()
    return lambda: analysis.compare_cohorts(e.users, e.accounts, "group", **kwargs)


def proportions(k: list[Any], n: list[Any], **kwargs: Any) -> Callable[[], object]:
    counts = pd.DataFrame({"successes": k, "trials": n}, index=["a", "b"])
    return lambda: analysis.compare_proportions(counts, **kwargs)


BAD_ARGUMENTS: dict[str, tuple[Callable[[], object], type[Exception], str]] = {
    "unknown metric": (compare(metric="bogus"), ValueError, "unknown metric 'bogus'"),
    "unknown unit": (compare(unit="bogus"), ValueError, "unit must be 'users' or 'accounts'"),
    "with_account of accounts": (
        compare(metric="with_account", unit="accounts"),
        ValueError,
        "every account is 'with_account'",
    ),
    "fully_synced without availability": (
        compare(metric="fully_synced"),
        ValueError,
        "needs the availability frame",
    ),
    "baseline not a cohort": (
        compare(baseline="nowhere"),
        KeyError,
        "baseline 'nowhere' is not a cohort of 'group' (cohorts: 'big',",
    ),
    "baseline left out": (
        compare(baseline=analysis.MISSING),
        KeyError,
        "baseline '(missing)' is not a cohort of 'group'",
    ),
    **{
        f"alpha {alpha}": (
            compare(alpha=alpha),
            ValueError,
            "alpha must be a number between 0 and 1",
        )
        for alpha in (0, 1, -0.1, 1.5, math.nan, "0.05", True)
    },
    "matrix rows == columns": (
        lambda: analysis.cohort_matrix(edge().users, edge().accounts, "group", "group"),
        ValueError,
        "rows and columns are the same key ('group')",
    ),
    "matrix unknown metric": (
        lambda: analysis.cohort_matrix(
            edge().users, edge().accounts, "group", "region", metric="bogus"
        ),
        ValueError,
        "unknown metric 'bogus'",
    ),
    "matrix unknown unit": (
        lambda: analysis.cohort_matrix(
            edge().users,
            edge().accounts,
            "group",
            "region",
            unit="bogus",  # type: ignore[arg-type]
        ),
        ValueError,
        "unit must be 'users' or 'accounts'",
    ),
    **{
        f"days {days}": (
            lambda days=days: analysis.time_to_connect(
                edge().users, edge().accounts, "group", days=days
            ),
            ValueError,
            "days must be positive numbers of days",
        )
        for days in ((0, 7), (-1,), (math.nan,), (math.inf,))
    },
    "successes > trials": (
        proportions([5, 1], [3, 2]),
        ValueError,
        "0 <= successes <= trials; group 'a' has",
    ),
    "negative successes": (proportions([-1, 1], [3, 2]), ValueError, "group 'a' has"),
    "negative trials": (proportions([0, 1], [-3, 2]), ValueError, "group 'a' has"),
    "fractional successes": (proportions([1.5, 1], [3, 2]), ValueError, "whole numbers"),
    "missing successes": (proportions([math.nan, 1], [3, 2]), ValueError, "group 'a' has"),
    "text successes": (proportions(["x", 1], [3, 2]), ValueError, "group 'a' has 'x'"),
    "no such column": (
        proportions([1, 1], [3, 2], successes="k"),
        KeyError,
        "counts have no column 'k'",
    ),
    "proportions baseline": (
        proportions([1, 1], [3, 2], baseline="c"),
        KeyError,
        "baseline 'c' is not a cohort",
    ),
    "proportions alpha": (
        proportions([1, 1], [3, 2], alpha=2),
        ValueError,
        "alpha must be a number between 0 and 1",
    ),
}


@pytest.mark.parametrize("name", list(BAD_ARGUMENTS))
def test_bad_arguments_are_named(name: str) -> None:
    call, error, text = BAD_ARGUMENTS[name]
    with pytest.raises(error, match=re.escape(text)):
        call()


MIN_USERS_CALLS: dict[str, Callable[[Any], object]] = {
    "metadata_groups": lambda n: analysis.metadata_groups(
        edge().users, edge().accounts, "group", min_users=n
    ),
    "metadata_key_summary": lambda n: analysis.metadata_key_summary(edge().users, min_users=n),
    "cohort_counts": lambda n: analysis.cohort_counts(
        edge().users, edge().accounts, "group", min_users=n
    ),
    "compare_cohorts": lambda n: analysis.compare_cohorts(
        edge().users, edge().accounts, "group", min_users=n
    ),
    "cohort_funnel": lambda n: analysis.cohort_funnel(
        edge().users, edge().accounts, edge().availability, "group", min_users=n
    ),
    "time_to_connect": lambda n: analysis.time_to_connect(
        edge().users, edge().accounts, "group", min_users=n
    ),
    "time_to_connect_curves": lambda n: analysis.time_to_connect_curves(
        edge().users, edge().accounts, "group", min_users=n
    ),
    "cohort_matrix": lambda n: analysis.cohort_matrix(
        edge().users, edge().accounts, "group", "region", min_users=n
    ),
}


@pytest.mark.parametrize("min_users", [0, -1, True, False, 2.5])
@pytest.mark.parametrize("name", list(MIN_USERS_CALLS))
def test_min_users_must_be_a_positive_whole_number(name: str, min_users: Any) -> None:
    with pytest.raises(
        ValueError, match=re.escape(f"min_users must be a positive whole number, not {min_users!r}")
    ):
        MIN_USERS_CALLS[name](min_users)


def test_days_as_a_single_number() -> None:
    e = edge()
    try:
        waits = analysis.time_to_connect(e.users, e.accounts, "group", days=7)  # type: ignore[arg-type]
    except (TypeError, ValueError) as error:
        assert "days" in str(error)
    else:
        assert "within_7d" in waits.columns


def test_compare_proportions_infinite_counts() -> None:
    with pytest.raises(ValueError, match=re.escape("group 'a' has")):
        proportions([1, 1], [math.inf, 2])()


def test_compare_proportions_repeated_groups() -> None:
    counts = pd.DataFrame({"successes": [1, 1], "trials": [3, 2]}, index=["a", "a"])
    with pytest.raises((ValueError, KeyError), match="'a'"):
        analysis.compare_proportions(counts)


# ---------------------------------------------------------------------------
# Plots of edge results
# ---------------------------------------------------------------------------

PLOTS: dict[str, Callable[[], Any]] = {
    "groups": lambda: analysis.plot_metadata_groups(
        analysis.metadata_groups(edge().users, edge().accounts, "group")
    ),
    "groups without accounts": lambda: analysis.plot_metadata_groups(
        analysis.metadata_groups(edge().users, empty().accounts, "group")
    ),
    "groups single cohort": lambda: analysis.plot_metadata_groups(
        analysis.metadata_groups(only("one").users, edge().accounts, "group")
    ),
    "funnel": lambda: analysis.plot_cohort_funnel(
        analysis.cohort_funnel(edge().users, edge().accounts, edge().availability, "group")
    ),
    "funnel single cohort": lambda: analysis.plot_cohort_funnel(
        analysis.cohort_funnel(
            only("no_accounts").users, edge().accounts, edge().availability, "group"
        )
    ),
    "curves": lambda: analysis.plot_time_to_connect(
        analysis.time_to_connect_curves(edge().users, edge().accounts, "group")
    ),
    "curves nobody connected": lambda: analysis.plot_time_to_connect(
        analysis.time_to_connect_curves(
            only("no_accounts", "all_error").users, edge().accounts, "group", as_of=AS_OF
        )
    ),
    "matrix of users": lambda: analysis.plot_cohort_matrix(
        analysis.cohort_matrix(edge().users, edge().accounts, "group", "region")
    ),
    "matrix of accounts": lambda: analysis.plot_cohort_matrix(
        analysis.cohort_matrix(edge().users, edge().accounts, "group", "region", unit="accounts")
    ),
    "matrix single cell": lambda: analysis.plot_cohort_matrix(
        analysis.cohort_matrix(only("one").users, edge().accounts, "group", "region")
    ),
}


@pytest.mark.parametrize("name", list(PLOTS))
def test_plots_of_edge_results_draw(name: str) -> None:
    spec = PLOTS[name]().to_dict()
    assert spec["title"]
    # The data is drawn (not the empty chart) and renders offline.
    layers = spec.get("layer", [spec])
    assert all(
        "message" not in layer.get("encoding", {}).get("text", {}).get("field", "")
        for layer in layers
    )
    assert any(layer.get("encoding", {}).get("x", {}).get("title") for layer in layers)
    assert "<svg" in vl_convert.vegalite_to_svg(spec)


RESERVED_LIKE = st.builds(
    lambda left, label, right: '"' * left + label + '"' * right,
    st.integers(0, 3),
    st.sampled_from([analysis.MISSING, analysis.OTHER, analysis.REST, "(missing", "x"]),
    st.integers(0, 3),
)


@pytest.mark.property
@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(RESERVED_LIKE, st.text(max_size=6)), min_size=1, max_size=12))
def test_a_value_reading_as_our_labels_is_a_cohort_of_its_own(values: list[str]) -> None:
    """Users whose key holds "(missing)", "(other)" or "(rest)" (quoted or not) are never
    merged with the users without the key, nor with each other: per label, the users of a
    plain loop over the values."""
    records = [user(i, {"k": v}) for i, v in enumerate(values)] + [user(len(values), {})]
    users = frames.users_frame(records)
    groups = analysis.metadata_groups(users, frames.accounts_frame(b"[]"), "k", min_users=1)
    reserved = {analysis.MISSING, analysis.OTHER, analysis.REST}
    assert reserved.isdisjoint(set(groups.index) - {analysis.MISSING})
    assert groups.loc[analysis.MISSING, "users"] == 1  # only the user without the key
    members = {
        frozenset(analysis.users_in_group(users, "k", g)["id"])
        for g in groups.index.drop(analysis.MISSING)
    }
    expected = {
        frozenset(uid(i) for i, v in enumerate(values) if v == value) for value in set(values)
    }
    assert members == expected  # one cohort per distinct value, each with its users
