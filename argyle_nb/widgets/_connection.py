"""The connection-health explorer."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from argyle_nb import analysis
from argyle_nb.dataset import Dataset
from argyle_nb.errors import ArgyleValueError
from argyle_nb.frames import ACCOUNT_COLUMNS
from argyle_nb.widgets._base import (
    MAX_CHART_ROWS,
    Clock,
    _draw,
    _Explorer,
    _html_table,
    _widgets,
    as_dataset,
)
from argyle_nb.widgets._charts import jupyter_chart

# ---------------------------------------------------------------------------
# Connection health
# ---------------------------------------------------------------------------


class ConnectionExplorer(_Explorer):
    """Filter accounts by link item, source and created-at; see their connection health.

    Args:
        accounts: an :func:`~argyle_nb.frames.accounts_frame`, or a
            :class:`~argyle_nb.dataset.Dataset` (an export bigger than memory). Either
            way every count is made in DuckDB, and only the tables shown are in pandas.
        by: the column the status distribution groups by (``link_item`` by default).

    Attributes:
        link_item: a SelectMultiple filter of link items (nothing selected: no filter).
        source: a SelectMultiple filter of sources (nothing selected: no filter).
        created_from: a DatePicker, the first day of ``created_at`` kept (UTC).
        created_before: a DatePicker, the day after the last kept (UTC; exclusive).
        by: a Dropdown of the distribution's grouping.
        freq: a Dropdown of the over-time period.
        data: the :class:`~argyle_nb.dataset.Dataset` shown (the frame as one).
        selected: the dataset restricted to the accounts matching the filters (see
            :func:`~argyle_nb.analysis.select_accounts`).
        table: :func:`~argyle_nb.analysis.connection_status_distribution` of the
            selection.
        chart_data: the largest groups of ``table``, drawn.
        errors: :func:`~argyle_nb.analysis.top_error_codes` of the selection.
        over_time: the distribution per ``freq`` period of ``created_at``.
    """

    def __init__(
        self,
        accounts: pd.DataFrame | Dataset,
        by: str = "link_item",
        *,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(clock)
        w = _widgets()
        self.data = as_dataset("ConnectionExplorer", accounts, "accounts")
        self._total = self.data.rows("accounts")
        self._track(self.data, "accounts")
        self.selected: Dataset = self.data
        self._selected_count = 0
        self.errors: pd.DataFrame = pd.DataFrame()
        self.over_time: pd.DataFrame = pd.DataFrame()
        layout = w.Layout(width="260px", height="110px")
        self.link_item = w.SelectMultiple(
            options=self.data.distinct("accounts", "link_item"),
            description="Link item",
            layout=layout,
        )
        self.source = w.SelectMultiple(
            options=self.data.distinct("accounts", "source"),
            description="Source",
            layout=layout,
        )
        self.created_from = w.DatePicker(description="From")
        self.created_before = w.DatePicker(description="Before")
        # Grouping by a status field (an error code) would be circular: every code is 100%
        # error. Offered: where accounts come from, and cohort columns attached to them.
        own = set(ACCOUNT_COLUMNS)
        have = self.data.columns("accounts")
        cohorts = [c for c in have if c not in own and c != "external_metadata"]
        choices = [c for c in ("link_item", "source") if c in have] + cohorts
        if by not in choices:
            raise ArgyleValueError(
                f"cannot group the connection status by {by!r}: choose one of {choices}"
            )
        self.by = w.Dropdown(options=choices, value=by, description="Group by")
        self.freq = w.Dropdown(
            options=["day", "week", "month"], value="month", description="Over time"
        )
        self._errors = w.HTML()
        self._time_chart = jupyter_chart()
        #: The over-time chart shown (an Altair chart), ``None`` for none.
        self.time_chart: Any = None
        self.time_chart_data: pd.DataFrame = pd.DataFrame()
        self._time_drawn_for: tuple[object, ...] | None = None
        self._dist_drawn_for: tuple[object, ...] | None = None
        for control in (
            self.link_item,
            self.source,
            self.created_from,
            self.created_before,
            self.by,
            self.freq,
        ):
            control.observe(lambda _: self._update(), names="value")
        self.widget = w.VBox(
            [
                w.HTML("<b>Connection health</b>"),
                self._source,
                w.HBox([self.link_item, self.source]),
                w.HBox([self.created_from, self.created_before]),
                w.HBox([self.by, self.freq]),
                self._message,
                self._chart,
                self._table,
                w.HTML("<b>Top error codes</b>"),
                self._errors,
                self._time_chart,
            ]
        )
        self._update()

    def _filters(self) -> dict[str, Any]:
        def day(value: date | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "link_item": list(self.link_item.value) or None,
            "source": list(self.source.value) or None,
            "created_from": day(self.created_from.value),
            "created_to": day(self.created_before.value),
        }

    def _update(self) -> None:
        selected = analysis.select_accounts(self.data, **self._filters())
        self.selected = selected  # the previous selection's views go with it
        count = selected.rows("accounts")
        self._selected_count = count
        if not count:
            self.errors = pd.DataFrame()
            self.over_time = pd.DataFrame()
            self._show_table(pd.DataFrame())
            self._show_chart(self._draw_distribution, pd.DataFrame())
            self._show_time(pd.DataFrame())
            self._time_drawn_for = self._dist_drawn_for = None
            self._errors.value = ""
            self._say("No accounts match these filters: widen the link items, sources or dates.")
            return
        filters = tuple(sorted(map(str, self._filters().items())))
        # Each chart is redrawn only when what it shows changes.
        if (filters, self.by.value) != self._dist_drawn_for:
            dist = analysis.connection_status_distribution(selected, by=self.by.value)
            self._show_table(dist)
            drawn = dist.head(MAX_CHART_ROWS)
            self._show_chart(self._draw_distribution, drawn)
            self._dist_drawn_for = (filters, self.by.value)
        self.errors = analysis.top_error_codes(selected, n=10)
        self._errors.value = (
            _html_table(self.errors) if len(self.errors) else "<i>No error codes.</i>"
        )
        # The over-time chart depends on the filters and the period, not on the grouping.
        drawn_for = (filters, self.freq.value)
        if drawn_for != self._time_drawn_for:
            self.over_time = analysis.connection_status_distribution(selected, by=self.freq.value)
            self._show_time(self.over_time.tail(MAX_CHART_ROWS))
            self._time_drawn_for = drawn_for
        periods = len(self.over_time)
        cut = (
            f" Over time: the last {MAX_CHART_ROWS} of {periods} {self.freq.value}s drawn"
            f" (the table below the chart has them all; 'month' draws more of the range)."
            if periods > MAX_CHART_ROWS
            else ""
        )
        self._say(f"{count:,} of {self._total:,} accounts, by {self.by.value}.{cut}")

    def _draw_distribution(self, data: pd.DataFrame) -> object:
        return analysis.plot_connection_status_distribution(data)

    def _show_time(self, data: pd.DataFrame) -> None:
        self.time_chart_data = data
        self.time_chart = (
            analysis.plot_connection_status_distribution(
                data, title=f"Connection status of accounts by {self.freq.value} created"
            )
            if len(data)
            else None
        )
        _draw(self._time_chart, self.time_chart)

    def _summary(self) -> str:
        return f"{self._selected_count:,} of {self._total:,} accounts"
