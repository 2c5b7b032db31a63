"""The explorers' interactive charts: statuses coloured by meaning, the exact numbers on
hover, the legend right of the data, drawn as SVG, a click that filters, and offline."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson
import pandas as pd
import pytest
import vl_convert

from argyle_nb import analysis, frames, palette
from argyle_nb.report import external_references
from argyle_nb.widgets import AvailabilityExplorer, ConnectionExplorer, MetadataExplorer
from argyle_nb.widgets._charts import (
    EMBED_OPTIONS,
    WIDTH,
    chart_html,
    cohort_chart,
    status_chart,
    timeline_chart,
    vega_script,
)

Built = tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]


@pytest.fixture(scope="module")
def built() -> Built:
    from argyle_nb.sandbox.synth import generate

    pairs = list(generate(600, seed=5, now=datetime(2026, 11, 1, tzinfo=UTC)))
    users = frames.users_frame(orjson.dumps([u for u, _ in pairs]))
    accounts, availability = frames.accounts_and_availability(
        orjson.dumps([a for _, accounts in pairs for a in accounts])
    )
    return users, accounts, availability


def _layers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return spec.get("layer", [spec])


def _values(spec: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for layer in _layers(spec):
        rows += layer.get("data", {}).get("values", [])
    return rows or spec["data"]["values"]


def _colours(spec: dict[str, Any]) -> dict[str, str]:
    scale = spec["encoding"]["color"]["scale"]
    return dict(zip(scale["domain"], scale["range"], strict=True))


def test_statuses_are_coloured_by_meaning(built: Built) -> None:
    _, accounts, availability = built
    for by in ("link_item", "week"):
        dist = analysis.connection_status_distribution(accounts, by=by)
        colours = _colours(status_chart(dist, title="t").to_dict())
        assert set(colours) == {"connected", "connecting", "error"}
        assert colours == {s: palette.status_colour(s) for s in colours}
        assert colours["connected"] == palette.WORKED and colours["error"] == palette.FAILED
    timeline = analysis.availability_timeline(availability, sample=None)
    colours = _colours(timeline_chart(timeline, resource="payouts").to_dict())
    assert colours["synced"] == palette.WORKED and colours["sync_failed"] == palette.FAILED
    assert set(colours) == set(timeline["status"].astype(str))


def test_hover_shows_the_exact_count_share_and_interval(built: Built) -> None:
    users, accounts, _ = built
    dist = analysis.connection_status_distribution(accounts, by="link_item")
    spec = status_chart(dist, title="t").to_dict()
    shown = {t["field"] for t in spec["encoding"]["tooltip"]}
    assert {"count", "total", "shown", "interval"} <= shown
    first = dist.index[0]
    row = next(r for r in _values(spec) if r["group"] == first and r["status"] == "error")
    assert row["count"] == int(dist.loc[first, "error"])
    assert row["total"] == int(dist.loc[first, "total"])
    assert row["shown"] == f"{dist.loc[first, 'share_error']:.1%}"
    low, high = dist.loc[first, "low_error"], dist.loc[first, "high_error"]
    assert row["interval"] == f"{low:.1%} – {high:.1%}"

    groups = analysis.metadata_groups(users, accounts, "customer group")
    cohorts = cohort_chart(groups).to_dict()
    rows = {r["cohort"]: r for r in _values(cohorts) if "cohort" in r}
    assert set(rows) == {str(g) for g in groups.index}
    g = groups.index[0]
    assert rows[str(g)]["users"] == int(groups.loc[g, "users"])
    assert rows[str(g)]["connected"] == int(groups.loc[g, "connected_users"])
    assert rows[str(g)]["interval"] == (
        f"{groups.loc[g, 'connected_low']:.1%} – {groups.loc[g, 'connected_high']:.1%}"
    )


def _translate(group: str) -> tuple[float, float]:
    found = re.search(r'transform="translate\(([-\d.]+),\s*([-\d.]+)\)"', group)
    assert found, group[:200]
    return float(found.group(1)), float(found.group(2))


@pytest.mark.parametrize("name", ["status", "timeline", "cohort"])
def test_the_legend_stands_right_of_the_data(name: str, built: Built) -> None:
    users, accounts, availability = built
    chart = {
        "status": lambda: status_chart(
            analysis.connection_status_distribution(accounts, by="link_item"), title="t"
        ),
        "timeline": lambda: timeline_chart(
            analysis.availability_timeline(availability, sample=30), resource="payouts"
        ),
        "cohort": lambda: cohort_chart(analysis.metadata_groups(users, accounts, "customer group")),
    }[name]()
    spec = chart.to_dict()
    assert spec["config"]["legend"]["orient"] == "right"
    svg = vl_convert.vegalite_to_svg(spec)
    # Vega draws the data area WIDTH wide from the group's origin, each legend in its
    # own group: a legend starts right of the data area.
    legends = re.findall(r'<g class="mark-group role-legend"[^>]*>\s*<g[^>]*>', svg)
    if name == "cohort":
        assert legends == []  # one colour, no legend: the title says what the line is
    else:
        assert legends
        for legend in legends:
            x, _ = _translate(legend)
            assert x > WIDTH, f"{name}: a legend at x={x} lies over the data (0..{WIDTH})"


def test_charts_are_vector_graphics_and_the_page_needs_no_network(built: Built) -> None:
    _, accounts, _ = built
    explorer = ConnectionExplorer(accounts)
    # Drawn as SVG in the browser: sharp at any screen density.
    assert explorer._chart.embed_options == EMBED_OPTIONS
    assert EMBED_OPTIONS["renderer"] == "svg"
    assert explorer._chart._is_offline  # the widget's JavaScript came from vl-convert
    page = chart_html(explorer.chart)
    assert page.count("<svg") == 1 and "</svg>" in page
    script = vega_script()
    assert external_references(script) == []
    assert "cdn." not in script.lower() and "esm.sh" not in script
    assert script.count("</script>") == 1


def test_a_value_cannot_end_the_spec_script_early() -> None:
    dist = pd.DataFrame(
        {
            "connected": [1],
            "total": [1],
            "share_connected": [1.0],
            "low_connected": [0.2],
            "high_connected": [1.0],
        },
        index=pd.Index(["</script><script>alert(1)</script>"], name="link_item"),
    )
    page = chart_html(status_chart(dist, title="t"))
    spec = page.split('<script type="application/json">')[1].split("</script>")[0]
    assert "alert" in spec and orjson.loads(spec.replace("<\\/", "</"))


def test_clicking_a_cohort_lists_its_users(built: Built) -> None:
    users, accounts, _ = built
    explorer = MetadataExplorer(users, accounts, key="customer group")
    assert explorer.group.value is None
    cohort = str(explorer.groups.index[1])
    # What the chart's JavaScript sends back when a point is clicked.
    explorer._chart._vl_selections = {
        "cohort": {"value": {"vlPoint": {"or": [{"cohort": cohort}]}}, "store": []}
    }
    assert explorer.group.value == cohort
    assert len(explorer.group_users) == int(explorer.groups.loc[cohort, "users"])
    # After the key changes, the new chart's clicks are still heard.
    explorer.key.value = next(k for k in explorer.key.options if k[1] != "customer group")[1]
    other = str(explorer.groups.index[0])
    explorer._chart._vl_selections = {
        "cohort": {"value": {"vlPoint": {"or": [{"cohort": other}]}}, "store": []}
    }
    assert explorer.group.value == other


def test_explorer_charts_follow_the_choice(built: Built) -> None:
    _, _, availability = built
    explorer = AvailabilityExplorer(availability, sample=20, seed=5)
    spec = explorer.chart.to_dict()
    assert spec["title"] == f"Available {explorer.resource.value} windows, one line per account"
    ids = {r["id"] for r in _values(spec)}
    assert ids == set(explorer.chart_data["account"].astype(str))
    explorer.resource.value = "activities"
    assert explorer.chart.to_dict()["title"].startswith("Available activities windows")
    profiles = availability[(availability["resource"].astype(str) == "profiles").to_numpy()]
    none = AvailabilityExplorer(profiles)  # no event windows: no chart, and it says why
    assert none.chart is None and none._chart.layout.display == "none"
    assert "No resource has event windows to draw" in none.message


def test_an_explorer_chart_is_tweaked_and_saved_offline(built: Built, tmp_path: Any) -> None:
    _, accounts, _ = built
    chart = ConnectionExplorer(accounts).chart.properties(width=900)
    chart.save(tmp_path / "chart.html", inline=True)
    chart.save(tmp_path / "chart.svg")
    chart.save(tmp_path / "chart.png", scale_factor=2)
    page = (tmp_path / "chart.html").read_text()
    assert external_references(page) == [] and "cdn." not in page.lower()
    assert (tmp_path / "chart.svg").read_text().lstrip().startswith("<svg")
    png = (tmp_path / "chart.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(png[16:20], "big") > 2 * 900  # 900 wide, drawn at 2x
