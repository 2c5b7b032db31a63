"""One visual language: colours that mean something, the same for everyone (the charts
that use them: test_analysis_charts.py)."""

from __future__ import annotations

from argyle_nb import palette


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
    assert {c.lower() for c in palette.OKABE_ITO.values()} == {
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
