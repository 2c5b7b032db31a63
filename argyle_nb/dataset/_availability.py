"""Scan availability on a :class:`Dataset`: the windows summary, a sampled timeline and
what the explorer offers, counted in DuckDB and finished as in pandas."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from argyle_nb.analysis._availability import TIMELINE_COLUMNS, finish_timeline, finish_windows
from argyle_nb.analysis._common import _SCAN_ORDER, _utc
from argyle_nb.dataset._read import Dataset
from argyle_nb.dataset._sql import group_label, sql_name, sql_text, sql_texts
from argyle_nb.errors import ArgyleKeyError
from argyle_nb.models import AVAILABILITY_STATUSES, RESOURCES

__all__ = ["availability_timeline", "availability_windows", "scan_counts", "select_availability"]


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
    if by is not None and by not in ds.columns("availability"):
        raise ArgyleKeyError(f"availability has no column {by!r}")
    before = (_now(ds, now) - pd.Timedelta(days=stale_days)).to_pydatetime()
    shares = ", ".join(
        f"avg(case when status = {sql_text(s)} then 1.0 else 0.0 end) as {s}" for s in _SCAN_ORDER
    )
    group = ([f"{group_label(by)} as {sql_name(by)}"] if by is not None else []) + [
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


def select_availability(
    ds: Dataset, *, resource: str | None = None, statuses: Sequence[str] | None = None
) -> Dataset:
    """The dataset with only the scans of ``resource`` whose status is one of
    ``statuses`` (``None``: any), the other tables unchanged; nothing is read until queried.

    Example:
        >>> with Dataset("portfolio") as ds:                             # doctest: +SKIP
        ...     failed = select_availability(ds, resource="payouts", statuses=["sync_failed"])
        ...     availability_windows(failed)
    """
    return ds.restricted("availability", " and ".join(_scans(resource, statuses)) or "true")


def _scans(resource: str | None, statuses: Sequence[str] | None) -> list[str]:
    """SQL conditions on the availability: the scans of ``resource`` whose status is one
    of ``statuses`` (``None``: any)."""
    conditions = []
    if resource is not None:
        conditions.append(f"cast(resource as varchar) = {sql_text(str(resource))}")
    if statuses is not None:
        wanted = [str(s) for s in statuses]
        conditions.append(f"cast(status as varchar) in {sql_texts(wanted)}" if wanted else "false")
    return conditions


def _now(ds: Dataset, now: datetime | str | None) -> pd.Timestamp:
    """``now``, or the latest ``updated_at`` of the availability (as the pandas path)."""
    if now is not None:
        return _utc(now)
    (latest,) = ds.sql("select max(updated_at) from availability").fetchall()[0]
    return pd.Timestamp(latest) if latest is not None else pd.Timestamp.now(tz="UTC")


def availability_timeline(
    ds: Dataset,
    resource: str = "payouts",
    *,
    statuses: Sequence[str] | None = None,
    sample: int | None = 50,
    seed: int = 0,
    stale_days: float = 7,
    now: datetime | str | None = None,
) -> pd.DataFrame:
    """:func:`argyle_nb.analysis.availability_timeline` of the dataset's availability.

    The sample is the pandas one: the same rows for the same ``seed``, drawn from the
    windows in the order the export wrote them (only the drawn rows are read into pandas).

    Example:
        >>> with Dataset("portfolio") as ds:                             # doctest: +SKIP
        ...     availability_timeline(ds, "payouts", sample=20)
    """
    where = [*_scans(resource, statuses), "available_from is not null and available_to is not null"]
    if "availability" in ds.where:
        where.append(f"({ds.where['availability']})")
    files = ds.files("availability")
    picked = ", ".join(sql_name(c) for c in TIMELINE_COLUMNS)
    if files:
        listed = "[" + ", ".join(sql_text(f) for f in files) + "]"
        rows = (
            f"select {picked}, row_number() over (order by o.part, a.file_row_number) - 1 as pos"
            f" from read_parquet({listed}, union_by_name = true, filename = true,"
            " file_row_number = true) a join (select unnest(files) as file,"
            " generate_subscripts(files, 1) as part from (select"
            f" {listed} as files)) o on a.filename = o.file where {' and '.join(where)}"
        )
    else:
        rows = f"select {picked}, 0 as pos from availability where false"
    (count,) = ds.sql(f"select count(*) from ({rows})").fetchall()[0]
    query = f"select * from ({rows})"
    params = None
    if sample is not None and count > sample:
        # pandas' own draw, on positions: DataFrame.sample(n, random_state=seed) of rows.
        drawn = pd.RangeIndex(int(count)).to_series().sample(n=sample, random_state=seed)
        query += " where list_contains(?, pos)"
        params = [[int(p) for p in drawn]]
    out: pd.DataFrame = ds.sql(query, params=params).df()
    out = out.sort_values("pos").drop(columns="pos")
    out["account"] = out["account"].astype("str")
    out["status"] = pd.Categorical(
        out["status"], categories=_order(out["status"], AVAILABILITY_STATUSES)
    )
    for column in ("available_from", "available_to", "updated_at"):
        out[column] = pd.to_datetime(out[column], utc=True).astype("datetime64[us, UTC]")
    out["available_count"] = out["available_count"].astype("Int64")
    return finish_timeline(out, _now(ds, now), stale_days)


def scan_counts(ds: Dataset) -> pd.DataFrame:
    """What an availability explorer offers: per ``resource`` and ``status`` (known ones in
    the order of :data:`~argyle_nb.models.RESOURCES` and
    :data:`~argyle_nb.models.AVAILABILITY_STATUSES`, others after them by name), the
    ``accounts`` scanned, those with an event window (``with_window``: both
    ``available_from`` and ``available_to``) and the ``latest`` ``updated_at``.

    Example:
        >>> with Dataset("portfolio") as ds:                             # doctest: +SKIP
        ...     scan_counts(ds).groupby("resource", observed=True)["with_window"].sum()
    """
    counts = ds.sql(
        "select cast(resource as varchar) as resource, cast(status as varchar) as status,"
        " count(*) as accounts, count(*) filter (where available_from is not null and"
        " available_to is not null) as with_window, max(updated_at) as latest"
        " from availability group by all"
    ).df()
    out = pd.DataFrame(
        {
            "resource": pd.Categorical(
                counts["resource"], categories=_order(counts["resource"], RESOURCES)
            ),
            "status": pd.Categorical(
                counts["status"], categories=_order(counts["status"], AVAILABILITY_STATUSES)
            ),
            "accounts": counts["accounts"].to_numpy("int64"),
            "with_window": counts["with_window"].to_numpy("int64"),
            "latest": pd.to_datetime(counts["latest"], utc=True).astype("datetime64[us, UTC]"),
        }
    )
    return out.sort_values(["resource", "status"]).reset_index(drop=True)


def _order(values: pd.Series[Any], known: Sequence[str]) -> list[str]:
    seen = {str(v) for v in values.dropna()}
    return [*known, *sorted(seen - set(known))]
