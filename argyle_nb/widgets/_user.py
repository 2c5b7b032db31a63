"""The one-user inspector: metadata, accounts, scan windows, user tokens."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
import pandas as pd

from argyle_nb.errors import ArgyleError
from argyle_nb.provenance import provenance_of

if TYPE_CHECKING:
    from argyle_nb.client import ArgyleClient
from argyle_nb.widgets._base import (
    MAX_TABLE_ROWS,
    Clock,
    _Explorer,
    _html_table,
    _widgets,
)

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
        search: a Text (id prefix or metadata text).
        matches: a Dropdown of the user ids found.
        metadata: a Textarea of the user's metadata as JSON.
        save: the Button that saves the metadata (after a confirmation).
        token_button: the Button that creates a user token (after a confirmation).
        confirm: the Button that confirms a pending write.
        cancel: the Button that cancels it.
        user_id: the user shown.
        table: the user's accounts.
        availability: the user's rows of :func:`~argyle_nb.frames.availability_frame`.
        windows: the same, one row per account and resource, as shown: link item,
            status, the window's dates, events, last scan.
        token: the user token created last.
        pending: the write waiting for a confirmation.
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
        self._track_sources({"users": provenance_of(self.users)})
        self.user_id: str | None = None
        self.availability: pd.DataFrame = pd.DataFrame()
        self.windows: pd.DataFrame = pd.DataFrame()
        self.token: str | None = None
        self.pending: str | None = None
        # Labels are never cut ("initial" width); the dropdown fits a whole user id.
        label = {"description_width": "initial"}
        self.search = w.Text(
            description="Search",
            placeholder="user id (or its start) or metadata value",
            style=label,
            layout=w.Layout(width="360px"),
        )
        self.matches = w.Dropdown(
            options=[], value=None, description="User", style=label, layout=w.Layout(width="420px")
        )
        self.metadata = w.Textarea(
            description="Metadata", style=label, layout=w.Layout(width="600px", height="120px")
        )
        wide = w.Layout(width="auto")  # never cut a button's label
        self.save = w.Button(description="Save metadata…", icon="save", layout=wide)
        self.token_button = w.Button(description="Create user token…", icon="key", layout=wide)
        self.confirm = w.Button(description="Confirm", button_style="warning")
        self.cancel = w.Button(description="Cancel")
        self._confirm_box = w.HBox([self.confirm, self.cancel])
        self._confirm_box.layout.display = "none"
        self._token = w.Text(
            description="Token", disabled=True, style=label, layout=w.Layout(width="600px")
        )
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
                w.HTML("<b>Scan windows of the user's accounts</b>"),
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
            self.windows = pd.DataFrame()
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
        self.windows = _windows(accounts, availability)
        if self.windows.empty:
            self._availability.value = "<i>No scans yet: no account has availability.</i>"
        else:
            self._availability.value = _html_table(self.windows)
        n = len(accounts)
        self._say(f"User {self.user_id}: {n} account{'' if n == 1 else 's'}.")

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


def _windows(accounts: pd.DataFrame, availability: pd.DataFrame) -> pd.DataFrame:
    """The user's scan windows, one row per account and resource, dates as dates (UTC)."""
    if availability.empty:
        return pd.DataFrame()
    item = pd.Series(
        accounts["link_item"].astype("str").to_numpy(), index=accounts["id"].astype("str")
    )
    account = availability["account"].astype("str")

    def day(column: str) -> pd.Series[str]:
        values = availability[column]
        out: pd.Series[str] = values.dt.strftime("%Y-%m-%d").where(values.notna(), "—")
        return out.astype("str")

    out = pd.DataFrame(
        {
            "account": account.to_numpy(),
            "link item": item.reindex(account.to_numpy()).to_numpy(),
            "resource": availability["resource"].astype("str").to_numpy(),
            "status": availability["status"].astype("str").to_numpy(),
            "events from": day("available_from").to_numpy(),
            "events to": day("available_to").to_numpy(),
            "events": availability["available_count"].astype("Int64").to_numpy(),
            "last scan (UTC)": availability["updated_at"]
            .dt.strftime("%Y-%m-%d %H:%M")
            .where(availability["updated_at"].notna(), "—")
            .astype("str")
            .to_numpy(),
        }
    )
    return out.sort_values(["account", "resource"], kind="stable").reset_index(drop=True)
