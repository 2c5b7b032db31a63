"""Scan availability, counted in DuckDB on an availability frame and on a Dataset alike:
every figure recounted by a plain loop over the raw account records (shares, windows,
staleness, resource and status order, the timeline's seeded sample, selections)."""

from __future__ import annotations

import hashlib
import math
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pandas as pd
import pytest

from argyle_nb import analysis, frames
from argyle_nb.dataset import Dataset
from argyle_nb.frames import MissingColumnsError
from argyle_nb.models import AVAILABILITY_STATUSES, RESOURCES

NOW = datetime(2026, 11, 1, tzinfo=UTC)
Z = 1.959963984540054  # the 97.5% normal quantile
HOSTILE = "synced') or true; --"
SCAN = ("synced", "in_progress", "sync_failed")
REGIONS = [None, "north", "(missing)", HOSTILE, "south"]


def uid(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012d}"


def scan(i: int, *, window: bool) -> dict[str, Any]:
    """An availability entry at the edges: unknown statuses, no update time, no count,
    half a window."""
    status = ["synced", "in_progress", "sync_failed", "exploding", "aaa_new"][i % 5]
    entry: dict[str, Any] = {
        "status": status,
        "updated_at": None if i % 6 == 0 else (NOW - timedelta(days=i % 40)).isoformat(),
    }
    if window:
        entry["available_count"] = None if i % 4 == 0 else i * 3
        entry["available_from"] = None if i % 9 == 0 else f"2025-{1 + i % 12:02d}-01T00:00:00Z"
        entry["available_to"] = f"2026-{1 + i % 10:02d}-15T12:00:00+02:00"
    return entry


def edge_records() -> list[dict[str, Any]]:
    return [
        {
            "id": uid(i),
            "user": uid(1000 + i % 7),
            "created_at": "2026-01-01T00:00:00Z",
            "link_item": "uber",
            "connection": {"status": "connected"},
            "availability": {
                "payouts": scan(i, window=True),
                "activities": scan(i + 1, window=True) if i % 3 else None,
                "profiles": scan(i + 2, window=False),
            },
        }
        for i in range(60)
    ]


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    synth = pytest.importorskip("argyle_nb.sandbox.synth")
    pairs = list(synth.generate(users=100, seed=8, now=NOW))
    return [a for _, accounts in pairs for a in accounts] + edge_records()


@pytest.fixture(scope="module")
def availability_df(records: list[dict[str, Any]]) -> pd.DataFrame:
    return frames.availability_frame(orjson.dumps(records))


def region_of(account: str) -> str | None:
    return REGIONS[int(account.replace("-", ""), 16) % len(REGIONS)]


def on(kind: str, availability: pd.DataFrame) -> pd.DataFrame | Dataset:
    """The availability as given to an analysis: the frame, or a dataset over it."""
    return availability if kind == "frame" else Dataset.from_frames(None, None, availability)


ON = ["frame", "dataset"]


@pytest.fixture(params=["UTC", "Pacific/Kiritimati"])
def local_zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The machine's zone (DuckDB's session zone follows it)."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


# ---------------------------------------------------------------------------
# The plain rules, written again here
# ---------------------------------------------------------------------------


def utc(text: str | None) -> datetime | None:
    if text is None:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def scans(records: list[dict[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    """(account, resource, entry) of every scan the frames keep (known resources)."""
    return [
        (a["id"], resource, entry)
        for a in records
        for resource, entry in (a.get("availability") or {}).items()
        if entry is not None and resource in RESOURCES
    ]


def group_of(value: str | None) -> str:
    if value is None:
        return analysis.MISSING
    if value.strip('"') in (analysis.MISSING, analysis.OTHER, analysis.REST):
        return '"' + value + '"'
    return value


def wilson(k: int, n: int) -> tuple[float, float]:
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return centre - half, centre + half


def latest(records: list[dict[str, Any]]) -> datetime:
    return max(t for _, _, e in scans(records) if (t := utc(e.get("updated_at"))) is not None)


def is_stale(entry: dict[str, Any], cutoff: datetime) -> bool:
    updated = utc(entry.get("updated_at"))
    return updated is None or updated < cutoff


def ranked(values: set[str], known: tuple[str, ...]) -> list[str]:
    return [v for v in known if v in values] + sorted(values - set(known))


# ---------------------------------------------------------------------------
# availability_windows
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ON)
@pytest.mark.parametrize(
    ("stale_days", "now"), [(7, None), (30, None), (1, NOW), (0.5, "2026-10-20")]
)
def test_windows_against_loops(
    records: list[dict[str, Any]],
    availability_df: pd.DataFrame,
    kind: str,
    stale_days: float,
    now: datetime | str | None,
) -> None:
    windows = analysis.availability_windows(
        on(kind, availability_df), stale_days=stale_days, now=now
    )
    moment = latest(records) if now is None else utc(str(now))
    assert moment is not None
    cutoff = moment - timedelta(days=stale_days)
    per: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for _, resource, entry in scans(records):
        per[resource].append(entry)
    assert list(windows.index) == [r for r in RESOURCES if r in per]
    assert windows.index.name == "resource"
    for resource, entries in per.items():
        row = windows.loc[resource]
        n = len(entries)
        assert row["accounts"] == n
        for s in SCAN:
            k = sum(e["status"] == s for e in entries)
            assert row[s] == pytest.approx(k / n)
            assert (row[f"{s}_low"], row[f"{s}_high"]) == pytest.approx(wilson(k, n))
        spans = [
            (end - start).total_seconds() / 86400
            for e in entries
            if (start := utc(e.get("available_from"))) and (end := utc(e.get("available_to")))
        ]
        if spans:
            assert row["window_days_median"] == pytest.approx(statistics.median(spans))
            assert row["window_days_min"] == pytest.approx(min(spans))
            assert row["window_days_max"] == pytest.approx(max(spans))
        else:
            assert pd.isna(row["window_days_median"]) and pd.isna(row["window_days_max"])
        assert row["events_available"] == sum(e.get("available_count") or 0 for e in entries)
        stale = sum(is_stale(e, cutoff) for e in entries)
        assert row["stale"] == stale
        assert row["stale_share"] == pytest.approx(stale / n)
        assert (row["stale_low"], row["stale_high"]) == pytest.approx(wilson(stale, n))


@pytest.mark.parametrize("kind", ON)
def test_windows_by_a_cohort_column(
    records: list[dict[str, Any]], availability_df: pd.DataFrame, kind: str
) -> None:
    rows = availability_df.copy()
    rows['re"gion'] = [region_of(a) for a in availability_df["account"]]
    data = rows if kind == "frame" else Dataset.from_frames(None, None, rows)
    windows = analysis.availability_windows(data, by='re"gion', now=NOW)
    per: Counter[tuple[str, str]] = Counter()
    synced: Counter[tuple[str, str]] = Counter()
    for account, resource, entry in scans(records):
        key = (group_of(region_of(account)), resource)
        per[key] += 1
        synced[key] += entry["status"] == "synced"
    order = sorted(per, key=lambda k: (k[0], RESOURCES.index(k[1])))
    assert list(windows.index) == order
    assert list(windows.index.names) == ['re"gion', "resource"]
    for key, row in zip(order, windows.to_dict("records"), strict=True):
        assert row["accounts"] == per[key]
        assert row["synced"] == pytest.approx(synced[key] / per[key])
    assert '"(missing)"' in windows.index.get_level_values(0)


def test_windows_of_nothing_and_wrong_questions(availability_df: pd.DataFrame) -> None:
    empty = frames.availability_frame(b"[]")
    for data in (empty, Dataset.from_frames(None, None, empty)):
        assert analysis.availability_windows(data).empty
        assert analysis.availability_timeline(data).empty
        assert analysis.scan_counts(data).empty
    for data in (availability_df, Dataset.from_frames(None, None, availability_df)):
        with pytest.raises(KeyError, match="availability has no column 'nope'"):
            analysis.availability_windows(data, by="nope")
        with pytest.raises(ValueError, match="stale_days"):
            analysis.availability_windows(data, stale_days=-1)
        with pytest.raises(ValueError, match="now must be a time"):
            analysis.availability_windows(data, now="yesterday-ish")
        with pytest.raises(ValueError, match="sample"):
            analysis.availability_timeline(data, sample=-1)
        with pytest.raises(ValueError, match="seed"):
            analysis.availability_timeline(data, seed="0")  # type: ignore[arg-type]
    accounts = frames.accounts_frame(b"[]")
    with pytest.raises(MissingColumnsError, match="needs the availability"):
        analysis.availability_windows(Dataset.from_frames(None, accounts))


# ---------------------------------------------------------------------------
# availability_timeline: the sample is md5("<seed>:<account>") first
# ---------------------------------------------------------------------------


def timeline_by_loop(
    records: list[dict[str, Any]],
    resource: str,
    statuses: list[str] | None,
    sample: int | None,
    seed: int,
    cutoff: datetime,
) -> list[tuple[Any, ...]]:
    rows = []
    for account, r, e in scans(records):
        start, end = utc(e.get("available_from")), utc(e.get("available_to"))
        if r != resource or start is None or end is None:
            continue
        if statuses is not None and e["status"] not in statuses:
            continue
        rows.append(
            (
                account,
                e["status"],
                start,
                end,
                e.get("available_count"),
                utc(e.get("updated_at")),
                is_stale(e, cutoff),
            )
        )
    if sample is not None:

        def draw(row: tuple[Any, ...]) -> tuple[Any, ...]:
            return (hashlib.md5(f"{seed}:{row[0]}".encode()).hexdigest(), row[0], row[2], row[3])

        rows = sorted(rows, key=draw)[:sample]
    return sorted(rows, key=lambda row: (row[2], row[0], row[3]))


def as_rows(timeline: pd.DataFrame) -> list[tuple[Any, ...]]:
    return [
        (
            r["account"],
            str(r["status"]),
            r["available_from"].to_pydatetime(),
            r["available_to"].to_pydatetime(),
            None if pd.isna(r["available_count"]) else int(r["available_count"]),
            None if pd.isna(r["updated_at"]) else r["updated_at"].to_pydatetime(),
            bool(r["stale"]),
        )
        for r in timeline.to_dict("records")
    ]


@pytest.mark.parametrize("kind", ON)
@pytest.mark.parametrize(
    ("resource", "statuses", "sample", "seed"),
    [
        ("payouts", None, 50, 0),
        ("payouts", ["sync_failed", "exploding"], 7, 7),
        ("activities", ["synced", "in_progress"], 30, -3),
        ("payouts", None, None, 0),
        ("payouts", [HOSTILE], None, 0),  # a status no scan has: nothing
        ("profiles", None, 50, 0),  # no event windows: nothing to draw
    ],
)
def test_timeline_draws_by_seed(
    records: list[dict[str, Any]],
    availability_df: pd.DataFrame,
    kind: str,
    resource: str,
    statuses: list[str] | None,
    sample: int | None,
    seed: int,
    local_zone: str,
) -> None:
    timeline = analysis.availability_timeline(
        on(kind, availability_df), resource, statuses=statuses, sample=sample, seed=seed
    )
    cutoff = latest(records) - timedelta(days=7)
    want = timeline_by_loop(records, resource, statuses, sample, seed, cutoff)
    assert as_rows(timeline) == want
    assert list(timeline.columns) == [
        "account",
        "status",
        "available_from",
        "available_to",
        "available_count",
        "updated_at",
        "stale",
    ]
    assert str(timeline["available_from"].dtype) == "datetime64[us, UTC]"
    if resource == "payouts" and sample == 50:
        assert len(want) == 50
    if resource == "profiles" or statuses == [HOSTILE]:
        assert timeline.empty


def test_the_sample_is_the_same_whatever_the_order_of_the_rows(
    availability_df: pd.DataFrame,
) -> None:
    once = analysis.availability_timeline(availability_df, sample=20, seed=5)
    shuffled = availability_df.sample(frac=1, random_state=1)
    again = analysis.availability_timeline(
        Dataset.from_frames(None, None, shuffled), sample=20, seed=5
    )
    pd.testing.assert_frame_equal(once, again)
    other = analysis.availability_timeline(availability_df, sample=20, seed=6)
    assert set(other["account"]) != set(once["account"])


# ---------------------------------------------------------------------------
# scan_counts and select_availability
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ON)
def test_scan_counts(
    records: list[dict[str, Any]], availability_df: pd.DataFrame, kind: str, local_zone: str
) -> None:
    counts = analysis.scan_counts(on(kind, availability_df))
    accounts: Counter[tuple[str, str]] = Counter()
    dated: Counter[tuple[str, str]] = Counter()
    newest: dict[tuple[str, str], datetime] = {}
    for _, resource, e in scans(records):
        key = (resource, e["status"])
        accounts[key] += 1
        dated[key] += bool(e.get("available_from") and e.get("available_to"))
        if (updated := utc(e.get("updated_at"))) is not None:
            newest[key] = max(newest.get(key, updated), updated)
    resources = ranked({r for r, _ in accounts}, RESOURCES)
    statuses = ranked({s for _, s in accounts}, AVAILABILITY_STATUSES)
    order = sorted(accounts, key=lambda k: (resources.index(k[0]), statuses.index(k[1])))
    got = [
        (
            str(r["resource"]),
            str(r["status"]),
            r["accounts"],
            r["with_window"],
            None if pd.isna(r["latest"]) else r["latest"].to_pydatetime(),
        )
        for r in counts.to_dict("records")
    ]
    assert got == [(*k, accounts[k], dated[k], newest.get(k)) for k in order]
    assert list(counts["status"].cat.categories) == statuses


def test_selected_availability(
    records: list[dict[str, Any]], availability_df: pd.DataFrame
) -> None:
    ds = Dataset.from_frames(None, frames.accounts_frame(orjson.dumps(records)), availability_df)
    choices: list[dict[str, Any]] = [
        {"resource": "payouts", "statuses": ["sync_failed"]},
        {"resource": "activities"},
        {"statuses": ["exploding", "aaa_new"]},
        {"statuses": []},
        {"resource": HOSTILE},
        {},
    ]
    for choice in choices:
        want = [
            (account, resource)
            for account, resource, e in scans(records)
            if choice.get("resource", resource) == resource
            and ("statuses" not in choice or e["status"] in choice["statuses"])
        ]
        rows = analysis.select_availability(availability_df, **choice)
        assert isinstance(rows, pd.DataFrame)
        pd.testing.assert_frame_equal(rows, availability_df.loc[rows.index])
        assert sorted(zip(rows["account"], rows["resource"].astype("str"), strict=True)) == sorted(
            want
        )
        chosen = analysis.select_availability(ds, **choice)
        assert isinstance(chosen, Dataset)
        assert chosen.rows("availability") == len(want), choice
        assert chosen.rows("accounts") == len(records)  # the other tables are the dataset's
        if want:
            windows = analysis.availability_windows(chosen, now=NOW)
            assert int(windows["accounts"].sum()) == len(want)
    assert ds.rows("availability") == len(scans(records))
