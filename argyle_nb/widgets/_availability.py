"""The scan-availability explorer."""

from __future__ import annotations

from typing import Any

import pandas as pd

from argyle_nb import analysis
from argyle_nb.widgets._base import Clock, _Explorer, _options, _widgets

# ---------------------------------------------------------------------------
# Availability
# ---------------------------------------------------------------------------


class AvailabilityExplorer(_Explorer):
    """Pick a resource and scan statuses; see a sampled timeline of windows and a summary.

    Args:
        availability: an :func:`~argyle_nb.frames.availability_frame`.
        resource: the resource shown first (default: the first present, ``payouts`` if any).
        sample: how many accounts the timeline draws (a seeded sample).
        seed: the sample's seed.
        stale_days: scans older than this before ``now`` are stale.
        now: the reference time (default: the latest ``updated_at`` of the data).

    Attributes:
        resource: a Dropdown; statuses: a SelectMultiple (nothing selected: all).
        table: :func:`~argyle_nb.analysis.availability_windows` of the rows with the
            chosen statuses, per resource.
        chart_data: the sampled :func:`~argyle_nb.analysis.availability_timeline`.
        flagged: the timeline rows marked (``sync_failed`` or stale).
    """

    def __init__(
        self,
        availability: pd.DataFrame,
        resource: str | None = None,
        *,
        sample: int = 50,
        seed: int = 0,
        stale_days: float = 7,
        now: str | pd.Timestamp | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(clock)
        w = _widgets()
        self.availability = availability
        self._track(availability=availability)
        self.sample = sample
        self.seed = seed
        self.stale_days = stale_days
        latest = availability["updated_at"].max()
        if now is not None:
            self.now: pd.Timestamp | None = pd.Timestamp(now)
        else:
            self.now = pd.Timestamp(latest) if pd.notna(latest) else None
        self.flagged: pd.DataFrame = pd.DataFrame()
        counts = availability["resource"].astype("str").value_counts()
        order = _category_order(availability["resource"])
        resources = [r for r in order if counts.get(r, 0) > 0]
        if resource is None and resources:
            resource = "payouts" if "payouts" in resources else resources[0]
        self.resource = w.Dropdown(options=resources, value=resource, description="Resource")
        self.statuses = w.SelectMultiple(
            options=_category_order(availability["status"]),
            description="Statuses",
            layout=w.Layout(width="260px", height="90px"),
        )
        self.resource.observe(lambda _: self._update(), names="value")
        self.statuses.observe(lambda _: self._update(), names="value")
        self.widget = w.VBox(
            [
                w.HTML("<b>Availability windows</b>"),
                self._source,
                w.HBox([self.resource, self.statuses]),
                self._message,
                self._chart,
                self._table,
            ]
        )
        self._update()

    def _update(self) -> None:
        statuses: list[str] | None = list(self.statuses.value) or None
        rows = self.availability
        if statuses is not None:
            rows = rows[rows["status"].astype("str").isin(statuses).to_numpy()]
        resource = self.resource.value
        if resource is None or rows.empty:
            self._empty("No availability rows match these statuses.")
            return
        summary = analysis.availability_windows(rows, stale_days=self.stale_days, now=self.now)
        timeline = analysis.availability_timeline(
            self.availability,
            resource,
            statuses=statuses,
            sample=self.sample,
            seed=self.seed,
            stale_days=self.stale_days,
            now=self.now,
        )
        self._show_table(summary)
        if timeline.empty:
            self._show_chart(analysis.plot_availability_timeline, timeline, 0)
            self.flagged = timeline
            self._say(f"No {resource} windows with these statuses.")
            return
        self._show_chart(analysis.plot_availability_timeline, timeline, 0.2 * len(timeline) + 1)
        failed = timeline["status"].astype("str") == "sync_failed"
        stale = timeline["stale"].astype(bool)
        self.flagged = timeline[(failed | stale).to_numpy()]
        self._say(
            f"{resource}: {len(timeline)} sampled windows (seed {self.seed}); "
            f"{int(failed.sum())} sync_failed (red), {int(stale.sum())} stale (dotted)."
        )

    def _empty(self, text: str) -> None:
        self.flagged = pd.DataFrame()
        self._show_table(pd.DataFrame())
        self._show_chart(analysis.plot_availability_timeline, pd.DataFrame(), 0)
        self._say(text)

    def _summary(self) -> str:
        return f"resource={self.resource.value!r}, {len(self.chart_data)} windows drawn"


def _category_order(values: pd.Series[Any]) -> list[str]:
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = {str(v) for v in values.dropna().unique()}
        return [str(c) for c in values.cat.categories if str(c) in present]
    return _options(values)
