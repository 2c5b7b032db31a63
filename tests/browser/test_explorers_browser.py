"""The explorers in a real JupyterLab: run the notebook, change a selection in each,
see it react, and leave a screenshot of each under ``test-artifacts/`` to look at."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import nbformat
import pytest

from argyle_nb.client import ArgyleClient
from argyle_nb.sandbox import start
from tests.browser.lab import CHROMIUM_FLAGS, hover_for_tooltip, jupyterlab

NOTEBOOK = "explorer.ipynb"
SOURCE = [
    "import argyle_nb\n"
    "import argyle_nb.widgets\n"
    "client = argyle_nb.connect()\n"
    "users = client.users_frame()\n"
    "accounts = client.accounts_frame()\n"
    "availability = client.availability_frame()",
    "argyle_nb.widgets.MetadataExplorer(users, accounts)",
    "argyle_nb.widgets.ConnectionExplorer(accounts)",
    "argyle_nb.widgets.AvailabilityExplorer(availability)",
    "argyle_nb.widgets.UserInspector(client, users=users)",
]


@pytest.mark.browser
def test_the_explorers_in_jupyterlab(chromium: Path, artifacts: Path, tmp_path: Path) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    root, home = tmp_path / "root", tmp_path / "home"
    root.mkdir()
    home.mkdir()
    _write_notebook(root / NOTEBOOK, SOURCE)

    with start(db=tmp_path / "sandbox.sqlite", users=200, seed=3) as sandbox:
        client = ArgyleClient(
            sandbox.key_id, sandbox.key_secret, base_url=sandbox.base_url, cache="memory"
        )
        users = client.users_frame(progress=False)
        client.close()
        # The keys the explorer offers, by users carrying them (pandas, not the analysis).
        carried = {
            column.removeprefix("meta."): int(users[column].notna().sum())
            for column in users.columns
            if column.startswith("meta.")
        }
        first = max(carried, key=lambda k: carried[k])
        other = next(k for k in sorted(carried, key=lambda k: -carried[k]) if k != first)
        other_groups = sorted(str(v) for v in users[f"meta.{other}"].dropna().unique())
        assert other_groups
        user_id = str(users["id"].iloc[len(users) // 2])

        env = {
            "ARGYLE_BASE_URL": sandbox.base_url,
            "ARGYLE_API_KEY_ID": sandbox.key_id,
            "ARGYLE_API_KEY_SECRET": sandbox.key_secret,
            "XDG_CACHE_HOME": str(home / "cache"),
        }
        began = time.monotonic()
        with jupyterlab(root, home, env) as url, playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            try:
                page.set_default_timeout(60_000)
                panel = _run_all(page, f"{url}/lab/tree/{NOTEBOOK}?reset")

                cells = panel.locator(".jp-CodeCell")
                metadata = cells.nth(1)
                table = metadata.locator(".argyle-table").first
                table.wait_for(state="visible", timeout=90_000)
                message = metadata.locator(".argyle-message").first
                playwright.expect(message).to_contain_text(repr(first), timeout=30_000)
                playwright.expect(table.locator("thead")).to_contain_text(first, timeout=10_000)

                select = metadata.locator(".widget-dropdown select").first
                assert select.input_value(timeout=10_000) == first
                select.select_option(other, timeout=10_000)

                playwright.expect(message).to_contain_text(repr(other), timeout=30_000)
                playwright.expect(table.locator("thead")).to_contain_text(other, timeout=30_000)
                shown = table.locator("tbody th").all_inner_texts()
                assert sorted(g for g in shown if g != "(missing)") == other_groups
                # The interactive chart, drawn offline: hover a cohort for its numbers,
                # click it to list its users.
                points = metadata.locator(".vega-embed svg .mark-symbol path")
                playwright.expect(points).to_have_count(len(shown), timeout=30_000)
                tooltip = hover_for_tooltip(page, points.first)
                for field in ("users", "with an account connected", "95% interval"):
                    playwright.expect(tooltip).to_contain_text(field)
                cohort = tooltip.locator("tr").first.locator("td.value").inner_text()
                points.first.click(force=True)
                group = metadata.locator('.widget-dropdown:has(label:text-is("Group")) select')
                playwright.expect(group).to_have_value(cohort, timeout=30_000)
                playwright.expect(metadata).to_contain_text(f"users in {cohort!r}")
                # The provenance line: where the frames came from (the sandbox's answers
                # say so: the kernel only has its URL and keys) and how old they are.
                source = panel.locator(".argyle-source").first
                playwright.expect(source).to_contain_text(
                    f"users: {len(users):,} from the embedded sandbox", timeout=10_000
                )
                playwright.expect(source).to_contain_text(" old", timeout=10_000)
                metadata.screenshot(path=str(artifacts / "metadata_explorer.png"))

                # ConnectionExplorer: group by source instead of link item.
                connection = cells.nth(2)
                said = connection.locator(".argyle-message").first
                playwright.expect(said).to_contain_text("by link_item", timeout=30_000)
                connection.locator(".widget-dropdown select").first.select_option("source")
                playwright.expect(said).to_contain_text("by source", timeout=30_000)
                rows = connection.locator(".argyle-table").first.locator("tbody th")
                playwright.expect(rows.first).to_have_text("argyle_sandbox", timeout=10_000)
                # Hover a bar for its count, share and interval; click "error" in the
                # legend: the other statuses fade.
                chart = connection.locator(".vega-embed").first
                bars = chart.locator("svg .mark-rect path")
                tooltip = hover_for_tooltip(page, bars.first)
                for field in ("source", "accounts", "share", "95% interval"):
                    playwright.expect(tooltip).to_contain_text(field, timeout=10_000)
                chart.locator(".role-legend-label text", has_text="error").click(force=True)
                faded = chart.locator('svg .mark-rect path[opacity="0.2"]')
                playwright.expect(faded).not_to_have_count(0, timeout=10_000)
                page.mouse.move(0, 0)
                connection.screenshot(path=str(artifacts / "connection_explorer.png"))

                # AvailabilityExplorer: from payouts to activities.
                windows = cells.nth(3)
                said = windows.locator(".argyle-message").first
                playwright.expect(said).to_contain_text("payouts:", timeout=30_000)
                windows.locator(".widget-dropdown select").first.select_option("activities")
                playwright.expect(said).to_contain_text("activities:", timeout=30_000)
                playwright.expect(said).to_contain_text("no event window to draw")
                windows.screenshot(path=str(artifacts / "availability_explorer.png"))

                # UserInspector: find a user by the start of their id.
                inspector = cells.nth(4)
                said = inspector.locator(".argyle-message").first
                search = inspector.locator(".widget-text input").first
                search.fill(user_id[:13])
                playwright.expect(said).to_contain_text(f"User {user_id}:", timeout=30_000)
                chosen = inspector.locator(".widget-dropdown select").first
                assert chosen.input_value(timeout=10_000) == user_id  # the whole id
                inspector.screenshot(path=str(artifacts / "user_inspector.png"))
                page.screenshot(path=str(artifacts / "explorers.png"), full_page=True)
            except Exception:
                page.screenshot(path=str(artifacts / "metadata_explorer_failure.png"))
                raise
            finally:
                browser.close()
        assert time.monotonic() - began < 300


DATASET_NOTEBOOK = "explorer_dataset.ipynb"
DATASET_SOURCE = [
    "import argyle_nb\n"
    "import argyle_nb.widgets\n"
    "client = argyle_nb.connect()\n"
    "ds = client.export('portfolio', progress=False)",
    "argyle_nb.widgets.MetadataExplorer(ds)",
    "argyle_nb.widgets.ConnectionExplorer(ds)",
    "argyle_nb.widgets.AvailabilityExplorer(ds)",
]


@pytest.mark.browser
def test_the_explorers_on_a_dataset_in_jupyterlab(
    chromium: Path, artifacts: Path, tmp_path: Path
) -> None:
    """The explorers given an exported dataset (counted in DuckDB) in a real JupyterLab."""
    playwright = pytest.importorskip("playwright.sync_api")
    root, home = tmp_path / "root", tmp_path / "home"
    root.mkdir()
    home.mkdir()
    _write_notebook(root / DATASET_NOTEBOOK, DATASET_SOURCE)
    with start(db=tmp_path / "sandbox.sqlite", users=600, seed=4) as sandbox:
        client = ArgyleClient(
            sandbox.key_id, sandbox.key_secret, base_url=sandbox.base_url, cache="memory"
        )
        accounts = client.accounts_frame(progress=False)
        client.close()
        env = {
            "ARGYLE_BASE_URL": sandbox.base_url,
            "ARGYLE_API_KEY_ID": sandbox.key_id,
            "ARGYLE_API_KEY_SECRET": sandbox.key_secret,
            "XDG_CACHE_HOME": str(home / "cache"),
        }
        with jupyterlab(root, home, env) as url, playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            try:
                page.set_default_timeout(60_000)
                panel = _run_all(page, f"{url}/lab/tree/{DATASET_NOTEBOOK}?reset")
                cells = panel.locator(".jp-CodeCell")

                metadata = cells.nth(1)
                metadata.locator(".argyle-table").first.wait_for(state="visible", timeout=90_000)
                said = metadata.locator(".argyle-message").first
                playwright.expect(said).to_contain_text("groups of 600 users", timeout=30_000)
                source = metadata.locator(".argyle-source").first
                playwright.expect(source).to_contain_text("(an exported dataset)")
                points = metadata.locator(".vega-embed svg .mark-symbol path")
                playwright.expect(points).not_to_have_count(0, timeout=30_000)
                points.first.click(force=True)
                playwright.expect(metadata).to_contain_text("users in", timeout=30_000)
                page.mouse.move(0, 0)
                metadata.screenshot(path=str(artifacts / "metadata_explorer_dataset.png"))
                # The funnel and the time to connect, each drawn when its tab is chosen.
                tabs = [
                    ("Funnel", "From sign-up to synced", "funnel"),
                    ("Time to connect", "Users connected, by days since sign-up", "waits"),
                ]
                for title, heading, name in tabs:
                    metadata.locator(".lm-TabBar-tab", has_text=title).click()
                    drawn = metadata.locator(".vega-embed svg", has_text=heading)
                    playwright.expect(drawn).to_be_visible(timeout=30_000)
                    marks = drawn.locator(".mark-rect path, .mark-line path, .mark-area path")
                    playwright.expect(marks).not_to_have_count(0, timeout=10_000)
                    shot = artifacts / f"metadata_explorer_{name}_dataset.png"
                    metadata.screenshot(path=str(shot))

                connection = cells.nth(2)
                said = connection.locator(".argyle-message").first
                total = f"{len(accounts):,} of {len(accounts):,} accounts, by link_item"
                playwright.expect(said).to_contain_text(total, timeout=30_000)
                items = connection.locator(".widget-select-multiple select").first
                first_items = sorted(accounts["link_item"].astype("str").unique())[:3]
                items.select_option(first_items)
                chosen = int(accounts["link_item"].astype("str").isin(first_items).sum())
                playwright.expect(said).to_contain_text(
                    f"{chosen:,} of {len(accounts):,} accounts", timeout=30_000
                )
                assert chosen < len(accounts)
                bars = connection.locator(".vega-embed").first.locator("svg .mark-rect path")
                playwright.expect(bars).not_to_have_count(0, timeout=10_000)
                connection.screenshot(path=str(artifacts / "connection_explorer_dataset.png"))

                windows = cells.nth(3)
                said = windows.locator(".argyle-message").first
                playwright.expect(said).to_contain_text("payouts:", timeout=30_000)
                windows.locator(".widget-dropdown select").first.select_option("activities")
                playwright.expect(said).to_contain_text("activities:", timeout=30_000)
                windows.screenshot(path=str(artifacts / "availability_explorer_dataset.png"))
            except Exception:
                page.screenshot(path=str(artifacts / "dataset_explorers_failure.png"))
                raise
            finally:
                browser.close()


HISTORY_NOTEBOOK = "explorer_history.ipynb"
HISTORY_SOURCE = [
    "import argyle_nb.widgets\n"
    "from argyle_nb.client import ArgyleClient\n"
    "from argyle_nb.dataset import Dataset\n"
    "from argyle_nb.sandbox import start\n"
    "with start(db='sandbox.sqlite', users=500, seed=4) as sb:\n"
    "    for day in range(6):\n"
    "        if day:\n"
    "            sb.advance(days=1)\n"
    "        with ArgyleClient(sb.key_id, sb.key_secret, base_url=sb.base_url,\n"
    "                          cache='memory', progress=False, now=sb.now) as client:\n"
    "            client.export('history').close()\n"
    "ds = Dataset('history')",
    "argyle_nb.widgets.HistoryExplorer(ds, by='link_item')",
]


@pytest.mark.browser
def test_the_history_explorer_in_jupyterlab(
    chromium: Path, artifacts: Path, tmp_path: Path
) -> None:
    """HistoryExplorer over six daily snapshots in a real JupyterLab: a cell clicked in
    the transition matrix lists its accounts."""
    playwright = pytest.importorskip("playwright.sync_api")
    root, home = tmp_path / "root", tmp_path / "home"
    root.mkdir()
    home.mkdir()
    _write_notebook(root / HISTORY_NOTEBOOK, HISTORY_SOURCE)
    env = {"XDG_CACHE_HOME": str(home / "cache")}
    with jupyterlab(root, home, env) as url, playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1800})
        try:
            page.set_default_timeout(60_000)
            panel = _run_all(page, f"{url}/lab/tree/{HISTORY_NOTEBOOK}?reset")
            history = panel.locator(".jp-CodeCell").nth(1)
            said = history.locator(".argyle-message").first
            playwright.expect(said).to_contain_text("Snapshots 0 to 5", timeout=120_000)
            playwright.expect(said).to_contain_text("of link_item", timeout=30_000)
            lines = history.locator(".vega-embed svg .mark-line path")
            playwright.expect(lines).not_to_have_count(0, timeout=30_000)
            cells = history.locator(".vega-embed svg", has_text="Accounts from snapshot 0")
            marks = cells.locator(".mark-rect path")
            playwright.expect(marks).not_to_have_count(0, timeout=30_000)
            marks.first.click(force=True)
            playwright.expect(history).to_contain_text("accounts from", timeout=30_000)
            page.mouse.move(0, 0)
            history.screenshot(path=str(artifacts / "history_explorer.png"))
        except Exception:
            page.screenshot(path=str(artifacts / "history_explorer_failure.png"))
            raise
        finally:
            browser.close()


def _write_notebook(path: Path, sources: list[str]) -> None:
    """A notebook of one code cell per source, with a kernelspec (or JupyterLab asks which
    kernel to start)."""
    v4: Any = nbformat.v4  # nbformat is untyped
    write: Any = nbformat.write
    notebook = v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    notebook.cells = [v4.new_code_cell(source) for source in sources]
    write(notebook, path)


def _run_all(page: Any, address: str) -> Any:
    """Open the notebook at ``address``, wait for its kernel, run every cell; the panel."""
    page.goto(address, timeout=60_000)
    panel = page.locator(".jp-NotebookPanel:visible")
    panel.wait_for(timeout=60_000)
    page.locator(".jp-StatusBar-TextItem", has_text="Idle").first.wait_for(timeout=60_000)
    page.keyboard.press("Escape")
    page.get_by_role("menuitem", name="Run", exact=True).click(timeout=10_000)
    page.locator('li[data-command="runmenu:run-all"]').click(timeout=10_000)
    return panel
