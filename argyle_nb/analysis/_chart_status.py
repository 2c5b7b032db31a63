"""Charts of statuses, coloured by meaning: connection status and scan status shares per
row (stacked bars), and the availability timeline (one line per account)."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from argyle_nb.analysis._chart_base import (
    STATUS_SELECTION,
    WIDTH,
    alt,
    built,
    finish,
    height,
    in_row_order,
    interval,
    label,
    pct,
    title_text,
    when,
)
from argyle_nb.analysis._common import _SCAN_ORDER, _in_words
from argyle_nb.palette import status_colour


def _stacked(
    rows: list[dict[str, Any]],
    statuses: list[str],
    *,
    by: str,
    title: str,
    share_title: str,
    count_title: str,
    extra: list[Any],
    notes: list[str],
) -> Any:
    """Stacked bars of ``share`` per ``group`` and ``status``: statuses coloured by meaning
    in reading order, the legend right of the bars (clicking an entry highlights it), and
    each row's ``notes`` (its count...) in its label."""
    a = alt()
    # Each row's label carries its notes (its count...): read without hovering.
    written = dict(zip(dict.fromkeys(r["group"] for r in rows), notes, strict=True))
    for r in rows:
        r["label"] = f"{r['group']} ({written[r['group']]})"
    pick = a.selection_point(name=STATUS_SELECTION, fields=["status"], bind="legend")
    bars = (
        a.Chart()
        .mark_bar(height={"band": 0.8})
        .encode(
            x=a.X(
                "share:Q",
                stack="zero",
                title=share_title,
                scale=a.Scale(domain=[0, 1]),
                axis=a.Axis(format="%", tickCount=5),
            ),
            y=a.Y("label:N", sort=in_row_order(), title=None),
            color=a.Color(
                "status:N",
                scale=a.Scale(domain=statuses, range=[status_colour(s) for s in statuses]),
                title="status (click to highlight)",
            ),
            order=a.Order("rank:Q"),
            opacity=when(a.Opacity, pick, 1.0, 0.2),
            tooltip=[
                a.Tooltip("group:N", title=by),
                a.Tooltip("status:N", title="status"),
                a.Tooltip("count:Q", format=",", title=count_title),
                a.Tooltip("total:Q", format=",", title=f"{count_title} in the row"),
                a.Tooltip("shown:N", title="share"),
                a.Tooltip("interval:N", title="95% interval"),
                *extra,
            ],
        )
        .transform_calculate(rank=f"indexof({json.dumps(statuses)}, datum.status)")
        .add_params(pick)
    )
    chart = bars.properties(width=WIDTH, height=height(len(written)))
    return finish(chart, title, rows=rows)


@built
def status_chart(dist: pd.DataFrame, *, title: str | None = None) -> Any:
    """Stacked bars of connection status shares per row of ``dist`` (a
    :func:`~argyle_nb.analysis.connection_status_distribution`), coloured by meaning."""
    statuses = [str(c).removeprefix("share_") for c in dist.columns if str(c).startswith("share_")]
    by = title_text(", ".join(_in_words(n) for n in dist.index.names if n) or "group")
    order = [label(index) for index in dist.index]
    totals = dist["total"].to_numpy("int64")
    rows: list[dict[str, Any]] = []
    for status in statuses:
        counts = dist[status].to_numpy("int64")
        shares = dist[f"share_{status}"].to_numpy("float64")
        lows = dist[f"low_{status}"].to_numpy("float64")
        highs = dist[f"high_{status}"].to_numpy("float64")
        rows += [
            {
                "group": group,
                "status": status,
                "share": float(share),
                "shown": pct(share),
                "count": int(count),
                "total": int(total),
                "interval": interval(low, high),
                "row": row,
            }
            for row, (group, count, total, share, low, high) in enumerate(
                zip(order, counts, totals, shares, lows, highs, strict=True)
            )
        ]
    return _stacked(
        rows,
        statuses,
        by=by,
        title=title or f"Connection status of accounts by {by}",
        share_title="share of the accounts",
        count_title="accounts",
        extra=[],
        notes=[f"n={int(n):,}" for n in totals],
    )


@built
def windows_chart(windows: pd.DataFrame, *, title: str | None = None) -> Any:
    """Stacked bars of scan status shares per resource of ``windows`` (an
    :func:`~argyle_nb.analysis.availability_windows`), with each row's stale share."""
    a = alt()
    by = title_text(" / ".join(_in_words(n) for n in windows.index.names if n) or "resource")
    statuses = list(_SCAN_ORDER)
    accounts = windows["accounts"].to_numpy("int64")
    stales = windows["stale_share"].to_numpy("float64")
    rows: list[dict[str, Any]] = []
    for status in statuses:
        shares = windows[status].to_numpy("float64")
        lows = windows[f"{status}_low"].to_numpy("float64")
        highs = windows[f"{status}_high"].to_numpy("float64")
        rows += [
            {
                "group": label(index),
                "status": status,
                "share": float(share),
                "shown": pct(share),
                "count": round(float(share) * int(n)),
                "total": int(n),
                "interval": interval(low, high),
                "stale": pct(stale),
                "row": row,
            }
            for row, (index, n, share, low, high, stale) in enumerate(
                zip(
                    windows.index,
                    accounts,
                    shares,
                    lows,
                    highs,
                    stales,
                    strict=True,
                )
            )
        ]
    return _stacked(
        rows,
        statuses,
        by=by,
        title=title or "Availability scan status by resource",
        share_title="share of the accounts with the resource",
        count_title="accounts",
        extra=[a.Tooltip("stale:N", title="not updated lately (stale)")],
        # A thin sliver of failures is easy to miss: the label says it in numbers.
        notes=[
            ", ".join([f"n={int(n):,}", *([f"{f:.1%} failed"] if f > 0 else []), f"{s:.0%} stale"])
            for n, f, s in zip(
                accounts, windows["sync_failed"].to_numpy("float64"), stales, strict=True
            )
        ],
    )


@built
def timeline_chart(timeline: pd.DataFrame, *, title: str | None = None) -> Any:
    """One line per account of ``timeline`` (an
    :func:`~argyle_nb.analysis.availability_timeline`) from ``available_from`` to
    ``available_to``, coloured by status; stale windows dotted."""
    a = alt()

    def utc(value: pd.Timestamp) -> str:
        return value.strftime("%Y-%m-%d %H:%M UTC")

    rows = [
        {
            "account": str(account)[:8],
            "id": str(account),
            "status": str(status),
            "from": start.isoformat(),
            "to": end.isoformat(),
            "window": f"{utc(start)} – {utc(end)}",
            "items": None if pd.isna(n) else int(n),
            "updated": "—" if pd.isna(updated) else utc(updated),
            "freshness": "stale" if bool(stale) else "fresh",
            "row": row,
        }
        for row, (account, status, start, end, n, updated, stale) in enumerate(
            zip(
                timeline["account"],
                timeline["status"],
                timeline["available_from"],
                timeline["available_to"],
                timeline["available_count"],
                timeline["updated_at"],
                timeline["stale"],
                strict=True,
            )
        )
    ]
    present = list(dict.fromkeys(r["status"] for r in rows))
    statuses = [s for s in _SCAN_ORDER if s in present] + sorted(set(present) - set(_SCAN_ORDER))
    accounts = len({r["account"] for r in rows})
    chart = (
        a.Chart()
        .mark_rule(strokeWidth=3)
        .encode(
            x=a.X(
                "from:T",
                title="time (UTC)",
                scale=a.Scale(type="utc"),
                axis=a.Axis(format="%b %Y", labelOverlap=True, tickCount=6),
            ),
            x2="to:T",
            y=a.Y("account:N", sort=in_row_order(), title="account (first 8 characters of its id)"),
            color=a.Color(
                "status:N",
                scale=a.Scale(domain=statuses, range=[status_colour(s) for s in statuses]),
                title="status",
            ),
            strokeDash=a.StrokeDash(
                "freshness:N",
                scale=a.Scale(domain=["fresh", "stale"], range=[[1, 0], [2, 2]]),
                title="updated",
            ),
            tooltip=[
                a.Tooltip("id:N", title="account"),
                a.Tooltip("status:N", title="status"),
                a.Tooltip("window:N", title="available"),
                a.Tooltip("items:Q", format=",", title="items"),
                a.Tooltip("updated:N", title="last updated"),
                a.Tooltip("freshness:N", title="freshness"),
            ],
        )
        .properties(width=WIDTH, height=height(accounts, row=16))
    )
    return finish(chart, title or "Available event windows, one line per account", rows=rows)
