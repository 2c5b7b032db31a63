"""Scan availability windows: per resource, and as a timeline of event windows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from argyle_nb.analysis._common import (
    _SCAN_ORDER,
    _TIMELINE_NEEDS,
    _WINDOW_NEEDS,
    _utc,
)
from argyle_nb.analysis._connection import _group_labels
from argyle_nb.analysis._stats import wilson
from argyle_nb.frames import require_columns

# ---------------------------------------------------------------------------
# Availability windows
# ---------------------------------------------------------------------------


def availability_windows(
    availability: pd.DataFrame,
    *,
    by: str | None = None,
    stale_days: float = 7,
    now: datetime | str | None = None,
) -> pd.DataFrame:
    """Per resource (and optionally per cohort column ``by``): how complete the scans are.

    Columns: ``accounts`` (rows), ``synced``, ``in_progress``, ``sync_failed`` (shares,
    documented statuses), ``window_days_median``, ``window_days_min``,
    ``window_days_max`` (over rows with a window), ``events_available`` (sum of
    ``available_count``), ``stale`` and ``stale_share``: rows whose ``updated_at`` is
    older than ``stale_days`` before ``now`` (default: the latest ``updated_at`` in the
    data, so the result depends only on the data). Every share has its 95% Wilson
    interval, ``<share>_low`` and ``<share>_high`` (``synced_low``, ``stale_low``, ...).
    Resources follow the documented order.

    Example:
        >>> from argyle_nb.frames import availability_frame
        >>> availability_windows(availability_frame(b"[]")).empty
        True
    """
    needs = [*_WINDOW_NEEDS, *([] if by is None else [by])]
    require_columns(availability, needs, by="availability_windows", made_by="availability_frame")
    now_ts = _resolve_now(availability, now)
    keys: list[str] = ["resource"] if by is None else [by, "resource"]
    frame = pd.DataFrame(
        {
            "resource": availability["resource"],
            "status": availability["status"].astype("str").to_numpy(),
            "window": availability["window_days"].astype("Float64"),
            "count": availability["available_count"].astype("Int64"),
            "stale": (
                availability["updated_at"].isna()
                | (availability["updated_at"] < now_ts - pd.Timedelta(days=stale_days))
            ).to_numpy(),
        },
        index=availability.index,
    )
    if by is not None:
        frame[by] = _group_labels(availability[by]).to_numpy()
    for s in _SCAN_ORDER:
        frame[f"is_{s}"] = (frame["status"] == s).to_numpy(float)
    grouped = frame.groupby(keys, observed=True, sort=True)
    out = pd.DataFrame({"accounts": grouped.size().astype("int64")})
    for s in _SCAN_ORDER:
        out[s] = grouped[f"is_{s}"].mean().astype("float64")
    window = grouped["window"]
    out["window_days_median"] = window.median().astype("Float64")
    out["window_days_min"] = window.min().astype("Float64")
    out["window_days_max"] = window.max().astype("Float64")
    out["events_available"] = grouped["count"].sum().astype("Int64")
    out["stale"] = grouped["stale"].sum().astype("int64")
    return finish_windows(out)


def finish_windows(out: pd.DataFrame) -> pd.DataFrame:
    """:func:`availability_windows` from its tallies (``accounts``, the status shares, the
    window statistics, ``events_available``, ``stale``): the stale share and every
    share's interval, from any engine."""
    out["stale_share"] = out["stale"] / out["accounts"]
    n = out["accounts"].to_numpy()
    for s in (*_SCAN_ORDER, "stale"):
        k = out["stale"].to_numpy() if s == "stale" else np.rint(out[s].to_numpy() * n)
        out[f"{s}_low"], out[f"{s}_high"] = wilson(k, n)
    return out


def _resolve_now(availability: pd.DataFrame, now: datetime | str | None) -> pd.Timestamp:
    """``now`` as a UTC Timestamp; by default the latest ``updated_at`` of the data."""
    if now is None:
        latest = availability["updated_at"].max()
        return pd.Timestamp(latest) if pd.notna(latest) else pd.Timestamp.now(tz="UTC")
    return _utc(now)


def plot_availability_windows(windows: pd.DataFrame, *, title: str | None = None) -> Any:
    """Stacked bars of synced / in_progress / sync_failed shares per resource, coloured by
    meaning (green, amber, vermillion), the legend right of the bars.

    ``windows`` is an :func:`availability_windows`; hovering a segment gives its
    accounts, share, 95% interval and the row's stale share. Returns an Altair chart;
    an empty ``windows`` gives a chart that says so.

    Example:
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
    availability: pd.DataFrame,
    resource: str = "payouts",
    *,
    statuses: Sequence[str] | None = None,
    sample: int | None = 50,
    seed: int = 0,
    stale_days: float = 7,
    now: datetime | str | None = None,
) -> pd.DataFrame:
    """Windows of one event resource for a sample of accounts, ready for a timeline plot.

    Columns: ``account``, ``status``, ``available_from``, ``available_to``,
    ``available_count``, ``updated_at``, ``stale``; sorted by ``available_from``. The
    sample is drawn with ``seed`` so it is reproducible.

    Example:
        >>> from argyle_nb.frames import availability_frame
        >>> availability_timeline(availability_frame(b"[]")).empty
        True
    """
    require_columns(
        availability, _TIMELINE_NEEDS, by="availability_timeline", made_by="availability_frame"
    )
    rows = availability[(availability["resource"] == resource).to_numpy(bool)]
    if statuses is not None:
        rows = rows[rows["status"].astype("str").isin(list(statuses))]
    rows = rows[rows["available_from"].notna() & rows["available_to"].notna()]
    if sample is not None and len(rows) > sample:
        rows = rows.sample(n=sample, random_state=seed)
    return finish_timeline(rows, _resolve_now(availability, now), stale_days)


#: The columns of :func:`availability_timeline` read from the rows drawn.
TIMELINE_COLUMNS: tuple[str, ...] = (
    "account",
    "status",
    "available_from",
    "available_to",
    "available_count",
    "updated_at",
)


def finish_timeline(rows: pd.DataFrame, now: pd.Timestamp, stale_days: float) -> pd.DataFrame:
    """:func:`availability_timeline` of the rows drawn: their :data:`TIMELINE_COLUMNS`,
    whether each is ``stale`` at ``now``, by ``available_from``. Shared with DuckDB's."""
    out = rows[list(TIMELINE_COLUMNS)].copy()
    out["stale"] = (out["updated_at"] < now - pd.Timedelta(days=stale_days)).to_numpy(bool)
    return out.sort_values(["available_from", "account"]).reset_index(drop=True)


def plot_availability_timeline(timeline: pd.DataFrame, *, title: str | None = None) -> Any:
    """One line per account from ``available_from`` to ``available_to``, coloured by status.

    ``timeline`` is an :func:`availability_timeline`; stale windows are dotted. Hovering
    a line gives the account's full id, its window in UTC, its items and when it was last
    updated. Returns the Altair chart the AvailabilityExplorer shows; an empty
    ``timeline`` gives a chart that says so.

    Example:
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
