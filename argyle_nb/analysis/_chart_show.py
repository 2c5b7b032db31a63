"""How a chart is shown, offline everywhere: live in JupyterLab, inline SVG in a page.

Drawing the first chart registers Altair's renderer ``"argyle_nb"`` and enables it,
unless another than Altair's default was chosen (``alt.renderers.enable(...)`` wins). It
shows a chart as

* in a Jupyter kernel, the live chart (hover, clicks): an :class:`altair.JupyterChart`
  whose JavaScript comes from vl-convert, not a CDN (:func:`jupyter_chart`, the same
  widget the explorers show charts in);
* beside it, for a static page (``argyle-nb report``, nbconvert), :func:`static_html`:
  the SVG drawn by vl-convert and the spec, which the page's one inline Vega makes live.

Altair's own default would load Vega from a CDN.

Examples:
    >>> EMBED_OPTIONS["renderer"]
    'svg'
"""

from __future__ import annotations

import functools
import sys
from typing import Any

from argyle_nb._html import escape, script_json

#: The name of the offline renderer registered with Altair.
RENDERER = "argyle_nb"
#: How every chart is embedded live: as SVG (sharp on high-DPI screens), with the export
#: menu (PNG / SVG, drawn in the browser) and nothing that opens a web site.
EMBED_OPTIONS: dict[str, Any] = {
    "renderer": "svg",
    "actions": {"export": True, "source": False, "compiled": False, "editor": False},
}


def use_offline_renderer(altair: Any) -> None:
    """Register the renderer (once) and enable it if Altair's default is on."""
    _registered(altair)


@functools.cache  # once a process: asking Altair for its renderers reads every entry point
def _registered(altair: Any) -> None:
    if RENDERER not in altair.renderers.names():
        altair.renderers.register(RENDERER, _offline_bundle)
        if altair.renderers.active == "default":
            altair.renderers.enable(RENDERER)


def _in_kernel() -> bool:
    """Whether a Jupyter kernel runs this code (a widget can be shown)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


def _offline_bundle(spec: dict[str, Any], **_: Any) -> dict[str, Any]:
    """What a notebook shows of a chart: live in a kernel, :func:`static_html` for a page."""
    title = spec.get("title", "")
    text = title.get("text", "") if isinstance(title, dict) else str(title)
    bundle: dict[str, Any] = {"text/html": static_html(spec), "text/plain": f"<chart: {text}>"}
    if _in_kernel():
        import altair

        kind = altair.LayerChart if "layer" in spec else altair.Chart
        view = jupyter_chart()
        show_in(view, kind.from_dict(spec, validate=False))  # Altair validated it
        live = view._repr_mimebundle_()
        data = live[0] if isinstance(live, tuple) else live
        bundle.update({k: v for k, v in data.items() if k != "text/plain"})
    return bundle


def jupyter_chart(chart: Any | None = None) -> Any:
    """An :class:`altair.JupyterChart` of ``chart`` whose JavaScript needs no network."""
    import altair

    _offline()
    # No chart yet: one of no data, which draws no mark (a bare Chart() draws one point).
    empty = altair.Chart({"values": []}).mark_point()
    return altair.JupyterChart(chart or empty, embed_options=EMBED_OPTIONS)


def show_in(view: Any, chart: Any) -> None:
    """Show ``chart`` in the JupyterChart ``view``, its spec not validated once more.

    A JupyterChart validates the whole spec of each chart it takes (jsonschema: a sixth
    of a second for a time-to-connect curve, a tenth of an explorer's reaction on a
    million users). The analyses' charts are made by the same code every time, validated
    by its tests, and again whenever saved; ``chart`` itself is left as it was (its own
    ``to_dict`` still validates).
    """
    made = type(chart).to_dict

    def unvalidated(*args: Any, **kwargs: Any) -> Any:
        return made(chart, *args, **{**kwargs, "validate": False})

    # An Altair object keeps what is set on it as a property of its spec: the method is
    # shadowed on this instance alone, for this one assignment.
    object.__setattr__(chart, "to_dict", unvalidated)
    try:
        view.chart = chart
    finally:
        object.__delattr__(chart, "to_dict")


@functools.cache
def _offline() -> None:
    """Load the widget's JavaScript from vl-convert (once: bundling takes about 2 s)."""
    import altair

    altair.JupyterChart.enable_offline()


def static_html(spec: dict[str, Any]) -> str:
    """A chart's ``spec`` for a page: its SVG (drawn by vl-convert) and the spec itself.

    One inline Vega on the page (``argyle_nb.widgets._charts.vega_script``, which a
    report adds) replaces the SVG by the live chart (hover, click); the spec is inlined by
    :func:`~argyle_nb._html.script_json`, so no value can end the script early.
    """
    import vl_convert

    svg = vl_convert.vegalite_to_svg(spec)
    data = script_json(spec)
    return (
        '<div class="argyle-vega">'
        f'<div class="argyle-vega-view">{svg}</div>'
        f'<script type="application/json">{data}</script>'
        f"<noscript>{escape('(a static chart: open the page with scripts on to hover)')}"
        "</noscript></div>"
    )
