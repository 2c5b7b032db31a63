"""The metadata-cohort explorer."""

from __future__ import annotations

from typing import Any

import pandas as pd

from argyle_nb import analysis
from argyle_nb._html import escape
from argyle_nb.dataset import Dataset
from argyle_nb.errors import ArgyleValueError
from argyle_nb.widgets._base import (
    MAX_CHART_ROWS,
    MAX_GROUP_OPTIONS,
    Clock,
    _draw,
    _Explorer,
    _widgets,
    as_dataset,
)
from argyle_nb.widgets._charts import COHORT_SELECTION, jupyter_chart
from argyle_nb.widgets._tables import TablePager

#: The explorer's tabs, in order.
TABS = ("Shares", "Funnel", "Time to connect")


class MetadataExplorer(_Explorer):
    """Pick a metadata key, see its cohorts: the shares with their intervals and which
    differ, in words; the funnel from signing up to fully synced; the time to connect.
    Pick a cohort (or click its bar), see its users.

    Keys that make good cohorts come first (see
    :func:`~argyle_nb.analysis.metadata_key_summary`); keys that are ids, single-valued
    or mostly missing are offered after them, marked as such. The funnel and the time to
    connect are computed when their tab is shown.

    Args:
        users: a :func:`~argyle_nb.frames.users_frame`, or a
            :class:`~argyle_nb.dataset.Dataset` (an export bigger than memory, or
            ``Dataset.from_frames``; then nothing else: the dataset has the accounts).
            Either way every count is made in DuckDB.
        accounts: an :func:`~argyle_nb.frames.accounts_frame` (with a users frame).
        key: the key shown first (default: the best cohort key).
        availability: an :func:`~argyle_nb.frames.availability_frame` (with frames; the
            funnel's last step, fully synced, needs it).

    Attributes:
        data: the :class:`~argyle_nb.dataset.Dataset` shown (the frames as one).
        key: the Dropdown of metadata keys (set ``.value`` to drive it from code).
        group: the Dropdown of the key's groups (set ``.value`` to list its users).
        tabs: the Tab of :data:`TABS` (set ``.selected_index`` to show one).
        groups: the full :func:`~argyle_nb.analysis.metadata_groups` of the key.
        comparison: the :func:`~argyle_nb.analysis.compare_cohorts` of the key (once the
            Shares tab is shown: each tab is drawn when it is shown).
        table: the groups shown (users, connected users' share with its interval,
            accounts and their shares, small), in the Shares tab.
        chart_data: the groups drawn (at most :data:`MAX_CHART_ROWS`).
        funnel: the :func:`~argyle_nb.analysis.cohort_funnel` of the key (once shown).
        waits: the :func:`~argyle_nb.analysis.time_to_connect` of the key (once shown).
        waits_curves: its :func:`~argyle_nb.analysis.time_to_connect_curves`.
        group_users: the users of the chosen group (the first :data:`MAX_LISTED`).
    """

    #: Most users of a group listed (a group may hold millions; all of them:
    #: :func:`~argyle_nb.analysis.users_in_group`).
    MAX_LISTED = 2_000

    TABLE_COLUMNS = (
        "users",
        "connected_share",
        "connected_low",
        "connected_high",
        "accounts",
        "accounts_connected_share",
        "accounts_error_share",
        "small",
    )

    def __init__(
        self,
        users: pd.DataFrame | Dataset,
        accounts: pd.DataFrame | None = None,
        key: str | None = None,
        *,
        availability: pd.DataFrame | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(clock)
        w = _widgets()
        if isinstance(users, pd.DataFrame) and accounts is None:
            raise ArgyleValueError("MetadataExplorer(users, accounts) needs the accounts frame")
        self.data = as_dataset(
            "MetadataExplorer", users, "users", accounts=accounts, availability=availability
        )
        self._track(self.data, "users", "accounts")
        summary = analysis.metadata_key_summary(self.data)
        self._users_count = self.data.rows("users")
        self.groups: pd.DataFrame = pd.DataFrame()
        self.comparison: analysis.CohortComparison | None = None
        self.group_users: pd.DataFrame = pd.DataFrame()
        self.funnel: pd.DataFrame = pd.DataFrame()
        self.waits: pd.DataFrame = pd.DataFrame()
        self.waits_curves: pd.DataFrame = pd.DataFrame()
        #: The funnel and time-to-connect charts shown (Altair charts), ``None`` for none.
        self.funnel_chart: Any = None
        self.waits_chart: Any = None
        self._shown: dict[int, str | None] = {}  # tab -> the key it shows
        options: list[tuple[str, str]] = []
        for k, row in summary.iterrows():
            poor = row["cohort"] != "good"
            options.append((f"{k} (poor cohort: {row['reason']})" if poor else str(k), str(k)))
        if key is None and options:
            key = options[0][1]
        self.key = w.Dropdown(
            options=options, value=key, description="Key", layout=w.Layout(width="max-content")
        )
        self.group = w.Dropdown(options=[], value=None, description="Group")
        self._words = w.HTML()
        self._users = w.HTML()
        self._members = TablePager("cohort_users")
        self._funnel_note, self._waits_note = w.HTML(), w.HTML()
        self._funnel_chart, self._waits_chart = jupyter_chart(), jupyter_chart()
        self._funnel_table, self._waits_table = (
            TablePager("cohort_funnel"),
            TablePager("time_to_connect"),
        )
        _draw(self._funnel_chart, None)  # drawn when their tab is first shown
        _draw(self._waits_chart, None)
        self.tabs = w.Tab(
            children=[
                w.VBox([self._words, self._chart, self._table]),
                w.VBox([self._funnel_note, self._funnel_chart, self._funnel_table.widget]),
                w.VBox([self._waits_note, self._waits_chart, self._waits_table.widget]),
            ],
            titles=TABS,
        )
        self.key.observe(lambda _: self._update(), names="value")
        self.group.observe(lambda _: self._update_group(), names="value")
        self.tabs.observe(lambda _: self._show_tab(), names="selected_index")
        self.widget = w.VBox(
            [
                w.HTML("<b>Metadata cohorts</b>"),
                self._source,
                self.key,
                self._message,
                self.tabs,
                self.group,
                self._users,
                self._members.widget,
            ]
        )
        self._update()

    def _update(self) -> None:
        key = self.key.value
        self.comparison = None
        self._words.value = ""
        self._shown = {}
        self.groups = pd.DataFrame()
        if key is None:
            self._no_groups("No metadata keys among these users: nothing to group by.")
            return
        groups = analysis.metadata_groups(self.data, key)
        self.groups = groups
        if groups.empty:
            self._no_groups(f"No users to group by {key!r}.")
            return
        left_out = len(groups) - min(len(groups), MAX_CHART_ROWS)
        note = f" (chart: the {MAX_CHART_ROWS} largest)" if left_out else ""
        self._say(f"{key!r}: {len(groups):,} groups of {self._users_count:,} users{note}.")
        # A Dropdown of 100,000 ids would stall the browser: offer the largest groups.
        self.group.options = [str(g) for g in groups.index[:MAX_GROUP_OPTIONS]]
        self.group.value = None
        self._update_group()
        self._show_tab()

    def _no_groups(self, text: str) -> None:
        self._show_table(pd.DataFrame())
        self._show_chart(analysis.plot_metadata_groups, pd.DataFrame())
        self.group.options = []
        self._say(text)
        self._show_tab()

    def _too_many(self) -> str | None:
        """Why the cohorts of the key are not compared one by one (``None``: they are)."""
        plain = int((self.groups.index != analysis.MISSING).sum())
        if plain > MAX_CHART_ROWS:
            return f"{plain:,} cohorts: too many to compare one by one (is this key an id?)."
        return None

    def _show_comparison(self, key: str) -> None:
        """Which cohorts differ from the largest, in words (too many cohorts: say so)."""
        too_many = self._too_many()
        if too_many:
            self._words.value = f"<i>{escape(too_many)}</i>"
            return
        self.comparison = analysis.compare_cohorts(self.data, key)
        lines = self.comparison.summary().split("\n")
        items = "".join(f"<li>{escape(line.strip())}</li>" for line in lines[1:])
        self._words.value = f"<div>{escape(lines[0])}<ul>{items}</ul></div>"

    def _show_shares(self, key: str) -> None:
        """The Shares tab: the groups' table, the comparison in words and the chart."""
        self._show_table(self.groups[list(self.TABLE_COLUMNS)])
        self._show_comparison(key)
        self._show_chart(analysis.plot_metadata_groups, self.groups.head(MAX_CHART_ROWS))
        self._chart.selections.observe(self._clicked, [COHORT_SELECTION])

    def _show_tab(self) -> None:
        """Compute and draw the tab shown, once per key (the others when they are shown:
        a key chosen with the time to connect shown draws neither the shares nor the
        funnel)."""
        tab = self.tabs.selected_index
        key = self.key.value
        if tab is None or self._shown.get(tab, "") == key:
            return
        self._shown[tab] = key
        if tab == 0:
            if key is not None and not self.groups.empty:
                self._show_shares(key)
        elif tab == 1:
            self._show_funnel(key)
        else:
            self._show_waits(key)

    def _show_funnel(self, key: str | None) -> None:
        self.funnel = pd.DataFrame()
        why = self._why_not(key)
        if why is None and not self.data.has_availability:
            why = (
                "The funnel's last step (fully synced) needs the availability:"
                " MetadataExplorer(users, accounts, availability=availability)."
            )
        if why is None and key is not None:
            self.funnel = analysis.cohort_funnel(self.data, key)
        self._funnel_note.value = "" if why is None else f"<i>{escape(why)}</i>"
        self.funnel_chart = (
            analysis.plot_cohort_funnel(self.funnel, title=f"From sign-up to synced, by {key}")
            if len(self.funnel)
            else None
        )
        _draw(self._funnel_chart, self.funnel_chart)
        self._funnel_table.show(self.funnel.reset_index() if len(self.funnel) else self.funnel)

    def _show_waits(self, key: str | None) -> None:
        self.waits = self.waits_curves = pd.DataFrame()
        why = self._why_not(key)
        if why is None and key is not None:
            self.waits = analysis.time_to_connect(self.data, key)
            self.waits_curves = analysis.time_to_connect_curves(self.data, key)
        self._waits_note.value = "" if why is None else f"<i>{escape(why)}</i>"
        self.waits_chart = (
            analysis.plot_time_to_connect(
                self.waits_curves, title=f"Users connected, by days since sign-up, by {key}"
            )
            if len(self.waits_curves)
            else None
        )
        _draw(self._waits_chart, self.waits_chart)
        self._waits_table.show(self.waits)

    def _why_not(self, key: str | None) -> str | None:
        """Why the key's funnel or time to connect is not shown (``None``: it is)."""
        if key is None or self.groups.empty:
            return "No cohorts to show."
        return self._too_many()

    def _clicked(self, change: dict[str, Any]) -> None:
        """A cohort clicked in the chart: choose it in the Group dropdown (lists its users)."""
        picked = [str(row.get("cohort")) for row in change["new"].value]
        if picked and picked[0] in self.group.options:
            self.group.value = picked[0]

    def _update_group(self) -> None:
        group = self.group.value
        if group is None or self.key.value is None:
            self.group_users = pd.DataFrame()
            self._members.show(pd.DataFrame())
            self._users.value = "<i>Choose a group to list its users.</i>"
            return
        total = int(self.groups.loc[group, "users"]) if group in self.groups.index else 0
        chosen = analysis.users_in_group(self.data, self.key.value, group, limit=self.MAX_LISTED)
        self.group_users = chosen
        # One column per metadata key the group's users carry (not raw JSON), in pages.
        meta = [c for c in chosen.columns if str(c).startswith("meta") and chosen[c].notna().any()]
        columns = [c for c in ("id", "created_at") if c in chosen.columns] + meta
        listing = chosen[columns].reset_index(drop=True)
        listing.columns = [str(c).removeprefix("meta.") for c in listing.columns]
        title = f"<b>{total:,} users in {escape(repr(group))}</b>"
        if total > len(chosen):
            title += f" (the first {len(chosen):,} listed)"
        self._users.value = title + ("" if total else " — none")
        self._members.show(listing)

    def _summary(self) -> str:
        return f"key={self.key.value!r}, {len(self.groups)} groups"
