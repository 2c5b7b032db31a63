"""Connection health, counted in DuckDB on an accounts frame and on a Dataset alike: every
figure recounted by a plain loop over the raw account records (UTC days, ISO weeks and
months, the missing group, labels of ours in the data, status order, selections)."""

from __future__ import annotations

import json
import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from argyle_nb import analysis, frames
from argyle_nb.dataset import Dataset
from argyle_nb.frames import MissingColumnsError
from argyle_nb.models import CONNECTION_ERROR_MESSAGES, CONNECTION_STATUSES

NOW = datetime(2026, 11, 1, tzinfo=UTC)
Z = 1.959963984540054  # the 97.5% normal quantile
HOSTILE = "x'); drop table accounts; --"
#: Link items, sources and error codes of the hand-made accounts (None: missing).
ITEMS = [None, "(missing)", '"(other)"', "uber", HOSTILE, 'a"b\\c', "walmart"]
STATUSES = ["connected", "error", "connecting", "paused", "aaa_unknown", None]
#: Creation times at the edges of UTC days, ISO weeks and months (with zone offsets).
TIMES = [
    "2026-03-01T23:30:00-05:00",  # a Sunday where it was made, Monday 04:30 in UTC
    "2026-02-28T22:00:00-05:00",  # February where it was made, March in UTC
    "2027-01-03T12:00:00Z",  # a Sunday of the ISO week that began on 2026-12-28
    "2026-12-28T00:00:00Z",  # that Monday, at its first instant
    "2026-06-07T23:59:59.999999Z",  # the last microsecond of a week
    "2026-06-08T00:00:00+02:00",  # Monday where it was made, Sunday in UTC
    "2026-01-01T00:00:00Z",
]
#: Error codes with the messages sent with them (ties: the first message by name wins).
CODES: list[tuple[str | None, str | None]] = [
    ("invalid_credentials", "said b"),
    ("invalid_credentials", "said a"),
    ("invalid_credentials", "said b"),
    ("invalid_credentials", "said a"),
    ("invalid_credentials", None),
    ("auth_required", None),  # none sent: the documented message
    ("weird", None),  # none sent, none documented
    ("tie_b", "m"),
    ("tie_a", "m"),
    (HOSTILE, HOSTILE),
    (None, None),
]


def uid(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012d}"


def edge_records() -> list[dict[str, Any]]:
    records = []
    for i in range(70):
        code, message = CODES[i % len(CODES)]
        status = STATUSES[i % len(STATUSES)]
        records.append(
            {
                "id": uid(i),
                "user": uid(1000 + i % 9),
                "created_at": TIMES[i % len(TIMES)],
                "link_item": ITEMS[i % len(ITEMS)],
                "source": ITEMS[(i // 2) % len(ITEMS)],
                "connection": None
                if status is None
                else {"status": status, "error_code": code, "error_message": message},
            }
        )
    return records


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    synth = pytest.importorskip("argyle_nb.sandbox.synth")
    pairs = list(synth.generate(users=120, seed=3, now=NOW))
    return [a for _, accounts in pairs for a in accounts] + edge_records()


@pytest.fixture(scope="module")
def accounts_df(records: list[dict[str, Any]]) -> pd.DataFrame:
    return frames.accounts_frame(orjson.dumps(records))


ON = ["frame", "dataset"]


@pytest.fixture(params=["UTC", "Pacific/Kiritimati", "America/St_Johns"])
def local_zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The machine's zone (DuckDB's session zone follows it): UTC, +14:00, -03:30."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


def on(kind: str, accounts: pd.DataFrame) -> pd.DataFrame | Dataset:
    """The accounts as given to an analysis: the frame, or a dataset over it."""
    return accounts if kind == "frame" else Dataset.from_frames(None, accounts)


# ---------------------------------------------------------------------------
# The plain rules, written again here
# ---------------------------------------------------------------------------


def utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def period_of(text: str, period: str) -> datetime:
    day = utc(text).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def group_of(value: Any) -> str:
    if value is None:
        return analysis.MISSING
    if not isinstance(value, str):
        return json.dumps(value)
    if value.strip('"') in (analysis.MISSING, analysis.OTHER, analysis.REST):
        return '"' + value + '"'
    return value


def wilson(k: int, n: int) -> tuple[float, float]:
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return centre - half, centre + half


def value_of(account: dict[str, Any], by: str) -> Any:
    if by.startswith("connection_"):
        return (account.get("connection") or {}).get(by.removeprefix("connection_"))
    return account.get(by)


def status_of(account: dict[str, Any]) -> str | None:
    status = (account.get("connection") or {}).get("status")
    return status if isinstance(status, str) else None


def expected_distribution(
    records: list[dict[str, Any]], keys: Callable[[dict[str, Any]], tuple[Any, ...]]
) -> dict[tuple[Any, ...], Counter[str]]:
    counts: dict[tuple[Any, ...], Counter[str]] = defaultdict(Counter)
    for a in records:
        status = status_of(a)
        if status is not None:
            counts[keys(a)][status] += 1
    return counts


def check_distribution(
    dist: pd.DataFrame, want: dict[tuple[Any, ...], Counter[str]], *, timed: bool
) -> None:
    seen = {s for c in want.values() for s in c}
    statuses = [*CONNECTION_STATUSES, *sorted(seen - set(CONNECTION_STATUSES))]
    assert list(dist.columns) == [
        *statuses,
        "total",
        *(f"share_{s}" for s in statuses),
        *(c for s in statuses for c in (f"low_{s}", f"high_{s}")),
    ]
    got_keys = [
        tuple(v.to_pydatetime() if isinstance(v, pd.Timestamp) else v for v in key)
        for key in (k if isinstance(k, tuple) else (k,) for k in dist.index)
    ]
    assert len(got_keys) == len(set(got_keys)) and set(got_keys) == set(want)
    for key, row in zip(got_keys, dist.to_dict("records"), strict=True):
        counts = want[key]
        total = sum(counts.values())
        assert row["total"] == total
        for s in statuses:
            assert row[s] == counts[s]
            assert row[f"share_{s}"] == pytest.approx(counts[s] / total)
            low, high = wilson(counts[s], total)
            assert row[f"low_{s}"] == pytest.approx(low, abs=1e-12)
            assert row[f"high_{s}"] == pytest.approx(high, abs=1e-12)
    totals: Counter[Any] = Counter()
    for key, counts in want.items():
        totals[key[0]] += sum(counts.values())
    if timed:
        assert got_keys == sorted(want)
    else:
        # Groups by their total, then by label; periods by time within a group.
        order = sorted(totals, key=lambda g: (-totals[g], g))
        assert list(dict.fromkeys(k[0] for k in got_keys)) == order
        assert got_keys == sorted(got_keys, key=lambda k: (order.index(k[0]), *k[1:]))


# ---------------------------------------------------------------------------
# connection_status_distribution
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ON)
@pytest.mark.parametrize("by", ["link_item", "source", "connection_error_code"])
def test_status_by_a_column(
    records: list[dict[str, Any]], accounts_df: pd.DataFrame, kind: str, by: str
) -> None:
    dist = analysis.connection_status_distribution(on(kind, accounts_df), by=by)
    want = expected_distribution(records, lambda a: (group_of(value_of(a, by)),))
    check_distribution(dist, want, timed=False)
    assert dist.index.name == by
    assert analysis.MISSING in dist.index
    if by != "connection_error_code":  # a real "(missing)" is a group of its own
        assert '"(missing)"' in dist.index and '""(other)""' in dist.index


@pytest.mark.parametrize("kind", ON)
@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_status_by_utc_period(
    records: list[dict[str, Any]],
    accounts_df: pd.DataFrame,
    kind: str,
    period: str,
    local_zone: str,
) -> None:
    dist = analysis.connection_status_distribution(on(kind, accounts_df), by=period)
    want = expected_distribution(records, lambda a: (period_of(a["created_at"], period),))
    check_distribution(dist, want, timed=True)
    assert str(dist.index.dtype) == "datetime64[us, UTC]"
    assert dist.index.name == period


@pytest.mark.parametrize("kind", ON)
def test_status_by_a_column_and_period(
    records: list[dict[str, Any]], accounts_df: pd.DataFrame, kind: str, local_zone: str
) -> None:
    dist = analysis.connection_status_distribution(
        on(kind, accounts_df), by="link_item", freq="week"
    )
    want = expected_distribution(
        records, lambda a: (group_of(a.get("link_item")), period_of(a["created_at"], "week"))
    )
    check_distribution(dist, want, timed=False)
    assert list(dist.index.names) == ["link_item", "week"]


@pytest.mark.parametrize("kind", ON)
def test_a_column_of_any_name_and_type_groups_by_its_text(
    records: list[dict[str, Any]], accounts_df: pd.DataFrame, kind: str
) -> None:
    """A cohort column (attach_metadata) may be named anything and hold numbers or
    booleans: quoted as a name, its values labelled by their JSON text."""
    n = len(accounts_df)
    flags = [None if i % 5 == 0 else i % 2 == 0 for i in range(n)]
    numbers = [None if i % 7 == 0 else i % 3 for i in range(n)]
    halves = [i % 4 / 2 for i in range(n)]
    columns: dict[str, Any] = {
        'we"ird.key\\': pd.array(flags, dtype="boolean"),
        "meta.n": pd.array(numbers, dtype="Int64"),
        "half": halves,
    }
    given = accounts_df.assign(**columns)
    data = given if kind == "frame" else Dataset.from_frames(None, given)
    ids = [r["id"] for r in records]
    made: list[list[Any]] = [flags, numbers, halves]
    for column, values in zip(columns, made, strict=True):
        value_by_id = dict(zip(ids, values, strict=True))
        dist = analysis.connection_status_distribution(data, by=column)
        want: dict[tuple[Any, ...], Counter[str]] = defaultdict(Counter)
        for a in records:
            if status_of(a) is not None:
                want[(group_of(value_by_id[a["id"]]),)][str(status_of(a))] += 1
        check_distribution(dist, want, timed=False)
    assert set(analysis.connection_status_distribution(data, by="half").index) == {
        "0.0",
        "0.5",
        "1.0",
        "1.5",
    }


@pytest.mark.property
@settings(max_examples=15)
@given(
    st.lists(
        st.tuples(
            st.datetimes(min_value=datetime(1999, 12, 20), max_value=datetime(2031, 1, 10)),
            st.integers(min_value=-14 * 60, max_value=14 * 60),
            st.sampled_from(["connected", "error", "connecting", "zz"]),
        ),
        min_size=1,
        max_size=40,
    ),
    st.sampled_from(["day", "week", "month"]),
)
def test_any_times_fall_in_their_utc_period(
    made: list[tuple[datetime, int, str]], period: str
) -> None:
    records = [
        {
            "id": uid(i),
            "user": uid(999),
            "created_at": moment.replace(tzinfo=UTC)
            .astimezone(__import__("datetime").timezone(timedelta(minutes=offset)))
            .isoformat(),
            "link_item": "uber",
            "connection": {"status": status},
        }
        for i, (moment, offset, status) in enumerate(made)
    ]
    accounts = frames.accounts_frame(orjson.dumps(records))
    want = expected_distribution(records, lambda a: (period_of(a["created_at"], period),))
    for kind in ON:
        dist = analysis.connection_status_distribution(on(kind, accounts), by=period)
        check_distribution(dist, want, timed=True)


def test_no_accounts_and_accounts_without_status(accounts_df: pd.DataFrame) -> None:
    empty = frames.accounts_frame(b"[]")
    for data in (empty, Dataset.from_frames(None, empty)):
        for by in ("link_item", "month"):
            dist = analysis.connection_status_distribution(data, by=by)
            assert dist.empty and list(dist.columns[:4]) == [*CONNECTION_STATUSES, "total"]
        assert analysis.top_error_codes(data).empty
    # Accounts without a status are in no group.
    assert (
        analysis.connection_status_distribution(accounts_df)["total"].sum()
        == int(accounts_df["connection_status"].notna().sum())
        < len(accounts_df)
    )


@pytest.mark.parametrize("kind", ON)
def test_wrong_questions_are_refused(accounts_df: pd.DataFrame, kind: str) -> None:
    data = on(kind, accounts_df)
    with pytest.raises(KeyError, match="accounts have no column 'nope'"):
        analysis.connection_status_distribution(data, by="nope")
    with pytest.raises(ValueError, match="period must be"):
        analysis.connection_status_distribution(data, freq="year")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n must be"):
        analysis.top_error_codes(data, n=-1)
    with pytest.raises(ValueError, match="created_from must be a time"):
        analysis.select_accounts(data, created_from="not a date")
    with pytest.raises(TypeError, match="link_item is a text or a list"):
        analysis.select_accounts(data, link_item=5)  # type: ignore[call-overload]
    # A column the analysis reads, missing from a dataset, is named with what makes it.
    bare = Dataset.from_frames(None, accounts_df.drop(columns=["connection_error_message"]))
    with pytest.raises(MissingColumnsError, match="'connection_error_message' of the dataset"):
        analysis.top_error_codes(bare)


# ---------------------------------------------------------------------------
# top_error_codes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ON)
@pytest.mark.parametrize("n", [None, 2])
def test_top_error_codes(
    records: list[dict[str, Any]], accounts_df: pd.DataFrame, kind: str, n: int | None
) -> None:
    codes: Counter[str] = Counter()
    said: dict[str, Counter[str]] = defaultdict(Counter)
    for a in records:
        connection = a.get("connection") or {}
        if connection.get("error_code") is not None:
            codes[connection["error_code"]] += 1
            if connection.get("error_message") is not None:
                said[connection["error_code"]][connection["error_message"]] += 1
    order = sorted(codes, key=lambda c: (-codes[c], c))[:n]
    top = analysis.top_error_codes(on(kind, accounts_df), n=n)
    assert list(top.index) == order
    assert top.index.name == "connection_error_code"
    total = sum(codes.values())
    for code, row in top.iterrows():
        assert row["accounts"] == codes[str(code)]
        assert row["share"] == pytest.approx(codes[str(code)] / total)
        assert (row["low"], row["high"]) == pytest.approx(wilson(codes[str(code)], total))
        messages = said[str(code)]
        if messages:
            best = max(messages.values())
            assert row["message"] == min(m for m, k in messages.items() if k == best)
        elif str(code) in CONNECTION_ERROR_MESSAGES:
            assert row["message"] == CONNECTION_ERROR_MESSAGES[str(code)]
        else:
            assert pd.isna(row["message"])
    if n is None:
        assert top.loc["invalid_credentials", "message"] == "said a"
        assert list(top.index).index("tie_a") < list(top.index).index("tie_b")


# ---------------------------------------------------------------------------
# select_accounts
# ---------------------------------------------------------------------------

CHOICES: list[dict[str, Any]] = [
    {},
    {"link_item": "uber"},
    {"link_item": [HOSTILE, "(missing)"], "source": ["uber", "walmart", HOSTILE]},
    {"link_item": []},
    {"created_from": "2026-03-02T04:30:00Z"},  # inclusive: that account is in
    {"created_to": "2026-03-02T04:30:00Z"},  # exclusive: that account is out
    {"created_from": pd.Timestamp("2026-03-02T04:30:00Z") + pd.Timedelta(nanoseconds=1)},
    {"created_from": datetime(2026, 6, 1), "created_to": "2026-12-28"},  # naive: UTC
    {"source": "argyle_sandbox", "created_to": "2026-07-01T00:00:00+02:00"},
]


def chosen_by_loop(records: list[dict[str, Any]], choice: dict[str, Any]) -> list[str]:
    def bound(value: Any) -> datetime:
        stamp = pd.Timestamp(value)
        return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")

    kept = []
    for a in records:
        ok = True
        for column in ("link_item", "source"):
            if column in choice:
                wanted = choice[column]
                wanted = [wanted] if isinstance(wanted, str) else wanted
                ok &= a.get(column) is not None and a[column] in wanted
        created = pd.Timestamp(utc(a["created_at"]))
        if "created_from" in choice:
            ok &= created >= bound(choice["created_from"])
        if "created_to" in choice:
            ok &= created < bound(choice["created_to"])
        if ok:
            kept.append(a["id"])
    return kept


def test_selected_accounts_of_a_frame_are_its_rows(
    records: list[dict[str, Any]], accounts_df: pd.DataFrame
) -> None:
    shuffled = accounts_df.sample(frac=1, random_state=4)
    for choice in CHOICES:
        got = analysis.select_accounts(shuffled, **choice)
        assert isinstance(got, pd.DataFrame)
        want = chosen_by_loop(records, choice)
        # The frame's own rows, index and order.
        assert sorted(got["id"]) == sorted(want), choice
        assert list(got.index) == [i for i in shuffled.index if i in set(got.index)]
        pd.testing.assert_frame_equal(got, shuffled.loc[got.index])
    assert (
        len(analysis.select_accounts(accounts_df, link_item=HOSTILE))
        == sum(a["link_item"] == HOSTILE for a in records)
        > 0
    )


def test_selected_accounts_of_a_dataset_are_a_dataset(
    records: list[dict[str, Any]], accounts_df: pd.DataFrame, local_zone: str
) -> None:
    users = frames.users_frame([{"id": uid(1000), "created_at": "2026-01-01T00:00:00Z"}])
    ds = Dataset.from_frames(users, accounts_df)
    for choice in CHOICES:
        got = analysis.select_accounts(ds, **choice)
        assert isinstance(got, Dataset)
        want = chosen_by_loop(records, choice)
        ids = [r[0] for r in got.sql("select id from accounts order by _seen").fetchall()]
        assert ids == want, choice
        assert got.rows("users") == 1  # the other tables are the dataset's
        # Every analysis of the selection counts its accounts only.
        kept = [a for a in records if a["id"] in set(want)]
        dist = analysis.connection_status_distribution(got, by="source", freq="month")
        check_distribution(
            dist,
            expected_distribution(
                kept, lambda a: (group_of(a.get("source")), period_of(a["created_at"], "month"))
            ),
            timed=False,
        )
    assert ds.rows("accounts") == len(records)  # the dataset itself is left whole
    both = analysis.select_accounts(
        analysis.select_accounts(ds, link_item=["uber", HOSTILE]), created_from="2026-06-01"
    )
    want = chosen_by_loop(records, {"link_item": ["uber", HOSTILE], "created_from": "2026-06-01"})
    assert both.rows("accounts") == len(want) > 0
    assert ds.sql("select count(*) from accounts").fetchall()[0][0] == len(records)
