"""The explorers' interactive charts: Vega-Lite specs built with Altair, shown offline.

Each function takes what an analysis returns and gives an :class:`altair.Chart` (a
``LayerChart``) coloured from :mod:`argyle_nb.palette`: hovering a mark shows its exact
count, share and 95% interval; the legend stands right of the data; the chart is drawn
as SVG, sharp at any screen density. A notebook user tweaks it as any Altair chart
(``chart.properties(width=900)``) and saves it offline (``chart.save("chart.html")``,
``.svg`` or ``.png``: vl-convert renders them without a network).

In JupyterLab the explorers show them in :class:`altair.JupyterChart` (a widget whose
JavaScript comes from vl-convert, not a CDN), which reports clicks back to Python; in a
static page (``argyle-nb report``) :func:`chart_html` gives the chart as inline SVG,
made live by one inline copy of Vega (:func:`vega_script`).

Example:
    >>> import pandas as pd
    >>> dist = pd.DataFrame({"connected": [3], "error": [1], "total": [4],
    ...     "share_connected": [0.75], "share_error": [0.25], "low_connected": [0.3],
    ...     "high_connected": [0.95], "low_error": [0.05], "high_error": [0.7]},
    ...     index=pd.Index(["walmart"], name="link_item"))
    >>> spec = status_chart(dist, title="Connection status").to_dict()
    >>> spec["encoding"]["color"]["scale"]["range"]
    ['#009E73', '#D55E00']
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, ParamSpec

import pandas as pd

from argyle_nb._html import escape, script_json
from argyle_nb.palette import COHORT_COLOURS, NEUTRAL, status_colour

P = ParamSpec("P")

#: Width of the data area of every chart, in CSS pixels (the legend stands right of it).
WIDTH = 520
#: Height of one row (a cohort, a group, an account) in CSS pixels.
ROW = 22
#: How every explorer chart is embedded: as SVG (sharp on high-DPI screens), with the
#: export menu (PNG / SVG, drawn in the browser) and nothing that opens a web site.
EMBED_OPTIONS: dict[str, Any] = {
    "renderer": "svg",
    "actions": {"export": True, "source": False, "compiled": False, "editor": False},
}
#: The name of the click selections an explorer listens to.
COHORT_SELECTION = "cohort"
STATUS_SELECTION = "status"


def _alt() -> Any:
    import altair

    return altair


def _built(build: Callable[P, Any]) -> Callable[P, Any]:
    """Build the chart without Altair validating each part as it is made (a third of a
    second per chart); the whole spec is still validated once, when it is shown or saved."""

    @functools.wraps(build)
    def quick(*args: P.args, **kwargs: P.kwargs) -> Any:
        from altair.utils.schemapi import debug_mode

        with debug_mode(False):
            return build(*args, **kwargs)

    return quick


def _pct(value: float) -> str:
    return "—" if pd.isna(value) else f"{value:.1%}"


def _interval(low: float, high: float) -> str:
    return "—" if pd.isna(low) or pd.isna(high) else f"{low:.1%} – {high:.1%}"


def _label(index: object) -> str:
    values = index if isinstance(index, tuple) else (index,)
    return " / ".join(
        v.strftime("%Y-%m-%d") if isinstance(v, pd.Timestamp) else str(v) for v in values
    )


def _title(text: str) -> str:
    """An axis or tooltip title from the data: Vega-Lite compiles these into expressions,
    whose parser rejects a raw line or paragraph separator (U+2028, U+2029)."""
    return text.replace("\u2028", " ").replace("\u2029", " ")


def _in_row_order() -> Any:
    """Sort a band axis by the ``row`` field of the data (the first row of each value comes
    first): a list of the values themselves would be compiled into an expression, which a
    line separator in a value breaks."""
    return _alt().EncodingSortField(field="row", op="min", order="ascending")


def _height(rows: int, row: int = ROW) -> int:
    return max(row * rows, 3 * ROW)


def _finish(chart: Any, title: str) -> Any:
    """Title, font sizes and the legend outside the data, the same for every chart."""
    return (
        chart.properties(title=title)
        .configure_legend(orient="right", titleFontSize=12, labelFontSize=12)
        .configure_axis(labelFontSize=12, titleFontSize=12, labelLimit=260)
        .configure_title(fontSize=14, anchor="start")
        .configure_view(stroke=None)
    )


def _share_axis(title: str) -> Any:
    alt = _alt()
    return alt.X(
        "share:Q",
        title=title,
        scale=alt.Scale(domain=[0, 1]),
        axis=alt.Axis(format="%", grid=True),
    )


@_built
def cohort_chart(groups: pd.DataFrame) -> Any:
    """Each cohort's share of users with an account connected now, with its 95% interval.

    ``groups`` is a :func:`~argyle_nb.analysis.metadata_groups`. Small cohorts are drawn
    hollow; the dashed line is the share over all users; clicking a cohort selects it
    (the :data:`COHORT_SELECTION` of the chart).
    """
    alt = _alt()
    key = _title(str(groups.index.name or "group"))
    small = groups["small"] if "small" in groups.columns else pd.Series(False, groups.index)
    rows = [
        {
            "cohort": str(g),
            "users": int(n),
            "connected": int(c),
            "share": None if pd.isna(s) else float(s),
            "low": None if pd.isna(lo) else float(lo),
            "high": None if pd.isna(hi) else float(hi),
            "shown": _pct(s),
            "interval": _interval(lo, hi),
            "small": "small: read with care" if bool(sm) else "",
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
    pick = alt.selection_point(name=COHORT_SELECTION, fields=["cohort"], on="click")
    base = alt.Chart(alt.Data(values=rows)).encode(
        y=alt.Y("cohort:N", sort=_in_row_order(), title=key),
        tooltip=[
            alt.Tooltip("cohort:N", title=key),
            alt.Tooltip("users:Q", format=",", title="users"),
            alt.Tooltip("connected:Q", format=",", title="with an account connected"),
            alt.Tooltip("shown:N", title="share"),
            alt.Tooltip("interval:N", title="95% interval"),
            alt.Tooltip("small:N", title="note"),
        ],
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.35)),
    )
    bars = base.mark_rule(color=colour, strokeWidth=2).encode(x="low:Q", x2="high:Q")
    points = base.mark_point(
        size=70, filled=True, color=colour, stroke=colour, strokeWidth=1.5
    ).encode(
        x=_share_axis("users with an account connected now (95% interval)"),
        fill=alt.condition("datum.small != ''", alt.value("white"), alt.value(colour)),
    )
    users = int(groups["users"].sum())
    overall = int(groups["connected_users"].sum()) / max(users, 1)
    line = (
        alt.Chart(alt.Data(values=[{"share": overall, "shown": _pct(overall), "users": users}]))
        .mark_rule(color=NEUTRAL, strokeDash=[5, 4])
        .encode(
            x="share:Q",
            tooltip=[
                alt.Tooltip("shown:N", title="all users"),
                alt.Tooltip("users:Q", format=",", title="users"),
            ],
        )
    )
    chart = alt.layer(bars, points.add_params(pick), line).properties(
        width=WIDTH, height=_height(len(rows))
    )
    title = f"Users with an account connected now, by {key!r} (dashed: all users; hollow: small)"
    return _finish(chart, title)


@_built
def status_chart(dist: pd.DataFrame, *, title: str) -> Any:
    """Stacked bars of status shares per row of ``dist``, coloured by meaning.

    ``dist`` is a :func:`~argyle_nb.analysis.connection_status_distribution`: one count
    column per status, ``total``, ``share_<status>``, ``low_<status>`` and
    ``high_<status>``. Hovering a segment gives its count, share and 95% interval;
    clicking a legend entry highlights that status (the :data:`STATUS_SELECTION`).
    """
    alt = _alt()
    statuses = [str(c).removeprefix("share_") for c in dist.columns if str(c).startswith("share_")]
    by = _title(" / ".join(str(n).replace("_", " ") for n in dist.index.names if n) or "group")
    order = [_label(index) for index in dist.index]
    totals = dist["total"].to_numpy("int64")
    rows: list[dict[str, Any]] = []
    for status in statuses:
        counts = dist[status].to_numpy("int64")
        shares = dist[f"share_{status}"].to_numpy("float64")
        lows = dist[f"low_{status}"].to_numpy("float64")
        highs = dist[f"high_{status}"].to_numpy("float64")
        rows += [
            {
                "group": label,
                "status": status,
                "share": float(share),
                "shown": _pct(share),
                "count": int(count),
                "total": int(total),
                "interval": _interval(low, high),
                "row": row,
            }
            for row, (label, count, total, share, low, high) in enumerate(
                zip(order, counts, totals, shares, lows, highs, strict=True)
            )
        ]
    pick = alt.selection_point(name=STATUS_SELECTION, fields=["status"], bind="legend")
    chart = (
        alt.Chart(alt.Data(values=rows))
        .mark_bar(height={"band": 0.8})
        .encode(
            x=alt.X(
                "share:Q",
                stack="zero",
                title="share of the accounts",
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%"),
            ),
            y=alt.Y("group:N", sort=_in_row_order(), title=by),
            color=alt.Color(
                "status:N",
                scale=alt.Scale(domain=statuses, range=[status_colour(s) for s in statuses]),
                sort=statuses,
                title="status (click to highlight)",
            ),
            order=alt.Order("rank:Q"),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.2)),
            tooltip=[
                alt.Tooltip("group:N", title=by),
                alt.Tooltip("status:N", title="status"),
                alt.Tooltip("count:Q", format=",", title="accounts"),
                alt.Tooltip("total:Q", format=",", title="accounts in the row"),
                alt.Tooltip("shown:N", title="share"),
                alt.Tooltip("interval:N", title="95% interval"),
            ],
        )
        .transform_calculate(rank=f"indexof({json.dumps(statuses)}, datum.status)")
        .add_params(pick)
        .properties(width=WIDTH, height=_height(len(order)))
    )
    return _finish(chart, title)


@_built
def timeline_chart(timeline: pd.DataFrame, *, resource: str) -> Any:
    """One line per account from ``available_from`` to ``available_to``, coloured by status.

    ``timeline`` is an :func:`~argyle_nb.analysis.availability_timeline`; stale windows
    are dotted. Hovering a line gives the account's full id, its window in UTC, the
    number of items and when it was last updated.
    """
    alt = _alt()

    def utc(value: pd.Timestamp) -> str:
        return value.strftime("%Y-%m-%d %H:%M UTC")

    rows = [
        {
            "account": str(a)[:8],
            "id": str(a),
            "status": str(s),
            "from": f.isoformat(),
            "to": t.isoformat(),
            "window": f"{utc(f)} – {utc(t)}",
            "items": None if pd.isna(n) else int(n),
            "updated": "—" if pd.isna(u) else utc(u),
            "freshness": "stale" if bool(st) else "fresh",
        }
        for a, s, f, t, n, u, st in zip(
            timeline["account"],
            timeline["status"],
            timeline["available_from"],
            timeline["available_to"],
            timeline["available_count"],
            timeline["updated_at"],
            timeline["stale"],
            strict=True,
        )
    ]
    present = list(dict.fromkeys(r["status"] for r in rows))
    known = ["synced", "in_progress", "sync_failed"]
    statuses = [s for s in known if s in present] + sorted(set(present) - set(known))
    order = list(dict.fromkeys(r["account"] for r in rows))
    for row, record in enumerate(rows):
        record["row"] = row
    chart = (
        alt.Chart(alt.Data(values=rows))
        .mark_rule(strokeWidth=3)
        .encode(
            x=alt.X("from:T", title="time (UTC)", scale=alt.Scale(type="utc")),
            x2="to:T",
            y=alt.Y(
                "account:N", sort=_in_row_order(), title="account (first 8 characters of its id)"
            ),
            color=alt.Color(
                "status:N",
                scale=alt.Scale(domain=statuses, range=[status_colour(s) for s in statuses]),
                title="status",
            ),
            strokeDash=alt.StrokeDash(
                "freshness:N",
                scale=alt.Scale(domain=["fresh", "stale"], range=[[1, 0], [2, 2]]),
                title="updated",
            ),
            tooltip=[
                alt.Tooltip("id:N", title="account"),
                alt.Tooltip("status:N", title="status"),
                alt.Tooltip("window:N", title="available"),
                alt.Tooltip("items:Q", format=",", title="items"),
                alt.Tooltip("updated:N", title="last updated"),
                alt.Tooltip("freshness:N", title="freshness"),
            ],
        )
        .properties(width=WIDTH, height=_height(len(order), row=16))
    )
    return _finish(chart, f"Available {resource} windows, one line per account")


# ---------------------------------------------------------------------------
# Offline: the widget's JavaScript and the static page's
# ---------------------------------------------------------------------------


def jupyter_chart(chart: Any | None = None) -> Any:
    """An :class:`altair.JupyterChart` of ``chart`` whose JavaScript needs no network."""
    alt = _alt()
    _offline()
    return alt.JupyterChart(chart or alt.Chart().mark_point(), embed_options=EMBED_OPTIONS)


@functools.cache
def _offline() -> None:
    """Load the widget's JavaScript from vl-convert (once: bundling takes about 2 s)."""
    _alt().JupyterChart.enable_offline()


@functools.cache
def vega_script() -> str:
    """One inline ``<script>`` that draws every :func:`chart_html` of the page live.

    Vega, Vega-Lite and vega-embed come from vl-convert's bundle (about 0.9 MB), so the
    page fetches nothing; without scripts the charts stay the static SVG.
    """
    import vl_convert

    draw = (
        "document.querySelectorAll('div.argyle-vega').forEach(function (node) {"
        " var spec = JSON.parse(node.querySelector('script[type=\"application/json\"]')"
        ".textContent);"
        " vegaEmbed(node.querySelector('.argyle-vega-view'), spec,"
        f" {json.dumps(EMBED_OPTIONS)});"
        " });"
    )
    bundle = vl_convert.javascript_bundle(draw)
    return f'<script type="module">{bundle}</script>'


def chart_html(chart: Any) -> str:
    """``chart`` for a static page: its SVG (drawn by vl-convert) and its spec.

    :func:`vega_script`, once on the page, replaces the SVG by the live chart (hover,
    click); the spec is inlined by :func:`~argyle_nb._html.script_json`, so no value can
    end the script early.
    """
    import vl_convert

    spec = chart.to_dict()
    svg = vl_convert.vegalite_to_svg(spec)
    data = script_json(spec)
    return (
        '<div class="argyle-vega">'
        f'<div class="argyle-vega-view">{svg}</div>'
        f'<script type="application/json">{data}</script>'
        f"<noscript>{escape('(a static chart: open the page with scripts on to hover)')}"
        "</noscript></div>"
    )
