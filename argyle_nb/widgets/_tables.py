"""Tables for people: shares as percentages with their intervals, dates as dates (UTC),
missing values as a dash, numbers right-aligned with thousands separators, headers in
words; long tables in pages, sortable, and exportable as CSV.

Examples:
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"users": [1795], "connected_share": [0.708],
    ...                       "connected_low": [0.687], "connected_high": [0.729]},
    ...                      index=pd.Index(["lending"], name="customer group"))
    >>> list(readable(frame).columns)
    ['users', 'connected (95% interval)']
    >>> readable(frame).iloc[0, 1]
    '70.8% (68.7–72.9%)'
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from argyle_nb._html import escape, styled
from argyle_nb.widgets._csv import csv_text, write_csv

#: Rows of one page of a table.
PAGE_ROWS: Final = 25
#: Above this many rows a table offers no inline CSV (a data: link of that size stalls a tab).
MAX_CSV_ROWS: Final = 50_000

_TRIPLES: Final = (
    # (share, low, high) column patterns: share/low/high, X_share/X_low/X_high,
    # share_S/low_S/high_S, S/S_low/S_high
    (r"^(?P<n>share)$", "low", "high"),
    (r"^(?P<n>.+)_share$", "{n}_low", "{n}_high"),
    (r"^share_(?P<n>.+)$", "low_{n}", "high_{n}"),
    (r"^(?P<n>.+)$", "{n}_low", "{n}_high"),
)


def _pct(value: Any) -> str:
    return "—" if value is None or pd.isna(value) else f"{float(value):.1%}"


def _interval_triples(frame: pd.DataFrame) -> list[tuple[str, str, str, str]]:
    """``(share, low, high, name)`` for every share with its interval in ``frame``."""
    found = []
    taken: set[str] = set()
    for column in frame.columns:
        name = str(column)
        if name in taken:
            continue
        for pattern, low, high in _TRIPLES:
            match = re.match(pattern, name)
            if not match:
                continue
            lo, hi = low.format(n=match["n"]), high.format(n=match["n"])
            if lo in frame.columns and hi in frame.columns:
                found.append((name, lo, hi, match["n"]))
                taken |= {name, lo, hi}
                break
    return found


def _when(values: pd.Series[Any]) -> pd.Series[str]:
    """Timestamps as UTC dates, or date and minute where the time of day matters."""
    utc = values.dt.tz_convert("UTC") if values.dt.tz is not None else values
    midnight = (utc.dropna() == utc.dropna().dt.normalize()).all()
    text = utc.dt.strftime("%Y-%m-%d" if midnight else "%Y-%m-%d %H:%M")
    out: pd.Series[str] = text.where(values.notna(), "—").astype("str")
    return out


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as text a person reads: see the module docstring. Index kept."""
    return _readable(frame)[0]


def _readable(frame: pd.DataFrame) -> tuple[pd.DataFrame, set[str]]:
    """:func:`readable`, and the headers of its columns that hold numbers (right-aligned)."""
    out = pd.DataFrame(index=frame.index)
    numeric: set[str] = set()
    triples = {share: (low, high, name) for share, low, high, name in _interval_triples(frame)}
    bounds = {c for low, high, _ in triples.values() for c in (low, high)}
    for column in frame.columns:
        name = str(column)
        if name in bounds:
            continue
        values = frame[column]
        header = name.replace("_", " ")
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            numeric.add(header)
        if name in triples:
            low, high, label = triples[name]
            text = [
                "—"
                if pd.isna(s)
                else f"{_pct(s)} ({_pct(lo).rstrip('%')}–{_pct(hi)})"
                if not (pd.isna(lo) or pd.isna(hi))
                else _pct(s)
                for s, lo, hi in zip(values, frame[low], frame[high], strict=True)
            ]
            header = f"{label.replace('_', ' ')} (95% interval)"
            numeric.add(header)
            out[header] = text
        elif "share" in name or name in ("synced", "in_progress", "sync_failed"):
            out[header] = [_pct(v) for v in values]
        elif isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(
            values
        ):
            out[header] = _when(values)
        elif pd.api.types.is_bool_dtype(values):
            out[header] = ["yes" if v else "" for v in values.fillna(False)]
        elif pd.api.types.is_integer_dtype(values):
            out[header] = ["—" if pd.isna(v) else f"{int(v):,}" for v in values]
        elif pd.api.types.is_float_dtype(values):
            out[header] = [
                "—" if pd.isna(v) else f"{float(v):,.3g}" if abs(v) < 1000 else f"{v:,.0f}"
                for v in values
            ]
        else:
            out[header] = [
                "—" if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else str(v)
                for v in values
            ]
    if out.index.name:
        out.index.name = str(out.index.name).replace("_", " ")
    return out, numeric & set(out.columns)


def table_html(frame: pd.DataFrame, *, start: int = 0, rows: int = PAGE_ROWS) -> str:
    """One page of ``frame`` as HTML, formatted by :func:`readable` (pandas' Styler);
    every text from the data (cells, index labels, headers) escaped."""
    page = frame.iloc[start : start + rows]
    shown, numeric = _readable(page)
    styler = styled(shown).set_table_attributes('class="argyle-data"')
    if isinstance(page.index, pd.RangeIndex):  # row numbers tell a reader nothing
        styler = styler.hide(axis="index")
    right: list[Any] = sorted(numeric)
    styler = styler.set_properties(subset=right, **{"text-align": "right"})
    styler = styler.set_table_styles(
        [
            {"selector": "th", "props": "text-align: left; padding: 2px 10px; font-weight: 600"},
            {"selector": "td", "props": "padding: 2px 10px; white-space: nowrap"},
            {"selector": "th.col_heading", "props": "border-bottom: 1px solid #999"},
        ]
    )
    body = styler.to_html()  # type: ignore[no-untyped-call,unused-ignore]
    end = min(start + rows, len(frame))
    caption = (
        f"<p class='argyle-rows'><i>rows {start + 1:,}–{end:,} of {len(frame):,}</i></p>"
        if len(frame) > rows
        else ""
    )
    return f'<div class="argyle-table"><div style="overflow-x:auto">{body}</div>{caption}</div>'


def csv_link(frame: pd.DataFrame, name: str) -> str:
    """A link that downloads ``frame`` as CSV (inline, so it works offline)."""
    if len(frame) > MAX_CSV_ROWS:
        return (
            f"<i>{len(frame):,} rows: too many for a download link; use explorer.to_csv(path).</i>"
        )
    data = base64.b64encode(csv_text(frame).encode("utf-8")).decode("ascii")
    file = escape(f"{name}.csv")
    return (
        f'<a download="{file}" href="data:text/csv;base64,{data}">'
        f"Download this view ({len(frame):,} row{'' if len(frame) == 1 else 's'}, CSV)</a>"
    )


class TablePager:
    """A table widget: pages of :data:`PAGE_ROWS`, sortable by any column, CSV download.

    Attributes:
        frame: the table shown (unformatted).
        sort_by: a Dropdown of its columns.
        previous: the Button to the previous page.
        next: the Button to the next page.
        widget: the box to put in an explorer.
    """

    def __init__(self, name: str) -> None:
        import ipywidgets as w

        self.name = name
        self.frame: pd.DataFrame = pd.DataFrame()
        self.start = 0
        self.sort_by = w.Dropdown(options=[("as computed", "")], value="", description="Sort by")
        self.previous = w.Button(description="◀ previous", layout=w.Layout(width="110px"))
        self.next = w.Button(description="next ▶", layout=w.Layout(width="110px"))
        self._html = w.HTML()
        self._csv = w.HTML()
        self._controls = w.HBox([self.sort_by, self.previous, self.next, self._csv])
        self.widget = w.VBox([self._controls, self._html])
        self.sort_by.observe(self._on_sort, names="value")
        self.previous.on_click(lambda _: self._move(-PAGE_ROWS))
        self.next.on_click(lambda _: self._move(PAGE_ROWS))
        self._sorted: pd.DataFrame = self.frame

    def show(self, frame: pd.DataFrame) -> None:
        """Show ``frame`` from its first page, in the order it came."""
        self.frame = frame
        options = [("as computed", "")] + [
            (str(c).replace("_", " "), str(c)) for c in frame.columns
        ]
        # New options may briefly select a column of the old frame: sort once, at the end.
        self.sort_by.unobserve(self._on_sort, names="value")
        self.sort_by.options = options
        self.sort_by.value = ""
        self.sort_by.observe(self._on_sort, names="value")
        self._controls.layout.display = None if len(frame) else "none"
        self._sort()

    @property
    def view(self) -> pd.DataFrame:
        """The rows in the order shown (sorted as chosen), every column, unformatted."""
        return self._sorted

    def to_csv(self, path: str | Path) -> Path:
        """Write :attr:`view` to ``path`` as CSV that spreadsheets cannot run (the link's)."""
        return write_csv(self._sorted, path)

    def _on_sort(self, _change: object) -> None:
        self._sort()

    def _sort(self) -> None:
        column = self.sort_by.value
        if column:
            values = self.frame[column]
            numeric = pd.api.types.is_numeric_dtype(values)
            # a column of objects may mix numbers and text: those sort as text
            mixed = values.dtype == object
            self._sorted = self.frame.sort_values(
                column,
                ascending=not numeric,
                kind="stable",
                na_position="last",
                key=(lambda v: v.astype("string")) if mixed else None,
            )
        else:
            self._sorted = self.frame
        self.start = 0
        self._csv.value = csv_link(self._sorted, self.name) if len(self._sorted) else ""
        self._render()

    def _move(self, step: int) -> None:
        last = max(len(self._sorted) - 1, 0) // PAGE_ROWS * PAGE_ROWS
        self.start = min(max(self.start + step, 0), last)
        self._render()

    def _render(self) -> None:
        frame = self._sorted
        self.previous.disabled = self.start == 0
        self.next.disabled = self.start + PAGE_ROWS >= len(frame)
        paged = len(frame) > PAGE_ROWS
        self.previous.layout.display = self.next.layout.display = None if paged else "none"
        self._html.value = table_html(frame, start=self.start) if len(frame) else ""
