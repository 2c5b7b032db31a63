"""Interactive explorers for JupyterLab, built from standard ipywidgets and matplotlib.

Each explorer is a class: build it from frames (or a client) and put it last in a cell
to display it. The numbers come from :mod:`argyle_nb.analysis`; the explorers only
filter, pick and draw. What is shown is exposed for scripts and tests: ``.table`` (the
DataFrame in the table), ``.chart_data`` (the DataFrame drawn), ``.message`` (the
line of text under the controls), ``.data_source`` (where the frames came from and how
old they are, from their provenance: the line under the title) and ``.widget`` (the root
widget).

Example:
    >>> import argyle_nb
    >>> from argyle_nb.widgets import MetadataExplorer
    >>> client = argyle_nb.connect()                                   # doctest: +SKIP
    >>> MetadataExplorer(client.users_frame(), client.accounts_frame())  # doctest: +SKIP

Charts are rendered to PNG on a matplotlib ``Figure`` that never enters pyplot, so no
figure is left open; tables are HTML. Large inputs stay responsive: every chart draws
an aggregate (at most :data:`MAX_CHART_ROWS` bars) or a sample (timelines).
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import orjson
import pandas as pd

from argyle_nb import analysis
from argyle_nb.errors import ArgyleError
from argyle_nb.frames import metadata_keys
from argyle_nb.provenance import format_age, provenance_of

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from argyle_nb.client import ArgyleClient

__all__ = [
    "MAX_CHART_ROWS",
    "MAX_TABLE_ROWS",
    "AvailabilityExplorer",
    "ConnectionExplorer",
    "MetadataExplorer",
    "UserInspector",
]

#: Most bars one chart draws (the largest groups); the table says how many were left out.
MAX_CHART_ROWS = 30
#: Most rows one HTML table shows.
MAX_TABLE_ROWS = 200
#: Most groups the MetadataExplorer's group Dropdown offers (the largest).
MAX_GROUP_OPTIONS = 1000


def _widgets() -> Any:
    import ipywidgets

    return ipywidgets


def _png(plot: Callable[..., Axes], data: pd.DataFrame, height: float) -> bytes:
    """Draw ``plot(data, ax=...)`` on a Figure outside pyplot and return it as PNG."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, min(12.0, max(2.5, height))), layout="constrained")
    ax = figure.subplots()
    plot(data, ax=ax)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    figure.clear()
    return buffer.getvalue()


def _html_table(frame: pd.DataFrame, *, limit: int = MAX_TABLE_ROWS) -> str:
    shown = frame.head(limit)
    percent = {c: _percent for c in shown.columns if "share" in str(c) or c in _SHARE_COLUMNS}
    body = shown.to_html(
        na_rep="—", float_format=lambda x: f"{x:.3g}", formatters=percent, border=0
    )
    more = ""
    if len(frame) > limit:
        more = f"<p><i>showing {limit} of {len(frame)} rows</i></p>"
    return f'<div class="argyle-table">{body}{more}</div>'


#: Columns of shares (0–1) that tables show as percentages.
_SHARE_COLUMNS = frozenset({"synced", "in_progress", "sync_failed"})


def _percent(value: Any) -> str:
    return "—" if pd.isna(value) else f"{value:.1%}"


def _message_html(text: str, *, error: bool = False) -> str:
    colour = "#b00020" if error else "inherit"
    return f'<span class="argyle-message" style="color:{colour}">{html.escape(text)}</span>'


Clock = Callable[[], datetime]


def _source_line(frames: dict[str, pd.DataFrame], now: datetime) -> str:
    """``Data: accounts: 1334 from the embedded sandbox, 2 min old`` for tracked frames."""
    parts: list[str] = []
    unknown: list[str] = []
    for name, frame in frames.items():
        try:
            found = provenance_of(frame)
        except ValueError:
            found = None
        if found is None:
            unknown.append(name)
            continue
        text = (
            f"{name}: {found.records} from the {found.environment}, "
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
        self._tracked: dict[str, pd.DataFrame] = {}
        self._source = w.HTML()
        self._message = w.HTML()
        self._chart = w.Image(format="png", layout=w.Layout(max_width="100%"))
        self._table = w.HTML()
        self.widget: Any = None

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message = text
        self._message.value = _message_html(text, error=error)
        self._show_source()

    def _track(self, **frames: pd.DataFrame) -> None:
        """Name the frames whose provenance the explorer shows."""
        self._tracked = frames
        self._show_source()

    def _show_source(self) -> None:
        """Re-draw the provenance line: the data's age grows while the explorer is open."""
        self.data_source = _source_line(self._tracked, self._clock())
        self._source.value = (
            f'<span class="argyle-source" style="color:#666">{html.escape(self.data_source)}</span>'
            if self.data_source
            else ""
        )

    def _show_table(self, frame: pd.DataFrame) -> None:
        self.table = frame
        self._table.value = _html_table(frame) if len(frame) else ""

    def _show_chart(self, plot: Callable[..., Axes], data: pd.DataFrame, height: float) -> None:
        self.chart_data = data
        if len(data):
            self._chart.value = _png(plot, data, height)
            self._chart.layout.display = None
        else:
            self._chart.value = b""
            self._chart.layout.display = "none"

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The live widget view, plus a static ``text/html`` snapshot of what it shows.

        JupyterLab's widget manager ranks the widget view above ``text/html``, so Lab shows
        the live explorer; a static HTML export (``argyle-nb report``) shows the snapshot:
        headings, the chosen values, the message, tables and charts (PNG inline). Buttons
        and free-text fields (a search, metadata being edited, a user token) are left out.
        """
        import base64

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
            if isinstance(widget, w.Image):
                if not widget.value:
                    return ""
                data = base64.b64encode(widget.value).decode("ascii")
                src = f"data:image/{widget.format};base64,{data}"
                return f'<img src="{src}" style="max-width:100%" alt="chart">'
            if isinstance(widget, w.Dropdown | w.SelectMultiple | w.DatePicker):
                value = widget.value
                if isinstance(value, tuple):
                    shown = ", ".join(str(v) for v in value) or "(all)"
                else:
                    shown = "—" if value is None else str(value)
                label = html.escape(str(widget.description))
                return f"<div><b>{label}</b>: {html.escape(shown)}</div>"
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


# ---------------------------------------------------------------------------
# Metadata cohorts
# ---------------------------------------------------------------------------


class MetadataExplorer(_Explorer):
    """Pick a metadata key, see its groups (bar chart and table), pick a group, see its users.

    Args:
        users: a :func:`~argyle_nb.frames.users_frame`.
        accounts: an :func:`~argyle_nb.frames.accounts_frame`.
        key: the key shown first (default: the key carried by the most users).

    Attributes:
        key, group: the Dropdowns (set ``.value`` to drive the explorer from code).
        groups: the full :func:`~argyle_nb.analysis.metadata_groups` of the key.
        table: the groups shown (users, accounts, connected and error share).
        chart_data: the groups drawn (at most :data:`MAX_CHART_ROWS`).
        group_users: the users of the chosen group.
    """

    TABLE_COLUMNS = ("users", "accounts", "connected_share", "error_share")

    def __init__(
        self,
        users: pd.DataFrame,
        accounts: pd.DataFrame,
        key: str | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(clock)
        w = _widgets()
        self.users = users
        self.accounts = accounts
        self._track(users=users, accounts=accounts)
        self.groups: pd.DataFrame = pd.DataFrame()
        self.group_users: pd.DataFrame = pd.DataFrame()
        keys = metadata_keys(users)
        if key is None and keys:
            # The key most users carry (a cheap count: the summary labels every value).
            key = max(keys, key=lambda k: int(users[_meta(k)].notna().sum()))
        self.key = w.Dropdown(options=keys, value=key, description="Key")
        self.group = w.Dropdown(options=[], value=None, description="Group")
        self._users = w.HTML()
        self.key.observe(lambda _: self._update(), names="value")
        self.group.observe(lambda _: self._update_group(), names="value")
        self.widget = w.VBox(
            [
                w.HTML("<b>Metadata cohorts</b>"),
                self._source,
                self.key,
                self._message,
                self._chart,
                self._table,
                self.group,
                self._users,
            ]
        )
        self._update()

    def _update(self) -> None:
        key = self.key.value
        if key is None:
            self.groups = pd.DataFrame()
            self._show_table(pd.DataFrame())
            self._show_chart(analysis.plot_metadata_groups, pd.DataFrame(), 0)
            self.group.options = []
            self._say("No metadata keys among these users: nothing to group by.")
            return
        groups = analysis.metadata_groups(self.users, self.accounts, key)
        self.groups = groups
        if groups.empty:
            self._show_table(pd.DataFrame())
            self._show_chart(analysis.plot_metadata_groups, pd.DataFrame(), 0)
            self.group.options = []
            self._say(f"No users to group by {key!r}.")
            return
        self._show_table(groups[list(self.TABLE_COLUMNS)])
        drawn = groups.head(MAX_CHART_ROWS)
        self._show_chart(analysis.plot_metadata_groups, drawn, 0.4 * len(drawn) + 1)
        left_out = len(groups) - len(drawn)
        note = f" (chart: the {len(drawn)} largest)" if left_out else ""
        self._say(f"{key!r}: {len(groups)} groups of {len(self.users)} users{note}.")
        # A Dropdown of 100,000 ids would stall the browser: offer the largest groups.
        self.group.options = [str(g) for g in groups.index[:MAX_GROUP_OPTIONS]]
        self.group.value = None
        self._update_group()

    def _update_group(self) -> None:
        group = self.group.value
        if group is None or self.key.value is None:
            self.group_users = pd.DataFrame()
            self._users.value = "<i>Choose a group to list its users.</i>"
            return
        chosen = analysis.users_in_group(self.users, self.key.value, group)
        self.group_users = chosen
        columns = [c for c in ("id", "created_at", "external_metadata") if c in chosen.columns]
        title = f"<b>{len(chosen)} users in {html.escape(repr(group))}</b>"
        listing = chosen[columns].reset_index(drop=True)
        self._users.value = title + (_html_table(listing) if len(chosen) else " — none")

    def _summary(self) -> str:
        return f"key={self.key.value!r}, {len(self.groups)} groups"


# ---------------------------------------------------------------------------
# Connection health
# ---------------------------------------------------------------------------


def _meta(key: str) -> str:
    return key if key == "meta" or key.startswith("meta.") else f"meta.{key}"


def _options(values: pd.Series[Any]) -> list[str]:
    return sorted({str(v) for v in values.dropna().unique()})


class ConnectionExplorer(_Explorer):
    """Filter accounts by link item, source and created-at; see their connection health.

    Args:
        accounts: an :func:`~argyle_nb.frames.accounts_frame`.
        by: the column the status distribution groups by (``link_item`` by default).

    Attributes:
        link_item, source: SelectMultiple filters (nothing selected: no filter).
        created_from, created_before: DatePickers (UTC; the end is exclusive).
        by, freq: Dropdowns of the distribution's grouping and the over-time period.
        selected: the accounts matching the filters.
        table / chart_data: :func:`~argyle_nb.analysis.connection_status_distribution`
            of the selection (the chart draws the largest groups).
        errors: :func:`~argyle_nb.analysis.top_error_codes` of the selection.
        over_time: the distribution per ``freq`` period of ``created_at``.
    """

    def __init__(
        self, accounts: pd.DataFrame, by: str = "link_item", *, clock: Clock | None = None
    ) -> None:
        super().__init__(clock)
        w = _widgets()
        self.accounts = accounts
        self._track(accounts=accounts)
        self.selected: pd.DataFrame = accounts
        self.errors: pd.DataFrame = pd.DataFrame()
        self.over_time: pd.DataFrame = pd.DataFrame()
        layout = w.Layout(width="260px", height="110px")
        self.link_item = w.SelectMultiple(
            options=_options(accounts["link_item"]), description="Link item", layout=layout
        )
        self.source = w.SelectMultiple(
            options=_options(accounts["source"]), description="Source", layout=layout
        )
        self.created_from = w.DatePicker(description="From")
        self.created_before = w.DatePicker(description="Before")
        choices = [c for c in ("link_item", "source", "connection_error_code") if c in accounts]
        self.by = w.Dropdown(options=choices, value=by, description="Group by")
        self.freq = w.Dropdown(options=["week", "month"], value="month", description="Over time")
        self._errors = w.HTML()
        self._time_chart = w.Image(format="png", layout=w.Layout(max_width="100%"))
        self.time_chart_data: pd.DataFrame = pd.DataFrame()
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
        selected = analysis.select_accounts(self.accounts, **self._filters())
        self.selected = selected
        if selected.empty:
            self.errors = pd.DataFrame()
            self.over_time = pd.DataFrame()
            self._show_table(pd.DataFrame())
            self._show_chart(analysis.plot_connection_status_distribution, pd.DataFrame(), 0)
            self._show_time(pd.DataFrame())
            self._errors.value = ""
            self._say("No accounts match these filters: widen the link items, sources or dates.")
            return
        dist = analysis.connection_status_distribution(selected, by=self.by.value)
        self._show_table(dist)
        drawn = dist.head(MAX_CHART_ROWS)
        self._show_chart(analysis.plot_connection_status_distribution, drawn, 0.35 * len(drawn) + 1)
        self.errors = analysis.top_error_codes(selected, n=10)
        self._errors.value = (
            _html_table(self.errors) if len(self.errors) else "<i>No error codes.</i>"
        )
        self.over_time = analysis.connection_status_distribution(selected, by=self.freq.value)
        self._show_time(self.over_time.tail(MAX_CHART_ROWS))
        self._say(f"{len(selected)} of {len(self.accounts)} accounts, by {self.by.value}.")

    def _show_time(self, data: pd.DataFrame) -> None:
        self.time_chart_data = data
        if len(data):
            plot = analysis.plot_connection_status_distribution
            self._time_chart.value = _png(plot, data, 0.35 * len(data) + 1)
            self._time_chart.layout.display = None
        else:
            self._time_chart.value = b""
            self._time_chart.layout.display = "none"

    def _summary(self) -> str:
        return f"{len(self.selected)} of {len(self.accounts)} accounts"


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


# ---------------------------------------------------------------------------
# One user
# ---------------------------------------------------------------------------


class UserInspector(_Explorer):
    """Find a user by id or metadata value; see and edit their metadata; create a user token.

    Writes (PATCH of ``external_metadata``, a new user token) wait for a confirmation
    click; every error (invalid JSON, an API error) is shown inline in ``.message``.

    Args:
        client: an :class:`~argyle_nb.client.ArgyleClient`.
        users: the users to search (default: ``client.users_frame()``).

    Attributes:
        search: a Text (id prefix or metadata text); matches: a Dropdown of user ids.
        metadata: a Textarea of the user's metadata as JSON.
        save, token_button, confirm, cancel: Buttons.
        user_id, table (the user's accounts), availability, token, pending.
    """

    def __init__(
        self,
        client: ArgyleClient,
        users: pd.DataFrame | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(clock)
        w = _widgets()
        self.client = client
        self.users = users if users is not None else client.users_frame(progress=False)
        self._track(users=self.users)
        self.user_id: str | None = None
        self.availability: pd.DataFrame = pd.DataFrame()
        self.token: str | None = None
        self.pending: str | None = None
        self.search = w.Text(description="Search", placeholder="user id or metadata value")
        self.matches = w.Dropdown(options=[], value=None, description="User")
        self.metadata = w.Textarea(
            description="Metadata", layout=w.Layout(width="600px", height="120px")
        )
        self.save = w.Button(description="Save metadata…", icon="save")
        self.token_button = w.Button(description="Create user token…", icon="key")
        self.confirm = w.Button(description="Confirm", button_style="warning")
        self.cancel = w.Button(description="Cancel")
        self._confirm_box = w.HBox([self.confirm, self.cancel])
        self._confirm_box.layout.display = "none"
        self._token = w.Text(description="Token", disabled=True)
        self._token.layout.display = "none"
        self._availability = w.HTML()
        self.search.observe(lambda _: self._find(), names="value")
        self.matches.observe(lambda _: self._load(), names="value")
        self.save.on_click(lambda _: self._ask("save"))
        self.token_button.on_click(lambda _: self._ask("token"))
        self.confirm.on_click(lambda _: self._confirm())
        self.cancel.on_click(lambda _: self._cancel())
        self.widget = w.VBox(
            [
                w.HTML("<b>User inspector</b>"),
                self._source,
                w.HBox([self.search, self.matches]),
                self.metadata,
                w.HBox([self.save, self.token_button]),
                self._confirm_box,
                self._message,
                self._token,
                w.HTML("<b>Accounts</b>"),
                self._table,
                w.HTML("<b>Availability</b>"),
                self._availability,
            ]
        )
        self._find()

    def _find(self) -> None:
        query = str(self.search.value).strip().lower()
        ids = self.users["id"].astype("str")
        if query:
            hit = ids.str.lower().str.startswith(query) | self.users["external_metadata"].astype(
                "str"
            ).str.lower().str.contains(query, regex=False)
            ids = ids[hit.to_numpy()]
        options = ids.head(MAX_TABLE_ROWS).tolist()
        self.matches.options = options
        if not options:
            self.matches.value = None
            self._say(f"No user matches {query!r}.")
            return
        self.matches.value = options[0]
        if len(ids) > len(options):
            self._say(f"{len(ids)} users match; showing the first {len(options)}.")

    def _load(self) -> None:
        self._cancel()
        self.user_id = self.matches.value
        self.token = None
        self._token.value = ""
        self._token.layout.display = "none"
        if self.user_id is None:
            self.metadata.value = ""
            self._show_table(pd.DataFrame())
            self.availability = pd.DataFrame()
            self._availability.value = ""
            return
        try:
            user = self.client.users.get(self.user_id)
            accounts = self.client.accounts_frame(self.user_id, progress=False)
            availability = self.client.availability_frame(self.user_id, progress=False)
        except ArgyleError as exc:
            self._say(f"Could not load user {self.user_id}: {exc}", error=True)
            return
        self.metadata.value = orjson.dumps(
            user.external_metadata, option=orjson.OPT_INDENT_2
        ).decode()
        columns = ["id", "link_item", "connection_status", "connection_error_code", "created_at"]
        self._show_table(accounts[[c for c in columns if c in accounts.columns]])
        self.availability = availability
        if availability.empty:
            self._availability.value = "<i>No availability.</i>"
        else:
            windows = analysis.availability_windows(availability)
            self._availability.value = _html_table(windows)
        self._say(f"User {self.user_id}: {len(accounts)} accounts.")

    def _ask(self, action: str) -> None:
        if self.user_id is None:
            self._say("Choose a user first.", error=True)
            return
        if action == "save":
            try:
                orjson.loads(self.metadata.value)
            except orjson.JSONDecodeError as exc:
                self._say(f"The metadata is not valid JSON: {exc}", error=True)
                return
            question = f"Replace the metadata of user {self.user_id}? Confirm or cancel."
        else:
            question = f"Create a new user token for {self.user_id}? Confirm or cancel."
        self.pending = action
        self._confirm_box.layout.display = None
        self._say(question)

    def _cancel(self) -> None:
        self.pending = None
        self._confirm_box.layout.display = "none"

    def _confirm(self) -> None:
        action, user_id = self.pending, self.user_id
        self._cancel()
        if action is None or user_id is None:
            return
        try:
            if action == "save":
                value = orjson.loads(self.metadata.value)
                self.client.users.update(user_id, external_metadata=value)
                self._say(f"Saved the metadata of user {user_id}.")
            else:
                self.token = self.client.user_tokens.create(user_id).access
                self._token.value = self.token
                self._token.layout.display = None
                self._say(f"Created a user token for {user_id}.")
        except (ArgyleError, ValueError) as exc:
            self._say(f"{type(exc).__name__}: {exc}", error=True)

    def _summary(self) -> str:
        return f"user={self.user_id!r}"
