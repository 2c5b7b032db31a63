"""A ``plot_*`` chart in a real Jupyter kernel: shown live (the offline Altair widget the
explorers use) and, for a static page, as inline SVG beside its spec; nothing from a CDN."""

from __future__ import annotations

from typing import Any

import nbformat
from nbconvert.preprocessors import ExecutePreprocessor

from argyle_nb.report import external_references

SETUP = """
import orjson
from datetime import UTC, datetime
from argyle_nb import analysis, frames
from argyle_nb.sandbox.synth import generate
pairs = list(generate(200, seed=5, now=datetime(2026, 11, 1, tzinfo=UTC)))
accounts = frames.accounts_frame(orjson.dumps([a for _, accs in pairs for a in accs]))
"""
PLOT = "analysis.plot_connection_status_distribution(analysis.connection_status_distribution(accounts, by='link_item'))"  # noqa: E501


def test_a_plot_in_a_kernel_is_live_and_has_a_static_form() -> None:
    v4: Any = nbformat.v4  # nbformat is untyped
    nb = v4.new_notebook()
    nb.cells = [v4.new_code_cell(SETUP), v4.new_code_cell(PLOT)]
    ExecutePreprocessor(timeout=180, kernel_name="python3").preprocess(nb, {})
    [output] = nb.cells[1].outputs
    data = output["data"]
    # Live in JupyterLab: the widget (its JavaScript from vl-convert, not a CDN).
    assert "application/vnd.jupyter.widget-view+json" in data
    # For a page: the SVG and the spec, made live by a report's one inline Vega.
    html = data["text/html"]
    assert html.startswith('<div class="argyle-vega">') and html.count("<svg") == 1
    assert external_references(html) == [] and "cdn." not in html.lower()
    assert data["text/plain"] == "<chart: Connection status of accounts by link item>"
