"""Charts of cohorts: each cohort's share connected, its funnel, its time to connect, and
the matrix of two keys. Cohorts take the palette's cohort colours (blue first), which
mean nothing good or bad; the legend stands right of the data."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pandas as pd

from argyle_nb.analysis._chart_base import (
    COHORT_SELECTION,
    WIDTH,
    alt,
    built,
    finish,
    height,
    in_row_order,
    interval,
    number,
    pct,
    share_axis,
    title_text,
    when,
)
from argyle_nb.analysis._common import MIN_USERS
from argyle_nb.palette import COHORT_COLOURS, NEUTRAL, cohort_colours

#: The legend selection of the funnel and time-to-connect charts.
HIGHLIGHT = "highlight"


def _cohort_colour(cohorts: list[str], title: str, *, legend: bool = True) -> Any:
    """One colour per cohort, in the order of the analysis (largest first)."""
    a = alt()
    return a.Color(
        "cohort:N",
        # The domain gives the order (a sort list would be compiled into an expression,
        # which a line separator in a value breaks).
        scale=a.Scale(domain=cohorts, range=cohort_colours(len(cohorts))),
        title=f"{title} (click to highlight)",
        legend=a.Legend(symbolType="stroke", symbolStrokeWidth=3, symbolOpacity=1)
        if legend
        else None,
    )


def _highlight() -> Any:
    """Clicking a cohort in the legend highlights it (the others fade)."""
    return alt().selection_point(name=HIGHLIGHT, fields=["cohort"], bind="legend")


@built
def groups_chart(groups: pd.DataFrame, *, title: str | None = None) -> Any:
    """Each cohort's share of users with an account connected now, with its 95% interval,
    of a :func:`~argyle_nb.analysis.metadata_groups`."""
    a = alt()
    key = title_text(str(groups.index.name or "group"))
    small = groups["small"] if "small" in groups.columns else pd.Series(False, groups.index)
    rows = [
        {
            "cohort": str(g),
            "users": int(n),
            "connected": int(c),
            "share": number(s),
            "low": number(lo),
            "high": number(hi),
            "shown": pct(s),
            "interval": interval(lo, hi),
            "small": "small: read with care" if bool(sm) else "",
            "n": f"n={int(n):,}" + (" (small)" if bool(sm) else ""),
            "row": row,
        }
        for row, (g, n, c, s, lo, hi, sm) in enumerate(
            zip(
                groups.index,
                groups["users"],
                groups["connected_users"],
                groups["connected_share"],
                groups["connected_low"],
                groups["connected_high"],
                small,
                strict=True,
            )
        )
    ]
    colour = COHORT_COLOURS[0]
    pick = a.selection_point(name=COHORT_SELECTION, fields=["cohort"], on="click")
    base = a.Chart().encode(
        y=a.Y("cohort:N", sort=in_row_order(), title=key),
        tooltip=[
            a.Tooltip("cohort:N", title=key),
            a.Tooltip("users:Q", format=",", title="users"),
            a.Tooltip("connected:Q", format=",", title="with an account connected"),
            a.Tooltip("shown:N", title="share"),
            a.Tooltip("interval:N", title="95% interval"),
            a.Tooltip("small:N", title="note"),
        ],
        opacity=when(a.Opacity, pick, 1.0, 0.35),
    )
    bars = base.mark_rule(color=colour, strokeWidth=2).encode(x="low:Q", x2="high:Q")
    points = base.mark_point(
        size=70, filled=True, color=colour, stroke=colour, strokeWidth=1.5
    ).encode(
        x=share_axis("share:Q", "users with an account connected now (95% interval)"),
        fill=when(a.Fill, "datum.small != ''", "white", colour),
    )
    # The users of each cohort, right of the data: read without hovering.
    sizes = base.mark_text(align="left", dx=6, color=NEUTRAL, fontSize=11).encode(
        x=a.datum(1.0), text="n:N"
    )
    users = int(groups["users"].sum())
    overall = int(groups["connected_users"].sum()) / max(users, 1)
    line = (
        a.Chart(a.InlineData(values=[{"share": overall, "shown": pct(overall), "users": users}]))
        .mark_rule(color=NEUTRAL, strokeDash=[5, 4])
        .encode(
            x="share:Q",
            tooltip=[
                a.Tooltip("shown:N", title="all users"),
                a.Tooltip("users:Q", format=",", title="users"),
            ],
        )
    )
    chart = a.layer(bars, points.add_params(pick), sizes, line).properties(
        width=WIDTH, height=height(len(rows))
    )
    default = f"Users with an account connected now, by {key!r} (dashed: all users; hollow: small)"
    return finish(chart, title or default, rows=rows)


@built
def funnel_chart(funnel: pd.DataFrame, *, title: str | None = None) -> Any:
    """The share of each cohort's users reaching each step of a
    :func:`~argyle_nb.analysis.cohort_funnel`, one line per cohort, with 95% intervals."""
    a = alt()
    key = title_text(str(funnel.index.names[0]))
    steps = [str(s) for s in dict.fromkeys(funnel.index.get_level_values("step"))]
    cohorts = [str(c) for c in dict.fromkeys(funnel.index.get_level_values(0))]
    first = funnel.groupby(level=0, sort=False)["users"].transform("first")
    conversion = funnel["conversion"] if "conversion" in funnel.columns else None
    rows = [
        {
            "cohort": str(cohort),
            "step": str(step),
            "users": int(n),
            "cohort users": int(total),
            "share": number(s),
            "low": number(lo),
            "high": number(hi),
            "shown": pct(s),
            "interval": interval(lo, hi),
            "conversion": "—" if conversion is None else pct(conversion.iloc[i]),
            "rank": cohorts.index(str(cohort)),
        }
        for i, ((cohort, step), n, total, s, lo, hi) in enumerate(
            zip(
                funnel.index,
                funnel["users"],
                first,
                funnel["of_cohort"],
                funnel["of_cohort_low"],
                funnel["of_cohort_high"],
                strict=True,
            )
        )
    ]
    base = a.Chart().encode(
        x=a.X(
            "step:N",
            sort=steps,
            title="step (each needs the one before)",
            axis=a.Axis(labelAngle=0),
        ),
        xOffset=a.XOffset("cohort:N", sort=a.EncodingSortField(field="rank", op="min")),
        color=_cohort_colour(cohorts, key),
        tooltip=[
            a.Tooltip("cohort:N", title=key),
            a.Tooltip("step:N", title="step"),
            a.Tooltip("users:Q", format=",", title="users who reached it"),
            a.Tooltip("cohort users:Q", format=",", title="users in the cohort"),
            a.Tooltip("shown:N", title="share of the cohort"),
            a.Tooltip("interval:N", title="95% interval"),
            a.Tooltip("conversion:N", title="of the previous step"),
        ],
    )
    pick = _highlight()
    lines = (
        base.mark_line(point=a.OverlayMarkDef(size=50, filled=True))
        .encode(
            y=share_axis("share:Q", "share of the cohort's users (95% interval)", y=True),
            opacity=when(a.Opacity, pick, 1.0, 0.15),
        )
        .add_params(pick)
    )
    bars = base.mark_rule(strokeWidth=1.5).encode(
        y="low:Q", y2="high:Q", opacity=when(a.Opacity, pick, 1.0, 0.15)
    )
    chart = a.layer(bars, lines).properties(width=WIDTH, height=300)
    return finish(
        chart, title or "Funnel: share of each cohort's users reaching each step", rows=rows
    )


#: Ticks of the time-to-connect axis, in days, and how they read.
_WAITS = {1 / 24: "1 hour", 1: "1 day", 7: "7 days", 30: "30 days", 90: "90 days", 365: "1 year"}
#: The left edge of the log axis: 15 minutes.
_FIRST = 1 / 24 / 4
#: Most points drawn of one cohort's curve (a million users have half a million waits;
#: the chart is 520 pixels wide).
MAX_CURVE_POINTS = 200


def thinned(days: np.ndarray[Any, Any], last: float) -> np.ndarray[Any, Any]:
    """The rows of one step curve (``days`` ascending) to draw: its first and last, and
    at each of :data:`MAX_CURVE_POINTS` log-spaced times the step in force then, so the
    curve drawn is exact at each of those times.

    Examples:
        >>> thinned(np.arange(10.0), 9.0).tolist()
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
        >>> len(thinned(np.linspace(0.01, 100, 100_000), 100.0)) <= MAX_CURVE_POINTS + 2
        True
    """
    if len(days) <= MAX_CURVE_POINTS:
        return np.arange(len(days))
    grid = np.geomspace(_FIRST, max(last, _FIRST * 2), MAX_CURVE_POINTS)
    steps = np.searchsorted(days, grid, side="right") - 1
    return np.unique(np.concatenate([[0], steps[steps >= 0], [len(days) - 1]]))


def _wait(days: float) -> str:
    """A wait in words: hours under a day, days after."""
    if days < 1:
        return f"{days * 24:.1f} hours"
    return f"{days:,.1f} days"


@built
def curves_chart(curves: pd.DataFrame, *, bands: bool = True, title: str | None = None) -> Any:
    """Step curves of the share connected by days since sign-up, one per cohort, of a
    :func:`~argyle_nb.analysis.time_to_connect_curves` (log time axis, 95% bands)."""
    a = alt()
    key = str(curves.columns[0])
    cohorts = [str(c) for c in curves[key].unique()]
    last_day = float(curves["days"].max())
    codes, _ = pd.factorize(curves[key])
    days = curves["days"].to_numpy(float)
    kept = [
        rows[thinned(days[rows], last_day)]
        for rows in (np.flatnonzero(codes == code) for code in range(codes.max(initial=-1) + 1))
    ]
    curves = curves.iloc[np.concatenate(kept)] if kept else curves
    risk = curves["at_risk"] if "at_risk" in curves.columns else pd.Series(np.nan, curves.index)
    rows = [
        {
            "cohort": str(cohort),
            "days": max(float(days), _FIRST),
            "wait": _wait(float(days)),
            "share": number(s),
            "low": number(lo),
            "high": number(hi),
            "shown": pct(s),
            "interval": interval(lo, hi),
            "waiting": None if pd.isna(r) else int(r),
        }
        for cohort, days, s, lo, hi, r in zip(
            curves[key],
            curves["days"],
            curves["connected_share"],
            curves["connected_low"],
            curves["connected_high"],
            risk,
            strict=True,
        )
    ]
    last = max(float(curves["days"].max()), 2.0)
    ticks = [t for t in _WAITS if t <= last] or [1]
    words = " : ".join(f"datum.value < {t * 1.01} ? '{w}'" for t, w in _WAITS.items())
    base = a.Chart().encode(
        x=a.X(
            "days:Q",
            title="time since the user was created (log scale)",
            scale=a.Scale(type="log", domain=[_FIRST, last]),
            axis=a.Axis(values=ticks, labelExpr=f"{words} : ''", grid=True),
        ),
        color=_cohort_colour(cohorts, title_text(key)),
        tooltip=[
            a.Tooltip("cohort:N", title=title_text(key)),
            a.Tooltip("wait:N", title="since sign-up"),
            a.Tooltip("shown:N", title="connected"),
            a.Tooltip("interval:N", title="95% interval"),
            a.Tooltip("waiting:Q", format=",", title="users still waiting"),
        ],
    )
    pick = _highlight()
    line = (
        base.mark_line(interpolate="step-after", strokeWidth=2)
        .encode(
            y=share_axis("share:Q", "share of users connected", y=True),
            opacity=when(a.Opacity, pick, 1.0, 0.15),
        )
        .add_params(pick)
    )
    layers = [line]
    if bands:
        # Many overlapping bands blur into one: the more cohorts, the lighter each band.
        shade = 0.15 if len(cohorts) <= 3 else 0.06
        band = base.mark_area(interpolate="step-after").encode(
            y="low:Q", y2="high:Q", opacity=when(a.Opacity, pick, shade, 0.0)
        )
        layers.insert(0, band)
    chart = a.layer(*layers).properties(width=WIDTH, height=300)
    return finish(chart, title or "Time from sign-up to first connected account", rows=rows)


@built
def matrix_chart(matrix: pd.DataFrame, *, title: str | None = None) -> Any:
    """A heatmap of a :func:`~argyle_nb.analysis.cohort_matrix`: each cell's share (darker
    is more) with its users written in it; cells under ``min_users`` are dashed and italic."""
    a = alt()
    share = cast(pd.DataFrame, matrix["share"]).astype("float64")
    shares = share.to_numpy("float64")
    users = cast(pd.DataFrame, matrix["users"]).to_numpy("int64")
    low = cast(pd.DataFrame, matrix["low"]).to_numpy("float64", na_value=np.nan)
    high = cast(pd.DataFrame, matrix["high"]).to_numpy("float64", na_value=np.nan)
    trials = cast(pd.DataFrame, matrix["trials"]).to_numpy("int64")
    min_users = int(matrix.attrs.get("min_users", MIN_USERS))
    down = title_text(str(share.index.name))
    across = title_text(str(share.columns.name))
    rows = []
    for i, r in enumerate(share.index):
        for j, c in enumerate(share.columns):
            n = int(users[i, j])
            value = float(shares[i, j])
            small = n < min_users
            rows.append(
                {
                    "row": str(r),
                    "column": str(c),
                    "share": None if np.isnan(value) else value,
                    "shown": pct(value),
                    "interval": interval(low[i, j], high[i, j]),
                    "users": n,
                    "trials": int(trials[i, j]),
                    "text": f"{'—' if np.isnan(value) else f'{value:.0%}'} (n={n:,})",
                    "small": f"small: fewer than {min_users} users" if small else "",
                    "dark": bool(not np.isnan(value) and value > 0.6),
                    "i": i,
                    "j": j,
                }
            )
    rows_order = [str(r) for r in share.index]
    cols_order = [str(c) for c in share.columns]
    base = a.Chart().encode(
        x=a.X(
            "column:N",
            sort=a.EncodingSortField(field="j", op="min"),
            title=across,
            axis=a.Axis(labelAngle=0 if len(cols_order) <= 6 else -30, orient="top"),
        ),
        y=a.Y("row:N", sort=a.EncodingSortField(field="i", op="min"), title=down),
        tooltip=[
            a.Tooltip("row:N", title=down),
            a.Tooltip("column:N", title=across),
            a.Tooltip("shown:N", title="share"),
            a.Tooltip("interval:N", title="95% interval"),
            a.Tooltip("users:Q", format=",", title="users"),
            a.Tooltip("trials:Q", format=",", title="counted"),
            a.Tooltip("small:N", title="note"),
        ],
    )
    cells = base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=a.Color(
            "share:Q",
            scale=a.Scale(scheme="blues", domain=[0, 1]),
            legend=a.Legend(format="%", title="share"),
        ),
    )
    # Small cells keep their colour (a pale cell would read as a low share): a dashed
    # outline and italic numbers say they are too small to read.
    small = base.transform_filter("datum.small != ''").mark_rect(
        fill=None, stroke=NEUTRAL, strokeWidth=2, strokeDash=[4, 3]
    )
    colour = when(a.Color, "datum.dark", "white", "black")
    text = (
        base.transform_filter("datum.small == ''")
        .mark_text(fontSize=11)
        .encode(text="text:N", color=colour)
    )
    italic = (
        base.transform_filter("datum.small != ''")
        .mark_text(fontSize=11, fontStyle="italic")
        .encode(text="text:N", color=colour)
    )
    cell = 90
    chart = a.layer(cells, small, text, italic).properties(
        width=max(cell * len(cols_order), 120), height=height(len(rows_order), row=34)
    )
    description = matrix.attrs.get("description", "share")
    return finish(
        chart,
        title or f"Cohort matrix: {description} (dashed, italic: fewer than {min_users} users)",
        rows=rows,
    )
