"""The documentation site builds with ``mkdocs build --strict`` (a broken cross-reference
or link fails it), documents every public module and every name of its ``__all__``, and
shows the notebooks with their outputs."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from tests.docs_site import build_site

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "reference"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site(tmp_path_factory.mktemp("site"))


def documented() -> dict[str, str]:
    """Each module a reference page renders (``::: module``), with its page's name."""
    found: dict[str, str] = {}
    for page in sorted(REFERENCE.glob("*.md")):
        for module in re.findall(r"^::: (\S+)", page.read_text(encoding="utf-8"), re.M):
            found[module] = page.stem
    return found


def public_modules() -> list[str]:
    """argyle_nb's public modules: its own, each not private, and analysis.stats."""
    package = ROOT / "argyle_nb"
    names = [
        p.stem if p.is_file() else p.name
        for p in package.iterdir()
        if (p.suffix == ".py" or (p / "__init__.py").exists()) and not p.name.startswith("_")
    ]
    return sorted(["argyle_nb", "argyle_nb.analysis.stats", *(f"argyle_nb.{n}" for n in names)])


def test_every_public_module_has_a_reference_page() -> None:
    missing = set(public_modules()) - set(documented())
    assert not missing, f"no reference page renders {sorted(missing)}"


def test_every_public_name_is_on_its_page(site: Path) -> None:
    for module, page in documented().items():
        if module == "argyle_nb":
            continue  # the top level re-exports names documented on their modules' pages
        html = (site / "reference" / page / "index.html").read_text(encoding="utf-8")
        names = getattr(importlib.import_module(module), "__all__", [])
        submodules = {n for n in names if f"{module}.{n}" in documented()}
        missing = [n for n in names if n not in submodules and f'id="{module}.{n}"' not in html]
        assert not missing, f"{module}: not on reference/{page}: {missing}"


def test_the_notebooks_are_pages_with_their_outputs(site: Path) -> None:
    page = (site / "notebooks" / "02_metadata_cohorts" / "index.html").read_text(encoding="utf-8")
    assert "compare_cohorts" in page  # the code
    assert "Share of accounts in error now by" in page  # a stored output
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert (site / "notebooks" / notebook.stem / "index.html").is_file(), notebook.name


def test_the_guides_link_only_to_pages_that_exist(site: Path) -> None:
    """(mkdocs --strict checks Markdown links; this checks the built pages' own links.)"""
    for html in (site / "guides").rglob("index.html"):
        for target in re.findall(r'href="(\.\./[^"#]+)"', html.read_text(encoding="utf-8")):
            resolved = (html.parent / target).resolve()
            exists = resolved.is_file() or (resolved / "index.html").is_file()
            assert exists, f"{html.relative_to(site)} links to a missing {target}"
