"""One chart per analysis: each ``plot_*`` draws its frame's numbers (read back from the
chart's spec and checked against the frame), colours statuses by meaning and cohorts by
the cohort colours, keeps its legend right of the data, says its units in words, and
renders offline to PNG, SVG and PDF (vl-convert)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
import vl_convert

from argyle_nb import analysis, frames, palette
from tests.specs import spec_rows
from tests.synthetic import Built, synthetic_frames

#: Width of the data area of every chart (argyle_nb.analysis._chart_base.WIDTH).
WIDTH = 520


@pytest.fixture(scope="module")
def built() -> Built:
    return synthetic_frames()


def _values(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every row of data the chart draws, over its layers."""
    rows = spec_rows(spec)
    for layer in spec.get("layer", []):
        rows += spec_rows(spec, layer)
    return rows


def _encodings(spec: dict[str, Any]) -> list[dict[str, Any]]:
    found = [spec["encoding"]] if "encoding" in spec else []
    return found + [layer["encoding"] for layer in spec.get("layer", []) if "encoding" in layer]


def _colours(spec: dict[str, Any]) -> dict[str, str]:
    """Value -> colour of the chart's colour scale."""
    for encoding in _encodings(spec):
        scale = encoding.get("color", {}).get("scale", {})
        if "range" in scale:
            return dict(zip(scale["domain"], scale["range"], strict=True))
    raise AssertionError("no colour scale")


def _close(a: float | None, b: Any) -> bool:
    if a is None:
        return bool(pd.isna(b))
    return math.isclose(a, float(b), rel_tol=1e-12, abs_tol=1e-12)


Plot = Callable[[Built], Any]
PLOTS: dict[str, Plot] = {
    "metadata groups": lambda b: analysis.plot_metadata_groups(
        analysis.metadata_groups(b[0], b[1], "customer group")
    ),
    "connection by link item": lambda b: analysis.plot_connection_status_distribution(
        analysis.connection_status_distribution(b[1], by="link_item")
    ),
    "connection by week": lambda b: analysis.plot_connection_status_distribution(
        analysis.connection_status_distribution(b[1], by="week")
    ),
    "availability windows": lambda b: analysis.plot_availability_windows(
        analysis.availability_windows(b[2])
    ),
    "availability timeline": lambda b: analysis.plot_availability_timeline(
        analysis.availability_timeline(b[2], sample=30)
    ),
    "funnel": lambda b: analysis.plot_cohort_funnel(
        analysis.cohort_funnel(b[0], b[1], b[2], "customer group")
    ),
    "time to connect": lambda b: analysis.plot_time_to_connect(
        analysis.time_to_connect_curves(b[0], b[1], "acquisition channel")
    ),
    "matrix": lambda b: analysis.plot_cohort_matrix(
        analysis.cohort_matrix(b[0], b[1], "customer group", "region")
    ),
}


def test_every_plot_is_here() -> None:
    assert {n for n in analysis.__all__ if n.startswith("plot_")} == {
        "plot_metadata_groups",
        "plot_connection_status_distribution",
        "plot_availability_windows",
        "plot_availability_timeline",
        "plot_cohort_funnel",
        "plot_time_to_connect",
        "plot_cohort_matrix",
        # drawn from a dataset's snapshots: tests/integration/test_history.py
        "plot_status_over_time",
        "plot_transitions",
        "plot_reconnection",
        "plot_connection_lifetime",
        "plot_removal_bias",
    }


# ---------------------------------------------------------------------------
# The numbers drawn are the analysis' numbers
# ---------------------------------------------------------------------------


def test_metadata_groups_draws_each_cohort_share_and_interval(built: Built) -> None:
    users, accounts, _ = built
    groups = analysis.metadata_groups(users, accounts, "customer group")
    rows = [r for r in _values(analysis.plot_metadata_groups(groups).to_dict()) if "cohort" in r]
    assert [r["cohort"] for r in rows] == [str(g) for g in groups.index]  # largest first
    for r, (_, g) in zip(rows, groups.iterrows(), strict=True):
        assert r["users"] == g["users"] and r["connected"] == g["connected_users"]
        assert _close(r["share"], g["connected_share"])
        assert _close(r["low"], g["connected_low"]) and _close(r["high"], g["connected_high"])
        assert r["n"].startswith(f"n={g['users']:,}")  # written beside the cohort
    # The dashed line is the share over all users, counted here from the frame.
    overall = next(
        r for r in _values(analysis.plot_metadata_groups(groups).to_dict()) if "cohort" not in r
    )
    assert _close(overall["share"], groups["connected_users"].sum() / groups["users"].sum())


def test_status_bars_draw_each_share_with_its_count(built: Built) -> None:
    _, accounts, _ = built
    dist = analysis.connection_status_distribution(accounts, by="link_item")
    spec = analysis.plot_connection_status_distribution(dist).to_dict()
    rows = {(r["group"], r["status"]): r for r in _values(spec)}
    statuses = [str(c).removeprefix("share_") for c in dist.columns if str(c).startswith("share_")]
    assert len(rows) == len(dist) * len(statuses)
    for item, row in dist.iterrows():
        for status in statuses:
            r = rows[(str(item), status)]
            assert _close(r["share"], row[f"share_{status}"])
            assert r["count"] == row[status] and r["total"] == row["total"]
            assert r["interval"] == f"{row[f'low_{status}']:.1%} – {row[f'high_{status}']:.1%}"
            # The row's label says how many accounts it holds.
            assert r["label"] == f"{item} (n={int(row['total']):,})"
    # Readable order: the largest group at the top.
    order = sorted({(r["row"], r["group"]) for r in rows.values()})
    assert [g for _, g in order] == [str(i) for i in dist.index]
    assert spec["encoding"]["y"]["sort"] == {"field": "row", "op": "min", "order": "ascending"}
    # Shares of a row add up to the whole bar.
    for item in dist.index:
        assert math.isclose(sum(rows[(str(item), s)]["share"] for s in statuses), 1.0)


def test_availability_windows_draw_each_scan_share(built: Built) -> None:
    _, _, availability = built
    windows = analysis.availability_windows(availability)
    spec = analysis.plot_availability_windows(windows).to_dict()
    rows = {(r["group"], r["status"]): r for r in _values(spec)}
    for resource, row in windows.iterrows():
        for status in ("synced", "in_progress", "sync_failed"):
            r = rows[(str(resource), status)]
            assert _close(r["share"], row[status]) and r["total"] == row["accounts"]
        # A thin sliver of failures is said in numbers in the row's label.
        label = rows[(str(resource), "synced")]["label"]
        assert f"n={int(row['accounts']):,}" in label and f"{row['stale_share']:.0%} stale" in label
        assert ("failed" in label) == (row["sync_failed"] > 0)


def test_timeline_draws_each_window(built: Built) -> None:
    _, _, availability = built
    timeline = analysis.availability_timeline(availability, sample=30)
    rows = _values(analysis.plot_availability_timeline(timeline).to_dict())
    assert [r["id"] for r in rows] == timeline["account"].astype(str).tolist()
    for r, (_, w) in zip(rows, timeline.iterrows(), strict=True):
        assert pd.Timestamp(r["from"]) == w["available_from"]
        assert pd.Timestamp(r["to"]) == w["available_to"]
        assert r["status"] == w["status"] and (r["freshness"] == "stale") == w["stale"]


def test_funnel_draws_each_step_of_each_cohort(built: Built) -> None:
    users, accounts, availability = built
    funnel = analysis.cohort_funnel(users, accounts, availability, "customer group")
    rows = {
        (r["cohort"], r["step"]): r for r in _values(analysis.plot_cohort_funnel(funnel).to_dict())
    }
    assert len(rows) == len(funnel)
    for (cohort, step), row in funnel.iterrows():
        r = rows[(cohort, step)]
        assert r["users"] == row["users"] and _close(r["share"], row["of_cohort"])
        assert _close(r["low"], row["of_cohort_low"]) and _close(r["high"], row["of_cohort_high"])
        assert r["cohort users"] == funnel.loc[(cohort, "users"), "users"]


def test_a_long_curve_is_drawn_by_its_steps_at_a_few_hundred_times() -> None:
    """Half a million waits would make a chart of half a million points (a frozen
    browser): each curve is drawn at most ~200 points, exact where it is drawn."""
    n = 50_000
    days = [i / 500 for i in range(n)]  # waits from 0 to 100 days
    curves = pd.DataFrame(
        {
            "channel": ["a"] * n,
            "days": days,
            "connected_share": [i / n for i in range(n)],
            "connected_low": [i / n / 2 for i in range(n)],
            "connected_high": [min(1.0, 2 * i / n) for i in range(n)],
            "at_risk": [n - i for i in range(n)],
        }
    )
    rows = _values(analysis.plot_time_to_connect(curves, bands=False).to_dict())
    assert 100 < len(rows) <= 202
    drawn = sorted(rows, key=lambda r: r["days"])
    assert drawn[-1]["share"] == pytest.approx((n - 1) / n)  # the last step is drawn
    for r in drawn:
        if r["days"] == 1 / 96:
            continue  # waits under 15 minutes are drawn at the axis' start
        # The step in force at each drawn time, from the full curve (a plain scan).
        i = max(j for j in range(n) if days[j] <= r["days"] + 1e-12)
        assert r["share"] == pytest.approx(i / n)


def test_time_to_connect_draws_each_curve(built: Built) -> None:
    users, accounts, _ = built
    curves = analysis.time_to_connect_curves(users, accounts, "acquisition channel")
    # Curves of up to 200 steps are drawn whole (longer ones: see the test above).
    curves = curves.groupby("acquisition channel", sort=False).head(150)
    rows = _values(analysis.plot_time_to_connect(curves).to_dict())
    assert len(rows) == len(curves)
    for r, (_, c) in zip(rows, curves.iterrows(), strict=True):
        assert r["cohort"] == c["acquisition channel"]
        assert _close(r["share"], c["connected_share"])
        assert _close(r["low"], c["connected_low"]) and _close(r["high"], c["connected_high"])
        # The log axis starts at 15 minutes: a wait of 0 is drawn there.
        assert r["days"] == max(c["days"], 1 / 96)
    spec = analysis.plot_time_to_connect(curves).to_dict()
    assert spec["layer"][-1]["encoding"]["x"]["scale"]["type"] == "log"
    without = analysis.plot_time_to_connect(curves, bands=False).to_dict()
    assert len(without["layer"]) == len(spec["layer"]) - 1


def test_matrix_draws_each_cell_with_its_users(built: Built) -> None:
    users, accounts, _ = built
    matrix = analysis.cohort_matrix(users, accounts, "customer group", "region")
    rows = {
        (r["row"], r["column"]): r for r in _values(analysis.plot_cohort_matrix(matrix).to_dict())
    }
    share, n = matrix["share"], matrix["users"]
    assert len(rows) == share.size
    for g in share.index:
        for region in share.columns:
            r = rows[(str(g), str(region))]
            assert _close(r["share"], share.loc[g, region]) and r["users"] == n.loc[g, region]
            assert r["text"].endswith(f"(n={int(n.loc[g, region]):,})")
            assert (r["small"] != "") == (n.loc[g, region] < analysis.MIN_USERS)


# ---------------------------------------------------------------------------
# Colours by meaning, legends off the data, words
# ---------------------------------------------------------------------------


def test_statuses_are_coloured_by_meaning(built: Built) -> None:
    _, accounts, availability = built
    for by in ("link_item", "week"):
        dist = analysis.connection_status_distribution(accounts, by=by)
        colours = _colours(analysis.plot_connection_status_distribution(dist).to_dict())
        assert set(colours) == {"connected", "connecting", "error"}
        assert colours["connected"] == "#009E73" and colours["error"] == "#D55E00"
        assert colours["connecting"] == "#E69F00"
    windows = _colours(
        analysis.plot_availability_windows(analysis.availability_windows(availability)).to_dict()
    )
    assert windows["synced"] == "#009E73" and windows["sync_failed"] == "#D55E00"
    assert windows["in_progress"] == "#E69F00"
    timeline = analysis.availability_timeline(availability, sample=None)
    colours = _colours(analysis.plot_availability_timeline(timeline).to_dict())
    assert colours["synced"] == "#009E73" and colours["sync_failed"] == "#D55E00"
    assert set(colours) == set(timeline["status"].astype(str))


@pytest.mark.parametrize("name", ["funnel", "time to connect"])
def test_cohorts_take_the_cohort_colours_in_order(name: str, built: Built) -> None:
    spec = PLOTS[name](built).to_dict()
    colours = _colours(spec)
    drawn = list(colours.values())
    # Clicking a cohort in the legend highlights it.
    params = spec.get("params", []) + [p for lay in spec["layer"] for p in lay.get("params", [])]
    assert [(p["select"]["fields"], p["bind"]) for p in params] == [(["cohort"], "legend")]
    assert drawn == palette.cohort_colours(len(colours))
    assert drawn[:3] == ["#0072B2", "#CC79A7", "#56B4E9"]  # the largest cohort is blue
    assert "#009E73" not in drawn[:6]  # no cohort looks "connected"
    # In the analysis' order: the largest cohort first, the missing group last.
    users = built[0]
    key = "customer group" if name == "funnel" else "acquisition channel"
    sizes = users[f"meta.{key}"].fillna(analysis.MISSING).astype(str).value_counts()
    assert list(colours)[-1] == analysis.MISSING
    named = [c for c in colours if c != analysis.MISSING]
    assert named == sorted(named, key=lambda c: -sizes[c])


def _translate(group: str) -> tuple[float, float]:
    found = re.search(r'transform="translate\(([-\d.]+),\s*([-\d.]+)\)"', group)
    assert found, group[:200]
    return float(found.group(1)), float(found.group(2))


@pytest.mark.parametrize("name", list(PLOTS))
def test_the_legend_stands_right_of_the_data(name: str, built: Built) -> None:
    spec = PLOTS[name](built).to_dict()
    assert spec["config"]["legend"]["orient"] == "right"
    svg = vl_convert.vegalite_to_svg(spec)
    # Vega draws each legend in its own group: it starts right of the data area.
    legends = re.findall(r'<g class="mark-group role-legend"[^>]*>\s*<g[^>]*>', svg)
    if name == "metadata groups":
        assert legends == []  # one colour, no legend: the title says what the marks are
        return
    assert legends
    data_width = spec.get("width", WIDTH)
    for legend in legends:
        x, _ = _translate(legend)
        assert x > data_width, f"{name}: a legend at x={x} lies over the data (0..{data_width})"


def test_titles_and_axes_are_in_words(built: Built) -> None:
    _, accounts, _ = built
    spec = analysis.plot_connection_status_distribution(
        analysis.connection_status_distribution(accounts, by="link_item")
    ).to_dict()
    assert spec["title"] == "Connection status of accounts by link item"
    assert spec["encoding"]["x"]["title"] == "share of the accounts"
    assert spec["encoding"]["x"]["axis"]["format"] == "%"
    weekly = analysis.plot_connection_status_distribution(
        analysis.connection_status_distribution(accounts, by="week"), title="By week"
    ).to_dict()
    tooltip = {t["field"]: t["title"] for t in weekly["encoding"]["tooltip"]}
    assert tooltip["group"] == "week of creation (from Monday)" and weekly["title"] == "By week"


@pytest.mark.parametrize("name", list(PLOTS))
def test_every_chart_has_a_title_and_formatted_numbers(name: str, built: Built) -> None:
    spec = PLOTS[name](built).to_dict()
    assert spec["title"]
    formats = [
        t.get("format")
        for encoding in _encodings(spec)
        for t in encoding.get("tooltip", [])
        if t.get("type") == "quantitative"
    ]
    assert all(f == "," for f in formats), formats  # counts with thousands separators
    assert any("tooltip" in e for e in _encodings(spec))  # hover gives the exact numbers


# ---------------------------------------------------------------------------
# Offline rendering and empty results
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(PLOTS))
def test_every_chart_renders_offline_to_png_svg_and_pdf(name: str, built: Built) -> None:
    spec = PLOTS[name](built).to_dict()
    png = vl_convert.vegalite_to_png(spec)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(png[16:20], "big") > WIDTH
    assert vl_convert.vegalite_to_svg(spec).lstrip().startswith("<svg")
    assert vl_convert.vegalite_to_pdf(spec)[:5] == b"%PDF-"


def test_empty_results_draw_a_chart_that_says_so(built: Built) -> None:
    accounts = frames.accounts_frame(b"[]")
    availability = frames.availability_frame(b"[]")
    # Cohort results filtered down to nothing (an empty frame has no metadata key).
    users = built[0].iloc[:0]
    charts = [
        analysis.plot_connection_status_distribution(
            analysis.connection_status_distribution(accounts)
        ),
        analysis.plot_availability_windows(analysis.availability_windows(availability)),
        analysis.plot_availability_timeline(analysis.availability_timeline(availability)),
        analysis.plot_metadata_groups(analysis.metadata_groups(users, accounts, "region")),
        analysis.plot_cohort_funnel(
            analysis.cohort_funnel(users, accounts, availability, "region")
        ),
        analysis.plot_time_to_connect(
            analysis.time_to_connect_curves(users, accounts, "region", as_of="2026-01-01")
        ),
    ]
    for chart in charts:
        spec = chart.to_dict()
        [message] = _values(spec)
        assert message["message"].startswith("no ") and message["message"].endswith(" to show")
        assert spec["title"] and "<svg" in vl_convert.vegalite_to_svg(spec)


def test_a_key_with_a_line_separator_still_draws() -> None:
    """Vega-Lite compiles titles into expressions, whose parser rejects U+2028/U+2029."""
    key = "group\u2028name\u2029x"
    users = frames.users_frame(
        [
            {
                "id": f"0994b847-cc69-4d98-bc99-c5e65e762a{i:02d}",
                "created_at": "2026-01-01",
                "external_metadata": {key: f"v\u2028{i % 2}", "b\u2029": f"w\u2029{i % 3}"},
            }
            for i in range(4)
        ]
    )
    accounts, availability = frames.accounts_and_availability(b"[]")
    for chart in (
        analysis.plot_metadata_groups(analysis.metadata_groups(users, accounts, key)),
        analysis.plot_cohort_funnel(analysis.cohort_funnel(users, accounts, availability, key)),
        analysis.plot_time_to_connect(analysis.time_to_connect_curves(users, accounts, key)),
        analysis.plot_cohort_matrix(analysis.cohort_matrix(users, accounts, key, "b\u2029")),
    ):
        assert "<svg" in vl_convert.vegalite_to_svg(chart.to_dict())


def test_a_notebook_shows_a_chart_without_the_network(built: Built) -> None:
    """What Jupyter shows of a plot_* chart (and a report keeps): inline SVG beside the
    spec, no script or stylesheet from a CDN (Altair's default would load Vega from one)."""
    from argyle_nb.report import external_references

    chart = PLOTS["connection by link item"](built)
    bundle = chart._repr_mimebundle_()
    html = (bundle[0] if isinstance(bundle, tuple) else bundle)["text/html"]
    assert html.startswith('<div class="argyle-vega">') and html.count("<svg") == 1
    assert external_references(html) == [] and "cdn." not in html.lower()
    assert "uber" in html  # the data is drawn, not a placeholder
