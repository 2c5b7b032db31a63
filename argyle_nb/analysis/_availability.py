"""Scan availability: per resource, what an explorer offers, and a timeline of windows.

Counted in DuckDB whatever was given (an availability frame, scanned in place, or a
:class:`~argyle_nb.dataset.Dataset`), finished here (shares, Wilson intervals, order).
One semantics for both:

- a row is one account's scan of one resource; rows without a resource are left out;
- a scan is *stale* when its ``updated_at`` is unknown or older than ``stale_days``
  before ``now`` (by default the latest ``updated_at`` of the availability given, so a
  result depends only on the data);
- resources and statuses: the documented ones first, in their order
  (:data:`~argyle_nb.models.RESOURCES`, :data:`~argyle_nb.models.AVAILABILITY_STATUSES`),
  others seen after them by name;
- the timeline's sample of ``sample`` windows is the windows whose
  ``md5("<seed>:<account id>")`` (lowercase hex) comes first (then by account and
  window): the same rows for the same seed, on frames and on a dataset, whatever the
  order of the rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any, overload

import pandas as pd

from argyle_nb._sql import Params
from argyle_nb.analysis._common import _SCAN_ORDER, _TIMELINE_NEEDS, _WINDOW_NEEDS
from argyle_nb.analysis._labels import group_label
from argyle_nb.analysis._source import (
    dataset_for,
    has_column,
    one_of,
    selected,
    timestamps,
    utc_bound,
)
from argyle_nb.analysis.stats import wilson
from argyle_nb.dataset import Dataset
from argyle_nb.errors import ArgyleValueError
from argyle_nb.frames import require_columns
from argyle_nb.models import AVAILABILITY_STATUSES, RESOURCES

#: The columns of :func:`availability_timeline` read from the rows drawn.
TIMELINE_COLUMNS: tuple[str, ...] = (
    "account",
    "status",
    "available_from",
    "available_to",
    "available_count",
    "updated_at",
)
#: SQL: a scan not updated since the cutoff ``{}`` (or never said when).
_STALE = "(updated_at is null or updated_at < {})"


def availability_windows(
    availability: pd.DataFrame | Dataset,
    *,
    by: str | None = None,
    stale_days: float = 7,
    now: datetime | str | None = None,
) -> pd.DataFrame:
    """Per resource (and optionally per cohort column ``by``): how complete the scans are.

    ``availability`` is an availability frame or a :class:`~argyle_nb.dataset.Dataset`.
    Columns: ``accounts`` (rows), ``synced``, ``in_progress``, ``sync_failed`` (shares of
    the rows, documented statuses), ``window_days_median``, ``window_days_min``,
    ``window_days_max`` (over rows with a window), ``events_available`` (sum of
    ``available_count``), ``stale`` and ``stale_share``: rows whose ``updated_at`` is
    unknown or older than ``stale_days`` before ``now`` (default: the latest
    ``updated_at`` in the data, so the result depends only on the data). Every share has
    its 95% Wilson interval, ``<share>_low`` and ``<share>_high`` (``synced_low``,
    ``stale_low``, ...). Groups of ``by`` by label (missing: :data:`MISSING`), then
    resources in the documented order.

    Examples:
        >>> from argyle_nb.frames import availability_frame
        >>> availability_windows(availability_frame(b"[]")).empty
        True
    """
    ds = dataset_for(availability, "availability", _WINDOW_NEEDS, by="availability_windows")
    if by is not None:
        has_column(ds, "availability", by)
    p = Params()
    cutoff = _cutoff(ds, now, stale_days)
    group = [] if by is None else [f"{group_label(by, p)} as k0"]
    counts = ", ".join(
        f"count(*) filter (where cast(status as varchar) = {p(s)}) as s{i}"
        for i, s in enumerate(_SCAN_ORDER)
    )
    tallies = ds.sql(
        f"select {', '.join([*group, 'cast(resource as varchar) as resource'])},"
        f" count(*) as accounts, {counts}, median(window_days) as window_days_median,"
        " min(window_days) as window_days_min, max(window_days) as window_days_max,"
        " coalesce(sum(available_count), 0) as events_available,"
        f" count(*) filter (where {_STALE.format(p(cutoff))}) as stale"
        " from availability where resource is not null group by all",
        params=p.values,
    ).df()
    rank = {r: i for i, r in enumerate(RESOURCES)}
    tallies["resource"] = tallies["resource"].astype("str")
    tallies["_rank"] = [rank.get(r, len(rank)) for r in tallies["resource"]]
    keys = ["resource"] if by is None else ["k0", "resource"]
    if by is not None:
        tallies["k0"] = tallies["k0"].astype("str")
    tallies = tallies.sort_values([*keys[:-1], "_rank", "resource"], kind="stable")
    index: pd.Index[Any] = pd.Index(tallies["resource"].to_numpy(), dtype="str", name="resource")
    if by is not None:
        labels = pd.Index(tallies["k0"].to_numpy(), dtype="str")
        index = pd.MultiIndex.from_arrays([labels, index], names=[by, "resource"])
    out = pd.DataFrame({"accounts": tallies["accounts"].to_numpy("int64")}, index=index)
    n = out["accounts"].to_numpy("int64")
    scans = {s: tallies[f"s{i}"].to_numpy("int64") for i, s in enumerate(_SCAN_ORDER)}
    for s, k in scans.items():
        out[s] = k / n
    for column in ("window_days_median", "window_days_min", "window_days_max"):
        out[column] = tallies[column].to_numpy("float64", na_value=math.nan)
        out[column] = out[column].astype("Float64")
    out["events_available"] = tallies["events_available"].to_numpy("int64")
    out["events_available"] = out["events_available"].astype("Int64")
    out["stale"] = tallies["stale"].to_numpy("int64")
    out["stale_share"] = out["stale"] / n
    for s, k in [*scans.items(), ("stale", out["stale"].to_numpy("int64"))]:
        out[f"{s}_low"], out[f"{s}_high"] = wilson(k, n)
    return out


def _cutoff(ds: Dataset, now: datetime | str | None, stale_days: float) -> datetime:
    """The time before which a scan is stale: ``stale_days`` before ``now`` (default: the
    latest ``updated_at`` of the availability)."""
    if isinstance(stale_days, bool) or not isinstance(stale_days, int | float):
        raise ArgyleValueError(f"stale_days must be a number of days, not {stale_days!r}")
    if not math.isfinite(stale_days) or stale_days < 0:
        raise ArgyleValueError(f"stale_days must be a number of days, not {stale_days!r}")
    if now is not None:
        moment = utc_bound(now, name="now")
    else:
        (latest,) = ds.sql("select max(updated_at) from availability").fetchall()[0]
        moment = pd.Timestamp(latest) if latest is not None else pd.Timestamp.now(tz="UTC")
        moment = moment.tz_convert("UTC")
    stamp: datetime = (moment - pd.Timedelta(days=stale_days)).ceil("us").to_pydatetime()
    return stamp


def plot_availability_windows(windows: pd.DataFrame, *, title: str | None = None) -> Any:
    """Stacked bars of synced / in_progress / sync_failed shares per resource, coloured by
    meaning (green, amber, vermillion), the legend right of the bars.

    ``windows`` is an :func:`availability_windows`; hovering a segment gives its
    accounts, share, 95% interval and the row's stale share. Returns an Altair chart;
    an empty ``windows`` gives a chart that says so.

    Examples:
        >>> plot_availability_windows(availability_windows(availability))  # doctest: +SKIP
    """
    from argyle_nb.analysis._chart_base import empty_chart
    from argyle_nb.analysis._chart_status import windows_chart

    require_columns(
        windows,
        [
            "accounts",
            *_SCAN_ORDER,
            *(f"{s}_{end}" for s in _SCAN_ORDER for end in ("low", "high")),
            "stale_share",
        ],
        by="plot_availability_windows",
        made_by="availability_windows",
    )
    if windows.empty:
        return empty_chart(
            title or "Availability scan status by resource", "no availability to show"
        )
    return windows_chart(windows, title=title)


def availability_timeline(
    availability: pd.DataFrame | Dataset,
    resource: str = "payouts",
    *,
    statuses: Sequence[str] | None = None,
    sample: int | None = 50,
    seed: int = 0,
    stale_days: float = 7,
    now: datetime | str | None = None,
) -> pd.DataFrame:
    """Windows of one event resource for a sample of accounts, ready for a timeline plot.

    ``availability`` is an availability frame or a :class:`~argyle_nb.dataset.Dataset`.
    The windows are the scans of ``resource`` (with a status among ``statuses``, if
    given) having both ``available_from`` and ``available_to``. Columns: ``account``,
    ``status``, ``available_from``, ``available_to``, ``available_count``,
    ``updated_at``, ``stale`` (as in :func:`availability_windows`); sorted by
    ``available_from`` (then account). With ``sample``, at most that many windows: those
    whose ``md5("<seed>:<account>")`` comes first, so the same ``seed`` draws the same
    accounts on frames and on a dataset.

    Examples:
        >>> from argyle_nb.frames import availability_frame
        >>> availability_timeline(availability_frame(b"[]")).empty
        True
    """
    if sample is not None and (isinstance(sample, bool) or not isinstance(sample, int)):
        raise ArgyleValueError(
            f"sample must be a whole number of windows (or None), not {sample!r}"
        )
    if sample is not None and sample < 0:
        raise ArgyleValueError(f"sample must not be negative, not {sample}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ArgyleValueError(f"seed must be a whole number, not {seed!r}")
    ds = dataset_for(availability, "availability", _TIMELINE_NEEDS, by="availability_timeline")
    p = Params()
    cutoff = _cutoff(ds, now, stale_days)
    where = [
        *_scans(resource, statuses, p),
        "available_from is not null and available_to is not null",
    ]
    rows = (
        "select cast(account as varchar) as account, cast(status as varchar) as status,"
        " available_from, available_to, available_count, updated_at,"
        f" {_STALE.format(p(cutoff))} as stale from availability where {' and '.join(where)}"
    )
    if sample is not None:
        draw = f"md5(cast({p(seed)} as varchar) || {p(':')} || cast(account as varchar))"
        rows += f" order by {draw}, account, available_from, available_to limit {p(sample)}"
    out: pd.DataFrame = ds.sql(
        f"select * from ({rows}) order by available_from, account, available_to",
        params=p.values,
    ).df()
    out["account"] = out["account"].astype("str")
    out["status"] = pd.Categorical(
        out["status"], categories=_order(out["status"], AVAILABILITY_STATUSES)
    )
    for column in ("available_from", "available_to", "updated_at"):
        out[column] = timestamps(out[column]).array
    out["available_count"] = out["available_count"].astype("Int64")
    out["stale"] = out["stale"].astype("bool")
    return out.reset_index(drop=True)


def _scans(resource: str | None, statuses: Sequence[str] | None, p: Params) -> list[str]:
    """SQL conditions on the availability: the scans of ``resource`` whose status is one
    of ``statuses`` (``None``: any)."""
    conditions = []
    if resource is not None:
        if not isinstance(resource, str):
            raise ArgyleValueError(f"resource must be a text, not {resource!r}")
        conditions.append(f"cast(resource as varchar) = {p(resource)}")
    if statuses is not None:
        conditions.append(one_of("status", statuses, p, name="statuses"))
    return conditions


@overload
def select_availability(
    availability: pd.DataFrame,
    *,
    resource: str | None = None,
    statuses: Sequence[str] | None = None,
) -> pd.DataFrame: ...


@overload
def select_availability(
    availability: Dataset,
    *,
    resource: str | None = None,
    statuses: Sequence[str] | None = None,
) -> Dataset: ...


def select_availability(
    availability: pd.DataFrame | Dataset,
    *,
    resource: str | None = None,
    statuses: Sequence[str] | None = None,
) -> pd.DataFrame | Dataset:
    """The scans of ``resource`` (``None``: any) whose status is one of ``statuses``
    (``None``: any).

    Of a frame, its rows (in their order, with their index); of a
    :class:`~argyle_nb.dataset.Dataset`, the dataset with only those scans (the other
    tables unchanged; nothing is read until it is queried).

    Examples:
        >>> from argyle_nb.frames import availability_frame
        >>> len(select_availability(availability_frame(b"[]"), resource="payouts"))
        0
    """
    needs = [c for c, v in (("resource", resource), ("status", statuses)) if v is not None]
    ds = dataset_for(availability, "availability", needs, by="select_availability")
    p = Params()
    return selected(availability, ds, "availability", _scans(resource, statuses, p), p)


def scan_counts(availability: pd.DataFrame | Dataset) -> pd.DataFrame:
    """What an availability explorer offers: per ``resource`` and ``status`` (known ones in
    the order of :data:`~argyle_nb.models.RESOURCES` and
    :data:`~argyle_nb.models.AVAILABILITY_STATUSES`, others after them by name), the
    ``accounts`` scanned, those with an event window (``with_window``: both
    ``available_from`` and ``available_to``) and the ``latest`` ``updated_at``.

    ``availability`` is an availability frame or a :class:`~argyle_nb.dataset.Dataset`;
    rows without a resource or a status are left out.

    Examples:
        >>> from argyle_nb.frames import availability_frame
        >>> list(scan_counts(availability_frame(b"[]")).columns)
        ['resource', 'status', 'accounts', 'with_window', 'latest']
    """
    needs = ["resource", "status", "available_from", "available_to", "updated_at"]
    ds = dataset_for(availability, "availability", needs, by="scan_counts")
    counts = ds.sql(
        "select cast(resource as varchar) as resource, cast(status as varchar) as status,"
        " count(*) as accounts, count(*) filter (where available_from is not null and"
        " available_to is not null) as with_window, max(updated_at) as latest"
        " from availability where resource is not null and status is not null group by all"
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
            "latest": timestamps(counts["latest"]).array,
        }
    )
    return out.sort_values(["resource", "status"]).reset_index(drop=True)


def _order(values: pd.Series[Any], known: Sequence[str]) -> list[str]:
    """The documented values ``known``, then the others seen by name."""
    seen = {str(v) for v in values.dropna()}
    return [*known, *sorted(seen - set(known))]


def plot_availability_timeline(timeline: pd.DataFrame, *, title: str | None = None) -> Any:
    """One line per account from ``available_from`` to ``available_to``, coloured by status.

    ``timeline`` is an :func:`availability_timeline`; stale windows are dotted. Hovering
    a line gives the account's full id, its window in UTC, its items and when it was last
    updated. Returns the Altair chart the AvailabilityExplorer shows; an empty
    ``timeline`` gives a chart that says so.

    Examples:
        >>> timeline = availability_timeline(availability, "payouts")  # doctest: +SKIP
        >>> plot_availability_timeline(timeline).save("payouts.svg")  # doctest: +SKIP
    """
    from argyle_nb.analysis._chart_base import empty_chart
    from argyle_nb.analysis._chart_status import timeline_chart

    require_columns(
        timeline,
        [*TIMELINE_COLUMNS, "stale"],
        by="plot_availability_timeline",
        made_by="availability_timeline",
    )
    if timeline.empty:
        return empty_chart(title or "Available event windows", "no windows to show")
    return timeline_chart(timeline, title=title)
