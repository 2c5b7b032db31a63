"""Connection health and scan availability on an exported dataset (Parquet parts written
page batch by page batch, read in DuckDB): every figure recounted by a plain loop over the
records the client received (the rules of tests/unit/test_connection_engine.py and
test_availability_engine.py)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest

from argyle_nb import analysis
from argyle_nb.dataset import Dataset, DatasetError
from argyle_nb.models import RESOURCES
from tests.integration.portfolios import Portfolio, portfolio
from tests.unit import test_availability_engine as av
from tests.unit import test_connection_engine as conn

pytestmark = pytest.mark.embedded_only("exports the embedded sandbox's demo data")


@pytest.fixture(scope="module")
def same(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portfolio]:
    found = portfolio(tmp_path_factory.mktemp("connection"), users=900, seed=5, batch_pages=2)
    # Several staged parts: their order, the walk's, is kept in the store (_seen).
    assert found.ds.provenance("/v1/accounts").pages > 2
    yield found
    found.ds.close()


def _value(value: Any) -> Any:
    if value is None or (not isinstance(value, list | tuple) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


@pytest.fixture(scope="module")
def accounts(same: Portfolio) -> list[dict[str, Any]]:
    """The accounts as the API sent them (the fields these analyses read)."""
    return [
        {
            "id": row["id"],
            "link_item": _value(row["link_item"]),
            "source": _value(row["source"]),
            "created_at": _value(row["created_at"]),
            "connection": {
                "status": _value(row["connection_status"]),
                "error_code": _value(row["connection_error_code"]),
                "error_message": _value(row["connection_error_message"]),
            },
        }
        for row in same.accounts.to_dict("records")
    ]


@pytest.fixture(scope="module")
def scanned(same: Portfolio) -> list[dict[str, Any]]:
    """The accounts' availability as the API sent it."""
    by_account: dict[str, dict[str, Any]] = defaultdict(dict)
    for row in same.availability.to_dict("records"):
        by_account[row["account"]][str(row["resource"])] = {
            "status": _value(row["status"]),
            "updated_at": _value(row["updated_at"]),
            "available_count": _value(row["available_count"]),
            "available_from": _value(row["available_from"]),
            "available_to": _value(row["available_to"]),
        }
    return [{"id": account, "availability": found} for account, found in by_account.items()]


@pytest.mark.parametrize(
    ("by", "freq"),
    [("link_item", None), ("source", None), ("week", None), ("month", None), ("link_item", "week")],
)
def test_connection_status(
    same: Portfolio, accounts: list[dict[str, Any]], by: str, freq: str | None
) -> None:
    dist = analysis.connection_status_distribution(same.ds, by=by, freq=freq)  # type: ignore[arg-type]
    periods = [p for p in (by, freq) if p in ("day", "week", "month")]

    def keys(a: dict[str, Any]) -> tuple[Any, ...]:
        group = () if by in periods else (conn.group_of(conn.value_of(a, by)),)
        return (*group, *(conn.period_of(a["created_at"], p) for p in periods))

    want = conn.expected_distribution(accounts, keys)
    conn.check_distribution(dist, want, timed=by in periods)
    assert dist["total"].sum() == len(accounts)


@pytest.mark.parametrize("n", [3, None])
def test_top_error_codes(same: Portfolio, accounts: list[dict[str, Any]], n: int | None) -> None:
    top = analysis.top_error_codes(same.ds, n=n)
    codes = Counter(
        a["connection"]["error_code"] for a in accounts if a["connection"]["error_code"]
    )
    assert len(codes) > 3
    assert list(top.index) == sorted(codes, key=lambda c: (-codes[c], c))[:n]
    assert top["accounts"].tolist() == [codes[c] for c in top.index]


def test_selected_accounts(same: Portfolio, accounts: list[dict[str, Any]]) -> None:
    items = sorted({a["link_item"] for a in accounts if a["link_item"]})
    sources = sorted({a["source"] for a in accounts if a["source"]})
    created = sorted(a["created_at"] for a in accounts)
    day, stamp = created[len(created) // 3][:10], pd.Timestamp(created[2 * len(created) // 3])
    choices: list[dict[str, Any]] = [
        {},
        {"link_item": items[0]},
        {"link_item": items[:4], "source": sources[:1]},
        {"created_from": day},
        {"created_to": stamp},  # exclusive: the account created at that instant is out
        {"created_from": stamp + pd.Timedelta(nanoseconds=1)},  # finer than stored times
        {"created_from": stamp, "created_to": stamp + pd.Timedelta(days=30)},
        {"link_item": []},
    ]
    for choice in choices:
        got = analysis.select_accounts(same.ds, **choice)
        want = conn.chosen_by_loop(accounts, choice)
        ids = [r[0] for r in got.sql("select id from accounts order by _seen").fetchall()]
        assert ids == want, choice
        assert got.rows("users") == same.ds.rows("users")
        kept = [a for a in accounts if a["id"] in set(want)]
        if kept:
            dist = analysis.connection_status_distribution(got, by="source", freq="week")
            conn.check_distribution(
                dist,
                conn.expected_distribution(
                    kept,
                    lambda a: (conn.group_of(a["source"]), conn.period_of(a["created_at"], "week")),
                ),
                timed=False,
            )
        got.close()  # a selection is its own cursor: the dataset stays open and whole
    assert same.ds.sql("select count(*) from accounts").fetchall()[0][0] == len(accounts)
    both = analysis.select_accounts(
        analysis.select_accounts(same.ds, link_item=items[:5]), created_from=day
    )
    want = conn.chosen_by_loop(accounts, {"link_item": items[:5], "created_from": day})
    assert both.rows("accounts") == len(want) > 0
    assert "accounts selected" in repr(both) and f"{len(want):,} accounts" in repr(both)
    with pytest.raises(DatasetError, match="no table 'payments'"):
        same.ds.restricted("payments", "true")


@pytest.mark.parametrize("stale_days", [7, 30])
def test_availability_windows(
    same: Portfolio, scanned: list[dict[str, Any]], stale_days: float
) -> None:
    windows = analysis.availability_windows(same.ds, stale_days=stale_days)
    cutoff = av.latest(scanned) - timedelta(days=stale_days)
    per: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for _, resource, entry in av.scans(scanned):
        per[resource].append(entry)
    assert list(windows.index) == [r for r in RESOURCES if r in per]
    for resource, entries in per.items():
        row = windows.loc[resource]
        assert row["accounts"] == len(entries)
        assert row["synced"] == pytest.approx(
            sum(e["status"] == "synced" for e in entries) / len(entries)
        )
        assert row["stale"] == sum(av.is_stale(e, cutoff) for e in entries)
        assert row["events_available"] == sum(e["available_count"] or 0 for e in entries)


@pytest.mark.parametrize(
    ("resource", "statuses", "sample", "seed"),
    [
        ("payouts", None, 50, 0),
        ("activities", ["synced", "in_progress"], 30, 1),
        ("payouts", None, None, 0),
    ],
)
def test_availability_timeline(
    same: Portfolio,
    scanned: list[dict[str, Any]],
    resource: str,
    statuses: list[str] | None,
    sample: int | None,
    seed: int,
) -> None:
    timeline = analysis.availability_timeline(
        same.ds, resource, statuses=statuses, sample=sample, seed=seed
    )
    cutoff = av.latest(scanned) - timedelta(days=7)
    want = av.timeline_by_loop(scanned, resource, statuses, sample, seed, cutoff)
    assert av.as_rows(timeline) == want and len(want) > 0
    on_frames = analysis.availability_timeline(
        same.availability, resource, statuses=statuses, sample=sample, seed=seed
    )
    pd.testing.assert_frame_equal(timeline, on_frames)


def test_scan_counts_and_selected_availability(
    same: Portfolio, scanned: list[dict[str, Any]]
) -> None:
    counts = analysis.scan_counts(same.ds)
    rows = av.scans(scanned)
    assert counts["accounts"].sum() == len(rows)
    assert counts["with_window"].sum() == sum(
        bool(e["available_from"] and e["available_to"]) for _, _, e in rows
    )
    failed = analysis.select_availability(same.ds, resource="payouts", statuses=["sync_failed"])
    assert isinstance(failed, Dataset)
    want = [e for _, r, e in rows if r == "payouts" and e["status"] == "sync_failed"]
    assert failed.rows("availability") == len(want) > 0
    windows = analysis.availability_windows(failed)
    assert windows["accounts"].tolist() == [len(want)]
    assert windows["sync_failed"].tolist() == [1.0]
