"""The explorers on a dataset show what they show on the frames of the same data: the
same choices, tables, charts' data and words, for every step a user takes; computed in
DuckDB."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pandas as pd
import pytest

from argyle_nb.analysis import MISSING
from argyle_nb.dataset import Dataset
from argyle_nb.widgets import AvailabilityExplorer, ConnectionExplorer, MetadataExplorer
from tests.integration.portfolios import Portfolio, portfolio

pytestmark = pytest.mark.embedded_only("exports the embedded sandbox's demo data")


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portfolio]:
    found = portfolio(tmp_path_factory.mktemp("explorers"), users=1500, seed=11, batch_pages=2)
    yield found
    found.ds.close()


def _same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Same rows, columns and values (shares to 1e-9); an index of text either way."""
    assert list(got.columns) == list(want.columns)
    assert [str(i) for i in got.index] == [str(i) for i in want.index]
    if got.empty and want.empty:
        return
    pd.testing.assert_frame_equal(
        got.set_axis(pd.Index([str(i) for i in got.index])),
        want.set_axis(pd.Index([str(i) for i in want.index])),
        check_exact=False,
        rtol=0,
        atol=1e-9,
        check_dtype=False,
    )


def test_connection_explorer(both: Portfolio) -> None:
    frames, lake = ConnectionExplorer(both.accounts), ConnectionExplorer(both.ds)
    assert lake.link_item.options == frames.link_item.options
    assert lake.source.options == frames.source.options
    assert lake.by.options == frames.by.options
    created = both.accounts["created_at"].sort_values()
    middle = created.iloc[len(created) // 2].date()
    steps = [
        ("link_item", frames.link_item.options[:5]),
        ("created_from", date(middle.year, middle.month, 1)),
        ("freq", "week"),
        ("by", "source"),
        ("created_before", middle),
        ("link_item", ()),
        ("source", frames.source.options[:1]),
        ("created_from", date(2100, 1, 1)),  # nothing left
        ("created_from", None),
    ]
    for name, value in steps:
        for explorer in (frames, lake):
            getattr(explorer, name).value = value
        assert lake.message == frames.message, name
        _same(lake.table, frames.table)
        _same(lake.chart_data, frames.chart_data)
        _same(lake.errors, frames.errors)
        _same(lake.over_time, frames.over_time)
        _same(lake.time_chart_data, frames.time_chart_data)
        assert (lake.chart is None) == (frames.chart is None)
    assert "No accounts match" not in lake.message
    assert isinstance(lake.selected, Dataset)
    assert lake.selected.rows("accounts") == frames.selected.rows("accounts")
    assert repr(lake) == repr(frames)
    assert "(an exported dataset)" in lake.data_source
    assert f"accounts: {len(both.accounts):,} from the embedded sandbox" in lake.data_source


def test_metadata_explorer(both: Portfolio) -> None:
    frames = MetadataExplorer(both.users, both.accounts, availability=both.availability)
    lake = MetadataExplorer(both.ds)
    assert lake.key.options == frames.key.options
    for key in ["region", "customer group", "internal user id", frames.key.options[0][1]]:
        frames.key.value = lake.key.value = key
        assert lake.message == frames.message, key
        _same(lake.table, frames.table)
        _same(lake.chart_data, frames.chart_data)
        assert lake._words.value == frames._words.value
        assert lake.group.options == frames.group.options
    for tab in (1, 2):  # the funnel, the time to connect
        frames.tabs.selected_index = lake.tabs.selected_index = tab
        _same(lake.funnel, frames.funnel)
        _same(lake.waits, frames.waits)
    assert not lake.funnel.empty and not lake.waits.empty
    frames.key.value = lake.key.value = "region"
    for group in [frames.group.options[0], MISSING]:
        frames.group.value = lake.group.value = group
        assert lake._users.value == frames._users.value
        assert sorted(lake.group_users["id"]) == sorted(frames.group_users["id"].astype("str"))
    # A dataset's group may hold millions: the first MAX_LISTED are listed, and said so.
    lake.MAX_LISTED = 5
    lake.group.value = frames.group.options[1]
    total = int(lake.groups.loc[frames.group.options[1], "users"])
    assert len(lake.group_users) == 5 < total
    assert f"{total:,} users in" in lake._users.value and "the first 5 listed" in lake._users.value
    with pytest.raises(ValueError, match="holds its users, accounts"):
        MetadataExplorer(both.ds, both.accounts)


def test_availability_explorer(both: Portfolio) -> None:
    frames = AvailabilityExplorer(both.availability, sample=40, seed=3)
    lake = AvailabilityExplorer(both.ds, sample=40, seed=3)
    assert lake.resource.options == frames.resource.options
    assert lake.statuses.options == frames.statuses.options
    assert lake.without_windows == frames.without_windows
    assert lake.now == frames.now
    steps = [
        ("statuses", ("sync_failed",)),
        ("resource", "activities"),
        ("statuses", ("synced", "in_progress")),
        ("statuses", ()),
        ("resource", "payouts"),
    ]
    for name, value in steps:
        for explorer in (frames, lake):
            getattr(explorer, name).value = value
        assert lake.message == frames.message, (name, value)
        _same(lake.table, frames.table)
        # The same sampled windows: the dataset draws pandas' sample of the same rows.
        pd.testing.assert_frame_equal(lake.chart_data, frames.chart_data)
        pd.testing.assert_frame_equal(lake.flagged, frames.flagged)
    assert "(an exported dataset)" in lake.data_source


def test_a_snapshot_of_a_dataset_explorer(both: Portfolio) -> None:
    for explorer in (
        ConnectionExplorer(both.ds),
        MetadataExplorer(both.ds),
        AvailabilityExplorer(both.ds),
    ):
        bundle = explorer._repr_mimebundle_()
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        html = data["text/html"]
        assert "argyle-explorer-snapshot" in html and "<svg" in html, type(explorer).__name__
