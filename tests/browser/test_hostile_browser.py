"""Hostile data in a real browser: the explorers in JupyterLab and a report page, built on
metadata, link items, error messages and statuses that carry scripts, run none of them.

Each payload would set ``window.__pwned`` and write :data:`MARK` to the console if it ran:
an ``<img onerror>`` (runs when set with innerHTML, as a widget's HTML is), an
``<svg onload>``, a ``</script><script>`` that would end an inline script, and a comment
opener ``<!--<script>`` that would swallow the rest of a page's inline JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from argyle_nb.cli import main
from tests.browser.lab import CHROMIUM_FLAGS, hover_for_tooltip, jupyterlab
from tests.browser.test_explorers_browser import _run_all, _write_notebook
from tests.hostile_records import hostile_records

MARK = "PWNED-7f3a"
RUN = f"window.__pwned=1;console.log('{MARK}')"
KEY = f'<img src=x onerror="{RUN}">'
VALUE = f"</script><script>{RUN}</script><!--<script>\u2028"
LINK = f'<svg/onload="{RUN}">\'"'
CODE = f"<img src=y onerror={RUN.replace(' ', '')}>"
MESSAGE = f"<!--<script>{RUN}</script>-->"
STATUS = f'<img src=z onerror="{RUN}">'


def _sources() -> list[str]:
    users, accounts = hostile_records(KEY, VALUE, LINK, CODE, MESSAGE, STATUS)
    data = json.dumps({"users": users, "accounts": accounts})
    return [
        "import json\n"
        "import argyle_nb.frames as af\n"
        "from argyle_nb.analysis import compare_cohorts\n"
        "from argyle_nb.widgets import AvailabilityExplorer, ConnectionExplorer, "
        "MetadataExplorer\n"
        f"data = json.loads({data!r})\n"
        "users = af.users_frame(data['users'])\n"
        "accounts, availability = af.accounts_and_availability(data['accounts'])\n"
        f"KEY = {KEY!r}",
        "MetadataExplorer(users, accounts, key=KEY)",
        "ConnectionExplorer(accounts)",
        "AvailabilityExplorer(availability, resource='payouts')",
        "compare_cohorts(users, accounts, KEY)",
    ]


def _watch(page: Any) -> list[str]:
    """The console lines of ``page`` that carry :data:`MARK`."""
    seen: list[str] = []
    page.on("console", lambda message: seen.append(message.text) if MARK in message.text else 0)
    return seen


def _assert_nothing_ran(page: Any, seen: list[str]) -> None:
    """Nothing ran; then the control: the key's payload set raw with innerHTML does run."""
    assert page.evaluate("() => typeof window.__pwned") == "undefined"
    assert seen == []
    page.evaluate(
        "key => { document.body.appendChild(document.createElement('div')).innerHTML = key; }", KEY
    )
    page.wait_for_function("() => window.__pwned === 1", timeout=10_000)
    assert seen == [MARK]


@pytest.mark.browser
def test_hostile_data_runs_nothing_in_jupyterlab(
    chromium: Path, artifacts: Path, tmp_path: Path
) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    root, home = tmp_path / "root", tmp_path / "home"
    root.mkdir()
    home.mkdir()
    _write_notebook(root / "hostile.ipynb", _sources())
    env = {"XDG_CACHE_HOME": str(home / "cache")}
    with jupyterlab(root, home, env) as url, playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        seen = _watch(page)
        try:
            page.set_default_timeout(60_000)
            panel = _run_all(page, f"{url}/lab/tree/hostile.ipynb?reset")
            cells = panel.locator(".jp-CodeCell")
            metadata = cells.nth(1)
            table = metadata.locator(".argyle-table").first
            table.wait_for(state="visible", timeout=90_000)
            # The data is shown, as text: the key in the header, its values in the rows.
            heading = KEY.replace("_", " ")  # a header in words, as every table's
            playwright.expect(table.locator("thead")).to_contain_text(heading, timeout=30_000)
            playwright.expect(table.locator("tbody")).to_contain_text("</script><script>")
            # Hover a cohort: its tooltip shows the hostile key and value as text.
            points = metadata.locator(".vega-embed svg .mark-symbol path")
            playwright.expect(points).to_have_count(2, timeout=30_000)
            tooltip = hover_for_tooltip(page, points.first)
            playwright.expect(tooltip).to_contain_text("onerror", timeout=10_000)
            # Click it: the group's users are listed (their metadata in a table).
            points.first.click(force=True)
            playwright.expect(metadata).to_contain_text("users in", timeout=30_000)
            connection = cells.nth(2)
            errors = connection.locator(".argyle-table").nth(1)
            playwright.expect(errors).to_contain_text(CODE, timeout=30_000)
            bars = connection.locator(".vega-embed svg .mark-rect path")
            playwright.expect(bars).not_to_have_count(0, timeout=30_000)
            wide = bars.evaluate_all("ps => ps.findIndex(p => p.getBBox().width > 1)")
            bars.nth(wide).scroll_into_view_if_needed()
            bars.nth(wide).hover(force=True)
            playwright.expect(tooltip).to_contain_text("<svg/onload", timeout=10_000)
            availability = cells.nth(3).locator(".argyle-message").first
            playwright.expect(availability).to_contain_text("payouts", timeout=30_000)
            comparison = cells.nth(4).locator(".jp-OutputArea-output")
            playwright.expect(comparison).to_contain_text(
                "Baseline </script><script>window", timeout=30_000
            )
            page.wait_for_timeout(2_000)  # an image that fails to load fires its onerror
            _assert_nothing_ran(page, seen)
            page.mouse.move(0, 0)
            page.screenshot(path=str(artifacts / "hostile_jupyterlab.png"), full_page=True)
        except Exception:
            page.screenshot(path=str(artifacts / "hostile_jupyterlab_failure.png"))
            raise
        finally:
            browser.close()


@pytest.mark.browser
def test_hostile_data_runs_nothing_in_a_report(
    chromium: Path, artifacts: Path, tmp_path: Path
) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    notebook = tmp_path / "hostile.ipynb"
    _write_notebook(notebook, _sources())
    out = tmp_path / "reports"
    assert main(["report", str(notebook), "--out", str(out), "--date", "2026-01-02"]) == 0
    report = out / "2026-01-02" / "hostile.html"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        seen = _watch(page)
        try:
            page.set_default_timeout(30_000)
            page.goto(report.as_uri(), wait_until="load")
            # Every chart came live: no value ended the inline JSON or the Vega script early.
            charts = page.locator(".argyle-vega")
            live = page.locator(".argyle-vega-view.vega-embed svg.marks")
            assert charts.count() >= 3
            playwright.expect(live).to_have_count(charts.count())
            snapshot = page.locator(".argyle-explorer-snapshot").first
            heading = KEY.replace("_", " ")  # a header in words, as every table's
            playwright.expect(snapshot.locator(".argyle-table").first).to_contain_text(heading)
            point = snapshot.locator(".mark-symbol path").first
            point.scroll_into_view_if_needed()
            tooltip = hover_for_tooltip(page, point)
            playwright.expect(tooltip).to_contain_text("onerror")
            # The cohort comparison, and the page's end, are there: nothing was swallowed.
            comparison = page.locator(".jp-OutputArea-output").last
            playwright.expect(comparison).to_contain_text("Baseline </script><script>window")
            page.wait_for_timeout(2_000)
            _assert_nothing_ran(page, seen)
            page.mouse.move(0, 0)
            page.screenshot(path=str(artifacts / "hostile_report.png"), full_page=True)
        except Exception:
            page.screenshot(path=str(artifacts / "hostile_report_failure.png"))
            raise
        finally:
            browser.close()
