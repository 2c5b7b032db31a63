"""MkDocs hook: the docstrings' Sphinx roles read as code in the reference pages.

The docstrings name other objects as Sphinx does (``:func:`~argyle_nb.frames.users_frame```);
rendered by mkdocstrings they would show the role's text. Here ``:role:`~a.b.c``` becomes
``c`` and ``:role:`a.b``` stays ``a.b``, both as code.
"""

from __future__ import annotations

import re
from typing import Any

ROLE = re.compile(r":(?:func|class|data|attr|meth|mod|exc|obj):<code>(~?)([^<]*)</code>")


def _shown(match: re.Match[str]) -> str:
    short, name = match.groups()
    return f"<code>{name.rsplit('.', 1)[-1] if short else name}</code>"


def on_page_content(html: str, **_: Any) -> str:
    return ROLE.sub(_shown, html)
