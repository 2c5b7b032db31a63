"""What every explorer shares: the base class, its charts, HTML tables, the source line."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from argyle_nb._html import escape
from argyle_nb.dataset import Dataset
from argyle_nb.errors import ArgyleTypeError, ArgyleValueError
from argyle_nb.provenance import Provenance, format_age

MAX_CHART_ROWS = 30
#: Most rows one HTML table shows.
MAX_TABLE_ROWS = 200
#: Most groups the MetadataExplorer's group Dropdown offers (the largest).
MAX_GROUP_OPTIONS = 1000


def _widgets() -> Any:
    import ipywidgets

    return ipywidgets


def _draw(view: Any, chart: Any | None) -> None:
    """Show ``chart`` in the JupyterChart ``view`` (``None``: hide the view)."""
    if chart is None:
        view.layout.display = "none"
        return
    from argyle_nb.widgets._charts import show_in

    show_in(view, chart)
    view.layout.display = None


def _html_table(frame: pd.DataFrame, *, limit: int = MAX_TABLE_ROWS) -> str:
    """A table for people (see :mod:`argyle_nb.widgets._tables`), at most ``limit`` rows."""
    from argyle_nb.widgets._tables import table_html

    return table_html(frame, rows=limit)


def _message_html(text: str, *, error: bool = False) -> str:
    colour = "#b00020" if error else "inherit"
    return f'<span class="argyle-message" style="color:{colour}">{escape(text)}</span>'


Clock = Callable[[], datetime]


#: Where each table of a dataset was listed from.
_ENDPOINTS = {"users": "/v1/users", "accounts": "/v1/accounts", "availability": "/v1/accounts"}


def provenances(data: Dataset, *tables: str) -> dict[str, Provenance | None]:
    """Where each of ``tables`` of ``data`` was listed from (``None``: not known)."""
    found: dict[str, Provenance | None] = {}
    for name in tables:
        try:
            found[name] = data.provenance(_ENDPOINTS[name])
        except ValueError:
            found[name] = None
    return found


def _source_line(
    sources: Mapping[str, Provenance | None], now: datetime, *, exported: bool = False
) -> str:
    """``Data: accounts: 1,334 from the embedded sandbox, 2 min old`` for each table's
    provenance (``... from the embedded sandbox (an exported dataset), ...`` for an
    export)."""
    parts: list[str] = []
    unknown: list[str] = []
    for name, found in sources.items():
        if found is None:
            unknown.append(name)
            continue
        # The records the list served (availability: of the accounts).
        kind = " (an exported dataset)" if exported else ""
        text = (
            f"{name}: {found.records:,} from the {found.environment}{kind}, "
            f"{format_age(found.age(now))} old"
        )
        if found.pages_from_cache:
            text += f" ({found.pages_from_cache} of {found.pages} pages from the cache)"
        if found.rejected:
            text += f", {found.rejected} rejected records left out"
        parts.append(text)
    if unknown:
        parts.append(f"{', '.join(unknown)}: of unknown origin (not fetched by the client)")
    return "Data: " + "; ".join(parts) if parts else ""


def as_dataset(
    explorer: str, given: pd.DataFrame | Dataset, table: str, **others: pd.DataFrame | None
) -> Dataset:
    """What an explorer shows, as the one :class:`~argyle_nb.dataset.Dataset` every
    analysis counts in: ``given`` itself when it is a dataset, else the ``table`` frame
    ``given`` and the ``others`` frames (by table) as a dataset over them, scanned in
    place. Made once, when the explorer opens."""
    if isinstance(given, Dataset):
        if any(frame is not None for frame in others.values()):
            raise ArgyleValueError(
                f"a dataset holds its users, accounts and availability: pass {explorer}(ds)"
            )
        return given
    if not isinstance(given, pd.DataFrame):
        raise ArgyleTypeError(f"{explorer} shows frames or a Dataset, not {type(given).__name__}")
    frames: dict[str, pd.DataFrame | None] = {"users": None, "accounts": None, "availability": None}
    frames.update(others)
    frames[table] = given
    return Dataset.from_frames(
        frames["users"], frames["accounts"], frames["availability"], by=explorer
    )


class _Explorer:
    """What every explorer shares: the root widget, the shown data and the display hooks."""

    def __init__(self, clock: Clock | None = None) -> None:
        w = _widgets()
        self.table: pd.DataFrame = pd.DataFrame()
        self.chart_data: pd.DataFrame = pd.DataFrame()
        self.message: str = ""
        #: Where the data shown came from and how old it is (from the frames' provenance).
        self.data_source: str = ""
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self._sources: dict[str, Provenance | None] = {}
        self._exported = False
        self._source = w.HTML()
        self._message = w.HTML()
        from argyle_nb.widgets._charts import jupyter_chart

        #: The chart shown (an Altair chart: tweak it, ``.save()`` it), ``None`` for none.
        self.chart: Any = None
        self._chart = jupyter_chart()
        from argyle_nb.widgets._tables import TablePager

        name = re.sub(r"(?<!^)(?=[A-Z])", "_", type(self).__name__).lower()
        self._pager = TablePager(name)
        self._table = self._pager.widget
        self.widget: Any = None

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message = text
        self._message.value = _message_html(text, error=error)
        self._show_source()

    def _track(self, data: Dataset, *tables: str) -> None:
        """Name the tables of ``data`` whose provenance the explorer shows."""
        self._track_sources(provenances(data, *tables), exported=not data.in_memory)

    def _track_sources(
        self, sources: dict[str, Provenance | None], *, exported: bool = False
    ) -> None:
        """Show where each table came from (``None``: not known)."""
        self._sources, self._exported = sources, exported
        self._show_source()

    def _show_source(self) -> None:
        """Re-draw the provenance line: the data's age grows while the explorer is open."""
        self.data_source = _source_line(self._sources, self._clock(), exported=self._exported)
        self._source.value = (
            f'<span class="argyle-source" style="color:#666">{escape(self.data_source)}</span>'
            if self.data_source
            else ""
        )

    def _show_table(self, frame: pd.DataFrame) -> None:
        self.table = frame
        self._pager.show(frame)

    @property
    def view(self) -> pd.DataFrame:
        """Export this view: the explorer's table as shown (sorted as chosen), unformatted.

        ``explorer.to_csv("view.csv")`` writes it as the table's own link downloads it.
        """
        return self._pager.view

    def to_csv(self, path: str | Path) -> Path:
        """Write :attr:`view` to ``path`` as CSV that spreadsheets cannot run.

        Text cells that begin with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
        get a leading ``'`` (OWASP's rule), index labels and headers too; every field is
        quoted. Returns the path.
        """
        return self._pager.to_csv(path)

    def _show_chart(self, draw: Callable[[pd.DataFrame], Any], data: pd.DataFrame) -> None:
        """Show ``draw(data)`` (nothing when ``data`` is empty)."""
        self.chart_data = data
        self.chart = draw(data) if len(data) else None
        _draw(self._chart, self.chart)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The live widget view, plus a static ``text/html`` snapshot of what it shows.

        JupyterLab's widget manager ranks the widget view above ``text/html``, so Lab shows
        the live explorer; a static HTML export (``argyle-nb report``) shows the snapshot:
        headings, the chosen values, the message, tables and charts (inline SVG, live
        where the page carries :func:`~argyle_nb.widgets._charts.vega_script`). Buttons
        and free-text fields (a search, metadata being edited, a user token) are left out.
        """
        from altair import JupyterChart

        from argyle_nb.widgets._charts import chart_html

        w = _widgets()

        def static(widget: Any) -> str:
            if getattr(widget.layout, "display", None) == "none":
                return ""
            if isinstance(widget, w.Box):
                flow = "row;flex-wrap:wrap" if isinstance(widget, w.HBox) else "column"
                inner = "".join(static(child) for child in widget.children)
                return f'<div style="display:flex;flex-direction:{flow};gap:4px 24px">{inner}</div>'
            if isinstance(widget, w.HTML):
                return f"<div>{widget.value}</div>" if widget.value else ""
            if isinstance(widget, JupyterChart):
                return chart_html(widget.chart)
            if isinstance(widget, w.SelectionRangeSlider):
                label = escape(str(widget.description))
                return f"<div><b>{label}</b>: {escape(' to '.join(map(str, widget.label)))}</div>"
            if isinstance(widget, w.Dropdown | w.SelectMultiple | w.DatePicker):
                value = widget.value
                if isinstance(value, tuple):
                    shown = ", ".join(str(v) for v in value) or "(all)"
                elif isinstance(widget, w.Dropdown) and widget.label is not None:
                    shown = str(widget.label)  # what the reader saw chosen ("as computed")
                else:
                    shown = "—" if value is None else str(value)
                label = escape(str(widget.description))
                return f"<div><b>{label}</b>: {escape(shown)}</div>"
            return ""

        snapshot = (
            f'<div class="argyle-explorer-snapshot">{static(self.widget)}'
            "<p><i>A static snapshot: open the notebook in JupyterLab to explore.</i></p></div>"
        )
        bundle = self.widget._repr_mimebundle_(**kwargs)
        if isinstance(bundle, tuple):  # (data, metadata)
            return {**bundle[0], "text/html": snapshot}, bundle[1]
        return {**(bundle or {"text/plain": repr(self)}), "text/html": snapshot}

    def _summary(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self._summary()}>"
