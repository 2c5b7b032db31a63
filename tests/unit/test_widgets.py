"""argyle_nb.widgets: drive each explorer from code on live sandbox data, recount with pandas."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import orjson
import pandas as pd
import pytest

from argyle_nb.client import ArgyleClient
from argyle_nb.sandbox import Sandbox, start
from argyle_nb.widgets import (
    MAX_CHART_ROWS,
    AvailabilityExplorer,
    ConnectionExplorer,
    MetadataExplorer,
    UserInspector,
)
from tests.specs import spec_rows

MISSING = "(missing)"


@dataclass
class Data:
    sandbox: Sandbox
    client: ArgyleClient
    users: pd.DataFrame
    accounts: pd.DataFrame
    availability: pd.DataFrame


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Data]:
    db: Path = tmp_path_factory.mktemp("widgets") / "sandbox.sqlite"
    with start(db=db, users=300, seed=7) as sandbox:
        client = ArgyleClient(
            sandbox.key_id,
            sandbox.key_secret,
            base_url=sandbox.base_url,
            cache="memory",
            progress=False,
        )
        yield Data(
            sandbox,
            client,
            client.users_frame(),
            client.accounts_frame(),
            client.availability_frame(),
        )
        client.close()


def label(value: object) -> str:
    return MISSING if value is None or value is pd.NA or value != value else str(value)


def expected_groups(data: Data, column: str) -> pd.DataFrame:
    """Users, accounts and shares per metadata value, recounted with a merge."""
    groups = pd.DataFrame(
        {"user": data.users["id"].astype(object), "group": data.users[column].map(label)}
    )
    merged = data.accounts[["user", "connection_status"]].astype(object).merge(groups, on="user")
    per = merged.groupby("group")["connection_status"]
    out = pd.DataFrame({"users": groups["group"].value_counts()})
    out["accounts"] = per.size().reindex(out.index).fillna(0).astype(int)
    connected = merged[merged["connection_status"] == "connected"]
    with_connected = connected.groupby("group")["user"].nunique()
    out["connected_share"] = with_connected.reindex(out.index).fillna(0) / out["users"]
    out["accounts_connected_share"] = per.apply(lambda s: (s == "connected").mean()).reindex(
        out.index
    )
    out["accounts_error_share"] = per.apply(lambda s: (s == "error").mean()).reindex(out.index)
    return out


def assert_groups_match(table: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert sorted(table.index) == sorted(expected.index)
    for group in expected.index:
        assert table.loc[group, "users"] == expected.loc[group, "users"]
        assert table.loc[group, "accounts"] == expected.loc[group, "accounts"]
        for share in ("connected_share", "accounts_connected_share", "accounts_error_share"):
            want, got = expected.loc[group, share], table.loc[group, share]
            if pd.isna(want):
                assert pd.isna(got)
            else:
                assert got == pytest.approx(want)


# ---------------------------------------------------------------------------
# MetadataExplorer
# ---------------------------------------------------------------------------


def test_metadata_explorer_follows_the_key_and_group(data: Data) -> None:
    explorer = MetadataExplorer(data.users, data.accounts)
    first_key = explorer.key.value
    keys = [value for _, value in explorer.key.options]
    assert first_key == keys[0]
    # Good cohort keys first; ids are offered last, and labelled as poor cohorts.
    labels = dict((value, label) for label, value in explorer.key.options)
    assert keys.index("internal user id") > keys.index("region")
    assert "poor cohort" in labels["internal user id"] and "id" in labels["internal user id"]
    assert labels["region"] == "region"
    assert_groups_match(explorer.table, expected_groups(data, f"meta.{first_key}"))
    before = explorer._chart.spec

    explorer.key.value = "region"
    expected = expected_groups(data, "meta.region")
    assert_groups_match(explorer.table, expected)
    assert list(explorer.table.columns) == [
        "users",
        "connected_share",
        "connected_low",
        "connected_high",
        "accounts",
        "accounts_connected_share",
        "accounts_error_share",
        "small",
    ]
    # Which cohorts differ, in words, from the same comparison a notebook would run.
    assert explorer.comparison is not None
    assert explorer.comparison.key == "region"
    assert "against" in explorer._words.value and "Overall" in explorer._words.value
    assert list(explorer.chart_data.index) == list(explorer.table.index)
    # The widget shows the new chart: its cohorts are the region's.
    assert explorer._chart.spec != before and explorer._chart.chart is explorer.chart
    drawn = {r["cohort"] for r in spec_rows(explorer._chart.spec)}
    assert drawn == {str(g) for g in explorer.chart_data.index}
    assert "region" in explorer.message
    assert explorer.table.index[-1] == MISSING  # the missing group comes last

    group = next(g for g in explorer.group.options if g != MISSING)
    explorer.group.value = group
    want = set(data.users.loc[data.users["meta.region"] == group, "id"])
    assert set(explorer.group_users["id"]) == want
    assert len(want) > 0
    # Its users in pages, one column per metadata key, never raw JSON.
    listing = explorer._members.frame
    assert "external_metadata" not in listing.columns and "region" in listing.columns
    assert set(listing["id"]) == want
    # Export this view: the table as shown, and the same as CSV.
    assert explorer.view.equals(explorer.table)
    assert "Download this view" in explorer._pager._csv.value

    explorer.group.value = MISSING
    assert set(explorer.group_users["id"]) == set(
        data.users.loc[data.users["meta.region"].isna(), "id"]
    )


def test_metadata_explorer_shows_the_funnel_and_time_to_connect_when_asked(data: Data) -> None:
    explorer = MetadataExplorer(
        data.users, data.accounts, key="customer group", availability=data.availability
    )
    assert explorer.funnel.empty and explorer.waits.empty  # computed when their tab shows
    groups = data.users["meta.customer group"].map(label)
    by_user = groups.groupby(data.users["id"].astype(str)).first()
    explorer.tabs.selected_index = 1
    steps = explorer.funnel["users"].unstack()
    assert steps["users"].to_dict() == by_user.value_counts().to_dict()
    # Ever connected: users with an account that was connected (a plain loop).
    ever: dict[str, set[str]] = {}
    pairs = zip(data.accounts["user"].astype(str), data.accounts["was_connected"], strict=True)
    for user, was in pairs:
        if bool(was) and user in by_user.index:
            ever.setdefault(by_user[user], set()).add(user)
    assert steps["ever connected"].to_dict() == {g: len(ever.get(g, ())) for g in steps.index}
    assert explorer.funnel_chart is not None
    explorer.tabs.selected_index = 2
    assert explorer.waits["connected"].to_dict() == steps["ever connected"].to_dict()
    assert explorer.waits_chart is not None and not explorer.waits_curves.empty
    # Another key: the tab shown follows it.
    explorer.key.value = "region"
    assert explorer.waits.index.name == "region" and explorer.funnel.index.names[0] != "region"
    explorer.tabs.selected_index = 1
    assert explorer.funnel.index.names[0] == "region"
    # The shares of the key chosen meanwhile, drawn when their tab is shown again.
    assert explorer.comparison is None and explorer.table.index.name == "customer group"
    explorer.tabs.selected_index = 0
    assert explorer.table.index.name == "region" and explorer.comparison is not None
    assert list(explorer.chart_data.index) == list(
        explorer.groups.index[: len(explorer.chart_data)]
    )


def test_metadata_explorer_says_the_funnel_needs_the_availability(data: Data) -> None:
    explorer = MetadataExplorer(data.users, data.accounts, key="customer group")
    explorer.tabs.selected_index = 1
    assert explorer.funnel.empty and explorer.funnel_chart is None
    assert "needs the availability" in explorer._funnel_note.value
    explorer.key.value = "internal user id"  # an id: too many cohorts to draw
    explorer.tabs.selected_index = 2
    assert explorer.waits.empty and "too many to compare" in explorer._waits_note.value


def test_metadata_explorer_caps_the_chart_but_not_the_table(data: Data) -> None:
    explorer = MetadataExplorer(data.users, data.accounts, key="internal user id")
    n_values = data.users["meta.internal user id"].nunique() + 1  # plus (missing)
    assert len(explorer.table) == n_values
    assert len(explorer.chart_data) == MAX_CHART_ROWS
    assert "largest" in explorer.message


def test_metadata_explorer_without_keys_says_so(data: Data) -> None:
    plain = data.users[[c for c in data.users.columns if not c.startswith("meta")]]
    plain = plain.assign(external_metadata=None)  # no user carries metadata
    explorer = MetadataExplorer(plain, data.accounts)
    assert explorer.table.empty and explorer.chart_data.empty
    assert "No metadata keys" in explorer.message
    assert explorer.widget is not None
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "MetadataExplorer" in repr(explorer)


# ---------------------------------------------------------------------------
# ConnectionExplorer
# ---------------------------------------------------------------------------


def test_connection_explorer_filters_by_link_item_and_dates(data: Data) -> None:
    accounts = data.accounts
    explorer = ConnectionExplorer(accounts)
    assert explorer.table["total"].sum() == len(accounts)

    explorer.link_item.value = ("uber", "lyft")
    chosen = accounts[accounts["link_item"].astype(str).isin(["uber", "lyft"])]
    assert set(explorer.table.index) == {"uber", "lyft"}
    for item in ("uber", "lyft"):
        rows = chosen[chosen["link_item"].astype(str) == item]
        counts = rows["connection_status"].astype(str).value_counts()
        for status in ("connected", "error", "connecting"):
            assert explorer.table.loc[item, status] == counts.get(status, 0)
        assert explorer.table.loc[item, "total"] == len(rows)
    assert explorer.chart_data.equals(explorer.table)

    codes = chosen["connection_error_code"].dropna().astype(str).value_counts()
    assert explorer.errors["accounts"].to_dict() == {
        code: codes[code] for code in explorer.errors.index
    }
    assert explorer.errors["accounts"].iloc[0] == codes.max()
    assert explorer.errors["message"].notna().all()

    # The over-time view counts the same accounts by month of creation.
    assert explorer.over_time["total"].sum() == len(chosen)
    months = chosen["created_at"].dt.strftime("%Y-%m").value_counts()
    got = {
        pd.Timestamp(str(k)).strftime("%Y-%m"): v for k, v in explorer.over_time["total"].items()
    }
    assert got == months.to_dict()

    middle = accounts["created_at"].sort_values().iloc[len(accounts) // 2]
    start_day = middle.date()
    explorer.created_from.value = start_day
    since = chosen[chosen["created_at"] >= pd.Timestamp(start_day, tz="UTC")]
    assert explorer.selected.rows("accounts") == len(since)
    assert explorer.table["total"].sum() == len(since)
    assert f"{len(since)} of {len(accounts)}" in explorer.message


def test_connection_explorer_groups_sensibly_and_says_what_it_cut(data: Data) -> None:
    from argyle_nb.frames import attach_metadata

    explorer = ConnectionExplorer(data.accounts)
    # No circular group-by: every error code is 100% error.
    assert "connection_error_code" not in explorer.by.options
    assert list(explorer.by.options) == ["link_item", "source"]
    with pytest.raises(ValueError, match="cannot group the connection status by"):
        ConnectionExplorer(data.accounts, by="connection_error_code")
    # A cohort attached to the accounts is offered.
    tagged = attach_metadata(data.accounts, data.users, "region", name="region")
    assert "region" in ConnectionExplorer(tagged, by="region").by.options
    # By day, the range is longer than the chart: the message says what was drawn.
    explorer.freq.value = "day"
    days = len(explorer.over_time)
    assert days > 30 and len(explorer.time_chart_data) == 30
    assert f"the last 30 of {days} days drawn" in explorer.message
    explorer.freq.value = "month"
    assert "drawn" not in explorer.message


def test_connection_explorer_empty_filter_message(data: Data) -> None:
    explorer = ConnectionExplorer(data.accounts)
    last = data.accounts["created_at"].max().date()
    explorer.created_from.value = last + timedelta(days=1)
    assert explorer.table.empty and explorer.chart_data.empty and explorer.errors.empty
    assert explorer.message.startswith("No accounts match")
    explorer.created_from.value = None
    explorer.created_before.value = date(2000, 1, 1)
    assert explorer.selected.rows("accounts") == 0 and "No accounts match" in explorer.message
    explorer.created_before.value = None
    assert explorer.table["total"].sum() == len(data.accounts)


# ---------------------------------------------------------------------------
# AvailabilityExplorer
# ---------------------------------------------------------------------------


def test_availability_explorer_resource_and_statuses(data: Data) -> None:
    availability = data.availability
    explorer = AvailabilityExplorer(availability, sample=20, seed=5)
    assert explorer.resource.value == "payouts"
    payouts = availability[
        (availability["resource"].astype(str) == "payouts")
        & availability["available_from"].notna()
        & availability["available_to"].notna()
    ]
    assert len(explorer.chart_data) == min(20, len(payouts))
    assert set(explorer.chart_data["account"]) <= set(payouts["account"])
    assert explorer.chart_data["available_from"].is_monotonic_increasing
    # The summary follows the chosen resource and counts every one of its rows.
    per_resource = availability["resource"].astype(str).value_counts()
    assert explorer.table["accounts"].to_dict() == {"payouts": per_resource["payouts"]}
    # Only event resources are offered; the others are named, with the reason.
    dated = availability["available_from"].notna() & availability["available_to"].notna()
    with_windows = set(availability.loc[dated, "resource"].astype(str))
    assert set(explorer.resource.options) == with_windows == {"activities", "payouts"}
    assert "profiles" in explorer.without_windows
    assert "no event window to draw" in explorer.message

    again = AvailabilityExplorer(availability, sample=20, seed=5)
    assert list(again.chart_data["account"]) == list(explorer.chart_data["account"])

    explorer.statuses.value = ("sync_failed",)
    failed = availability[availability["status"].astype(str) == "sync_failed"]
    failed = failed[failed["resource"].astype(str) == "payouts"]
    assert explorer.table["accounts"].sum() == len(failed)
    assert (explorer.table["sync_failed"] == 1.0).all()
    failed_payouts = payouts[payouts["status"].astype(str) == "sync_failed"]
    if len(failed_payouts):
        assert set(explorer.chart_data["account"]) == set(failed_payouts["account"])
        assert set(explorer.flagged["account"]) == set(failed_payouts["account"])
        assert "sync_failed" in explorer.message

    explorer.resource.value = "activities"
    explorer.statuses.value = ()
    activities = availability[availability["resource"].astype(str) == "activities"]
    windows = activities[activities["available_from"].notna() & activities["available_to"].notna()]
    assert len(explorer.chart_data) == min(20, len(windows))
    assert explorer.table.index.tolist() == ["activities"]


def test_availability_explorer_stale_marks(data: Data) -> None:
    availability = data.availability
    now = availability["updated_at"].max()
    explorer = AvailabilityExplorer(availability, sample=1000, stale_days=1)
    payouts = availability[
        (availability["resource"].astype(str) == "payouts")
        & availability["available_from"].notna()
        & availability["available_to"].notna()
    ]
    stale = payouts[payouts["updated_at"] < now - pd.Timedelta(days=1)]
    failed = payouts[payouts["status"].astype(str) == "sync_failed"]
    assert len(explorer.chart_data) == len(payouts)
    assert set(explorer.flagged["account"]) == set(stale["account"]) | set(failed["account"])
    assert f"{len(stale)} stale" in explorer.message


def test_availability_explorer_empty_filter_message(data: Data) -> None:
    availability = data.availability
    failed_payouts = (availability["resource"].astype(str) == "payouts") & (
        availability["status"].astype(str) == "sync_failed"
    )
    others = availability[~failed_payouts.to_numpy()]  # sync_failed still among the statuses
    explorer = AvailabilityExplorer(others)
    assert "sync_failed" in explorer.statuses.options
    explorer.statuses.value = ("sync_failed",)
    assert explorer.chart_data.empty and explorer.table.empty
    assert explorer.message == "No payouts scans with the status sync_failed."
    empty = AvailabilityExplorer(availability.iloc[:0])
    assert empty.chart_data.empty and empty.table.empty
    assert empty.message.startswith("No resource has event windows")


# ---------------------------------------------------------------------------
# UserInspector (writes to the sandbox: keep last)
# ---------------------------------------------------------------------------


def test_user_inspector_search_patch_and_token(data: Data) -> None:
    inspector = UserInspector(data.client, users=data.users)
    region = data.users["meta.region"].dropna().iloc[0]
    inspector.search.value = region
    want = data.users.loc[
        data.users["external_metadata"].str.lower().str.contains(region.lower(), regex=False), "id"
    ]
    assert set(inspector.matches.options) == set(want)
    user_id = inspector.matches.value
    assert inspector.user_id == user_id
    shown = data.accounts[data.accounts["user"] == user_id]
    assert set(inspector.table["id"]) == set(shown["id"])
    assert orjson.loads(inspector.metadata.value) == orjson.loads(
        data.users.loc[data.users["id"] == user_id, "external_metadata"].iloc[0]
    )

    # The user's own scan windows, one row per account and resource, dates as dates.
    own = data.availability[data.availability["user"] == user_id]
    assert len(inspector.windows) == len(own)
    assert set(inspector.windows["account"]) == set(own["account"])
    if len(own):
        assert inspector.windows["events from"].str.fullmatch(r"\d{4}-\d{2}-\d{2}|—").all()
        assert set(inspector.windows["link item"]) <= set(shown["link_item"].astype(str))
    # Full ids, never cut: the dropdown is wide enough and labels take their width.
    assert inspector.matches.layout.width == "420px"
    assert inspector.matches.style.description_width == "initial"

    inspector.search.value = user_id[:13]
    assert inspector.matches.value == user_id

    # Invalid JSON: an inline error, no confirmation step, nothing sent.
    inspector.metadata.value = '{"group": '
    inspector.save.click()
    assert "not valid JSON" in inspector.message
    assert inspector.pending is None

    # PATCH only after confirmation.
    inspector.metadata.value = '{"group": "Z", "n": 3}'
    inspector.save.click()
    assert inspector.pending == "save" and "Confirm" in inspector.message
    assert data.client.users.get(user_id).external_metadata != {"group": "Z", "n": 3}
    inspector.confirm.click()
    assert inspector.pending is None
    assert data.client.users.get(user_id).external_metadata == {"group": "Z", "n": 3}
    assert "Saved" in inspector.message

    # Cancel leaves the token alone.
    inspector.token_button.click()
    inspector.cancel.click()
    assert inspector.token is None
    inspector.token_button.click()
    inspector.confirm.click()
    assert inspector.token and inspector.token.count(".") == 2  # a JWT
    assert "Created a user token" in inspector.message


def test_user_inspector_shows_api_errors_inline(data: Data) -> None:
    inspector = UserInspector(data.client, users=data.users)
    user_id = inspector.matches.value
    assert user_id is not None
    inspector.token_button.click()
    inspector.user_id = "00000000-0000-4000-8000-000000000000"  # unknown to the service
    inspector.confirm.click()
    assert inspector.token is None
    assert "Error" in inspector.message
    assert 'style="color:#b00020"' in inspector._message.value
    inspector.search.value = "no-such-user-anywhere"
    assert inspector.matches.value is None
    assert inspector.message.startswith("No user matches")


def test_explorers_show_where_the_data_came_from_and_its_age(data: Data) -> None:
    from argyle_nb.provenance import provenance_of

    fetched = provenance_of(data.accounts)
    assert fetched is not None and fetched.served_from is not None
    later = fetched.served_from + timedelta(minutes=7, seconds=10)
    explorers = [
        MetadataExplorer(data.users, data.accounts, clock=lambda: later),
        ConnectionExplorer(data.accounts, clock=lambda: later),
        AvailabilityExplorer(data.availability, clock=lambda: later),
    ]
    n = len(data.accounts)
    for explorer in explorers:
        assert f"accounts: {n:,} from the embedded sandbox, 7 min old" in explorer.data_source or (
            f"availability: {n:,} from the embedded sandbox, 7 min old" in explorer.data_source
        )
        assert "argyle-source" in explorer._source.value
        assert explorer._source in explorer.widget.children
    assert f"users: {len(data.users):,} from the embedded sandbox" in explorers[0].data_source
    # A frame the client did not fetch says so instead of guessing.
    plain = data.accounts.copy()
    plain.attrs = {}
    assert "of unknown origin" in ConnectionExplorer(plain).data_source


def test_an_explorer_writes_its_view_as_csv_spreadsheets_cannot_run(
    data: Data, tmp_path: Path
) -> None:
    import csv

    users = data.users.copy()
    formula = '=HYPERLINK("http://x.example","y")'

    def planted(text: str | None) -> str:
        meta = orjson.loads(text) if isinstance(text, str) else None
        meta = meta if isinstance(meta, dict) else {}
        return orjson.dumps({**meta, "customer group": formula}).decode()

    first = users.index[:40]
    users.loc[first, "external_metadata"] = users.loc[first, "external_metadata"].map(planted)
    explorer = MetadataExplorer(users, data.accounts, key="customer group")
    path = explorer.to_csv(tmp_path / "view.csv")
    with path.open(newline="", encoding="utf-8") as f:
        read = list(csv.reader(f))
    labels = [row[0] for row in read[1:]]
    assert "'" + '=HYPERLINK("http://x.example","y")' in labels
    assert not any(label.startswith(("=", "+", "-", "@")) for label in labels)
    assert len(read) == len(explorer.view) + 1


def test_history_explorer_shows_hostile_groups_as_text() -> None:
    from argyle_nb import frames
    from argyle_nb._html import escape
    from argyle_nb.dataset import Dataset
    from argyle_nb.widgets import HistoryExplorer
    from tests.hostile_records import hostile_records

    key, value, link = '<img src=x onerror="alert(1)">', "</script><script>x", "<svg/onload=y>"
    users, accounts = hostile_records(key, value, link, "=HYPERLINK(1)", "<b>m</b>", "synced")
    ds = Dataset.from_frames(frames.users_frame(users), frames.accounts_frame(accounts))
    for by in ("link_item", key):
        explorer = HistoryExplorer(ds, by=by)
        assert str(explorer.group.value).startswith((link, value))  # the data's own text
        bundle = explorer._repr_mimebundle_()
        html = (bundle[0] if isinstance(bundle, tuple) else bundle)["text/html"]
        html += explorer._message.value + explorer._listed.value + explorer._moves_note.value
        for payload in (key, value, link):
            assert payload not in html
        assert escape(str(explorer.group.value)) in html  # shown, escaped
