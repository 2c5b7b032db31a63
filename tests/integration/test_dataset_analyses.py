"""The analyses on a dataset, in DuckDB, give what the pandas analyses give on the frames of
the same data: counts exactly, shares and intervals to 1e-9."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd
import pytest

from argyle_nb import analysis, dataset
from argyle_nb.client import ArgyleClient
from argyle_nb.dataset import Dataset
from argyle_nb.sandbox import start

pytestmark = pytest.mark.embedded_only("exports the embedded sandbox's demo data")


@dataclass
class Same:
    users: pd.DataFrame
    accounts: pd.DataFrame
    availability: pd.DataFrame
    ds: Dataset


@pytest.fixture(scope="module")
def same(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Same]:
    folder = tmp_path_factory.mktemp("analyses")
    # A few thousand accounts: every cohort, status, resource and error code of the story.
    with start(db=folder / "sandbox.sqlite", users=2500, seed=5) as sb:
        client = ArgyleClient(
            sb.key_id, sb.key_secret, base_url=sb.base_url, cache="memory", progress=False
        )
        with client:
            frames = Same(
                client.users_frame(),
                client.accounts_frame(),
                client.availability_frame(),
                client.export(folder / "portfolio", batch_pages=3),
            )
    assert len(frames.accounts) > 3000
    yield frames
    frames.ds.close()


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
def test_cohorts(same: Same, key: str, pool_small: bool) -> None:
    want = analysis.metadata_groups(same.users, same.accounts, key, pool_small=pool_small)
    got = dataset.metadata_groups(same.ds, key, pool_small=pool_small)
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
def test_connection_status(same: Same, by: str, freq: str | None) -> None:
    want = analysis.connection_status_distribution(same.accounts, by=by, freq=freq)
    got = dataset.connection_status_distribution(same.ds, by=by, freq=freq)
    _equal(got, want)
    assert got["total"].sum() == len(same.accounts)
    if by in ("week", "month"):
        assert got.index.dtype == want.index.dtype


@pytest.mark.parametrize("stale_days", [7, 30])
def test_availability_windows(same: Same, stale_days: float) -> None:
    want = analysis.availability_windows(same.availability, stale_days=stale_days)
    got = dataset.availability_windows(same.ds, stale_days=stale_days)
    _equal(got, want)
    assert got["accounts"].sum() == len(same.availability)


def test_wrong_questions_are_refused(same: Same) -> None:
    with pytest.raises(KeyError, match="no column 'nope'"):
        dataset.connection_status_distribution(same.ds, by="nope")
    with pytest.raises(dataset.DatasetError, match=r"no user .* has the metadata key 'nope'"):
        dataset.metadata_groups(same.ds, "nope")
    with pytest.raises(ValueError, match="min_users"):
        dataset.metadata_groups(same.ds, "region", min_users=0)
