"""pyproject.toml declares what the package imports, and nothing it does not.

The imports are read from the package's source (every ``import``, ``from ... import`` and
``importlib.import_module("...")``, wherever they are), each third-party module mapped to
the distribution that installs it; the declared are the runtime dependencies and the
``lab`` and ``report`` extras.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "argyle_nb"

#: Declared though never imported, each for a reason a reader can check.
RUN_NOT_IMPORTED = {
    # altair.JupyterChart (the explorers' charts) needs it; altair does not declare it.
    "anywidget",
    # `argyle-nb lab` runs JupyterLab as a program (`python -m jupyterlab`).
    "jupyterlab",
    # the notebooks' kernel, started by JupyterLab and by papermill.
    "ipykernel",
}


def _name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9_.-]+)", requirement)
    assert match, requirement
    return match.group(1).lower().replace("_", "-")


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    return {_name(r) for r in [*project["dependencies"], *extras["lab"], *extras["report"]]}


def imported_modules() -> dict[str, str]:
    """Every top-level module the package imports, with one file that imports it."""
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif (
                isinstance(node, ast.Call)
                and ast.unparse(node.func) in ("importlib.import_module", "import_module")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                names = [node.args[0].value]
            for name in names:
                top = name.split(".")[0]
                if top != "argyle_nb" and top not in sys.stdlib_module_names:
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def imported() -> dict[str, str]:
    """The distributions of :func:`imported_modules`, with a file that needs each."""
    owners = importlib.metadata.packages_distributions()
    out: dict[str, str] = {}
    for module, where in imported_modules().items():
        assert module in owners, f"{where} imports {module!r}, which no installed package provides"
        for dist in owners[module]:
            out.setdefault(dist.lower().replace("_", "-"), where)
    return out


def test_the_reader_sees_the_imports_it_must() -> None:
    """The scan itself finds what is known to be there (or the tests below prove nothing)."""
    modules = imported_modules()
    assert modules["duckdb"].startswith("argyle_nb/")
    assert "papermill" in modules  # imported by name, through importlib
    assert "os" not in modules and "argyle_nb" not in modules


def test_every_import_is_declared() -> None:
    missing = {dist: where for dist, where in imported().items() if dist not in declared()}
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_nothing_is_declared_that_is_not_imported() -> None:
    unused = declared() - set(imported()) - RUN_NOT_IMPORTED
    assert not unused, f"declared in pyproject.toml but never imported: {sorted(unused)}"
    assert "fastapi" not in declared()
