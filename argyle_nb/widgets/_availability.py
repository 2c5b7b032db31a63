"""The scan-availability explorer."""

from __future__ import annotations

from typing import Any

import pandas as pd

from argyle_nb import analysis
from argyle_nb.dataset import Dataset
from argyle_nb.widgets._base import Clock, _Explorer, _widgets, as_dataset

# ---------------------------------------------------------------------------
# Availability
# ---------------------------------------------------------------------------


class AvailabilityExplorer(_Explorer):
    """Pick a resource and scan statuses; see a sampled timeline of windows and a summary.

    Only event resources have windows to draw (``activities``, ``payouts``: an
    ``available_from`` and ``available_to``); the explorer offers those and says which
    others the data has and why they draw nothing.

    Args:
        availability: an :func:`~argyle_nb.frames.availability_frame`, or a
            :class:`~argyle_nb.dataset.Dataset` (an export bigger than memory). Either
            way every count is made in DuckDB; only the summary and the sampled windows
            are in pandas.
        resource: the resource shown first (default: ``payouts`` if it has windows, else
            the first resource that has).
        sample: how many accounts the timeline draws (a seeded sample).
        seed: the sample's seed.
        stale_days: scans older than this before ``now`` are stale.
        now: the reference time (default: the latest ``updated_at`` of the data).

    Attributes:
        data: the :class:`~argyle_nb.dataset.Dataset` shown (the frame as one).
        resource: the Dropdown of resources.
        statuses: a SelectMultiple of scan statuses (nothing selected: all).
        table: :func:`~argyle_nb.analysis.availability_windows` of the chosen resource's
            rows with the chosen statuses.
        without_windows: the resources present that have no event windows.
        chart_data: the sampled :func:`~argyle_nb.analysis.availability_timeline`.
        flagged: the timeline rows marked (``sync_failed`` or stale).
    """

    def __init__(
        self,
        availability: pd.DataFrame | Dataset,
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
        self.data = as_dataset("AvailabilityExplorer", availability, "availability")
        self._track(self.data, "availability")
        self.sample = sample
        self.seed = seed
        self.stale_days = stale_days
        present, with_windows, statuses, latest = _offered(self.data)
        if now is not None:
            self.now: pd.Timestamp | None = pd.Timestamp(now)
        else:
            self.now = pd.Timestamp(latest) if pd.notna(latest) else None
        self.flagged: pd.DataFrame = pd.DataFrame()
        resources = [r for r in present if r in with_windows]
        self.without_windows: list[str] = [r for r in present if r not in with_windows]
        if resource is None and resources:
            resource = "payouts" if "payouts" in resources else resources[0]
        self.resource = w.Dropdown(options=resources, value=resource, description="Resource")
        self.statuses = w.SelectMultiple(
            options=statuses,
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
        resource = self.resource.value
        if resource is None:
            have = ", ".join(self.without_windows) or "none"
            self._empty(f"No resource has event windows to draw (resources present: {have}).")
            return
        rows = analysis.select_availability(self.data, resource=resource, statuses=statuses)
        if not rows.rows("availability"):
            chosen = ", ".join(statuses or [])
            self._empty(f"No {resource} scans with the status {chosen}.")
            return
        summary = analysis.availability_windows(rows, stale_days=self.stale_days, now=self.now)
        timeline = analysis.availability_timeline(
            self.data,
            resource,
            statuses=statuses,
            sample=self.sample,
            seed=self.seed,
            stale_days=self.stale_days,
            now=self.now,
        )
        self._show_table(summary)
        if timeline.empty:
            self._show_chart(self._draw, timeline)
            self.flagged = timeline
            self._say(f"No {resource} windows with these statuses." + self._no_windows_note())
            return
        self._show_chart(self._draw, timeline)
        failed = timeline["status"].astype("str") == "sync_failed"
        stale = timeline["stale"].astype(bool)
        self.flagged = timeline[(failed | stale).to_numpy()]
        self._say(
            f"{resource}: {len(timeline)} sampled windows (seed {self.seed}); "
            f"{int(failed.sum())} sync_failed (vermillion), {int(stale.sum())} stale (dotted)."
            + self._no_windows_note()
        )

    def _draw(self, timeline: pd.DataFrame) -> object:
        resource = self.resource.value
        title = f"Available {resource} windows, one line per account"
        return analysis.plot_availability_timeline(timeline, title=title)

    def _no_windows_note(self) -> str:
        if not self.without_windows:
            return ""
        return (
            f" {', '.join(self.without_windows)}: scanned, but with no event window to draw"
            " (no available_from / available_to)."
        )

    def _empty(self, text: str) -> None:
        self.flagged = pd.DataFrame()
        self._show_table(pd.DataFrame())
        self._show_chart(self._draw, pd.DataFrame())
        self._say(text)

    def _summary(self) -> str:
        return f"resource={self.resource.value!r}, {len(self.chart_data)} windows drawn"


def _offered(data: Dataset) -> tuple[list[str], set[str], list[str], Any]:
    """The resources present (in category order), those with event windows, the
    statuses present and the latest ``updated_at``."""
    counts = analysis.scan_counts(data)
    per = counts.groupby("resource", observed=True)[["accounts", "with_window"]].sum()
    present = [str(r) for r in per.index if per.loc[r, "accounts"] > 0]
    dated = {str(r) for r in per.index if per.loc[r, "with_window"] > 0}
    seen = counts.loc[counts["accounts"] > 0, "status"]
    statuses = [str(c) for c in seen.cat.categories if c in set(seen)]
    return present, dated, statuses, counts["latest"].max()
