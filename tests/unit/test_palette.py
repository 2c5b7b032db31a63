"""One visual language: every plot colours a status by its meaning and keeps its legend off
the data (the explorers' interactive charts: test_widget_charts.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import matplotlib
import orjson
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.colors import to_hex

from argyle_nb import analysis, frames, palette

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def built() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    from argyle_nb.sandbox.synth import generate

    pairs = list(generate(600, seed=5, now=datetime(2026, 11, 1, tzinfo=UTC)))
    users = frames.users_frame(orjson.dumps([u for u, _ in pairs]))
    accounts, availability = frames.accounts_and_availability(
        orjson.dumps([a for _, accounts in pairs for a in accounts])
    )
    return users, accounts, availability


def test_the_palette_is_okabe_ito_and_means_something() -> None:
    assert set(palette.__all__) == {
        "COHORT_COLOURS",
        "FAILED",
        "NEUTRAL",
        "OKABE_ITO",
        "STATUS_COLOURS",
        "UNDER_WAY",
        "WORKED",
        "cohort_colours",
        "status_colour",
    }
    # Okabe & Ito (2008), "Color Universal Design", the eight colours by their RGB.
    assert {to_hex(c) for c in palette.OKABE_ITO.values()} == {
        "#000000",
        "#e69f00",
        "#56b4e9",
        "#009e73",
        "#f0e442",
        "#0072b2",
        "#d55e00",
        "#cc79a7",
    }
    for worked in ("connected", "synced"):
        assert palette.status_colour(worked) == palette.OKABE_ITO["bluish green"]
    for failed in ("error", "sync_failed"):
        assert palette.status_colour(failed) == palette.OKABE_ITO["vermillion"]
    for going in ("connecting", "in_progress"):
        assert palette.status_colour(going) == palette.OKABE_ITO["orange"]
    assert palette.status_colour("a status from the future") == palette.NEUTRAL
    # Cohorts do not borrow the colours of a status until they must.
    first = palette.cohort_colours(6)
    assert palette.WORKED not in first and palette.FAILED not in first
    assert len(set(first)) == 6


def _bar_colours(ax: Axes) -> dict[str, str]:
    """Legend label -> face colour of the bars of that series."""
    out = {}
    for container in ax.containers:
        label = str(container.get_label())
        colours = {to_hex(patch.get_facecolor()) for patch in container.patches}
        assert len(colours) == 1, (label, colours)
        out[label] = colours.pop()
    return out


def test_status_bars_are_coloured_by_meaning(
    built: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    _, accounts, availability = built
    for ax in (
        analysis.plot_connection_status_distribution(
            analysis.connection_status_distribution(accounts, by="link_item")
        ),
        analysis.plot_connection_status_distribution(
            analysis.connection_status_distribution(accounts, by="month")
        ),
        analysis.plot_availability_windows(analysis.availability_windows(availability)),
    ):
        colours = _bar_colours(ax)
        assert colours, "no bars"
        for status, colour in colours.items():
            assert colour == to_hex(palette.status_colour(status)), status
    timeline = analysis.availability_timeline(availability, sample=None)
    ax = analysis.plot_availability_timeline(timeline)
    lines = ax.collections[0]
    drawn = [to_hex(c) for c in lines.get_colors()]
    assert drawn == [to_hex(palette.status_colour(s)) for s in timeline["status"]]
    legend = {t.get_text(): to_hex(h.get_color()) for t, h in _legend_items(ax)}
    assert legend["synced"] == to_hex(palette.WORKED)
    import matplotlib.pyplot as plt

    plt.close("all")


def _legend_items(ax: Axes) -> list[tuple[Any, Any]]:
    legend = ax.get_legend()
    assert legend is not None
    return list(zip(legend.get_texts(), legend.legend_handles, strict=True))


PLOTS: dict[str, Callable[[tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]], Axes]] = {
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
        analysis.availability_timeline(b[2])
    ),
    "funnel": lambda b: analysis.plot_cohort_funnel(
        analysis.cohort_funnel(b[0], b[1], b[2], "customer group")
    ),
    "time to connect": lambda b: analysis.plot_time_to_connect(
        analysis.time_to_connect_curves(b[0], b[1], "customer group")
    ),
}


@pytest.mark.parametrize("name", sorted(PLOTS))
def test_legends_stay_off_the_data(
    name: str, built: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]
) -> None:
    ax = PLOTS[name](built)
    figure = ax.figure
    figure.canvas.draw()  # type: ignore[union-attr]
    legend = ax.get_legend()
    assert legend is not None, name
    box = legend.get_window_extent()
    data = ax.get_window_extent()
    assert not box.overlaps(data), f"{name}: the legend covers the data area"
    import matplotlib.pyplot as plt

    plt.close("all")


def test_titles_and_axes_are_in_words(
    built: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    _, accounts, _ = built
    ax = analysis.plot_connection_status_distribution(
        analysis.connection_status_distribution(accounts, by="link_item")
    )
    assert ax.get_title() == "Connection status of accounts by link item"
    assert ax.get_ylabel() == "link item"
    weekly = analysis.plot_connection_status_distribution(
        analysis.connection_status_distribution(accounts, by="week")
    )
    assert weekly.get_ylabel() == "week of creation (from Monday)"
    import matplotlib.pyplot as plt

    plt.close("all")
