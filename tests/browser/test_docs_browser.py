"""The documentation site in Chromium: the home page, a reference page and a notebook page
render (navigation, signatures, code, stored outputs), screenshotted."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest

from tests.browser.lab import CHROMIUM_FLAGS, free_port
from tests.docs_site import build_site


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Requests are not logged."""


@pytest.mark.browser
def test_the_site_reads_well(chromium: Path, artifacts: Path, tmp_path: Path) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    site = build_site(tmp_path / "site")
    handler = functools.partial(Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            try:
                page.goto(f"{url}/")
                playwright.expect(page.locator("h1").first).to_contain_text("argyle_nb")
                playwright.expect(page.locator(".md-nav").first).to_contain_text("Guides")
                page.screenshot(path=str(artifacts / "docs_home.png"))

                page.goto(f"{url}/reference/analysis/")
                compare = page.locator('[id="argyle_nb.analysis.compare_cohorts"]')
                playwright.expect(compare).to_be_visible()
                signature = page.locator(".doc-signature").first
                playwright.expect(signature).to_be_visible()
                compare.scroll_into_view_if_needed()
                page.screenshot(path=str(artifacts / "docs_reference.png"))

                page.goto(f"{url}/notebooks/02_metadata_cohorts/")
                playwright.expect(page.locator("body")).to_contain_text("which differences are")
                output = page.get_by_text("Share of accounts in error now by").first
                output.scroll_into_view_if_needed()
                playwright.expect(output).to_be_visible()
                page.screenshot(path=str(artifacts / "docs_notebook.png"))
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
