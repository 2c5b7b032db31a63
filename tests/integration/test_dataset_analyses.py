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
    got = dataset.metadata_groups(same.ds, key, pool_small=pool_small)
    _equal(got, want)
    assert got["users"].sum() == len(same.users)


def test_wrong_questions_are_refused(same: Portfolio) -> None:
    with pytest.raises(dataset.DatasetError, match=r"no user .* has the metadata key 'nope'"):
        dataset.metadata_groups(same.ds, "nope")
    with pytest.raises(ValueError, match="min_users"):
        dataset.metadata_groups(same.ds, "region", min_users=0)


@pytest.mark.parametrize("min_users", [30, 400])
def test_metadata_key_summary(same: Portfolio, min_users: int) -> None:
    want = analysis.metadata_key_summary(same.users, min_users=min_users)
    got = dataset.metadata_key_summary(same.ds, min_users=min_users)
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
    got = dataset.compare_cohorts(same.ds, key, **options)  # type: ignore[arg-type]
    _equal(got.table, want.table)
    assert got.summary() == want.summary()
    assert (got.overall.dof, got.overall.groups) == (want.overall.dof, want.overall.groups)
    assert got.overall.statistic == pytest.approx(want.overall.statistic, abs=1e-9)
    assert got.overall.p_value == pytest.approx(want.overall.p_value, abs=1e-9)
    if options.get("unit", "users") == "users":
        # The users metadata_groups counted give the same comparison, counted once.
        pooled = {k: v for k, v in options.items() if k == "pool_small"}
        groups = dataset.metadata_groups(same.ds, key, **pooled)  # type: ignore[arg-type]
        again = dataset.compare_cohorts(same.ds, key, groups=groups, **options)  # type: ignore[arg-type]
        _equal(again.table, want.table)
        assert again.summary() == want.summary()
    else:
        with pytest.raises(ValueError, match="unit='users'"):
            dataset.compare_cohorts(same.ds, key, groups=pd.DataFrame(), **options)  # type: ignore[arg-type]


def test_users_in_group(same: Portfolio) -> None:
    for key, group in [("customer group", None), ("region", analysis.MISSING)]:
        if group is None:
            group = str(analysis.metadata_groups(same.users, same.accounts, key).index[0])
        want = analysis.users_in_group(same.users, key, group)
        got = dataset.users_in_group(same.ds, key, group)
        assert len(got) == len(want) > 0
        # The group's users, with every metadata column they carry (the other users'
        # keys are no columns of theirs).
        carried = [c for c in want.columns if want[c].notna().any()]
        assert sorted(got["id"]) == sorted(want["id"].astype("str"))
        pd.testing.assert_frame_equal(
            got[carried].sort_values("id").reset_index(drop=True),
            want[carried].sort_values("id").reset_index(drop=True),
        )
        assert len(dataset.users_in_group(same.ds, key, group, limit=7)) == min(7, len(want))
    with pytest.raises(ValueError, match="limit"):
        dataset.users_in_group(same.ds, "region", "x", limit=-1)
