"""A report opened from file:// in Chromium, network cut: everything shows, nothing fetched."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from argyle_nb.cli import main
from tests.browser.lab import CHROMIUM_FLAGS, hover_for_tooltip
from tests.notebook_outputs import NOTEBOOKS

NOTEBOOK = "03_connection_health.ipynb"
USERS = 40


@pytest.mark.browser
def test_report_renders_offline(
    chromium: Path, artifacts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    for name in ("ARGYLE_API_KEY_ID", "ARGYLE_API_KEY_SECRET", "ARGYLE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)  # the embedded sandbox, in the kernel too
    out = tmp_path / "reports"
    argv = ["report", str(NOTEBOOKS / NOTEBOOK), "--users", str(USERS), "--out", str(out)]
    assert main([*argv, "--date", "2026-01-02"]) == 0
    report = out / "2026-01-02" / NOTEBOOK.replace(".ipynb", ".html")

    attempted: list[str] = []  # every request that would leave the file system

    def route(r: Any) -> None:
        if r.request.url.startswith("file:"):
            r.continue_()
        else:
            attempted.append(r.request.url)
            r.abort()

    requested: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        context.route("**/*", route)
        page = context.new_page()
        page.on("request", lambda request: requested.append(request.url))
        try:
            page.set_default_timeout(30_000)
            page.goto(report.as_uri(), wait_until="load")
            page.wait_for_load_state("networkidle")

            # Tables: the printed frames and the DataFrame HTML of weekly.tail().
            frames = page.locator(".jp-OutputArea-output table")
            assert frames.count() >= 1
            assert frames.first.is_visible()
            # The notebook's plot_* charts (three, beside the explorer's two): inline SVG
            # made live by the page's one inline Vega.
            charts = page.locator(".jp-OutputArea-output .argyle-vega-view.vega-embed svg.marks")
            playwright.expect(charts).to_have_count(5)
            charts.first.scroll_into_view_if_needed()
            assert charts.first.is_visible()
            # The explorer's static snapshot: message, table and chart, not a widget.
            snapshot = page.locator(".argyle-explorer-snapshot")
            assert snapshot.count() == 1
            snapshot.scroll_into_view_if_needed()
            assert snapshot.is_visible()
            playwright.expect(snapshot.locator(".argyle-message")).to_contain_text(
                "accounts, by link_item."
            )
            assert snapshot.locator(".argyle-table table").first.is_visible()
            # Its charts came live from the inline Vega (no network): hovering a bar shows
            # that bar's exact numbers.
            live = snapshot.locator(".argyle-vega-view.vega-embed svg.marks")
            playwright.expect(live).to_have_count(2)
            bar = live.first.locator(".mark-rect path").first
            bar.scroll_into_view_if_needed()
            tooltip = hover_for_tooltip(page, bar)
            for field in ("accounts", "share", "95% interval"):
                playwright.expect(tooltip).to_contain_text(field)
            assert page.locator(".jupyter-widgets, .widget-area").count() == 0
            page.screenshot(path=str(artifacts / "report_connection_health.png"), full_page=True)
        except Exception:
            page.screenshot(path=str(artifacts / "report_connection_health_failure.png"))
            raise
        finally:
            browser.close()

    assert attempted == [], f"network requests attempted: {attempted}"
    assert [url for url in requested if not url.startswith(("file:", "data:"))] == []
    assert any(url == report.as_uri() for url in requested)
    assert os.path.getsize(report) > 0
