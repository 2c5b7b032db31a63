"""What every chart of :mod:`argyle_nb.analysis` shares: sizes, labels, titles, the empty chart.

The ``plot_*`` functions draw with Altair (Vega-Lite): hover gives the exact numbers,
and ``chart.save("chart.png")`` (``.svg``, ``.pdf``, ``.html``) renders offline through
vl-convert. Altair is imported inside the functions, so importing the analyses does not
load it.

A chart shown in a notebook needs no network either (:mod:`._chart_show`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec

import pandas as pd

from argyle_nb.palette import NEUTRAL

P = ParamSpec("P")

#: Width of the data area of every chart, in CSS pixels (the legend stands right of it).
WIDTH = 520
#: Height of one row (a cohort, a group, an account) in CSS pixels.
ROW = 22
#: The name of the click selection of :func:`~argyle_nb.analysis.plot_metadata_groups`
#: (a cohort) and of the legend selection of the status charts.
COHORT_SELECTION = "cohort"
STATUS_SELECTION = "status"
#: The name of the click selection of :func:`~argyle_nb.analysis.plot_transitions` (a
#: cell: its ``from`` and ``to`` states).
TRANSITION_SELECTION = "transition"


def alt() -> Any:
    """Altair, imported when a chart is drawn (with the offline renderer registered)."""
    import altair

    from argyle_nb.analysis._chart_show import use_offline_renderer

    use_offline_renderer(altair)
    return altair


def built(build: Callable[P, Any]) -> Callable[P, Any]:
    """Build the chart without Altair validating each part as it is made (a third of a
    second per chart); the whole spec is still validated once, when it is shown or saved."""

    @functools.wraps(build)
    def quick(*args: P.args, **kwargs: P.kwargs) -> Any:
        from altair.utils.schemapi import debug_mode

        with debug_mode(False):
            return build(*args, **kwargs)

    return quick


def when(channel: Any, test: Any, then: Any, otherwise: Any) -> Any:
    """The ``channel`` (an Altair channel class, such as ``alt.Opacity``) that is ``then``
    where ``test`` holds (a selection, or a Vega expression as text), ``otherwise`` else.

    The spec ``alt.condition`` gives, built typed: Altair resolves ``alt.condition``'s
    dict against its schema, 7 ms a channel (a tenth of a chart's drawing).
    """
    condition = {"test": test} if isinstance(test, str) else {"param": test.name}
    return channel(condition={**condition, "value": then}, value=otherwise)


def number(value: Any) -> float | None:
    """A float for the chart's data, ``None`` (no mark) for a missing value."""
    return None if pd.isna(value) else float(value)


def pct(value: Any) -> str:
    """A share as a percentage to one decimal, a dash when missing."""
    return "—" if pd.isna(value) else f"{float(value):.1%}"


def interval(low: Any, high: Any) -> str:
    """A 95% interval as ``12.0% – 30.5%``, a dash when missing."""
    if pd.isna(low) or pd.isna(high):
        return "—"
    return f"{float(low):.1%} – {float(high):.1%}"


def label(index: object) -> str:
    """A row label: the values of a (Multi)Index entry joined, days as ``YYYY-MM-DD``."""
    values = index if isinstance(index, tuple) else (index,)
    return " / ".join(
        v.strftime("%Y-%m-%d") if isinstance(v, pd.Timestamp) else str(v) for v in values
    )


def title_text(text: str) -> str:
    """An axis or tooltip title from the data: Vega-Lite compiles these into expressions,
    whose parser rejects a raw line or paragraph separator (U+2028, U+2029)."""
    return text.replace("\u2028", " ").replace("\u2029", " ")


def in_row_order() -> Any:
    """Sort a band axis by the ``row`` field of the data (the first row of each value comes
    first): a list of the values themselves would be compiled into an expression, which a
    line separator in a value breaks."""
    return alt().EncodingSortField(field="row", op="min", order="ascending")


def height(rows: int, row: int = ROW) -> int:
    """The height of a chart of ``rows`` rows (never less than three)."""
    return max(row * rows, 3 * ROW)


def finish(chart: Any, title: str, *, rows: list[dict[str, Any]], legend: str = "right") -> Any:
    """Title, font sizes and the legend outside the data, the same for every chart; and
    the chart's data, ``rows``, set last: each of Altair's steps (``properties``, each
    ``configure_*``) copies the whole chart deeply, its data with it (a tenth of a second
    for a few hundred rows), so the chart is built without them."""
    a = alt()
    done = chart.properties(
        title=title_text(title),
        config=a.Config(
            legend=a.LegendConfig(
                orient=legend, titleFontSize=12, labelFontSize=12, labelLimit=260, titleLimit=320
            ),
            axis=a.AxisConfig(labelFontSize=12, titleFontSize=12, labelLimit=260),
            title=a.TitleConfig(fontSize=14, anchor="start"),
            view=a.ViewConfig(stroke=None),
        ),
    )
    done.data = a.InlineData(values=rows)
    return done


def share_axis(field: str, title: str, *, y: bool = False, top: float = 1.0) -> Any:
    """A 0 to ``top`` share axis in percentages, with a light grid."""
    a = alt()
    channel = a.Y if y else a.X
    return channel(
        field,
        title=title,
        scale=a.Scale(domain=[0, top]),
        axis=a.Axis(format="%", grid=True, tickCount=5 if not y else 10),
    )


@built
def empty_chart(title: str, message: str) -> Any:
    """A chart with nothing to draw that says why (``message``, centred in grey)."""
    a = alt()
    chart = (
        a.Chart()
        .mark_text(color=NEUTRAL, fontSize=14)
        .encode(text="message:N")
        .properties(width=WIDTH, height=3 * ROW)
    )
    return finish(chart, title, rows=[{"message": title_text(message)}])
