"""The metadata-cohort explorer."""

from __future__ import annotations

from typing import Any

import pandas as pd

from argyle_nb import analysis, dataset
from argyle_nb._html import escape
from argyle_nb.dataset import Dataset
from argyle_nb.errors import ArgyleTypeError, ArgyleValueError
from argyle_nb.frames import metadata_keys
from argyle_nb.widgets._base import (
    MAX_CHART_ROWS,
    MAX_GROUP_OPTIONS,
    Clock,
    _Explorer,
    _rows,
    _widgets,
)
from argyle_nb.widgets._charts import COHORT_SELECTION
from argyle_nb.widgets._tables import TablePager

# ---------------------------------------------------------------------------
# Metadata cohorts
# ---------------------------------------------------------------------------


class MetadataExplorer(_Explorer):
    """Pick a metadata key, see its cohorts (shares with intervals, and which differ, in
    words), pick a cohort, see its users.

    Keys that make good cohorts come first (see
    :func:`~argyle_nb.analysis.metadata_key_summary`); keys that are ids, single-valued
    or mostly missing are offered after them, marked as such.

    Args:
        users: a :func:`~argyle_nb.frames.users_frame`, or a
            :class:`~argyle_nb.dataset.Dataset` (then no ``accounts``: the dataset has
            them; every count is made in DuckDB, and a group's users are listed up to
            :data:`MAX_LISTED`).
        accounts: an :func:`~argyle_nb.frames.accounts_frame` (with frames).
        key: the key shown first (default: the best cohort key).

    Attributes:
        key, group: the Dropdowns (set ``.value`` to drive the explorer from code).
        groups: the full :func:`~argyle_nb.analysis.metadata_groups` of the key.
        comparison: the :func:`~argyle_nb.analysis.compare_cohorts` of the key.
        table: the groups shown (users, connected users' share with its interval,
            accounts and their shares, small).
        chart_data: the groups drawn (at most :data:`MAX_CHART_ROWS`).
        group_users: the users of the chosen group (of a dataset: the first
            :data:`MAX_LISTED`).
    """

    #: Most users of a dataset's group listed (a group may hold millions).
    MAX_LISTED = 10_000

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
        clock: Clock | None = None,
    ) -> None:
        super().__init__(clock)
        w = _widgets()
        self.users = users
        self.accounts: pd.DataFrame | Dataset
        self._outcomes: analysis.Outcomes | None = None
        summary: pd.DataFrame | None
        if isinstance(users, Dataset):
            if accounts is not None:
                raise ArgyleValueError("a dataset holds its accounts: pass MetadataExplorer(ds)")
            self.accounts = users
            self._track(users=users, accounts=users)
            summary = dataset.metadata_key_summary(users)
        else:
            if accounts is None:
                raise ArgyleValueError("MetadataExplorer(users, accounts) needs the accounts frame")
            self.accounts = accounts
            self._track(users=users, accounts=accounts)
            # What every user did, once: a new key then costs only its labels.
            self._outcomes = analysis.Outcomes.of(users, accounts) if "id" in users else None
            summary = analysis.metadata_key_summary(users) if metadata_keys(users) else None
        self._users_count = _rows(users, "users")
        self.groups: pd.DataFrame = pd.DataFrame()
        self.comparison: analysis.CohortComparison | None = None
        self.group_users: pd.DataFrame = pd.DataFrame()
        options: list[tuple[str, str]] = []
        if summary is not None:
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
        self.key.observe(lambda _: self._update(), names="value")
        self.group.observe(lambda _: self._update_group(), names="value")
        self.widget = w.VBox(
            [
                w.HTML("<b>Metadata cohorts</b>"),
                self._source,
                self.key,
                self._message,
                self._words,
                self._chart,
                self._table,
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
        if key is None:
            self.groups = pd.DataFrame()
            self._show_table(pd.DataFrame())
            self._show_chart(analysis.plot_metadata_groups, pd.DataFrame())
            self.group.options = []
            self._say("No metadata keys among these users: nothing to group by.")
            return
        if isinstance(self.users, Dataset):
            groups = dataset.metadata_groups(self.users, key)
        else:
            groups = analysis.metadata_groups(
                self.users, self._frame(), key, outcomes=self._outcomes
            )
        self.groups = groups
        if groups.empty:
            self._show_table(pd.DataFrame())
            self._show_chart(analysis.plot_metadata_groups, pd.DataFrame())
            self.group.options = []
            self._say(f"No users to group by {key!r}.")
            return
        self._show_table(groups[list(self.TABLE_COLUMNS)])
        self._show_comparison(key)
        drawn = groups.head(MAX_CHART_ROWS)
        self._show_chart(analysis.plot_metadata_groups, drawn)
        self._chart.selections.observe(self._clicked, [COHORT_SELECTION])
        left_out = len(groups) - len(drawn)
        note = f" (chart: the {len(drawn)} largest)" if left_out else ""
        self._say(f"{key!r}: {len(groups):,} groups of {self._users_count:,} users{note}.")
        # A Dropdown of 100,000 ids would stall the browser: offer the largest groups.
        self.group.options = [str(g) for g in groups.index[:MAX_GROUP_OPTIONS]]
        self.group.value = None
        self._update_group()

    def _show_comparison(self, key: str) -> None:
        """Which cohorts differ from the largest, in words (too many cohorts: say so)."""
        plain = int((self.groups.index != analysis.MISSING).sum())
        if plain > MAX_CHART_ROWS:
            self._words.value = (
                f"<i>{plain:,} cohorts: too many to compare one by one (is this key an id?).</i>"
            )
            return
        if isinstance(self.users, Dataset):
            self.comparison = dataset.compare_cohorts(self.users, key, groups=self.groups)
        else:
            self.comparison = analysis.compare_cohorts(
                self.users, self._frame(), key, outcomes=self._outcomes
            )
        lines = self.comparison.summary().split("\n")
        items = "".join(f"<li>{escape(line.strip())}</li>" for line in lines[1:])
        self._words.value = f"<div>{escape(lines[0])}<ul>{items}</ul></div>"

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
        if isinstance(self.users, Dataset):
            total = int(self.groups.loc[group, "users"]) if group in self.groups.index else 0
            chosen = dataset.users_in_group(
                self.users, self.key.value, group, limit=self.MAX_LISTED
            )
        else:
            chosen = analysis.users_in_group(self.users, self.key.value, group)
            total = len(chosen)
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

    def _frame(self) -> pd.DataFrame:
        """The accounts frame (the explorer shows frames, not a dataset)."""
        if not isinstance(self.accounts, pd.DataFrame):
            raise ArgyleTypeError("the explorer shows a dataset, not frames")
        return self.accounts

    def _summary(self) -> str:
        return f"key={self.key.value!r}, {len(self.groups)} groups"
