"""Charts of what changed between snapshots: the status shares over the snapshots (a line
per status, coloured by meaning, with its interval), and the transitions between two
(a matrix of from and to states)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from argyle_nb.analysis._chart_base import (
    STATUS_SELECTION,
    TRANSITION_SELECTION,
    WIDTH,
    alt,
    built,
    finish,
    height,
    interval,
    pct,
    share_axis,
    when,
)
from argyle_nb.palette import NEUTRAL, status_colour


@built
def status_over_time_chart(shares: pd.DataFrame, *, title: str | None = None) -> Any:
    """Lines of each status's share of the accounts at each snapshot of a
    :func:`~argyle_nb.analysis.status_over_time` (overall), with 95% bands."""
    a = alt()
    statuses = [str(s) for s in shares["status"].cat.categories if (shares["status"] == s).any()]
    columns = ["taken_at", "snapshot", "status", "share", "low", "high", "accounts", "total"]
    rows: list[dict[str, Any]] = [
        {
            "taken": pd.Timestamp(taken).isoformat(),
            "snapshot": int(snapshot),
            "status": str(status),
            "share": float(share),
            "low": float(low),
            "high": float(high),
            "shown": pct(share),
            "interval": interval(low, high),
            "accounts": int(accounts),
            "total": int(total),
        }
        for taken, snapshot, status, share, low, high, accounts, total in zip(
            *(shares[c].to_numpy(object) for c in columns), strict=True
        )
        if total > 0
    ]
    pick = a.selection_point(name=STATUS_SELECTION, fields=["status"], bind="legend")
    scale = a.Scale(domain=statuses, range=[status_colour(s) for s in statuses])
    # (the legend's symbols solid, not as faint as the bands)
    legend = a.Legend(title="status (click to highlight)", symbolOpacity=1)
    colour = a.Color("status:N", scale=scale, legend=legend)
    base = a.Chart().encode(
        x=a.X("taken:T", title="snapshot taken"),
        tooltip=[
            a.Tooltip("snapshot:Q", title="snapshot"),
            a.Tooltip("taken:T", title="taken", format="%Y-%m-%d %H:%M"),
            a.Tooltip("status:N"),
            a.Tooltip("shown:N", title="share"),
            a.Tooltip("interval:N", title="95% interval"),
            a.Tooltip("accounts:Q", format=","),
            a.Tooltip("total:Q", format=",", title="accounts in the snapshot"),
        ],
    )
    band = base.mark_area(opacity=0.2).encode(
        y="low:Q",
        y2="high:Q",
        opacity=when(a.Opacity, pick, 0.2, 0.0),
        color=colour,
    )
    line = (
        base.mark_line(point=True, strokeWidth=2)
        .encode(
            y=share_axis("share:Q", "share of the accounts", y=True),
            color=colour,
            opacity=when(a.Opacity, pick, 1.0, 0.15),
        )
        .add_params(pick)
    )
    chart = a.layer(band, line).properties(width=WIDTH, height=300)
    return finish(chart, title or "Connection status of the accounts at each snapshot", rows=rows)


@built
def transitions_chart(moves: pd.DataFrame, *, title: str | None = None) -> Any:
    """A matrix of a :func:`~argyle_nb.analysis.transitions` (overall): a row per state
    at the first snapshot, a column per state at the second, each cell the share of the
    row's accounts that moved there (darker is more) with their number written in it."""
    a = alt()
    rows_order = list(dict.fromkeys(str(s) for s in moves["from"]))
    cols_order = list(dict.fromkeys(str(s) for s in moves["to"]))
    rows = [
        {
            "from": str(r[0]),
            "to": str(r[1]),
            "accounts": int(r[2]),
            "rate": float(r[3]),
            "shown": pct(r[3]),
            "interval": interval(r[4], r[5]),
            "text": f"{int(r[2]):,} ({float(r[3]):.0%})",
            "dark": float(r[3]) > 0.6,
        }
        for r in moves[["from", "to", "accounts", "rate", "rate_low", "rate_high"]].itertuples(
            index=False
        )
    ]
    first, last = moves.attrs.get("snapshots", ("start", "end"))
    down, across = f"state at snapshot {first}", f"state at snapshot {last}"
    base = a.Chart().encode(
        x=a.X("to:N", sort=cols_order, title=across, axis=a.Axis(labelAngle=0, orient="top")),
        y=a.Y("from:N", sort=rows_order, title=down),
        tooltip=[
            a.Tooltip("from:N", title=down),
            a.Tooltip("to:N", title=across),
            a.Tooltip("accounts:Q", format=","),
            a.Tooltip("shown:N", title="of the row's accounts"),
            a.Tooltip("interval:N", title="95% interval"),
        ],
    )
    # A click picks a cell (an explorer lists its accounts).
    pick = a.selection_point(name=TRANSITION_SELECTION, fields=["from", "to"], on="click")
    cells = (
        base.mark_rect(stroke="white", strokeWidth=1, cursor="pointer")
        .encode(
            color=a.Color(
                "rate:Q",
                scale=a.Scale(scheme="greys", domain=[0, 1]),
                legend=a.Legend(format="%", title="of the row"),
            )
        )
        .add_params(pick)
    )
    text = base.mark_text(fontSize=11).encode(
        text="text:N",
        color=when(a.Color, "datum.dark", "white", "black"),
    )
    frame = base.mark_rect(fill=None, stroke=NEUTRAL, strokeWidth=0.5)
    chart = a.layer(cells, frame, text).properties(
        width=max(110 * len(cols_order), 160), height=height(len(rows_order), row=34)
    )
    return finish(chart, title or f"Accounts from snapshot {first} to snapshot {last}", rows=rows)


@built
def dots_chart(
    rows: list[dict[str, Any]], *, colours: dict[str, str], x_title: str, y_title: str, title: str
) -> Any:
    """Shares with their 95% intervals, a row per ``label`` and a dot per ``series``
    (coloured by ``colours``, in their order), each row's ``n`` written right of the data;
    the axis from 0 to the tenth above the highest bound.
    Each of ``rows``: ``label``, ``series``, ``share``, ``low``, ``high``, ``n``, ``count``."""
    a = alt()
    for r in rows:
        r["shown"], r["interval"] = pct(r["share"]), interval(r["low"], r["high"])
    order = list(dict.fromkeys(r["label"] for r in rows))
    series = list(colours)
    colour = a.Color(
        "series:N", scale=a.Scale(domain=series, range=list(colours.values())), title=None
    )
    base = a.Chart().encode(
        y=a.Y("label:N", sort=order, title=y_title),
        yOffset=a.YOffset("series:N", sort=series),
        color=colour,
        tooltip=[
            a.Tooltip("label:N", title=y_title),
            a.Tooltip("series:N", title="of"),
            a.Tooltip("shown:N", title="share"),
            a.Tooltip("interval:N", title="95% interval"),
            a.Tooltip("count:Q", format=",", title="counted"),
        ],
    )
    # The axis up to the tenth above the highest bound (shares of a few percent are not
    # squeezed against 0 on a 0-100% axis).
    values = [v for r in rows for v in (r["share"], r["high"]) if v is not None]
    top = min(1.0, math.floor(max(values, default=1.0) * 10) / 10 + 0.1)
    bars = base.mark_rule(strokeWidth=2).encode(x="low:Q", x2="high:Q")
    dots = base.mark_point(size=60, filled=True).encode(x=share_axis("share:Q", x_title, top=top))
    sizes = (
        a.Chart()
        .mark_text(align="left", dx=6, color=NEUTRAL, fontSize=11)
        .encode(y=a.Y("label:N", sort=order), x=a.datum(top), text="n:N")
        .transform_filter(f"datum.series == {series[0]!r}")
    )
    chart = a.layer(bars, dots, sizes).properties(
        width=WIDTH, height=height(len(order), row=14 + 12 * len(series))
    )
    return finish(chart, title, rows=rows, legend="top")
