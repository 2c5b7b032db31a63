"""argyle_nb.report's pure parts: folder, parameters, offline HTML, index (no kernel runs)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import nbformat
import pytest

from argyle_nb import __version__, report
from argyle_nb.cli import main
from argyle_nb.report import (
    NotebookRun,
    external_references,
    index_html,
    notebook_parameters,
    parameters_for,
    report_dir,
    run_report,
    to_html,
)
from tests.notebook_outputs import NOTEBOOKS

NOON = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def ticking(start: datetime = NOON, step: float = 1.5) -> Any:
    """A clock that moves ``step`` seconds each time it is read."""
    ticks = itertools.count()
    return lambda: start + timedelta(seconds=step * next(ticks))


def notebook(*sources: str, parameters: str | None = None) -> Any:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    if parameters is not None:
        nb.cells.append(nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}))
    nb.cells.extend(nbformat.v4.new_code_cell(s) for s in sources)
    return nb


# ---------------------------------------------------------------------------
# folder and parameters
# ---------------------------------------------------------------------------


def test_report_dir_is_named_after_the_injected_date(tmp_path: Path) -> None:
    assert report_dir(tmp_path, date(2026, 1, 2)) == tmp_path / "2026-01-02"
    assert report_dir(Path("reports"), date(2031, 12, 31)).as_posix() == "reports/2031-12-31"


def test_notebook_parameters_reads_the_tagged_cell_only() -> None:
    nb = notebook(
        "USERS = 5",
        parameters="# a comment\nARGYLE_BASE_URL = None\nUSERS = 1000\nSEED = 42\nX = 2 * 3",
    )
    nb.cells.insert(0, nbformat.v4.new_code_cell("SEED = 0"))  # untagged: not a parameter
    assert notebook_parameters(nb) == {
        "ARGYLE_BASE_URL": None,
        "USERS": 1000,
        "SEED": 42,
        "X": "2 * 3",  # not a literal: its source
    }
    assert notebook_parameters(notebook("USERS = 5")) == {}


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_every_notebook_has_the_parameters_cell_and_uses_it(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code[0].metadata.get("tags") == ["parameters"], "the first code cell"
    parameters = notebook_parameters(nb)
    # The cohort and incident stories need the full demo dataset; the others run smaller
    # (a month of history: 2,000 users, where 1,000 flag a null day as an incident's).
    assert parameters.pop("USERS") in (1000, 2000, 10_000)
    assert parameters == {"ARGYLE_BASE_URL": None, "SEED": 42}
    assert "KEY" not in code[0].source.replace("ARGYLE_API_KEY_ID", "").replace(
        "ARGYLE_API_KEY_SECRET", ""
    ), "keys come only from the environment"
    assert "argyle_nb.connect(base_url=ARGYLE_BASE_URL, users=USERS, seed=SEED)" in code[1].source
    sources = "".join(cell.source for cell in code)
    assert "argyle_nb.connect()" not in sources


def test_parameters_for_passes_only_the_options_given() -> None:
    defaults = {"ARGYLE_BASE_URL": None, "USERS": 1000, "SEED": 42}
    assert parameters_for(defaults) == ({}, defaults)
    passed, effective = parameters_for(defaults, users=40, seed=0)
    assert passed == {"USERS": 40, "SEED": 0}  # a seed of 0 is an option given
    assert effective == {"ARGYLE_BASE_URL": None, "USERS": 40, "SEED": 0}
    passed, effective = parameters_for({}, base_url="https://example.test/v1")
    assert passed == effective == {"ARGYLE_BASE_URL": "https://example.test/v1"}


# ---------------------------------------------------------------------------
# offline HTML
# ---------------------------------------------------------------------------


def test_external_references_finds_what_a_browser_would_fetch() -> None:
    page = """
    <script src="https://cdn.example/require.js"></script>
    <link rel="stylesheet" href='//fonts.example/css'>
    <img alt="x" src="http://img.example/a.png">
    <style>body { background: url("https://img.example/bg.png") } @import 'http://x.example/a.css';</style>
    <a href="https://argyle.com">a link is not fetched</a>
    <img src="data:image/png;base64,AAAA"> <script>var u = "https://in.a.string";</script>
    """
    assert external_references(page) == [
        "https://cdn.example/require.js",
        "//fonts.example/css",
        "http://img.example/a.png",
        "https://img.example/bg.png",
        "http://x.example/a.css",
    ]


def test_to_html_is_offline_and_shows_the_explorer_snapshot_not_the_widget() -> None:
    nb = notebook("1 + 1", "explorer", "# $x^2$ math stays text")
    nb.cells[0].outputs = [
        nbformat.v4.new_output(
            "execute_result", {"text/plain": "2", "text/html": "<table><tr><td>2</td></tr></table>"}
        )
    ]
    nb.cells[1].outputs = [
        nbformat.v4.new_output(
            "display_data",
            {
                "text/plain": "VBox(...)",
                WIDGET_VIEW: {"version_major": 2, "version_minor": 0, "model_id": "abc123"},
                "text/html": '<div class="argyle-explorer-snapshot">snapshot</div>',
            },
        ),
        nbformat.v4.new_output("display_data", {"image/png": "iVBORw0KGgo=", "text/plain": "x"}),
    ]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}

    page = to_html(nb, title="My report")

    assert external_references(page) == []
    assert "<script src" not in page and "<link" not in page.replace("<link rel=", "")
    assert "mathjax" not in page.lower() and "require.js" not in page
    assert '<div class="argyle-explorer-snapshot">snapshot</div>' in page
    assert "abc123" not in page  # neither the widget view nor the widget state
    assert "widget-state" not in page
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in page
    assert "<td>2</td>" in page
    assert "<title>My report</title>" in page
    assert "widgets" in nb.metadata  # the caller's notebook is left as it was


# ---------------------------------------------------------------------------
# the index
# ---------------------------------------------------------------------------


def run(name: str, error: str | None = None, **parameters: Any) -> NotebookRun:
    return NotebookRun(
        notebook=f"{name}.ipynb",
        html=f"{name}.html",
        executed=f"{name}.ipynb",
        parameters=parameters,
        started=NOON,
        finished=NOON + timedelta(seconds=12.34),
        error=error,
    )


def test_index_lists_each_report_with_its_parameters_and_when_it_ran() -> None:
    runs = [
        run("01_a", ARGYLE_BASE_URL=None, USERS=40, SEED=42),
        run("02_<b>", error="NameError: name 'x' is not defined (In [3])", USERS=40),
    ]
    page = index_html(runs, day=date(2026, 3, 4), generated=NOON, keys_in_environment=False)
    assert "<h1>argyle_nb reports, 2026-03-04</h1>" in page
    assert '<a href="01_a.html">01_a.ipynb</a>' in page
    assert "<code>ARGYLE_BASE_URL = None</code>" in page
    assert "<code>USERS = 40</code>" in page and "<code>SEED = 42</code>" in page
    assert "2026-03-04T12:00:00+00:00" in page and "12.3 s" in page
    assert "2 notebooks, 1 failed: 02_&lt;b&gt;.ipynb" in page
    assert "NameError: name &#x27;x&#x27; is not defined (In [3])" in page
    assert "<b>" not in page.replace("<b>failed</b>", "")  # names and errors are escaped
    assert __version__ in page and "API keys in the environment: not set" in page
    assert external_references(page) == []
    ok = index_html(runs[:1], day=date(2026, 3, 4), generated=NOON, keys_in_environment=True)
    assert "1 notebooks, all ran" in ok and "set (never written here)" in ok


# ---------------------------------------------------------------------------
# orchestration, papermill replaced (the integration test runs the real one)
# ---------------------------------------------------------------------------


class FakePapermill:
    """Writes the notebook with one output per cell, or fails like papermill does."""

    class PapermillExecutionError(Exception):
        def __init__(self, exec_count: int, ename: str, evalue: str) -> None:
            super().__init__(ename)
            self.exec_count, self.ename, self.evalue = exec_count, ename, evalue

    def __init__(self, fail: dict[str, Exception | str] | None = None) -> None:
        self.fail = fail or {}
        self.calls: list[dict[str, Any]] = []

    def execute_notebook(self, input_path: str, output_path: str, **kwargs: Any) -> Any:
        self.calls.append({"input": input_path, **kwargs})
        nb = nbformat.read(input_path, as_version=4)
        for cell in nb.cells:
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ran\n")]
        nbformat.write(nb, output_path)
        failure = self.fail.get(Path(input_path).name)
        if isinstance(failure, Exception):
            raise failure
        if failure is not None:
            raise self.PapermillExecutionError(2, "ZeroDivisionError", failure)
        return nb


@pytest.fixture
def notebooks(tmp_path: Path) -> list[Path]:
    paths = []
    for name in ("a", "b", "c"):
        path = tmp_path / "in" / f"{name}.ipynb"
        path.parent.mkdir(exist_ok=True)
        nbformat.write(notebook("print(USERS)", parameters="USERS = 1000\nSEED = 42"), path)
        paths.append(path)
    return paths


def test_run_report_writes_every_report_and_the_index(
    tmp_path: Path, notebooks: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakePapermill(
        fail={"b.ipynb": "division by zero", "c.ipynb": RuntimeError("Kernel died before replying")}
    )
    monkeypatch.setattr(report, "_papermill", lambda: fake)
    seen: list[str] = []

    folder, runs = run_report(
        notebooks,
        tmp_path / "reports",
        clock=ticking(),
        users=40,
        environ={},
        on_run=lambda r: seen.append(r.notebook),
    )

    assert folder == tmp_path / "reports" / "2026-03-04"  # the clock's date
    assert seen == ["a.ipynb", "b.ipynb", "c.ipynb"]
    assert [c["parameters"] for c in fake.calls] == [{"USERS": 40}] * 3
    assert all(c["cwd"] == str(notebooks[0].parent) for c in fake.calls)
    assert [r.parameters for r in runs] == [{"USERS": 40, "SEED": 42}] * 3
    assert [r.error for r in runs] == [
        None,
        "ZeroDivisionError: division by zero (In [2])",
        "RuntimeError: Kernel died before replying",
    ]
    assert [r.seconds for r in runs] == [1.5, 1.5, 1.5]
    assert sorted(p.name for p in folder.iterdir()) == [
        "a.html",
        "a.ipynb",
        "b.html",
        "b.ipynb",
        "c.html",
        "c.ipynb",
        "index.html",
    ]
    # A failed notebook still has its report, the error on top when papermill could not.
    assert "ran" in (folder / "b.html").read_text()
    failed = (folder / "c.html").read_text()
    assert "did not run to the end" in failed and "Kernel died before replying" in failed
    index = (folder / "index.html").read_text()
    assert "3 notebooks, 2 failed: b.ipynb, c.ipynb" in index
    assert all(r.external == [] for r in runs)


def test_an_injected_day_names_the_folder(
    tmp_path: Path, notebooks: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report, "_papermill", lambda: FakePapermill())
    folder, runs = run_report(
        notebooks[:1], tmp_path, clock=ticking(), day=date(1999, 12, 31), environ={}
    )
    assert folder == tmp_path / "1999-12-31"
    assert "argyle_nb reports, 1999-12-31" in (folder / "index.html").read_text()
    assert runs[0].started == NOON


def test_a_base_url_needs_keys_in_the_environment(tmp_path: Path, notebooks: list[Path]) -> None:
    with pytest.raises(ValueError, match="needs ARGYLE_API_KEY_ID"):
        run_report(notebooks, tmp_path, clock=ticking(), base_url="https://x.test/v1", environ={})
    assert list(tmp_path.iterdir()) == [tmp_path / "in"]  # nothing ran, nothing written


def test_cli_exits_non_zero_naming_the_failed_notebook(
    tmp_path: Path,
    notebooks: list[Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake = FakePapermill(fail={"b.ipynb": "division by zero"})
    monkeypatch.setattr(report, "_papermill", lambda: fake)
    out = tmp_path / "reports"
    argv = ["report", "--notebooks", str(notebooks[0].parent), "--out", str(out)]
    code = main([*argv, "--users", "40", "--seed", "7", "--date", "2026-01-02"])
    captured = capsys.readouterr()
    assert code == 1
    assert "failed: b.ipynb" in captured.err
    assert "a.ipynb: ok" in captured.out and "b.ipynb: FAILED" in captured.out
    assert (out / "2026-01-02" / "index.html").is_file()
    assert [c["parameters"] for c in fake.calls] == [{"USERS": 40, "SEED": 7}] * 3

    fake.fail.clear()
    assert main([*argv, "--date", "2026-01-03"]) == 0
    assert fake.calls[-1]["parameters"] == {}  # no option: the notebook's own defaults
    assert main(["report", str(tmp_path / "missing.ipynb")]) == 2
    assert "no notebook at" in capsys.readouterr().err


def test_cli_parses_the_report_options() -> None:
    from argyle_nb.cli import build_parser

    args = build_parser().parse_args(["report"])
    # no --notebooks: ./notebooks, else the packaged ones (argyle_nb.packaged.notebooks_for)
    assert (args.notebooks, args.out, args.users, args.seed, args.base_url, args.date) == (
        None,
        "reports",
        None,
        None,
        None,
        None,
    )


# ---------------------------------------------------------------------------
# the explorers' static snapshot (what a report shows instead of the widget)
# ---------------------------------------------------------------------------


def test_an_explorer_carries_a_static_snapshot_beside_its_widget_view() -> None:
    from argyle_nb.frames import accounts_frame
    from argyle_nb.widgets import ConnectionExplorer

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "accounts_03_list_accounts.json"
    accounts = accounts_frame(fixture.read_bytes())
    explorer = ConnectionExplorer(accounts)
    bundle = explorer._repr_mimebundle_()
    assert WIDGET_VIEW in bundle  # JupyterLab's widget manager still shows the live widget
    snapshot = bundle["text/html"]
    assert snapshot.startswith('<div class="argyle-explorer-snapshot">')
    assert f"{len(accounts)} of {len(accounts)} accounts, by link_item." in snapshot
    assert "<b>Group by</b>: link_item" in snapshot and "<b>Link item</b>: (all)" in snapshot
    assert "<b>Sort by</b>: as computed" in snapshot  # a choice's label, never blank
    assert '<div class="argyle-table">' in snapshot
    # The status and over-time charts, as inline SVG beside their spec.
    assert snapshot.count('<div class="argyle-vega-view"><svg') == 2
    assert snapshot.count('<script type="application/json">') == 2
    assert external_references(snapshot) == []

    explorer.link_item.value = ()
    explorer.created_from.value = date(2100, 1, 1)  # nothing matches: the charts are hidden
    empty = explorer._repr_mimebundle_()["text/html"]
    assert "No accounts match these filters" in empty
    assert "argyle-vega" not in empty and "<b>From</b>: 2100-01-01" in empty
