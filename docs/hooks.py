"""MkDocs hooks: the notebooks as pages, and the docstrings' Sphinx roles as code.

The notebooks stay in ``notebooks/`` (their one place; no copy or link under ``docs/``):
:func:`on_files` adds them to the site as ``notebooks/<name>.ipynb``, which
mkdocs-jupyter renders.

The docstrings name other objects as Sphinx does (``:func:`~argyle_nb.frames.users_frame```);
rendered by mkdocstrings they would show the role's text. Here ``:role:`~a.b.c``` becomes
``c`` and ``:role:`a.b``` stays ``a.b``, both as code.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]

ROLE = re.compile(r":(?:func|class|data|attr|meth|mod|exc|obj):<code>(~?)([^<]*)</code>")


def _shown(match: re.Match[str]) -> str:
    short, name = match.groups()
    return f"<code>{name.rsplit('.', 1)[-1] if short else name}</code>"


def on_page_content(html: str, **_: Any) -> str:
    return ROLE.sub(_shown, html)


@event_priority(100)  # before mkdocs-jupyter's own on_files, which makes them pages
def on_files(files: Files, config: Any, **_: Any) -> Files:
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        files.append(
            File(
                f"notebooks/{notebook.name}",
                src_dir=str(ROOT),
                dest_dir=config["site_dir"],
                use_directory_urls=config["use_directory_urls"],
            )
        )
    return files
