"""SQL for DuckDB, built in one place: names quoted by :func:`quote`, values always
parameters (:class:`Params`), never pasted into the text.

Every query argyle_nb sends is text written by this package with ``$name``
placeholders; what came from a user or the data (a metadata key, a group, a status, a
date) reaches DuckDB as a parameter, and a column name (a metadata key may hold quotes,
dots and backslashes) as a quoted identifier.

Examples:
    >>> p = Params()
    >>> "select " + quote('meta.a"b') + " from users where id = " + p("x")
    'select "meta.a""b" from users where id = $p0'
    >>> p.values
    {'p0': 'x'}
"""

from __future__ import annotations

import contextlib
from typing import Any

__all__ = ["Params", "quote"]


def quote(name: str) -> str:
    """``name`` as a quoted SQL identifier (its quotes doubled)."""
    return '"' + str(name).replace('"', '""') + '"'


class Params:
    """The values of one query: calling it with a value returns its placeholder.

    The same value given twice gets one placeholder. Pass :attr:`values` as the query's
    ``params``.
    """

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self._seen: dict[tuple[type, Any], str] = {}

    def __call__(self, value: Any) -> str:
        try:
            known = self._seen.get((type(value), value))
        except TypeError:  # a list: not hashable, its own placeholder
            known = None
        if known is not None:
            return known
        name = f"p{len(self.values)}"
        self.values[name] = value
        with contextlib.suppress(TypeError):  # a list: not hashable
            self._seen[(type(value), value)] = f"${name}"
        return f"${name}"
