"""The history explorer: how the accounts' connection status changed across snapshots."""

from __future__ import annotations

from typing import Any

import pandas as pd

from argyle_nb import analysis
from argyle_nb._html import escape
from argyle_nb.analysis import MISSING
from argyle_nb.dataset import Dataset
from argyle_nb.errors import ArgyleTypeError, ArgyleValueError
from argyle_nb.widgets._base import MAX_GROUP_OPTIONS, Clock, _draw, _Explorer, _widgets
from argyle_nb.widgets._charts import TRANSITION_SELECTION, jupyter_chart
from argyle_nb.widgets._tables import TablePager

#: The label of the choice of no grouping.
OVERALL = "(all accounts)"


class HistoryExplorer(_Explorer):
    """Pick a range of snapshots and a grouping; see the connection status shares over
    the range and the transitions from its first snapshot to its last; pick a cell of the
    matrix (or click it) to list its accounts.

    Args:
        ds: a :class:`~argyle_nb.dataset.Dataset` of snapshots (``client.export(path)``
            adds one at each run; ``Dataset(path)``).
        by: the grouping shown first: ``None`` (all accounts), a column of the accounts
            (``link_item``, ``source``) or a metadata key of their users.

    Attributes:
        data: the dataset shown.
        snapshots: a SelectionRangeSlider of the snapshots (its ``index`` is the pair of
            snapshot numbers; default: the last eight).
        by: the Dropdown of groupings: all accounts, link item, source, then the metadata
            keys that make good cohorts.
        group: the Dropdown of the groups of ``by`` (largest first).
        move: the Dropdown of the matrix's cells, ``(from, to)``: set it (or click a cell)
            to list the accounts that moved so.
        shares: the :func:`~argyle_nb.analysis.status_over_time` of the range (of the
            group), drawn in :attr:`chart`.
        moves: the :func:`~argyle_nb.analysis.transitions` from the first to the last
            snapshot of the range (of the group), drawn in :attr:`moves_chart` and shown
            in the table.
        accounts: the :func:`~argyle_nb.analysis.transition_accounts` of the chosen cell
            (the first :data:`MAX_LISTED`).
    """

    #: Most accounts of a cell listed (all: :func:`~argyle_nb.analysis.transition_accounts`).
    MAX_LISTED = 2_000
    #: The snapshots in the range shown first (the latest ones).
    FIRST_RANGE = 8

    def __init__(self, ds: Dataset, by: str | None = None, *, clock: Clock | None = None) -> None:
        super().__init__(clock)
        w = _widgets()
        if not isinstance(ds, Dataset):
            raise ArgyleTypeError(
                "HistoryExplorer shows a Dataset of snapshots (client.export(path) adds one"
                f" at each run; Dataset(path)), not {type(ds).__name__}"
            )
        self.data = ds
        self._track(ds, "accounts")
        catalogue = ds.snapshots
        count = len(catalogue)
        self.shares: pd.DataFrame = pd.DataFrame()
        self.moves: pd.DataFrame = pd.DataFrame()
        self.accounts: pd.DataFrame = pd.DataFrame()
        #: The transition matrix shown (an Altair chart), ``None`` for none.
        self.moves_chart: Any = None
        self._all_shares: dict[str | None, pd.DataFrame] = {}  # by -> every snapshot's
        # The transitions of every group of the range's ends, kept for the next group.
        self._all_moves: tuple[tuple[int, int, str | None], pd.DataFrame] | None = None
        self._updating = False  # (the group's options being replaced: no update per step)
        options = [
            (f"{number} ({pd.Timestamp(taken):%b %d})", number)
            for number, taken in enumerate(catalogue["taken_at"])
        ]
        self.snapshots = w.SelectionRangeSlider(
            options=options,
            index=(max(0, count - self.FIRST_RANGE), count - 1),
            description="Snapshots",
            layout=w.Layout(width="640px"),
            style={"description_width": "initial"},
        )
        groupings: list[tuple[str, str | None]] = [(OVERALL, None)]
        columns = ds.columns("accounts")
        groupings += [(c.replace("_", " "), c) for c in ("link_item", "source") if c in columns]
        summary = analysis.metadata_key_summary(ds)
        good = summary.index[summary["cohort"] == "good"]
        groupings += [(f"metadata: {key}", str(key)) for key in good]
        if by is not None and by not in [value for _, value in groupings]:
            if by not in columns and by not in summary.index:
                raise ArgyleValueError(
                    f"HistoryExplorer cannot group by {by!r}: choose one of"
                    f" {[value for _, value in groupings if value is not None]}"
                )
            groupings.append((by, by))  # a key offered though a poor cohort: asked for
        self.by = w.Dropdown(options=groupings, value=by, description="Group by")
        self.group = w.Dropdown(options=[], value=None, description="Group")
        self.move = w.Dropdown(options=[], value=None, description="Accounts")
        self._moves_chart = jupyter_chart()
        self._moves_note = w.HTML()
        self._listed = w.HTML()
        self._accounts = TablePager("transition_accounts")
        self.snapshots.observe(lambda _: self._update(), names="index")
        self.by.observe(lambda _: self._regroup(), names="value")
        self.group.observe(lambda _: self._update(), names="value")
        self.move.observe(lambda _: self._list(), names="value")
        self.widget = w.VBox(
            [
                w.HTML("<b>Connection status over time</b>"),
                self._source,
                self.snapshots,
                w.HBox([self.by, self.group]),
                self._message,
                self._chart,
                self._moves_note,
                self._moves_chart,
                self._table,
                self.move,
                self._listed,
                self._accounts.widget,
            ]
        )
        self._regroup()

    def _range(self) -> tuple[int, int]:
        first, last = self.snapshots.index
        return int(first), int(last)

    def _regroup(self) -> None:
        """A new grouping: its groups, largest in the latest snapshot first (missing last)."""
        by = self.by.value
        self._updating = True
        try:
            if by is None:
                self.group.options, self.group.value = [], None
                self.group.layout.display = "none"
            else:
                latest = self._shares_of(by)
                latest = latest[latest["snapshot"] == latest["snapshot"].max()]
                sizes = latest.groupby(by, observed=True)["accounts"].sum()
                sizes = sizes.sort_index().sort_values(ascending=False, kind="stable")
                # (accounts whose group is missing after the groups)
                order = [g for g in sizes.index if g != MISSING] + [
                    g for g in sizes.index if g == MISSING
                ]
                groups = [str(g) for g in order[:MAX_GROUP_OPTIONS]]
                self.group.options = groups
                self.group.value = groups[0] if groups else None
                self.group.layout.display = None
        finally:
            self._updating = False
        self._update()

    def _shares_of(self, by: str | None) -> pd.DataFrame:
        """The status shares of every snapshot by ``by``, counted once per grouping."""
        if by not in self._all_shares:
            self._all_shares[by] = analysis.status_over_time(self.data, by=by)
        return self._all_shares[by]

    def _moves_of(self, first: int, last: int, by: str | None) -> pd.DataFrame:
        """The transitions from ``first`` to ``last`` of every group of ``by``, counted
        once for the groups chosen in turn."""
        if self._all_moves is None or self._all_moves[0] != (first, last, by):
            self._all_moves = (first, last, by), analysis.transitions(self.data, first, last, by=by)
        return self._all_moves[1]

    def _update(self) -> None:
        if self._updating:
            return
        by, group = self.by.value, self.group.value
        first, last = self._range()
        shares = self._shares_of(by)
        shares = shares[shares["snapshot"].between(first, last)]
        if by is not None:
            shares = shares[shares[by] == group].drop(columns=by)
        self.shares = shares.reset_index(drop=True)
        self._show_chart(self._draw_shares, self.shares)
        self._show_moves(first, last)
        where = "" if by is None else f" of {by} {group!r}"
        total = self.shares.loc[self.shares["snapshot"] == last, "accounts"].sum()
        taken = self.data.snapshots["taken_at"]
        self._say(
            f"Snapshots {first} to {last} ({pd.Timestamp(taken[first]):%Y-%m-%d} to"
            f" {pd.Timestamp(taken[last]):%Y-%m-%d}): {int(total):,} accounts{where} at"
            f" snapshot {last}."
        )

    def _draw_shares(self, shares: pd.DataFrame) -> Any:
        title = "Connection status at each snapshot"
        if self.by.value is not None:
            title += f", {self.by.value} {self.group.value!r}"
        return analysis.plot_status_over_time(shares, title=title)

    def _show_moves(self, first: int, last: int) -> None:
        """The transitions from ``first`` to ``last`` (of the group), and their cells."""
        by, group = self.by.value, self.group.value
        self.moves = pd.DataFrame()
        if first == last:
            self._moves_note.value = (
                "<i>One snapshot in the range: widen it to see how the accounts moved.</i>"
            )
        else:
            moves = self._moves_of(first, last, by)
            if by is not None:
                moves = moves[moves[by] == group].drop(columns=by).reset_index(drop=True)
            self.moves = moves
            self._moves_note.value = (
                f"<b>From snapshot {first} to snapshot {last}</b>: click a cell to list"
                " its accounts."
            )
        title = f"Accounts from snapshot {first} to snapshot {last}"
        if by is not None:
            title += f", {by} {group!r}"
        self.moves_chart = (
            analysis.plot_transitions(self.moves, title=title) if len(self.moves) else None
        )
        _draw(self._moves_chart, self.moves_chart)
        if self.moves_chart is not None:
            self._moves_chart.selections.observe(self._clicked, [TRANSITION_SELECTION])
        self._show_table(self.moves)
        cells = [
            (f"{f} → {t} ({n:,})", (str(f), str(t)))
            for f, t, n in zip(
                self.moves.get("from", []),
                self.moves.get("to", []),
                self.moves.get("accounts", []),
                strict=True,
            )
        ]
        self.move.options = cells
        self.move.value = None
        self._list()

    def _clicked(self, change: dict[str, Any]) -> None:
        """A cell clicked in the matrix: choose it in the Accounts dropdown (lists them)."""
        picked = [(str(row.get("from")), str(row.get("to"))) for row in change["new"].value]
        if picked and picked[0] in [value for _, value in self.move.options]:
            self.move.value = picked[0]

    def _list(self) -> None:
        """List the accounts of the chosen cell."""
        if self.move.value is None:
            self.accounts = pd.DataFrame()
            self._accounts.show(self.accounts)
            self._listed.value = (
                "<i>Choose a cell (or click it in the matrix) to list its accounts.</i>"
                if len(self.moves)
                else ""
            )
            return
        f, t = self.move.value
        first, last = self._range()
        by = self.by.value
        self.accounts = analysis.transition_accounts(
            self.data,
            f,
            t,
            first,
            last,
            by=by,
            group=None if by is None else self.group.value,
            limit=self.MAX_LISTED,
        )
        row = self.moves[(self.moves["from"] == f) & (self.moves["to"] == t)]
        total = int(row["accounts"].iloc[0]) if len(row) else len(self.accounts)
        title = f"<b>{total:,} accounts from {escape(f)} to {escape(t)}</b>"
        if total > len(self.accounts):
            title += f" (the first {len(self.accounts):,} listed)"
        self._listed.value = title
        self._accounts.show(self.accounts)

    def _summary(self) -> str:
        first, last = self._range()
        by = "all accounts" if self.by.value is None else f"{self.by.value}={self.group.value!r}"
        return f"snapshots {first} to {last}, {by}"
