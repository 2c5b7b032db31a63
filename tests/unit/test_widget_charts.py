"""The explorers' interactive charts: the analyses' own charts (test_analysis_charts.py
checks what they draw), drawn as SVG, a click that filters, offline in Lab and in a page."""

from __future__ import annotations

from typing import Any

import orjson
import pandas as pd
import pytest

from argyle_nb import analysis
from argyle_nb.report import external_references
from argyle_nb.widgets import AvailabilityExplorer, ConnectionExplorer, MetadataExplorer
from argyle_nb.widgets._charts import EMBED_OPTIONS, chart_html, vega_script
from tests.specs import spec_rows
from tests.synthetic import Built, synthetic_frames


@pytest.fixture(scope="module")
def built() -> Built:
    return synthetic_frames()


def _layers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return spec.get("layer", [spec])


def _values(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of the spec's layers' own data, or else of its top level."""
    rows = [row for layer in _layers(spec) for row in spec_rows(spec, layer)]
    return rows or spec_rows(spec)


def test_each_explorer_shows_the_analysis_chart(built: Built) -> None:
    """One chart per analysis: the explorer's is the plot_* of the data it draws."""
    users, accounts, availability = built
    meta = MetadataExplorer(users, accounts, key="customer group")
    assert meta.chart.to_dict() == analysis.plot_metadata_groups(meta.chart_data).to_dict()
    connection = ConnectionExplorer(accounts)
    drawn = analysis.plot_connection_status_distribution(connection.chart_data)
    assert connection.chart.to_dict() == drawn.to_dict()
    timeline = AvailabilityExplorer(availability, sample=20, seed=5)
    title = f"Available {timeline.resource.value} windows, one line per account"
    drawn = analysis.plot_availability_timeline(timeline.chart_data, title=title)
    assert timeline.chart.to_dict() == drawn.to_dict()


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
    page = chart_html(analysis.plot_connection_status_distribution(dist, title="t"))
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


def test_a_chart_shown_is_not_validated_again_and_stays_as_it_was(built: Built) -> None:
    import altair as alt

    from argyle_nb.widgets._charts import jupyter_chart, show_in

    users, accounts, _ = built
    chart = analysis.plot_metadata_groups(
        analysis.metadata_groups(users, accounts, "customer group")
    )
    view = jupyter_chart()
    show_in(view, chart)
    assert view.spec == chart.to_dict()  # the same spec, validated here
    assert view._selection_types == {"cohort": "point"}  # the click still reaches Python
    # A spec Altair would refuse is shown as it is; the chart's own to_dict still refuses.
    wrong = alt.Chart({"values": [{"x": 1}]}).mark_point().encode(x="x:Q")
    wrong["width"] = "very wide"
    shown = jupyter_chart()
    show_in(shown, wrong)
    assert shown.spec["width"] == "very wide"
    with pytest.raises(alt.utils.schemapi.SchemaValidationError):
        wrong.to_dict()
