"""The cohort, connection and availability analyses on a :class:`Dataset`, in DuckDB.

DuckDB reads the Parquet files where they lie and does the counting (grouping millions of
rows in bounded memory, spilling to disk if it must); the same finishing code as the
pandas analyses then adds the shares, the Wilson intervals and the order, so both give
the same table for the same data: counts exactly, shares to floating-point rounding.

Example:
    >>> from argyle_nb.dataset import Dataset, connection_status_distribution
    >>> with Dataset("portfolio") as ds:                                  # doctest: +SKIP
    ...     connection_status_distribution(ds, by="link_item").head()
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from argyle_nb.analysis._availability import finish_windows
from argyle_nb.analysis._cohorts import finish_groups, most_frequent_codes
from argyle_nb.analysis._common import _SCAN_ORDER, MIN_USERS, MISSING, OTHER, _utc
from argyle_nb.analysis._connection import _PERIODS, finish_distribution
from argyle_nb.analysis._outcomes import _check_min_users
from argyle_nb.dataset._manifest import DatasetError
from argyle_nb.dataset._read import Dataset
from argyle_nb.models import CONNECTION_STATUSES, RESOURCES

__all__ = ["availability_windows", "connection_status_distribution", "metadata_groups"]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _columns(ds: Dataset, table: str) -> list[str]:
    return [str(row[0]) for row in ds.sql(f"describe {table}").fetchall()]


def _label(column: str) -> str:
    """A group label as the pandas analyses make it: the value as text, or MISSING."""
    return f"coalesce(cast({_quote(column)} as varchar), {_text(MISSING)})"


def connection_status_distribution(
    ds: Dataset, by: str = "link_item", *, freq: str | None = None
) -> pd.DataFrame:
    """:func:`argyle_nb.analysis.connection_status_distribution` of the dataset's accounts.

    ``by`` is a column of the accounts or a period (``"day"``, ``"week"``, ``"month"`` of
    ``created_at``, UTC, weeks from Monday); ``freq`` adds a period to a column.
    """
    timed = by in _PERIODS
    if not timed and by not in _columns(ds, "accounts"):
        raise KeyError(f"accounts have no column {by!r}")
    period = by if timed else freq
    if period is not None and period not in _PERIODS:
        raise ValueError(f"period must be 'day', 'week' or 'month', not {period!r}")
    keys: list[str] = []
    names: list[str] = []
    if not timed:
        keys.append(f"{_label(by)} as k0")
        names.append(by)
    if period is not None:
        keys.append(f"date_trunc('{period}', created_at at time zone 'UTC') as k{len(keys)}")
        names.append(period)
    key_names = [f"k{i}" for i in range(len(keys))]
    counts = ds.sql(
        f"select {', '.join(keys)}, cast(connection_status as varchar) as status,"
        " count(*) as n from accounts where connection_status is not null group by all"
    ).df()
    seen = {str(s) for s in counts["status"]}
    statuses = [*CONNECTION_STATUSES, *sorted(seen - set(CONNECTION_STATUSES))]
    for i, name in enumerate(names):
        column = counts[f"k{i}"]
        if name in _PERIODS:
            counts[f"k{i}"] = pd.to_datetime(column).astype("datetime64[us]").dt.tz_localize("UTC")
        else:
            counts[f"k{i}"] = column.astype("str")
    table = counts.pivot_table(
        index=key_names, columns="status", values="n", aggfunc="sum", fill_value=0
    )
    table = table.reindex(columns=statuses, fill_value=0).sort_index()
    table.columns.name = None
    return finish_distribution(table, statuses, names, timed=timed, period=period)


def availability_windows(
    ds: Dataset,
    *,
    by: str | None = None,
    stale_days: float = 7,
    now: datetime | str | None = None,
) -> pd.DataFrame:
    """:func:`argyle_nb.analysis.availability_windows` of the dataset's availability.

    ``now`` defaults to the latest ``updated_at`` of the data, as in pandas.
    """
    if by is not None and by not in _columns(ds, "availability"):
        raise KeyError(f"availability has no column {by!r}")
    if now is None:
        (latest,) = ds.sql("select max(updated_at) from availability").fetchall()[0]
        now_ts = pd.Timestamp(latest) if latest is not None else pd.Timestamp.now(tz="UTC")
    else:
        now_ts = _utc(now)
    before = (now_ts - pd.Timedelta(days=stale_days)).to_pydatetime()
    shares = ", ".join(
        f"avg(case when status = {_text(s)} then 1.0 else 0.0 end) as {s}" for s in _SCAN_ORDER
    )
    group = ([f"{_label(by)} as {_quote(by)}"] if by is not None else []) + [
        "cast(resource as varchar) as resource"
    ]
    tallies = ds.sql(
        f"select {', '.join(group)}, count(*) as accounts, {shares},"
        " median(window_days) as window_days_median, min(window_days) as window_days_min,"
        " max(window_days) as window_days_max,"
        " coalesce(sum(available_count), 0) as events_available,"
        " sum(case when updated_at is null or updated_at < ? then 1 else 0 end) as stale"
        " from availability group by all",
        params=[before],
    ).df()
    rank = {r: i for i, r in enumerate(RESOURCES)}
    tallies["_rank"] = [rank.get(r, len(rank)) for r in tallies["resource"]]
    order = ([by] if by is not None else []) + ["_rank", "resource"]
    tallies = tallies.sort_values(order, kind="stable").drop(columns="_rank")
    keys = ([by] if by is not None else []) + ["resource"]
    out = tallies.set_index(keys)
    out["accounts"] = out["accounts"].astype("int64")
    for s in _SCAN_ORDER:
        out[s] = out[s].astype("float64")
    for column in ("window_days_median", "window_days_min", "window_days_max"):
        out[column] = out[column].astype("Float64")
    out["events_available"] = out["events_available"].astype("Int64")
    out["stale"] = out["stale"].astype("int64")
    return finish_windows(out)


def _metadata_label(key: str) -> str:
    """The cohort of a user for ``key`` from ``external_metadata`` (JSON text), as the
    pandas analyses label it: text as is, other JSON values as JSON, missing explicit."""
    name = key.removeprefix("meta.") if key != "meta" else ""
    path = "$" + "".join(f'."{part}"' for part in name.split(".")) if name else "$"
    path = path.replace("'", "''")
    value = f"json_extract(external_metadata, '{path}')"
    return (
        f"case when {value} is null or json_type({value}) = 'NULL' then {_text(MISSING)}"
        f" when json_type({value}) = 'VARCHAR' then json_extract_string(external_metadata,"
        f" '{path}') else cast({value} as varchar) end"
    )


def metadata_groups(
    ds: Dataset, key: str, *, min_users: int = MIN_USERS, pool_small: bool = False
) -> pd.DataFrame:
    """:func:`argyle_nb.analysis.metadata_groups` of the dataset's users and accounts.

    Users are counted once each; accounts of users not in the dataset are left out.
    """
    _check_min_users(min_users)
    label = _metadata_label(key)
    (present,) = ds.sql(
        f"select count(*) from users where ({label}) != {_text(MISSING)}"
    ).fetchall()[0]
    if not present:
        raise DatasetError(f"no user of {ds.path} has the metadata key {key!r}")
    cohort = "label"
    if pool_small:
        cohort = (
            f"case when label != {_text(MISSING)} and count(*) over (partition by label)"
            f" < {int(min_users)} then {_text(OTHER)} else label end"
        )
    labelled = (
        f"with first as (select id, any_value(external_metadata) as external_metadata"
        f" from users group by id),"
        f" labelled as (select id, {label} as label from first),"
        f" cohorts as (select id, {cohort} as cohort from labelled)"
    )
    counts = ds.sql(
        f"{labelled}, per_user as ("
        " select c.cohort, c.id, count(a.id) as accounts,"
        " count(*) filter (where a.connection_status = 'connected') as connected,"
        " count(*) filter (where a.connection_status = 'error') as errors"
        " from cohorts c left join accounts a on a.user = c.id group by c.cohort, c.id)"
        " select cohort, count(*) as users, count(*) filter (where connected > 0)"
        " as connected_users, sum(accounts) as accounts, sum(connected) as connected_accounts,"
        " sum(errors) as error_accounts from per_user group by cohort"
    ).df()
    codes = ds.sql(
        f"{labelled} select c.cohort as cohort, cast(a.connection_error_code as varchar)"
        " as code, count(*) as n from cohorts c join accounts a on a.user = c.id"
        " where a.connection_error_code is not null group by all"
    ).df()
    index = pd.Index(counts["cohort"].astype("str").to_numpy(), dtype="str", name=key)
    table = pd.DataFrame(
        {c: counts[c].to_numpy("int64") for c in counts.columns if c != "cohort"}, index=index
    )
    table["small"] = table["users"] < min_users
    return finish_groups(table, _top_codes(codes))


def _top_codes(codes: pd.DataFrame) -> pd.Series[Any]:
    """The most frequent code of each cohort, ties broken by name (as the pandas path)."""
    if codes.empty:
        return pd.Series(dtype="str")
    return most_frequent_codes(codes.rename(columns={"cohort": "group"}))
