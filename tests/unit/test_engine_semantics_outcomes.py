"""What users and accounts did, as the cohort analyses count it, on frames and on a dataset
alike, pinned against plain loops over the raw JSON records (tests/raw_reference.py):
the counts of every metric and unit of compare_cohorts, the cells of cohort_matrix, the
key summary, ever connected, fully synced, the funnel's steps, and the time to connect
(first connection, censoring at ``as_of``).
Labels and cohorts: test_engine_semantics.py."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from argyle_nb import analysis
from tests import raw_reference as ref
from tests.engine_given import AS_OF, ODD_KEY, Build, account, messy, user


def one_user_per_case(cases: dict[str, list[dict[str, Any]]]) -> tuple[list[Any], list[Any]]:
    """A user per case (its cohort of the key "case"), owning the accounts given (their
    ids and owner renumbered)."""
    users, accounts = [], []
    for i, (case, owned) in enumerate(cases.items()):
        users.append(user(i, {"case": case}))
        for made in owned:
            accounts.append(
                {
                    **made,
                    "id": f"10000000-0000-4000-8000-{len(accounts):012d}",
                    "user": users[-1]["id"],
                }
            )
    return users, accounts


def successes(data: Any, key: str, metric: str, unit: str) -> dict[str, tuple[int, int]]:
    """``compare_cohorts``' (trials, successes) per cohort, every cohort in its table."""
    extra = data.with_availability() if metric == "fully_synced" else {}
    table = data.cohort(
        analysis.compare_cohorts,
        key,
        metric=metric,
        unit=unit,
        baseline=analysis.REST,
        include_missing=True,
        min_users=1,
        **extra,
    ).table
    return {str(g): (int(r.trials), int(r.successes)) for g, r in table.iterrows()}


def expected(
    users: list[Any], accounts: list[Any], key: str, metric: str, unit: str
) -> dict[str, tuple[int, int]]:
    counted = ref.counts(users, accounts, key, metric, unit)
    return {g: (trials, k) for g, (_, trials, k) in counted.items()}


# -- compare_cohorts: every metric and unit over the same records ------------------------


COMPARED = [
    ("connected", "users"),
    ("connected", "accounts"),
    ("ever_connected", "users"),
    ("ever_connected", "accounts"),
    ("error", "users"),
    ("error", "accounts"),
    ("with_account", "users"),
    ("fully_synced", "users"),
    ("fully_synced", "accounts"),
]


@pytest.mark.parametrize(("metric", "unit"), COMPARED)
def test_compare_cohorts_counts_as_the_raw_records_say(
    build: Build, metric: str, unit: str
) -> None:
    users, accounts = messy()
    data = build(users, accounts)
    extra = data.with_availability() if metric == "fully_synced" else {}
    result = data.cohort(
        analysis.compare_cohorts,
        "group",
        metric=metric,
        unit=unit,
        baseline=analysis.REST,
        include_missing=True,
        min_users=2,
        **extra,
    )
    table = result.table
    expected = ref.counts(users, accounts, "group", metric, unit)
    assert list(table.index) == list(expected)
    got = {str(g): (int(r.users), int(r.trials), int(r.successes)) for g, r in table.iterrows()}
    assert got == expected


def test_compare_cohorts_leaves_out_the_missing_group_and_tests_against_the_largest(
    build: Build,
) -> None:
    users, accounts = messy()
    result = build(users, accounts).cohort(analysis.compare_cohorts, "group", min_users=2)
    expected = ref.counts(users, accounts, "group", "connected", "users")
    assert result.baseline == "A"  # the largest cohort
    assert result.left_out == ("(missing)",)
    assert list(result.table.index) == [g for g in expected if g not in ("A", "(missing)")]
    assert (int(result.table["baseline_trials"].iloc[0])) == expected["A"][1]


# -- the other cohort analyses over the same records --------------------------------------


@pytest.mark.parametrize(("metric", "unit"), [("connected", "users"), ("error", "accounts")])
def test_cohort_matrix_counts_each_cell_as_the_raw_records_say(
    build: Build, metric: str, unit: str
) -> None:
    users, accounts = messy()
    matrix = build(users, accounts).cohort(
        analysis.cohort_matrix, "group", "flag", metric=metric, unit=unit, min_users=2
    )
    rows = ref.labels(users, "group")
    columns = ref.labels(users, "flag")
    owned = ref.user_accounts(users, accounts)
    cells: dict[tuple[str, str], list[int]] = {}
    for uid in rows:
        cell = cells.setdefault((rows[uid], columns[uid]), [0, 0, 0])
        cell[0] += 1
        if unit == "users":
            cell[1] += 1
            cell[2] += ref.user_outcome(owned[uid], metric)
        else:
            cell[1] += len(owned[uid])
            cell[2] += sum(ref.account_outcome(a)[metric] for a in owned[uid])
    row_sizes: dict[str, int] = {}
    column_sizes: dict[str, int] = {}
    for (r, c), (n, _, _) in cells.items():
        row_sizes[r] = row_sizes.get(r, 0) + n
        column_sizes[c] = column_sizes.get(c, 0) + n
    assert [str(g) for g in matrix.index] == ref.cohort_order(row_sizes)
    assert [str(g) for g in matrix["users"].columns] == ref.cohort_order(column_sizes)
    for r in row_sizes:
        for c in column_sizes:
            n, trials, successes = cells.get((r, c), [0, 0, 0])
            assert int(matrix["users"].loc[r, c]) == n, (r, c)
            assert int(matrix["trials"].loc[r, c]) == trials, (r, c)
            share = matrix["share"].loc[r, c]
            if trials:
                assert float(share) == pytest.approx(successes / trials), (r, c)
            else:
                assert pd.isna(share), (r, c)


def test_metadata_key_summary_counts_users_values_and_median_group(build: Build) -> None:
    users, accounts = messy()
    summary = build(users, accounts).of_users(analysis.metadata_key_summary)
    for key in ("group", "score", "flag", "tags", "region.zone", ODD_KEY):
        present = [g for g in ref.labels(users, key).values() if g != ref.MISSING]
        sizes = sorted(present.count(g) for g in set(present))
        middle = len(sizes) // 2
        median = sizes[middle] if len(sizes) % 2 else (sizes[middle - 1] + sizes[middle]) / 2
        row = summary.loc[key]
        assert (int(row["users"]), int(row["values"])) == (len(present), len(sizes)), key
        assert float(row["median_group"]) == pytest.approx(median), key
        assert float(row["share"]) == pytest.approx(len(present) / len(ref.first_users(users)))


# -- 5. ever connected, fully synced, the funnel -----------------------------------------


EVER = {
    "connected now, was_connected false": [account(0, 0, "connected", was=False)],
    "in error, was_connected true": [account(0, 0, "error", was=True, code="x")],
    "in error, no was_connected": [account(0, 0, "error", code="x")],
    "connecting, was_connected false": [account(0, 0, "connecting", was=False)],
    "one of two": [account(0, 0, "connecting"), account(0, 0, "error", was=True)],
    "no account": [],
}


@pytest.mark.parametrize("unit", ["users", "accounts"])
def test_ever_connected_is_was_connected_or_connected_now(build: Build, unit: str) -> None:
    users, accounts = one_user_per_case(EVER)
    got = successes(build(users, accounts), "case", "ever_connected", unit)
    assert got == expected(users, accounts, "case", "ever_connected", unit)
    if unit == "users":
        assert {case for case, (_, k) in got.items() if k} == {
            "connected now, was_connected false",
            "in error, was_connected true",
            "one of two",
        }


SYNCED = {
    "connected, all synced": [account(0, 0, scans={"payouts": "synced", "finances": "synced"})],
    "connected, one sync_failed": [
        account(0, 0, scans={"payouts": "synced", "finances": "sync_failed"})
    ],
    "connected, one in_progress": [account(0, 0, scans={"payouts": "in_progress"})],
    "connected, a resource without status": [
        account(0, 0, scans={"payouts": "synced", "finances": None})
    ],
    "connected, no availability": [account(0, 0)],
    "connected, only resources without status": [account(0, 0, scans={"payouts": None})],
    "in error, all synced": [account(0, 0, "error", was=True, scans={"payouts": "synced"})],
    "one of two": [
        account(0, 0, scans={"payouts": "sync_failed"}),
        account(0, 0, scans={"activities": "synced"}),
    ],
}


@pytest.mark.parametrize("unit", ["users", "accounts"])
def test_fully_synced_is_connected_with_every_present_scan_synced(build: Build, unit: str) -> None:
    users, accounts = one_user_per_case(SYNCED)
    got = successes(build(users, accounts), "case", "fully_synced", unit)
    assert got == expected(users, accounts, "case", "fully_synced", unit)
    if unit == "users":
        assert {case for case, (_, k) in got.items() if k} == {
            "connected, all synced",
            "connected, a resource without status",
            "one of two",
        }


#: The funnel's steps and the outcome each needs (besides every step before).
STEPS = [
    ("users", None),
    ("with an account", "with_account"),
    ("ever connected", "ever_connected"),
    ("connected now", "connected"),
    ("fully synced", "fully_synced"),
]


def expected_funnel(users: list[Any], accounts: list[Any], key: str) -> dict[tuple[str, str], int]:
    """Per (cohort, step): the users who reached the step and every step before it."""
    cohort_of = ref.labels(users, key)
    owned = ref.user_accounts(users, accounts)
    sizes: dict[str, int] = {}
    for group in cohort_of.values():
        sizes[group] = sizes.get(group, 0) + 1
    out = {(g, step): 0 for g in ref.cohort_order(sizes) for step, _ in STEPS}
    for uid, group in cohort_of.items():
        for step, outcome in STEPS:
            if outcome is not None and not ref.user_outcome(owned[uid], outcome):
                break
            out[(group, step)] += 1
    return out


def test_cohort_funnel_counts_each_step_as_the_raw_records_say(build_or_export: Build) -> None:
    assert [name for name, _ in analysis.FUNNEL_STEPS] == [name for name, _ in STEPS]
    users, accounts = messy()
    funnel = build_or_export(users, accounts).funnel(analysis.cohort_funnel, "group")
    got = {(str(g), str(s)): int(n) for (g, s), n in funnel["users"].items()}
    want = expected_funnel(users, accounts, "group")
    assert list(got) == list(want)  # cohorts in order (the missing group last), steps in order
    assert got == want


@pytest.mark.parametrize("cases", [EVER, SYNCED], ids=["ever", "synced"])
def test_cohort_funnel_steps_of_each_case(build: Build, cases: dict[str, Any]) -> None:
    users, accounts = one_user_per_case(cases)
    funnel = build(users, accounts).funnel(analysis.cohort_funnel, "case", min_users=1)
    got = {(str(g), str(s)): int(n) for (g, s), n in funnel["users"].items()}
    assert got == expected_funnel(users, accounts, "case")


# -- 6. time to connect ------------------------------------------------------------------


def test_the_first_connection_is_the_earliest_account_that_ever_connected(build: Build) -> None:
    day = "2026-01-{:02d}T00:00:00Z".format
    users = [
        user(1, {"case": "earliest was_connected"}, created=day(1)),
        user(2, {"case": "never"}, created=day(1)),
        user(3, {"case": "connected now"}, created=day(1)),
    ]
    accounts = [
        account(1, 1, "connected", created=day(5)),  # listed first, connected later
        account(2, 1, "error", was=True, code="x", created=day(3)),  # the first connection
        account(3, 1, "error", was=False, code="x", created=day(2)),  # never connected
        account(4, 2, "error", code="x", created=day(2)),
        account(5, 3, "connecting", was=False, created=day(2)),
        account(6, 3, "connected", was=False, created=day(8)),
    ]
    waits = build(users, accounts).cohort(
        analysis.time_to_connect, "case", days=(1,), as_of=AS_OF, min_users=1
    )
    reference = ref.waits(users, accounts, "case", AS_OF)
    assert reference["earliest was_connected"] == [(2.0, True)]
    for case, observed in reference.items():
        assert int(waits.loc[case, "users"]) == len(observed), case
        assert int(waits.loc[case, "connected"]) == sum(e for _, e in observed), case
    assert float(waits.loc["earliest was_connected", "median_days"]) == pytest.approx(2.0)
    assert float(waits.loc["connected now", "median_days"]) == pytest.approx(7.0)
    assert pd.isna(waits.loc["never", "median_days"])


def test_users_who_never_connected_are_censored_at_as_of(build: Build) -> None:
    users = [
        user(1, {"case": "c"}, created="2026-01-01T00:00:00Z"),  # connects after 2 days
        user(2, {"case": "c"}, created="2026-02-26T00:00:00Z"),  # waits 3 days to AS_OF
        user(3, {"case": "c"}, created="2026-01-01T00:00:00Z"),  # connects after 5 days
    ]
    accounts = [
        account(1, 1, created="2026-01-03T00:00:00Z"),
        account(2, 2, "error", code="x", created="2026-02-27T00:00:00Z"),
        account(3, 3, created="2026-01-06T00:00:00Z"),
    ]
    waits = build(users, accounts).cohort(
        analysis.time_to_connect, "case", days=(1, 4, 6), as_of=AS_OF, min_users=1
    )
    observed = ref.waits(users, accounts, "case", AS_OF)["c"]
    assert sorted(observed) == [(2.0, True), (3.0, False), (5.0, True)]
    row = waits.loc["c"]
    assert (int(row["users"]), int(row["connected"])) == (3, 2)
    for d in (1, 4, 6):
        assert float(row[f"within_{d}d"]) == pytest.approx(ref.kaplan_meier_share(observed, d)), d
    # censored at day 3, the user is no longer at risk at day 5: everyone left connected
    assert float(row["within_6d"]) == pytest.approx(1.0)
    assert float(row["median_days"]) == pytest.approx(5.0)


def test_time_to_connect_matches_the_product_limit_over_the_raw_records(
    build_or_export: Build,
) -> None:
    users, accounts = messy()
    horizons = (1, 2, 3)
    waits = build_or_export(users, accounts).cohort(
        analysis.time_to_connect, "group", days=horizons, as_of=AS_OF, min_users=2
    )
    reference = ref.waits(users, accounts, "group", AS_OF)
    assert list(waits.index) == list(ref.counts(users, [], "group", "connected", "users"))
    for group, observed in reference.items():
        row = waits.loc[group]
        assert int(row["users"]) == len(observed), group
        assert int(row["connected"]) == sum(e for _, e in observed), group
        for d in horizons:
            want = ref.kaplan_meier_share(observed, d)
            assert float(row[f"within_{d}d"]) == pytest.approx(want), (group, d)
