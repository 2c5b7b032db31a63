"""Execute the notebooks into a dated folder of offline HTML reports: ``argyle-nb report``.

Each notebook runs with papermill, its ``parameters`` cell overridden by the options given
(``ARGYLE_BASE_URL``, ``USERS``, ``SEED``; API keys only ever come from the environment),
then becomes one self-contained HTML file (nbconvert's lab template, CSS inline, charts as
inline SVG, no script, stylesheet or image fetched from the network; the explorers show
their static snapshot, whose charts are inline SVG made interactive by one inline copy of
Vega). ``reports/<YYYY-MM-DD>/`` receives each executed notebook, its HTML
and an ``index.html`` listing them with their parameters and when they ran.

No file there keeps widget state (it holds what widgets held: a user token made in the
``UserInspector``): papermill collects none, and any left in a notebook is dropped.

Examples:
    >>> from datetime import datetime
    >>> from pathlib import Path
    >>> folder, runs = run_report(                                      # doctest: +SKIP
    ...     [Path("notebooks/01_getting_started.ipynb")], Path("reports"),
    ...     clock=lambda: datetime.now().astimezone(), users=40,
    ... )

There is no hidden clock: the caller passes ``clock`` (the CLI passes the local time), and
the folder is named after the date it gives (or ``day``).
"""

from __future__ import annotations

import ast
import importlib
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from argyle_nb._html import escape
from argyle_nb._kernels import kernel_manager_class
from argyle_nb.errors import ArgyleRuntimeError, ArgyleValueError

#: nbformat and nbconvert are untyped: used through ``Any``.
nbformat: Any = importlib.import_module("nbformat")
#: A notebook (an ``Notebook``).
Notebook = Any

__all__ = [
    "PARAMETER_NAMES",
    "NotebookRun",
    "external_references",
    "index_html",
    "notebook_parameters",
    "parameters_for",
    "report_dir",
    "run_notebook",
    "run_report",
    "to_html",
]

#: ``run_report`` keyword -> the notebook parameter it sets.
PARAMETER_NAMES: dict[str, str] = {"base_url": "ARGYLE_BASE_URL", "users": "USERS", "seed": "SEED"}

_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: Widget state saved as an output: what a widget held (a user token, say), never kept.
_WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

#: Outputs a static page shows, best first: the widget view is left out (it needs a widget
#: manager loaded from a CDN), so an explorer shows its ``text/html`` snapshot.
DISPLAY_PRIORITY = [
    "text/html",
    "text/markdown",
    "image/svg+xml",
    "text/latex",
    "image/png",
    "image/jpeg",
    "text/plain",
]

#: nbconvert's lab template without anything fetched from a CDN (require.js, MathJax,
#: mermaid, the widget manager).
_TEMPLATE_NAME = "argyle_nb_offline.html.j2"
_TEMPLATE = """\
{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""

#: A tag that makes a browser fetch what ``src``/``href``/``data`` names.
_FETCHING_TAG = re.compile(
    r"<(?:script|link|img|iframe|source|embed|object|audio|video|track|input)\b[^>]*?"
    r"\b(?:src|href|data|srcset)\s*=\s*[\"']?\s*((?:https?:)?//[^\"'\s>]+)",
    re.IGNORECASE,
)
#: CSS that makes a browser fetch: ``url(http...)``, ``@import "http..."``.
_FETCHING_CSS = re.compile(
    r"(?:url\(\s*[\"']?|@import\s+[\"'])\s*((?:https?:)?//[^\"')\s]+)", re.IGNORECASE
)


@dataclass(frozen=True)
class NotebookRun:
    """One executed notebook of a report."""

    notebook: str  #: the notebook's file name
    html: str  #: the report's file name, in the report folder
    executed: str  #: the executed notebook's file name, in the report folder
    parameters: dict[str, Any]  #: every parameter it ran with (its defaults, then the options)
    started: datetime
    finished: datetime
    error: str | None = None  #: ``None`` when every cell ran
    external: list[str] = field(default_factory=list)  #: network references left in the HTML

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def seconds(self) -> float:
        return (self.finished - self.started).total_seconds()


def report_dir(out: Path, day: date) -> Path:
    """The folder of one day's reports: ``out/YYYY-MM-DD``."""
    return out / day.isoformat()


def notebook_parameters(nb: Notebook) -> dict[str, Any]:
    """The defaults of the first cell tagged ``parameters`` (``{}`` when there is none).

    Literal assignments give their value; anything else its source text.
    """
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            found: dict[str, Any] = {}
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.Assign) and len(node.targets) == 1:
                    target = node.targets[0]
                    if isinstance(target, ast.Name):
                        try:
                            found[target.id] = ast.literal_eval(node.value)
                        except ValueError:
                            found[target.id] = ast.unparse(node.value)
            return found
    return {}


def parameters_for(
    defaults: Mapping[str, Any],
    *,
    base_url: str | None = None,
    users: int | None = None,
    seed: int | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(passed, effective)``: what papermill injects (the options given) and what runs.

    An option left ``None`` keeps the notebook's own default.
    """
    given = {"base_url": base_url, "users": users, "seed": seed}
    passed = {PARAMETER_NAMES[k]: v for k, v in given.items() if v is not None}
    return passed, {**defaults, **passed}


def to_html(nb: Notebook, *, title: str) -> str:
    """A self-contained HTML page of an executed notebook that needs no network."""
    from jinja2 import DictLoader

    exporters: Any = importlib.import_module("nbconvert.exporters")

    nb = nbformat.from_dict(nb)  # a copy: the widget state is dropped from it only
    _drop_widget_state(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not _live_only(o)]
    nb.metadata["title"] = title
    exporter = exporters.HTMLExporter(
        template_name="lab",
        template_file=_TEMPLATE_NAME,
        extra_loaders=[DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        embed_images=True,
    )
    exporter.display_data_priority = list(DISPLAY_PRIORITY)
    body: str = exporter.from_notebook_node(nb)[0]
    if 'class="argyle-vega"' in body:
        # The explorers' charts come live (hover, legend clicks) from one inline Vega.
        from argyle_nb.widgets._charts import vega_script

        body = body.replace("</body>", vega_script() + "\n</body>", 1)
    return body


def _live_only(output: Any) -> bool:
    """Whether ``output`` is a live widget with no static form but its first text: a
    progress bar, say, whose ``text/plain`` is the bar at 0% (its later state is not
    saved). A static page leaves it out; the explorers carry an HTML snapshot and stay."""
    data = output.get("data", {}) if output.get("output_type") == "display_data" else {}
    return _WIDGET_VIEW in data and set(data) <= {_WIDGET_VIEW, "text/plain"}


def external_references(page: str) -> list[str]:
    """The network URLs a browser would fetch to show ``page`` (links ``<a href>`` excluded)."""
    return [m.group(1) for m in (*_FETCHING_TAG.finditer(page), *_FETCHING_CSS.finditer(page))]


def index_html(
    runs: Sequence[NotebookRun], *, day: date, generated: datetime, keys_in_environment: bool
) -> str:
    """The report folder's ``index.html``: every report, its parameters and when it ran."""
    from argyle_nb import __version__

    rows = []
    for run in runs:
        params = "<br>".join(
            f"<code>{escape(k)} = {escape(repr(v))}</code>" for k, v in run.parameters.items()
        )
        status = "ok" if run.ok else f"<b>failed</b>: {escape(run.error or '')}"
        rows.append(
            f'<tr class="{"ok" if run.ok else "failed"}">'
            f'<td><a href="{escape(run.html)}">{escape(run.notebook)}</a>'
            f' <small>(<a href="{escape(run.executed)}">executed notebook</a>)</small></td>'
            f"<td>{status}</td><td>{params}</td>"
            f"<td>{run.started.isoformat(timespec='seconds')}</td>"
            f"<td>{run.seconds:.1f} s</td></tr>"
        )
    failed = [run.notebook for run in runs if not run.ok]
    summary = (
        f"{len(runs)} notebooks, all ran"
        if not failed
        else f"{len(runs)} notebooks, {len(failed)} failed: {', '.join(failed)}"
    )
    keys = "set (never written here)" if keys_in_environment else "not set"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>argyle_nb reports {day.isoformat()}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; }}
th, td {{ border: 1px solid #ccc; padding: 0.4em 0.7em; text-align: left; vertical-align: top; }}
tr.failed td {{ background: #fdecea; }}
</style>
</head>
<body>
<h1>argyle_nb reports, {day.isoformat()}</h1>
<p>{escape(summary)}. Generated {generated.isoformat(timespec="seconds")} by argyle_nb
{escape(__version__)}. API keys in the environment: {keys}.
An <code>ARGYLE_BASE_URL</code> of None targets <code>$ARGYLE_BASE_URL</code> when keys are set,
else the embedded sandbox (<code>USERS</code> demo users from <code>SEED</code>).</p>
<table>
<thead><tr><th>report</th><th>status</th><th>parameters</th><th>started</th>
<th>took</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
</body>
</html>
"""


def _papermill() -> Any:
    try:
        return importlib.import_module("papermill")
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ArgyleRuntimeError(
            "argyle-nb report needs papermill and nbconvert: pip install 'argyle_nb[report]'"
        ) from exc


def _drop_widget_state(nb: Notebook) -> None:
    """Remove ``nb``'s widget state in place: the ``widgets`` metadata and widget-state
    outputs (an output left with no data goes)."""
    nb.metadata.pop("widgets", None)
    for cell in (c for c in nb.cells if c.cell_type == "code"):
        for output in cell.outputs:
            output.get("data", {}).pop(_WIDGET_STATE, None)
            output.get("metadata", {}).pop(_WIDGET_STATE, None)
        cell.outputs = [o for o in cell.outputs if o.get("data", True)]


def _failed_notebook(path: Path, output: Path, error: str) -> Notebook:
    """What was executed (or the notebook itself), with the error on top."""
    try:
        nb = nbformat.read(output, as_version=4)
    except (OSError, ValueError):
        nb = nbformat.read(path, as_version=4)
    text = f"**This notebook did not run to the end:**\n\n```\n{error}\n```"
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(text))
    return nb


def run_notebook(
    path: Path,
    folder: Path,
    *,
    clock: Callable[[], datetime],
    base_url: str | None = None,
    users: int | None = None,
    seed: int | None = None,
    timeout: float | None = 600,
) -> NotebookRun:
    """Execute ``path`` into ``folder`` with papermill and write its HTML report there.

    A notebook that fails still gets its HTML (papermill keeps the error in the executed
    notebook); the run's ``error`` says what failed. ``timeout`` is per cell, in seconds.
    """
    pm = _papermill()
    source = nbformat.read(path, as_version=4)
    passed, effective = parameters_for(
        notebook_parameters(source), base_url=base_url, users=users, seed=seed
    )
    kernel = source.metadata.get("kernelspec", {})
    language = source.metadata.get("language_info", {})
    output = folder / path.name
    page = folder / f"{path.stem}.html"
    error: str | None = None
    started = clock()
    try:
        nb = pm.execute_notebook(
            str(path),
            str(output),
            parameters=passed,
            kernel_name=kernel.get("name", "python3"),
            language=kernel.get("language") or language.get("name", "python"),
            cwd=str(path.parent),
            progress_bar=False,
            execution_timeout=timeout,
            store_widget_state=False,  # nbclient's: what widgets hold stays in the kernel
            kernel_manager_class=kernel_manager_class(),  # IPC: no "over TCP" warning
        )
    except pm.PapermillExecutionError as exc:
        error = f"{exc.ename}: {exc.evalue} (In [{exc.exec_count}])"
        nb = nbformat.read(output, as_version=4)
    except Exception as exc:  # a kernel that died or timed out: still a report
        error = f"{type(exc).__name__}: {exc}"
        nb = _failed_notebook(path, output, error)
    finished = clock()
    _drop_widget_state(nb)
    nbformat.write(nb, output)  # the kept notebook: papermill's, without widget state
    body = to_html(nb, title=path.stem)
    page.write_text(body, encoding="utf-8")
    return NotebookRun(
        notebook=path.name,
        html=page.name,
        executed=output.name,
        parameters=effective,
        started=started,
        finished=finished,
        error=error,
        external=external_references(body),
    )


def run_report(
    notebooks: Iterable[Path],
    out: Path,
    *,
    clock: Callable[[], datetime],
    day: date | None = None,
    base_url: str | None = None,
    users: int | None = None,
    seed: int | None = None,
    timeout: float | None = 600,
    environ: Mapping[str, str] | None = None,
    on_run: Callable[[NotebookRun], None] | None = None,
) -> tuple[Path, list[NotebookRun]]:
    """Execute ``notebooks`` into ``out/<day>/`` (``day``: the date ``clock`` gives).

    Returns the folder and one :class:`NotebookRun` a notebook, in order; ``on_run`` is
    called after each. A ``base_url`` needs keys in the environment (``environ``, default
    ``os.environ``): without them it raises ``ValueError`` before running anything.
    """
    environ = os.environ if environ is None else environ
    keys = bool(environ.get("ARGYLE_API_KEY_ID") and environ.get("ARGYLE_API_KEY_SECRET"))
    if base_url is not None and not keys:
        raise ArgyleValueError(
            f"--base-url {base_url} needs ARGYLE_API_KEY_ID and ARGYLE_API_KEY_SECRET in the "
            "environment (keys are never notebook parameters)"
        )
    paths = list(notebooks)
    if not paths:
        raise ArgyleValueError("no notebooks to run")
    _papermill()  # installed? (before any folder is made)
    day = day if day is not None else clock().date()
    folder = report_dir(out, day)
    folder.mkdir(parents=True, exist_ok=True)
    runs: list[NotebookRun] = []
    for path in paths:
        run = run_notebook(
            path, folder, clock=clock, base_url=base_url, users=users, seed=seed, timeout=timeout
        )
        runs.append(run)
        if on_run is not None:
            on_run(run)
    page = index_html(runs, day=day, generated=clock(), keys_in_environment=keys)
    (folder / "index.html").write_text(page, encoding="utf-8")
    return folder, runs
