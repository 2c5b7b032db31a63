"""argyle_nb.analysis: every figure recounted with plain loops over the raw JSON."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pandas as pd
import pytest

from argyle_nb import analysis, frames
from argyle_nb.dataset import Dataset
from argyle_nb.models import CONNECTION_ERROR_MESSAGES, CONNECTION_STATUSES, RESOURCES

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def ts(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def raw() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    synth = pytest.importorskip("argyle_nb.sandbox.synth")
    pairs = list(synth.generate(users=250, seed=11, now=NOW))
    users = [u for u, _ in pairs]
    # Edge users: no accounts, and metadata of every shape.
    extra_shapes: list[Any] = [{"customer group": "zz_lonely"}, None, {}, 7, ["a"], "User group A"]
    for i, metadata in enumerate(extra_shapes):
        users.append(
            {
                "id": f"00000000-0000-4000-8000-{i:012d}",
                "created_at": "2026-01-01T00:00:00",
                "employers_connected": [],
                "data_providers_connected": [],
                "external_metadata": metadata,
            }
        )
    return users, [a for _, accounts in pairs for a in accounts]


@pytest.fixture(scope="module")
def built(
    raw: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    users, accounts = raw
    accounts_df, availability_df = frames.accounts_and_availability(orjson.dumps(accounts))
    return frames.users_frame(orjson.dumps(users)), accounts_df, availability_df


def label(metadata: Any, key: str) -> str:
    """Independent group label of a user for a metadata key."""
    if key == "meta":
        value = None if isinstance(metadata, dict) else metadata
    else:
        value = metadata
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return analysis.MISSING
    return value if isinstance(value, str) else orjson.dumps(value).decode()


@pytest.mark.parametrize("key", ["customer group", "region", "meta", "group_id"])
def test_metadata_groups_against_loops(
    raw: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    built: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
    key: str,
) -> None:
    users, accounts = raw
    users_df, accounts_df, _ = built
    group_of = {u["id"]: label(u.get("external_metadata"), key) for u in users}
    n_users = Counter(group_of.values())
    n_accounts: Counter[str] = Counter()
    connected: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    codes: dict[str, Counter[str]] = defaultdict(Counter)
    connected_users: dict[str, set[str]] = defaultdict(set)
    for a in accounts:
        g = group_of[a["user"]]
        n_accounts[g] += 1
        status = a["connection"]["status"]
        connected[g] += status == "connected"
        errors[g] += status == "error"
        if status == "connected":
            connected_users[g].add(a["user"])
        if a["connection"].get("error_code"):
            codes[g][a["connection"]["error_code"]] += 1

    groups = analysis.metadata_groups(users_df, accounts_df, key)
    assert set(groups.index) == set(n_users)
    assert groups.index[-1] == analysis.MISSING
    assert groups["users"].sum() == len(users)
    for g, row in groups.iterrows():
        assert row["users"] == n_users[g]
        assert row["accounts"] == n_accounts[g]
        assert row["accounts_per_user"] == pytest.approx(n_accounts[g] / n_users[g])
        # The headline is of users: those with at least one account connected now.
        assert row["connected_users"] == len(connected_users[g])
        assert row["connected_share"] == pytest.approx(len(connected_users[g]) / n_users[g])
        assert row["connected_low"] <= row["connected_share"] <= row["connected_high"]
        assert row["small"] == (n_users[g] < analysis.MIN_USERS)
        if n_accounts[g]:
            share = connected[g] / n_accounts[g]
            assert row["accounts_connected_share"] == pytest.approx(share)
            assert row["accounts_error_share"] == pytest.approx(errors[g] / n_accounts[g])
            assert row["accounts_connected_low"] <= share <= row["accounts_connected_high"]
        else:
            assert pd.isna(row["accounts_connected_share"])
            assert pd.isna(row["accounts_connected_low"])
        if codes[g]:
            best = max(codes[g].values())
            assert row["top_error_code"] == min(c for c, n in codes[g].items() if n == best)
        else:
            assert pd.isna(row["top_error_code"])


def test_users_without_accounts_and_drill_down(
    built: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    users_df, accounts_df, _ = built
    groups = analysis.metadata_groups(users_df, accounts_df, "customer group")
    assert groups.loc["zz_lonely", "users"] == 1
    assert groups.loc["zz_lonely", "accounts"] == 0
    members = analysis.users_in_group(users_df, "customer group", "zz_lonely")
    assert members["id"].tolist() == ["00000000-0000-4000-8000-000000000000"]
    missing = analysis.users_in_group(users_df, "customer group", analysis.MISSING)
    assert len(missing) == groups.loc[analysis.MISSING, "users"]
    with pytest.raises(KeyError, match="no metadata key"):
        analysis.metadata_groups(users_df, accounts_df, "nope")


def test_metadata_key_summary(
    raw: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    built: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    users, _ = raw
    summary = analysis.metadata_key_summary(built[0])
    want = Counter(k for u in users if isinstance(m := u.get("external_metadata"), dict) for k in m)
    non_object = sum(
        1
        for u in users
        if u.get("external_metadata") is not None and not isinstance(u["external_metadata"], dict)
    )
    assert summary.loc["meta", "users"] == non_object
    for key, n in want.items():
        assert summary.loc[key, "users"] == n


@pytest.mark.parametrize("by", ["link_item", "source", "connection_error_code"])
def test_status_distribution_by_column(
    raw: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    built: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
    by: str,
) -> None:
    _, accounts = raw
    dist = analysis.connection_status_distribution(built[1], by=by)
    want: Counter[tuple[str, str]] = Counter()
    for a in accounts:
        value = a["connection"].get("error_code") if by.startswith("connection_") else a[by]
        want[(value or analysis.MISSING, a["connection"]["status"])] += 1
    assert list(dist.columns[:3]) == list(CONNECTION_STATUSES)
    assert dist["total"].sum() == len(accounts)
    for (g, status), n in want.items():
        assert dist.loc[g, status] == n
    for g, row in dist.iterrows():
        for s in CONNECTION_STATUSES:
            assert row[f"share_{s}"] == pytest.approx(want[(str(g), s)] / row["total"])
    assert dist["total"].is_monotonic_decreasing


def test_status_distribution_over_time_and_by_cohort(
    raw: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    built: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    users, accounts = raw
    users_df, accounts_df, _ = built
    months = analysis.connection_status_distribution(accounts_df, by="month")
    want = Counter(
        (ts(a["created_at"]).strftime("%Y-%m"), a["connection"]["status"]) for a in accounts
    )
    assert months.index.is_monotonic_increasing
    for (m, status), n in want.items():
        assert months.loc[pd.Timestamp(f"{m}-01", tz="UTC"), status] == n
    weeks = analysis.connection_status_distribution(accounts_df, by="week")
    week_want = Counter(
        (ts(a["created_at"]) - timedelta(days=ts(a["created_at"]).weekday())).date()
        for a in accounts
    )
    assert {k.date(): v for k, v in weeks["total"].items()} == week_want

    cohorts = frames.attach_metadata(accounts_df, users_df, "customer group", name="cohort")
    by_cohort = analysis.connection_status_distribution(cohorts, by="cohort", freq="month")
    group_of = {u["id"]: label(u.get("external_metadata"), "customer group") for u in users}
    cohort_want = Counter(
        (group_of[a["user"]], ts(a["created_at"]).strftime("%Y-%m")) for a in accounts
    )
    got = {(g, m.strftime("%Y-%m")): n for (g, m), n in by_cohort["total"].items()}
    assert got == dict(cohort_want)


def test_top_error_codes(
    raw: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    built: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    _, accounts = raw
    codes = Counter(
        a["connection"]["error_code"] for a in accounts if a["connection"].get("error_code")
    )
    top = analysis.top_error_codes(built[1], n=None)
    assert dict(top["accounts"]) == dict(codes)
    assert top["accounts"].is_monotonic_decreasing
    assert top["share"].sum() == pytest.approx(1.0)
    for code, message in top["message"].items():
        assert message == CONNECTION_ERROR_MESSAGES.get(code, message)
    assert len(analysis.top_error_codes(built[1], n=3)) == min(3, len(codes))


@pytest.mark.parametrize("stale_days", [1, 30])
def test_availability_windows_against_loops(
    raw: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    built: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
    stale_days: int,
) -> None:
    _, accounts = raw
    windows = analysis.availability_windows(built[2], stale_days=stale_days, now=NOW)
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in accounts:
        for r, e in (a.get("availability") or {}).items():
            if e is not None:
                rows[r].append(e)
    assert list(windows.index) == [r for r in RESOURCES if r in rows]
    cutoff = NOW - timedelta(days=stale_days)
    for r, entries in rows.items():
        row = windows.loc[r]
        assert row["accounts"] == len(entries)
        for s in ("synced", "in_progress", "sync_failed"):
            assert row[s] == pytest.approx(sum(e["status"] == s for e in entries) / len(entries))
        spans = [
            (ts(e["available_to"]) - ts(e["available_from"])).total_seconds() / 86400
            for e in entries
            if e.get("available_from") and e.get("available_to")
        ]
        if spans:
            assert row["window_days_median"] == pytest.approx(statistics.median(spans))
            assert row["window_days_min"] == pytest.approx(min(spans))
            assert row["window_days_max"] == pytest.approx(max(spans))
        else:
            assert pd.isna(row["window_days_median"])
        assert row["events_available"] == sum(e.get("available_count") or 0 for e in entries)
        stale = sum(not e.get("updated_at") or ts(e["updated_at"]) < cutoff for e in entries)
        assert row["stale"] == stale


def test_availability_windows_by_cohort_and_timeline(
    built: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    users_df, _, availability_df = built
    rows = frames.attach_metadata(availability_df, users_df, "region", name="region")
    windows = analysis.availability_windows(rows, by="region", now=NOW)
    assert windows.index.names == ["region", "resource"]
    assert windows["accounts"].sum() == len(availability_df)
    assert analysis.MISSING in windows.index.get_level_values("region")

    timeline = analysis.availability_timeline(availability_df, "payouts", sample=10, now=NOW)
    assert len(timeline) == 10
    assert timeline["available_from"].is_monotonic_increasing
    again = analysis.availability_timeline(availability_df, "payouts", sample=10, now=NOW)
    pd.testing.assert_frame_equal(timeline, again)
    failed = analysis.availability_timeline(availability_df, statuses=["sync_failed"], sample=None)
    assert set(failed["status"].astype(str)) <= {"sync_failed"}


def test_empty_frames() -> None:
    users = frames.users_frame([])
    accounts, availability = frames.accounts_and_availability([])
    assert analysis.connection_status_distribution(accounts).empty
    assert analysis.connection_status_distribution(accounts, by="month").empty
    assert analysis.top_error_codes(accounts).empty
    assert analysis.availability_windows(availability).empty
    assert analysis.metadata_key_summary(users).empty


def test_select_accounts(
    raw: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    built: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    _, accounts = raw
    start, end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 9, 1, tzinfo=UTC)
    chosen = analysis.select_accounts(
        built[1], link_item=["uber", "walmart"], created_from=start, created_to="2026-09-01"
    )
    want = [
        a["id"]
        for a in accounts
        if a["link_item"] in ("uber", "walmart") and start <= ts(a["created_at"]) < end
    ]
    assert chosen["id"].tolist() == want
    assert len(analysis.select_accounts(built[1], source="argyle_sandbox")) == sum(
        a["source"] == "argyle_sandbox" for a in accounts
    )
    assert len(analysis.select_accounts(built[1])) == len(accounts)


def test_every_share_has_its_interval(
    built: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    _, accounts_df, availability_df = built
    for by in ("link_item", "day", "week"):
        dist = analysis.connection_status_distribution(accounts_df, by=by)
        for s in CONNECTION_STATUSES:
            share, low, high = dist[f"share_{s}"], dist[f"low_{s}"], dist[f"high_{s}"]
            assert ((low <= share + 1e-12) & (share <= high + 1e-12)).all()
            assert ((low >= 0) & (high <= 1)).all()
    days = analysis.connection_status_distribution(accounts_df, by="day")
    assert (days.index == days.index.normalize()).all()
    assert days["total"].sum() == len(accounts_df)
    windows = analysis.availability_windows(availability_df)
    for s in ("synced", "in_progress", "sync_failed"):
        assert (
            (windows[f"{s}_low"] <= windows[s] + 1e-12)
            & (windows[s] <= windows[f"{s}_high"] + 1e-12)
        ).all()
    assert (windows["stale_low"] <= windows["stale_share"] + 1e-12).all()
    codes = analysis.top_error_codes(accounts_df)
    assert ((codes["low"] <= codes["share"]) & (codes["share"] <= codes["high"])).all()


def test_a_dataset_of_frames_counts_outcomes_once_for_every_key(
    built: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    # What an explorer does: one dataset over the frames, many keys, metrics and units.
    users_df, accounts_df, availability_df = built
    ds = Dataset.from_frames(users_df, accounts_df, availability_df)
    for key in ("customer group", "region", "customer group"):
        for metric, unit in (("connected", "users"), ("error", "accounts")):
            reused = analysis.compare_cohorts(ds, key, metric=metric, unit=unit)
            fresh = analysis.compare_cohorts(users_df, accounts_df, key, metric=metric, unit=unit)
            pd.testing.assert_frame_equal(reused.table, fresh.table)
    made = [
        r[0] for r in ds.sql("select table_name from duckdb_tables() where temporary").fetchall()
    ]
    # the users' outcomes counted once, and each key's labels once
    assert sorted(m for m in made if not m.startswith("_label_")) == ["_outcomes"]
    assert len(made) == 1 + 2
    with pytest.raises(TypeError, match=r"takes \(dataset, key\)"):
        analysis.metadata_groups(ds, accounts_df, "region")  # type: ignore[arg-type]


def _views() -> set[str]:
    """The views of the database every dataset over frames shares."""
    probe = Dataset.from_frames(None, None)
    return {str(r[0]) for r in probe.sql("select view_name from duckdb_views()").fetchall()}


def test_analyses_of_frames_leave_nothing_behind(
    built: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    # A notebook calls analyses on frames all day: what each counted in goes with it.
    import gc

    users_df, accounts_df, availability_df = built
    gc.collect()
    before = _views()
    for _ in range(3):
        analysis.metadata_groups(users_df, accounts_df, "customer group")
        analysis.cohort_funnel(users_df, accounts_df, availability_df, "region")
        analysis.cohort_matrix(users_df, accounts_df, "customer group", "region")
        analysis.time_to_connect(users_df, accounts_df, "region", as_of=NOW)
    gc.collect()
    assert _views() == before


def test_a_dataset_view_is_read_by_its_name_and_goes_with_the_dataset() -> None:
    import gc

    ds = Dataset.from_frames(None, None)
    name = ds.view("select $n as n", {"n": 7})
    assert ds.sql(f"select n from {name}").fetchall() == [(7,)]
    assert name in _views()
    del ds
    gc.collect()
    assert name not in _views()


def test_a_column_arrow_cannot_hold_still_counts(
    built: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    # A column a user added, of numbers, text and lists mixed: pandas holds it, Arrow does not.
    users_df, accounts_df, _ = built
    noted = accounts_df.assign(
        note=[[1] if i % 3 == 2 else 1 if i % 2 else "text" for i in range(len(accounts_df))]
    )
    ds = Dataset.from_frames(users_df, noted)
    assert "note" in ds.columns("accounts")
    (rows,) = ds.sql("select count(*) from accounts where note = 'text'").fetchall()[0]
    assert rows == sum(1 for value in noted["note"] if value == "text")
    (lists,) = ds.sql("select count(*) from accounts where note = '[1]'").fetchall()[0]
    assert lists == sum(1 for value in noted["note"] if value == [1])
    plain = analysis.metadata_groups(users_df, accounts_df, "region")
    pd.testing.assert_frame_equal(analysis.metadata_groups(users_df, noted, "region"), plain)
