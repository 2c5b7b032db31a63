"""``argyle-nb report`` for real: papermill runs notebooks on the embedded sandbox (no keys).

The tutorial and the connection-health notebook run with ``USERS=40``; their HTML must show
the values of that dataset (recounted here from a sandbox of the same size and seed, over
plain HTTP) and reference nothing on the network.
"""

from __future__ import annotations

import ast
import html
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
import requests

from argyle_nb.cli import main
from argyle_nb.report import external_references
from argyle_nb.sandbox import start
from tests.notebook_outputs import NOTEBOOKS

pytestmark = pytest.mark.embedded_only("runs the notebooks on the embedded sandbox, no keys")

USERS = 40
SEED = 42
DAY = "2026-01-02"
RUN = ["01_getting_started.ipynb", "03_connection_health.ipynb"]
ENVIRONMENT = ("ARGYLE_API_KEY_ID", "ARGYLE_API_KEY_SECRET", "ARGYLE_BASE_URL")
#: A tag that would make a browser fetch from the network.
FETCH = re.compile(r"<(?:script|link|img)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.I)


@dataclass
class Report:
    code: int
    folder: Path


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Report]:
    out = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as env:
        for name in ENVIRONMENT:  # the kernels inherit this: no keys, so the embedded sandbox
            env.delenv(name, raising=False)
        paths = [str(NOTEBOOKS / name) for name in RUN]
        code = main(["report", *paths, "--users", str(USERS), "--out", str(out), "--date", DAY])
    yield Report(code, out / DAY)


@pytest.fixture(scope="module")
def expected() -> Counter[str]:
    """Connection statuses of every account of a 40-user sandbox of the same seed."""
    with start(users=USERS, seed=SEED) as sandbox:
        auth = (sandbox.key_id, sandbox.key_secret)
        page = requests.get(
            f"{sandbox.base_url}/accounts", params={"limit": 200}, auth=auth, timeout=30
        ).json()
    assert page["count"] == len(page["results"]) < 200
    return Counter(account["connection"]["status"] for account in page["results"])


def cells(page: str) -> list[tuple[str, list[str]]]:
    """``(source, output texts)`` of every code cell of an nbconvert lab-template page."""
    found = []
    for chunk in page.split('<div class="jp-Cell jp-CodeCell')[1:]:
        source, _, outputs = chunk.partition('<div class="jp-Cell-outputWrapper">')
        texts = [
            html.unescape(re.sub(r"<[^>]+>", "", pre)).strip()
            for pre in re.findall(r"<pre>(.*?)</pre>", outputs, re.S)
        ]
        found.append((html.unescape(re.sub(r"<[^>]+>", "", source)), texts))
    return found


def output_of(page: str, code: str) -> list[str]:
    matches = [texts for source, texts in cells(page) if code in source]
    assert len(matches) == 1, f"one cell runs {code!r}"
    return matches[0]


def test_the_dated_folder_holds_every_report_and_the_index(report: Report) -> None:
    assert report.code == 0
    names = sorted(p.name for p in report.folder.iterdir())
    assert names == sorted(["index.html", *RUN, *(name.replace(".ipynb", ".html") for name in RUN)])
    index = (report.folder / "index.html").read_text()
    assert f"argyle_nb reports, {DAY}" in index
    assert "2 notebooks, all ran" in index
    for name in RUN:
        assert f'<a href="{name.replace(".ipynb", ".html")}">{name}</a>' in index
    assert index.count(f"<code>USERS = {USERS}</code>") == 2
    assert index.count(f"<code>SEED = {SEED}</code>") == 2
    assert index.count("<code>ARGYLE_BASE_URL = None</code>") == 2
    assert "API keys in the environment: not set" in index
    executed = nbformat.read(report.folder / RUN[0], as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and f"USERS = {USERS}" in injected[0].source


def test_the_tutorial_shows_the_values_of_40_users(report: Report, expected: Counter[str]) -> None:
    page = (report.folder / "01_getting_started.html").read_text()
    assert output_of(page, "len(users)") == [str(USERS)]
    connect = " ".join(output_of(page, "argyle_nb.connect("))
    assert f"started the embedded sandbox with {USERS} demo users" in connect
    (text,) = output_of(page, 'accounts["connection_status"].value_counts().to_dict()')
    count, statuses = ast.literal_eval(text)
    assert count == sum(expected.values())
    assert statuses == dict(expected)
    # no progress bar frozen at 0% (the tutorial's prefetch draws one in JupyterLab)
    assert "page/s]" not in page


def test_connection_health_shows_its_tables_charts_and_explorer_snapshot(
    report: Report, expected: Counter[str]
) -> None:
    page = (report.folder / "03_connection_health.html").read_text()
    (text,) = output_of(page, 'print(accounts["connection_status"].value_counts().to_string())')
    assert dict(
        (status, int(n)) for status, n in (line.split() for line in text.splitlines()[1:])
    ) == dict(expected)
    assert "<table" in page  # weekly.tail() as an HTML table
    assert page.count('src="data:image/png;base64,') >= 1  # the notebook's plot
    snapshot = page[page.index('class="argyle-explorer-snapshot"') :]
    total = sum(expected.values())
    assert f"{total:,} of {total:,} accounts, by link_item." in snapshot
    # The explorer's two charts: inline SVG with their spec, and one inline Vega to make
    # them live (hover, legend clicks), after the last of them.
    assert snapshot.count('<div class="argyle-vega">') == 2
    assert snapshot.count('<div class="argyle-vega-view"><svg') == 2
    assert page.count('<script type="module">') == 1
    assert page.index('<script type="module">') > page.rindex('<div class="argyle-vega">')
    assert "application/vnd.jupyter.widget" not in page  # no widget view, no widget state


@pytest.mark.parametrize("name", ["index.html", *(n.replace(".ipynb", ".html") for n in RUN)])
def test_nothing_is_fetched_from_the_network(report: Report, name: str) -> None:
    page = (report.folder / name).read_text()
    assert FETCH.findall(page) == []
    assert external_references(page) == []
    assert "<script src" not in page and "cdn." not in page.lower()


def test_a_failing_notebook_still_gets_its_report_and_fails_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}  # no language
    nb.cells = [
        nbformat.v4.new_code_cell("USERS = 1000", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("print('users:', USERS)"),
        nbformat.v4.new_code_cell("raise RuntimeError(f'boom with {USERS} users')"),
        nbformat.v4.new_code_cell("print('never runs')"),
    ]
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)

    code = main(["report", str(path), "--users", "7", "--out", str(tmp_path / "out")])

    assert code == 1
    assert "failed: broken.ipynb" in capsys.readouterr().err
    (folder,) = (tmp_path / "out").iterdir()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", folder.name)
    page = (folder / "broken.html").read_text()
    assert "users: 7" in page and "boom with 7 users" in page and "RuntimeError" in page
    index = (folder / "index.html").read_text()
    assert "1 notebooks, 1 failed: broken.ipynb" in index
    assert "RuntimeError: boom with 7 users" in index
