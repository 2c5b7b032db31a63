"""``argyle-nb report`` for real: papermill runs notebooks on the embedded sandbox (no keys).

The tutorial and the connection-health notebook run with ``USERS=40``; their HTML must show
the values of that dataset (recounted here from a sandbox of the same size and seed, over
plain HTTP) and reference nothing on the network.
"""

from __future__ import annotations

import ast
import html
import os
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
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: A tag that would make a browser fetch from the network.
FETCH = re.compile(r"<(?:script|link|img)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.I)


@dataclass
class Report:
    code: int
    folder: Path
    #: What the command and its kernels wrote to standard error.
    stderr: str


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Report]:
    out = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as env:
        for name in ENVIRONMENT:  # the kernels inherit this: no keys, so the embedded sandbox
            env.delenv(name, raising=False)
        # The kernels' sockets go in a runtime folder of this run's own (none of another's).
        env.setenv("JUPYTER_RUNTIME_DIR", str(out / "runtime"))
        paths = [str(NOTEBOOKS / name) for name in RUN]
        # The kernels inherit file descriptor 2: what they print is read there.
        errors = out / "stderr.txt"
        saved = os.dup(2)
        try:
            with errors.open("wb") as sink:
                os.dup2(sink.fileno(), 2)
                args = ["report", *paths, "--users", str(USERS), "--out", str(out)]
                code = main([*args, "--date", DAY])
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    yield Report(code, out / DAY, errors.read_text(encoding="utf-8", errors="replace"))


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


def test_the_kernels_listen_on_no_network_port_and_say_nothing_of_it(report: Report) -> None:
    """ipykernel warns of eavesdropping on kernels over TCP: report kernels use IPC
    sockets, so the warning's cause is gone, and their socket files go with them."""
    assert report.code == 0
    assert "without encryption" not in report.stderr
    assert "eavesdropping" not in report.stderr
    runtime = report.folder.parent / "runtime"
    assert runtime.is_dir()  # the kernels' sockets were there...
    assert not list(runtime.glob("argyle-kernel-*"))  # ...and went with them


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
    start = page.index('class="argyle-explorer-snapshot"')
    # The notebook's three plot_* charts: inline SVG beside their spec, no PNG.
    assert page[:start].count('<div class="argyle-vega-view"><svg') == 3
    assert 'src="data:image/png;base64,' not in page
    snapshot = page[start:]
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


#: A notebook that creates a user token in the UserInspector, as a user clicking its buttons
#: would, and shows it; the token is written beside the notebook for the test to look for.
TOKEN_CELLS = [
    "import argyle_nb\n"
    "from argyle_nb.widgets import UserInspector\n"
    "client = argyle_nb.connect(users=3, seed=1, progress=False)\n"
    "inspector = UserInspector(client)\n"
    "inspector",
    "inspector.token_button.click()\n"
    "inspector.confirm.click()\n"
    "from pathlib import Path\n"
    "Path('token.txt').write_text(inspector.token)\n"
    "print(inspector.message)",
    "inspector  # again: its token field is filled now",
    "from IPython.display import display\n"
    "state = {'version_major': 2, 'version_minor': 0, 'state': {'t': {'model_name': "
    "'TextModel', 'model_module': '@jupyter-widgets/controls', 'model_module_version': "
    "'2.0.0', 'state': {'value': inspector.token}}}}\n"
    "display({'application/vnd.jupyter.widget-state+json': state, 'text/plain': 'a state'},"
    " raw=True)",
]


@pytest.mark.parametrize("ending", ["runs", "fails"])
def test_a_user_token_made_in_the_inspector_is_kept_in_no_file_of_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ending: str
) -> None:
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    cells = [
        *TOKEN_CELLS,
        *(["raise RuntimeError('after the token')"] if ending == "fails" else []),
    ]
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    path = tmp_path / "inspect.ipynb"
    nbformat.write(nb, path)

    code = main(["report", str(path), "--out", str(tmp_path / "out"), "--date", DAY])

    assert code == (0 if ending == "runs" else 1)
    token = (tmp_path / "token.txt").read_bytes()
    assert token.count(b".") == 2 and len(token) > 40  # a JWT was made
    signature = token.rsplit(b".", 1)[1]
    folder = tmp_path / "out" / DAY
    kept = sorted(p.name for p in folder.iterdir())
    assert kept == ["index.html", "inspect.html", "inspect.ipynb"]
    for name in kept:
        raw = (folder / name).read_bytes()
        assert token not in raw and signature not in raw, f"the user token is in {name}"
    executed = nbformat.read(folder / "inspect.ipynb", as_version=4)
    nbformat.validate(executed)
    assert "widgets" not in executed.metadata
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs]
    data = [o.get("data", {}) for o in outputs]
    assert not [d for d in data if "application/vnd.jupyter.widget-state+json" in d]
    # what the notebook showed is still there: the message and the inspector's views
    (clicked,) = [c for c in executed.cells if "confirm.click()" in c.source]
    assert "Created a user token for" in str(clicked.outputs)
    assert len([d for d in data if WIDGET_VIEW in d]) == 2
    page = (folder / "inspect.html").read_text()
    assert page.count('class="argyle-explorer-snapshot"') == 2
