"""The explorers' charts in a widget and in a static page, offline.

The charts themselves are the analyses' (:func:`~argyle_nb.analysis.plot_metadata_groups`,
:func:`~argyle_nb.analysis.plot_connection_status_distribution`,
:func:`~argyle_nb.analysis.plot_availability_timeline`...): one chart per analysis, the
same in a notebook, an explorer and a report. Here they are only embedded.

In JupyterLab the explorers show them in :class:`altair.JupyterChart` (a widget whose
JavaScript comes from vl-convert, not a CDN), which reports clicks back to Python; in a
static page (``argyle-nb report``) :func:`chart_html` gives the chart as inline SVG,
made live by one inline copy of Vega (:func:`vega_script`).

Examples:
    >>> EMBED_OPTIONS["renderer"]
    'svg'
"""

from __future__ import annotations

import functools
import json
from typing import Any

from argyle_nb.analysis._chart_base import COHORT_SELECTION, TRANSITION_SELECTION
from argyle_nb.analysis._chart_show import EMBED_OPTIONS, jupyter_chart, show_in, static_html

__all__ = [
    "COHORT_SELECTION",
    "EMBED_OPTIONS",
    "TRANSITION_SELECTION",
    "chart_html",
    "jupyter_chart",
    "show_in",
    "vega_script",
]


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
    end the script early. The same HTML a notebook shows of a ``plot_*`` chart.
    """
    return static_html(chart.to_dict())
