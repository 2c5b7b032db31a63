"""Scan availability windows: per resource, and as a timeline of event windows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from argyle_nb.frames import require_columns

if TYPE_CHECKING:
    from matplotlib.axes import Axes
from argyle_nb.analysis._common import (
    _SCAN_ORDER,
    _TIMELINE_NEEDS,
    _WINDOW_NEEDS,
    _empty,
    _in_words,
    _utc,
)
from argyle_nb.analysis._connection import _group_labels
from argyle_nb.analysis._stats import wilson
from argyle_nb.palette import NEUTRAL, status_colour

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


def plot_availability_windows(windows: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Stacked bars of synced / in_progress / sync_failed shares per resource, coloured by
    meaning; each row's label gives its accounts and stale share, the legend stands right."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    require_columns(
        windows,
        [*_SCAN_ORDER, "stale_share"],
        by="plot_availability_windows",
        made_by="availability_windows",
    )
    if windows.empty:
        return _empty(ax, "Availability scan status by resource", "no availability to show")
    shares = windows[list(_SCAN_ORDER)]
    counts = windows["accounts"] if "accounts" in windows.columns else None
    labels = []
    failed = windows["sync_failed"].to_numpy(float)
    for i, (index, stale) in enumerate(zip(shares.index, windows["stale_share"], strict=True)):
        name = " / ".join(str(v) for v in (index if isinstance(index, tuple) else (index,)))
        parts = [f"{int(counts.iloc[i]):,}"] if counts is not None else []
        # A thin sliver of failures is easy to miss: the label says it in numbers.
        parts += [f"{failed[i]:.1%} failed"] if failed[i] > 0 else []
        labels.append(f"{name} ({', '.join([*parts, f'{stale:.0%} stale'])})")
    if ax is None:
        _, ax = plt.subplots(figsize=(9, max(2.5, 0.35 * len(shares) + 1)), layout="constrained")
    plot = shares.set_axis(labels, axis=0).iloc[::-1]
    plot.plot.barh(stacked=True, ax=ax, width=0.8, color=[status_colour(c) for c in plot.columns])
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    ax.set_title("Availability scan status by resource")
    ax.set_xlabel("share of the accounts with the resource")
    ax.set_ylabel(" / ".join(_in_words(n) for n in windows.index.names if n))
    ax.legend(title="status", loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    return ax


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


def plot_availability_timeline(timeline: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """One horizontal line per account from available_from to available_to, coloured by status."""
    import matplotlib.pyplot as plt

    require_columns(
        timeline,
        ["account", "status", "available_from", "available_to", "stale"],
        by="plot_availability_timeline",
        made_by="availability_timeline",
    )
    if timeline.empty:
        return _empty(ax, "Available event windows", "no windows to show")
    from matplotlib.lines import Line2D

    if ax is None:
        _, ax = plt.subplots(figsize=(9, max(2.5, 0.2 * len(timeline) + 1)), layout="constrained")
    starts = timeline["available_from"].dt.tz_convert(None).to_numpy(dtype="datetime64[us]")
    ends = timeline["available_to"].dt.tz_convert(None).to_numpy(dtype="datetime64[us]")
    colour = [status_colour(s) for s in timeline["status"]]
    style: Any = [":" if stale else "-" for stale in timeline["stale"]]
    ys = np.arange(len(timeline))
    ax.hlines(ys, starts, ends, colors=colour, linestyles=style, linewidth=2)
    ax.set_yticks(range(len(timeline)), [str(a)[:8] for a in timeline["account"]], fontsize=7)
    ax.set_title("Available event windows, one line per account")
    ax.set_xlabel("time (UTC)")
    ax.set_ylabel("account (first 8 characters of its id)")
    present = {str(s) for s in timeline["status"]}
    shown = [s for s in _SCAN_ORDER if s in present] + sorted(present - set(_SCAN_ORDER))
    handles = [Line2D([], [], color=status_colour(s), linewidth=2, label=s) for s in shown]
    if timeline["stale"].any():
        handles.append(Line2D([], [], color=NEUTRAL, linestyle=":", linewidth=2, label="stale"))
    ax.legend(
        handles=handles, title="status", loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False
    )
    return ax
