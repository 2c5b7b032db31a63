"""CSV that a spreadsheet cannot run: the one writer of every CSV argyle_nb makes.

Text from data reaches these files (cohort names, metadata values, error messages), and
a spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a formula
(``=HYPERLINK(...)`` sends data away when clicked). OWASP's rule is applied to every text
cell, index labels and column headers included: such a cell, or one that begins with a
tab or a carriage return, gets a leading ``'``; every field is quoted and quotes inside a
field are doubled, so a line break inside a cell never splits a row. Numbers stay
numbers (a negative number is not a formula).

Examples:
    >>> import pandas as pd
    >>> print(csv_text(pd.DataFrame({"cohort": ["=1+1", "ok"], "users": [3, -1]})), end="")
    "","cohort","users"
    "0","'=1+1","3"
    "1","ok","-1"
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Final

import pandas as pd

#: What a spreadsheet may read as the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def _neutral(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def _neutral_index(index: pd.Index[Any]) -> pd.Index[Any]:
    names = [_neutral(name) for name in index.names]
    if isinstance(index, pd.MultiIndex):
        rows = [tuple(_neutral(v) for v in row) for row in index]
        return pd.MultiIndex.from_tuples(rows, names=names)
    if pd.api.types.is_numeric_dtype(index.dtype) or pd.api.types.is_datetime64_any_dtype(
        index.dtype
    ):
        return index.rename(names[0])
    text: pd.Index[Any] = pd.Index([_neutral(v) for v in index], dtype=object, name=names[0])
    return text


def csv_text(frame: pd.DataFrame) -> str:
    """``frame`` (index included) as CSV text that spreadsheets cannot run: see above."""
    out = pd.DataFrame(
        {
            position: (
                values.array
                if pd.api.types.is_numeric_dtype(values.dtype)
                or pd.api.types.is_datetime64_any_dtype(values.dtype)
                else values.astype(object).map(_neutral).array
            )
            for position, (_, values) in enumerate(frame.items())
        },
        index=_neutral_index(frame.index),
    )
    out.columns = pd.Index([_neutral(str(c)) for c in frame.columns], dtype=object)
    return out.to_csv(quoting=csv.QUOTE_ALL, lineterminator="\n")


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write :func:`csv_text` of ``frame`` to ``path`` (UTF-8); returns the path."""
    target = Path(path)
    target.write_text(csv_text(frame), encoding="utf-8", newline="")
    return target
