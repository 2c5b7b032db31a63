"""SQL text for DuckDB: quoted names and literals, and group labels as pandas makes them."""

from __future__ import annotations

from argyle_nb.analysis._common import MISSING


def sql_name(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def sql_text(value: str) -> str:
    """``value`` as a SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def sql_texts(values: list[str]) -> str:
    """``values`` as a parenthesised list of SQL string literals (for ``in``)."""
    return "(" + ", ".join(sql_text(v) for v in values) + ")"


def group_label(column: str) -> str:
    """A group label as the pandas analyses make it: the value as text, or MISSING."""
    return f"coalesce(cast({sql_name(column)} as varchar), {sql_text(MISSING)})"
