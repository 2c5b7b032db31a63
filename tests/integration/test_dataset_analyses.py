"""The analyses on a dataset, in DuckDB, give what the pandas analyses give on the frames of
the same data: counts exactly, shares and intervals to 1e-9."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

from argyle_nb import analysis, dataset
from tests.integration.portfolios import Portfolio, portfolio

pytestmark = pytest.mark.embedded_only("exports the embedded sandbox's demo data")


@pytest.fixture(scope="module")
def same(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portfolio]:
    # A few thousand accounts: every cohort, status, resource and error code of the story.
    found = portfolio(tmp_path_factory.mktemp("analyses"), users=2500, seed=5, batch_pages=3)
    assert len(found.accounts) > 3000
    yield found
    found.ds.close()


def _equal(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Same rows in the same order, same columns; counts exact, shares to 1e-9."""
    assert list(got.columns) == list(want.columns)
    assert [tuple(map(str, i)) if isinstance(i, tuple) else str(i) for i in got.index] == [
        tuple(map(str, i)) if isinstance(i, tuple) else str(i) for i in want.index
    ]
    assert list(got.index.names) == list(want.index.names)
    for column in want.columns:
        a, b = got[column], want[column]
        if pd.api.types.is_float_dtype(b.dtype):
            pd.testing.assert_series_equal(
                a.astype("Float64").reset_index(drop=True),
                b.astype("Float64").reset_index(drop=True),
                check_exact=False,
                rtol=0,
                atol=1e-9,
                check_names=False,
            )
        else:
            assert a.astype("str").tolist() == b.astype("str").tolist(), column
            assert a.dtype == b.dtype, (column, a.dtype, b.dtype)


@pytest.mark.parametrize("key", ["customer group", "region", "acquisition channel"])
@pytest.mark.parametrize("pool_small", [False, True])
def test_cohorts(same: Portfolio, key: str, pool_small: bool) -> None:
    want = analysis.metadata_groups(same.users, same.accounts, key, pool_small=pool_small)
    got = analysis.metadata_groups(same.ds, key, pool_small=pool_small)
    _equal(got, want)
    assert got["users"].sum() == len(same.users)


@pytest.mark.parametrize(
    ("by", "freq"),
    [
        ("link_item", None),
        ("source", None),
        ("week", None),
        ("month", None),
        ("link_item", "month"),
    ],
)
def test_connection_status(same: Portfolio, by: str, freq: str | None) -> None:
    want = analysis.connection_status_distribution(same.accounts, by=by, freq=freq)
    got = dataset.connection_status_distribution(same.ds, by=by, freq=freq)
    _equal(got, want)
    assert got["total"].sum() == len(same.accounts)
    if by in ("week", "month"):
        assert got.index.dtype == want.index.dtype


@pytest.mark.parametrize("stale_days", [7, 30])
def test_availability_windows(same: Portfolio, stale_days: float) -> None:
    want = analysis.availability_windows(same.availability, stale_days=stale_days)
    got = dataset.availability_windows(same.ds, stale_days=stale_days)
    _equal(got, want)
    assert got["accounts"].sum() == len(same.availability)


def test_wrong_questions_are_refused(same: Portfolio) -> None:
    with pytest.raises(KeyError, match="no column 'nope'"):
        dataset.connection_status_distribution(same.ds, by="nope")
    with pytest.raises(dataset.DatasetError, match=r"no user .* has the metadata key 'nope'"):
        analysis.metadata_groups(same.ds, "nope")
    with pytest.raises(ValueError, match="min_users"):
        analysis.metadata_groups(same.ds, "region", min_users=0)


def _created_bounds(accounts: pd.DataFrame) -> tuple[str, pd.Timestamp]:
    """A day in the data's range, and an account's own created_at (the bound is exact)."""
    created = accounts["created_at"].sort_values()
    day = created.iloc[len(created) // 3].strftime("%Y-%m-%d")
    return day, created.iloc[2 * len(created) // 3]


def test_selected_accounts_are_the_pandas_selection(same: Portfolio) -> None:
    items = sorted(same.accounts["link_item"].astype("str").unique())
    sources = sorted(same.accounts["source"].dropna().astype("str").unique())
    day, stamp = _created_bounds(same.accounts)
    choices: list[dict[str, object]] = [
        {},
        {"link_item": items[0]},
        {"link_item": items[:4], "source": sources[:1]},
        {"created_from": day},
        {"created_to": stamp},  # exclusive: the account created at that instant is out
        {"created_from": stamp + pd.Timedelta(nanoseconds=1)},  # finer than stored times
        {"created_from": stamp, "created_to": stamp + pd.Timedelta(days=30)},
        {"link_item": items[:6], "created_from": day, "created_to": "2100-01-01"},
        {"link_item": []},
    ]
    for filters in choices:
        want = analysis.select_accounts(same.accounts, **filters)  # type: ignore[arg-type]
        got = dataset.select_accounts(same.ds, **filters)  # type: ignore[arg-type]
        assert got.rows("accounts") == len(want), filters
        ids = [r[0] for r in got.sql("select id from accounts").fetchall()]
        assert sorted(ids) == sorted(want["id"].astype("str")), filters
        # The other tables are the whole dataset's; the selection leaves the dataset as is.
        assert got.rows("users") == same.ds.rows("users") == len(same.users)
        if len(want):
            _equal(
                dataset.connection_status_distribution(got, by="source", freq="week"),
                analysis.connection_status_distribution(want, by="source", freq="week"),
            )
            _equal(dataset.top_error_codes(got), analysis.top_error_codes(want))
        got.close()
    assert same.ds.rows("accounts") == len(same.accounts)


def test_selections_narrow_each_other(same: Portfolio) -> None:
    items = sorted(same.accounts["link_item"].astype("str").unique())
    day, _ = _created_bounds(same.accounts)
    both = dataset.select_accounts(
        dataset.select_accounts(same.ds, link_item=items[:5]), created_from=day
    )
    want = analysis.select_accounts(same.accounts, link_item=items[:5], created_from=day)
    assert both.rows("accounts") == len(want) > 0
    assert "accounts where" in repr(both) and f"{len(want):,} accounts" in repr(both)


@pytest.mark.parametrize("n", [3, 10, None])
def test_top_error_codes(same: Portfolio, n: int | None) -> None:
    want = analysis.top_error_codes(same.accounts, n=n)
    got = dataset.top_error_codes(same.ds, n=n)
    assert len(analysis.top_error_codes(same.accounts, n=None)) > 3  # n cuts some off
    _equal(got, want)
    assert got.index.name == want.index.name


@pytest.mark.parametrize("min_users", [30, 400])
def test_metadata_key_summary(same: Portfolio, min_users: int) -> None:
    want = analysis.metadata_key_summary(same.users, min_users=min_users)
    got = analysis.metadata_key_summary(same.ds, min_users=min_users)
    assert len(want) >= 5 and (want["cohort"] == "poor").any() and "meta" in want.index
    _equal(got, want)


@pytest.mark.parametrize(
    ("key", "options"),
    [
        ("customer group", {}),
        ("customer group", {"unit": "accounts"}),
        ("region", {"baseline": analysis.REST}),
        ("acquisition channel", {"include_missing": True, "pool_small": True}),
    ],
)
def test_compare_cohorts(same: Portfolio, key: str, options: dict[str, object]) -> None:
    want = analysis.compare_cohorts(same.users, same.accounts, key, **options)  # type: ignore[arg-type]
    got = analysis.compare_cohorts(same.ds, key, **options)  # type: ignore[arg-type]
    _equal(got.table, want.table)
    assert got.summary() == want.summary()
    assert (got.overall.dof, got.overall.groups) == (want.overall.dof, want.overall.groups)
    assert got.overall.statistic == pytest.approx(want.overall.statistic, abs=1e-9)
    assert got.overall.p_value == pytest.approx(want.overall.p_value, abs=1e-9)
    if options.get("unit", "users") == "users":
        # The users metadata_groups counted give the same comparison, counted once.
        pooled = {k: v for k, v in options.items() if k == "pool_small"}
        groups = analysis.metadata_groups(same.ds, key, **pooled)  # type: ignore[arg-type]
        again = analysis.compare_cohorts(same.ds, key, groups=groups, **options)  # type: ignore[arg-type]
        _equal(again.table, want.table)
        assert again.summary() == want.summary()
    else:
        with pytest.raises(ValueError, match="unit='users'"):
            analysis.compare_cohorts(same.ds, key, groups=pd.DataFrame(), **options)  # type: ignore[arg-type]


def test_users_in_group(same: Portfolio) -> None:
    for key, group in [("customer group", None), ("region", analysis.MISSING)]:
        if group is None:
            group = str(analysis.metadata_groups(same.users, same.accounts, key).index[0])
        want = analysis.users_in_group(same.users, key, group)
        got = analysis.users_in_group(same.ds, key, group)
        assert len(got) == len(want) > 0
        # The group's users, with every metadata column they carry (the other users'
        # keys are no columns of theirs).
        carried = [c for c in want.columns if want[c].notna().any()]
        assert sorted(got["id"]) == sorted(want["id"].astype("str"))
        pd.testing.assert_frame_equal(
            got[carried].sort_values("id").reset_index(drop=True),
            want[carried].sort_values("id").reset_index(drop=True),
        )
        assert len(analysis.users_in_group(same.ds, key, group, limit=7)) == min(7, len(want))
    with pytest.raises(ValueError, match="limit"):
        analysis.users_in_group(same.ds, "region", "x", limit=-1)


@pytest.mark.parametrize(
    ("resource", "statuses", "sample", "seed"),
    [
        ("payouts", None, 50, 0),
        ("payouts", ["sync_failed"], 20, 7),
        ("activities", ["synced", "in_progress"], 30, 1),
        ("payouts", None, None, 0),
        ("profiles", None, 50, 0),  # no event windows: nothing to draw
    ],
)
def test_availability_timeline_draws_the_pandas_sample(
    same: Portfolio, resource: str, statuses: list[str] | None, sample: int | None, seed: int
) -> None:
    want = analysis.availability_timeline(
        same.availability, resource, statuses=statuses, sample=sample, seed=seed
    )
    got = dataset.availability_timeline(
        same.ds, resource, statuses=statuses, sample=sample, seed=seed
    )
    pd.testing.assert_frame_equal(got, want)


def test_scan_counts_and_selected_availability(same: Portfolio) -> None:
    av = same.availability
    counts = dataset.scan_counts(same.ds)
    assert counts["accounts"].sum() == len(av)
    dated = av["available_from"].notna() & av["available_to"].notna()
    assert counts["with_window"].sum() == int(dated.sum())
    assert counts["latest"].max() == av["updated_at"].max()
    per = counts.groupby("resource", observed=True)["accounts"].sum()
    assert per.astype("int64").to_dict() == av["resource"].astype("str").value_counts().to_dict()
    failed = dataset.select_availability(same.ds, resource="payouts", statuses=["sync_failed"])
    rows = av[(av["resource"] == "payouts") & (av["status"] == "sync_failed")]
    assert failed.rows("availability") == len(rows) > 0
    want = analysis.availability_windows(rows, now=av["updated_at"].max())
    _equal(dataset.availability_windows(failed, now=av["updated_at"].max()), want)


def test_a_selection_is_its_own_cursor(same: Portfolio) -> None:
    chosen = dataset.select_accounts(same.ds, source="nowhere")
    assert chosen.rows("accounts") == 0
    assert chosen.rows("availability") == len(same.availability)
    chosen.close()
    # Closing a selection leaves the dataset it came from open and whole.
    assert same.ds.sql("select count(*) from accounts").fetchall()[0][0] == len(same.accounts)
    with pytest.raises(dataset.DatasetError, match="no table 'payments'"):
        same.ds.restricted("payments", "true")
