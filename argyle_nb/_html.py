"""HTML from data: the one escaping rule every page, repr and widget of argyle_nb follows.

Metadata keys and values, link items, employers, error codes and messages and scan statuses
come from customers' systems and from a server: any of them may hold markup. Every surface
that writes HTML (the explorers' tables and snapshots, each ``_repr_html_``, the charts'
inline specs, the report pages) passes data through one of three functions:

* :func:`escape` for text in an element or an attribute value (``&``, ``<``, ``>``, ``"``
  and ``'`` become character references);
* :func:`styled` for a table drawn by pandas' Styler: cell values, index labels, column
  headers and the index's and columns' names all escaped, formats kept;
* :func:`script_json` for JSON inlined in a ``<script>``: ``<``, ``>``, ``&``, U+2028 and
  U+2029 as ``\\u`` escapes, so no value can end the script (``</script>``), open a script
  data state (``<!--``) or break a line of JavaScript.

Examples:
    >>> escape('<img src=x onerror="alert(1)">')
    '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
    >>> script_json({"name": "</script><!--"})
    '{"name": "\\\\u003c/script\\\\u003e\\\\u003c!--"}'
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import pandas as pd
    from pandas.io.formats.style import Styler

#: What :func:`script_json` writes for each character that may not appear raw in a script.
_SCRIPT_ESCAPES: Final = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def escape(value: object) -> str:
    """``value`` as text for an element's content or a quoted attribute value."""
    return html.escape(str(value), quote=True)


def script_json(value: Any) -> str:
    """``value`` as JSON safe to inline in a ``<script>`` element (it parses as the same
    JSON: the escaped characters can only occur inside strings)."""
    return json.dumps(value, ensure_ascii=False).translate(_SCRIPT_ESCAPES)


def styled(
    frame: pd.DataFrame, formats: Mapping[str, str] | None = None, *, na_rep: str | None = None
) -> Styler:
    """``frame.style`` with every text from the data escaped: cells, index labels, column
    headers and the axes' names. ``formats`` (column -> format string) and ``na_rep`` are
    :meth:`Styler.format`'s: numbers keep their format, text is escaped."""
    named = frame.copy(deep=False)
    named.index = named.index.set_names([_name(n) for n in frame.index.names])
    named.columns = named.columns.set_names([_name(n) for n in frame.columns.names])
    styler = named.style.format(escape="html", na_rep=na_rep)
    if formats:
        styler = styler.format(dict(formats), escape="html", na_rep=na_rep)
    return styler.format_index(escape="html", axis=0).format_index(escape="html", axis=1)


def _name(name: object) -> str | None:
    """An axis' name as the Styler writes it raw: escaped (``None`` stays none)."""
    return None if name is None else escape(name)
