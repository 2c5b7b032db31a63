"""SQL text for DuckDB: quoted names and literals, and group labels as pandas makes them."""

from __future__ import annotations

from argyle_nb.analysis._common import MISSING, RESERVED_LABEL


def sql_name(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def sql_text(value: str) -> str:
    """``value`` as a SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def sql_texts(values: list[str]) -> str:
    """``values`` as a parenthesised list of SQL string literals (for ``in``)."""
    return "(" + ", ".join(sql_text(v) for v in values) + ")"


def text_label(text: str) -> str:
    """SQL: the text ``text`` as a group label, as
    :func:`~argyle_nb.analysis._common.text_labels` makes it (a text that reads as a label
    of ours is quoted once more)."""
    # every label of ours begins with "(" or '"': the pattern is tried on those alone
    return (
        f"case when (starts_with({text}, '(') or starts_with({text}, '\"'))"
        f" and regexp_full_match({text}, {sql_text(RESERVED_LABEL)})"
        f" then '\"' || {text} || '\"' else {text} end"
    )


def group_label(column: str) -> str:
    """A group label as the pandas analyses make it: the value as text (see
    :func:`text_label`), or MISSING."""
    text = text_label(f"cast({sql_name(column)} as varchar)")
    return f"coalesce({text}, {sql_text(MISSING)})"
