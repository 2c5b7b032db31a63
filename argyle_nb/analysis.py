"""The analyses the toolkit exists for: metadata cohorts, connection health, availability windows.

Each analysis takes frames from :mod:`argyle_nb.frames` and returns a DataFrame ready to
plot; its ``plot_*`` companion draws that frame with matplotlib and returns the Axes.
Nothing here fetches data or keeps state.

Example:
    >>> from argyle_nb import frames, analysis
    >>> accounts = frames.accounts_frame(b"[]")
    >>> analysis.connection_status_distribution(accounts, by="link_item").shape
    (0, 7)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import orjson
import pandas as pd

from argyle_nb.frames import META_PREFIX, MissingColumnsError, metadata_keys, require_columns
from argyle_nb.models import AVAILABILITY_STATUSES, CONNECTION_ERROR_MESSAGES, CONNECTION_STATUSES

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "MISSING",
    "availability_timeline",
    "availability_windows",
    "connection_status_distribution",
    "metadata_groups",
    "metadata_key_summary",
    "metadata_keys",
    "plot_availability_timeline",
    "plot_availability_windows",
    "plot_connection_status_distribution",
    "plot_metadata_groups",
    "select_accounts",
    "top_error_codes",
    "users_in_group",
]

#: Scan statuses in reading order: done, running, failed.
_SCAN_ORDER: tuple[str, ...] = (
    "synced",
    "in_progress",
    "sync_failed",
    *(s for s in AVAILABILITY_STATUSES if s not in ("synced", "in_progress", "sync_failed")),
)

#: Label of the group of users without the metadata key (and of missing values).
MISSING = "(missing)"

#: Columns of the frames each analysis reads (checked first: a missing one is named).
_ACCOUNT_NEEDS: tuple[str, ...] = ("user", "connection_status", "connection_error_code")
_WINDOW_NEEDS: tuple[str, ...] = (
    "resource",
    "status",
    "window_days",
    "available_count",
    "updated_at",
)
_TIMELINE_NEEDS: tuple[str, ...] = (
    "account",
    "resource",
    "status",
    "available_from",
    "available_to",
    "available_count",
    "updated_at",
)


def _empty(ax: Axes | None, title: str, message: str) -> Axes:
    """An empty chart that says why it is empty."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 2.5))
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


# ---------------------------------------------------------------------------
# Metadata cohorts
# ---------------------------------------------------------------------------


def _meta_column(users: pd.DataFrame, key: str) -> str:
    column = key if key == META_PREFIX or key.startswith(META_PREFIX + ".") else f"meta.{key}"
    if column not in users.columns:
        known = ", ".join(metadata_keys(users)) or "none"
        raise MissingColumnsError(f"no metadata key {key!r} among the users (keys: {known})")
    return column


def _labels(values: pd.Series[Any]) -> pd.Series[str]:
    """Metadata values as group labels: text as is, other JSON values as JSON, missing explicit."""

    def label(value: Any) -> str:
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            return MISSING
        if isinstance(value, str):
            return value
        if isinstance(value, np.generic):
            value = value.item()
        return orjson.dumps(value).decode()

    return pd.Series([label(v) for v in values], index=values.index, dtype="str")


def metadata_key_summary(users: pd.DataFrame) -> pd.DataFrame:
    """One row per metadata key: how many users carry it and how many distinct values it has.

    Example:
        >>> from argyle_nb.frames import users_frame
        >>> users = users_frame([
        ...     {"id": "0994b847-cc69-4d98-bc99-c5e65e762add", "created_at": "2020-01-01",
        ...      "external_metadata": {"group": "A"}}])
        >>> metadata_key_summary(users)["users"].to_dict()
        {'group': 1}
    """
    require_columns(users, ["id"], by="metadata_key_summary", made_by="users_frame")
    rows = []
    for key in metadata_keys(users):
        labels = _labels(users[_meta_column(users, key)])
        present = labels != MISSING
        rows.append(
            {
                "key": key,
                "users": int(present.sum()),
                "share": float(present.mean()) if len(users) else 0.0,
                "values": int(labels[present].nunique()),
            }
        )
    out = pd.DataFrame(rows, columns=["key", "users", "share", "values"]).set_index("key")
    return out.astype({"users": "int64", "share": "float64", "values": "int64"})


def metadata_groups(users: pd.DataFrame, accounts: pd.DataFrame, key: str) -> pd.DataFrame:
    """Per value of a metadata key: users, accounts and their connection health.

    Columns: ``users``, ``accounts``, ``accounts_per_user``, ``connected_share`` and
    ``error_share`` (of the group's accounts, by ``connection_status``), and
    ``top_error_code`` (the most frequent ``connection_error_code``, ties broken by
    name). Users without the key form the group :data:`MISSING`, always last; other
    groups are ordered by users, then name. Non-text values are grouped by their JSON
    text. Users with no accounts count as users; accounts of users not in ``users``
    are left out.

    Example:
        >>> from argyle_nb.frames import users_frame, accounts_frame
        >>> users = users_frame([
        ...     {"id": "0994b847-cc69-4d98-bc99-c5e65e762add", "created_at": "2020-01-01",
        ...      "external_metadata": {"group": "A"}}])
        >>> metadata_groups(users, accounts_frame(b"[]"), "group").loc["A", "users"]
        np.int64(1)
    """
    require_columns(users, ["id"], by="metadata_groups", made_by="users_frame")
    require_columns(accounts, _ACCOUNT_NEEDS, by="metadata_groups", made_by="accounts_frame")
    column = _meta_column(users, key)
    user_groups = pd.Series(
        _labels(users[column]).to_numpy(), index=users["id"].astype("str"), dtype="str"
    )
    user_groups = user_groups[~user_groups.index.duplicated()]
    n_users = user_groups.value_counts()
    group_of = pd.Series(
        user_groups.reindex(accounts["user"].astype("str")).to_numpy(), index=accounts.index
    )
    known = group_of.notna()
    acc = accounts.loc[known]
    groups = group_of[known].astype("str")
    status = acc["connection_status"].astype("str")
    per = pd.DataFrame(
        {
            "group": groups,
            "connected": (status == "connected").to_numpy(),
            "error": (status == "error").to_numpy(),
        }
    ).groupby("group", sort=False)
    out = pd.DataFrame(index=pd.Index(n_users.index, dtype="str", name=key))
    out["users"] = n_users.astype("int64")
    counts = per.size()
    out["accounts"] = counts.reindex(out.index).fillna(0).astype("int64")
    out["accounts_per_user"] = out["accounts"] / out["users"]
    connected = per["connected"].sum().reindex(out.index).fillna(0)
    errors = per["error"].sum().reindex(out.index).fillna(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["connected_share"] = (connected / out["accounts"]).astype("Float64")
        out["error_share"] = (errors / out["accounts"]).astype("Float64")
    out.loc[out["accounts"] == 0, ["connected_share", "error_share"]] = pd.NA
    codes = acc["connection_error_code"].astype("str")
    code_frame = pd.DataFrame({"group": groups.to_numpy(), "code": codes.to_numpy()})
    code_frame = code_frame[acc["connection_error_code"].notna().to_numpy()]
    top: dict[str, str] = {}
    if len(code_frame):
        tally = code_frame.value_counts().reset_index(name="n")
        tally = tally.sort_values(["group", "n", "code"], ascending=[True, False, True])
        top = dict(tally.drop_duplicates("group").set_index("group")["code"])
    out["top_error_code"] = pd.Series([top.get(g) for g in out.index], index=out.index, dtype="str")
    n_by_group = dict(zip(out.index, out["users"].tolist(), strict=True))
    order = sorted(out.index, key=lambda g: (g == MISSING, -n_by_group[g], g))
    return out.loc[order]


def users_in_group(users: pd.DataFrame, key: str, group: str) -> pd.DataFrame:
    """The users of one group of :func:`metadata_groups` (use :data:`MISSING` for no key).

    Example:
        >>> from argyle_nb.frames import users_frame
        >>> users = users_frame([
        ...     {"id": "0994b847-cc69-4d98-bc99-c5e65e762add", "created_at": "2020-01-01",
        ...      "external_metadata": "A"}])
        >>> users_in_group(users, "meta", "A")["id"].tolist()
        ['0994b847-cc69-4d98-bc99-c5e65e762add']
    """
    require_columns(users, ["id"], by="users_in_group", made_by="users_frame")
    labels = _labels(users[_meta_column(users, key)])
    return users.loc[(labels == group).to_numpy()]


def plot_metadata_groups(groups: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Bars of users and accounts per metadata group, with the connected share noted."""
    import matplotlib.pyplot as plt

    require_columns(
        groups,
        ["users", "accounts", "connected_share"],
        by="plot_metadata_groups",
        made_by="metadata_groups",
    )
    if groups.empty:
        return _empty(ax, "Users and accounts by metadata group", "no groups to show")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, max(2.5, 0.4 * len(groups) + 1)))
    key = groups.index.name or "group"
    frame = groups[["users", "accounts"]].iloc[::-1]
    frame.plot.barh(ax=ax)
    for y, share in enumerate(groups["connected_share"].iloc[::-1]):
        if share is not pd.NA and not pd.isna(share):
            ax.annotate(
                f"{share:.0%} connected",
                (0, y),
                xytext=(3, -3),
                textcoords="offset points",
                fontsize=8,
            )
    ax.set_title(f"Users and accounts by metadata {key!r}")
    ax.set_xlabel("count")
    ax.set_ylabel(str(key))
    return ax


# ---------------------------------------------------------------------------
# Connection health
# ---------------------------------------------------------------------------


def _status_order(status: pd.Series[Any]) -> list[str]:
    if isinstance(status.dtype, pd.CategoricalDtype):
        return [str(c) for c in status.cat.categories]
    seen = sorted({str(s) for s in status.dropna()} - set(CONNECTION_STATUSES))
    return [*CONNECTION_STATUSES, *seen]


def connection_status_distribution(
    accounts: pd.DataFrame,
    by: str = "link_item",
    *,
    freq: Literal["week", "month"] | None = None,
) -> pd.DataFrame:
    """Counts and shares of ``connection_status`` per group.

    ``by`` is any column of ``accounts`` (``link_item``, ``source``,
    ``connection_error_code``, a cohort column added by
    :func:`~argyle_nb.frames.attach_metadata`) or ``"week"`` / ``"month"``: the period
    of ``created_at`` (UTC, weeks start on Monday). With ``freq`` as well, the rows are
    (group, period) pairs. Columns: one count per status (documented statuses first),
    ``total``, then ``share_<status>``. Missing group values form the group
    :data:`MISSING`. Groups are ordered by total (periods by time).

    Example:
        >>> from argyle_nb.frames import accounts_frame
        >>> list(connection_status_distribution(accounts_frame(b"[]")).columns)[:4]
        ['connecting', 'connected', 'error', 'total']
    """
    needs = ["connection_status"]
    needs += ["created_at"] if by in ("week", "month") or freq is not None else [by]
    require_columns(accounts, needs, by="connection_status_distribution", made_by="accounts_frame")
    statuses = _status_order(accounts["connection_status"])
    keys: list[pd.Series[Any]] = []
    names: list[str] = []
    timed = by in ("week", "month")
    if not timed:
        if by not in accounts.columns:
            raise KeyError(f"accounts have no column {by!r}")
        keys.append(_group_labels(accounts[by]))
        names.append(by)
    period = by if timed else freq
    if period is not None:
        keys.append(_periods(accounts["created_at"], period))
        names.append(period)
    status = accounts["connection_status"].astype("str")
    frame = pd.DataFrame({f"k{i}": k.to_numpy() for i, k in enumerate(keys)})
    frame["status"] = pd.Categorical(status.to_numpy(), categories=statuses)
    counts = frame.groupby([*frame.columns[:-1]], observed=True)["status"].value_counts()
    table = counts.unstack("status", fill_value=0).reindex(columns=statuses, fill_value=0)
    table = table.astype("int64")
    table.columns = pd.Index([str(c) for c in table.columns], dtype="str")
    if isinstance(table.index, pd.MultiIndex):
        table.index = table.index.set_names(names)
    else:
        table.index.name = names[0]
    table["total"] = table[statuses].sum(axis=1)
    for s in statuses:
        table[f"share_{s}"] = table[s] / table["total"]
    if timed:
        return table.sort_index()
    order = table.groupby(level=0)["total"].sum().sort_values(ascending=False, kind="stable")
    if period is None:
        return table.loc[order.index]
    return table.reindex(order.index, level=0)


def _group_labels(values: pd.Series[Any]) -> pd.Series[str]:
    return values.astype("str").where(values.notna(), MISSING).astype("str")


def _periods(created: pd.Series[Any], period: str) -> pd.Series[Any]:
    naive = created.dt.tz_convert("UTC").dt.tz_localize(None)
    if period == "week":
        start = naive.dt.normalize() - pd.to_timedelta(naive.dt.day_of_week, unit="D")
    elif period == "month":
        start = naive.dt.to_period("M").dt.start_time
    else:
        raise ValueError(f"period must be 'week' or 'month', not {period!r}")
    out: pd.Series[Any] = start.dt.tz_localize("UTC")
    return out


def select_accounts(
    accounts: pd.DataFrame,
    *,
    link_item: str | Sequence[str] | None = None,
    source: str | Sequence[str] | None = None,
    created_from: datetime | str | None = None,
    created_to: datetime | str | None = None,
) -> pd.DataFrame:
    """The accounts matching every filter given (link items, sources, a created-at range).

    ``created_from`` is inclusive and ``created_to`` exclusive; naive times are UTC.

    Example:
        >>> from argyle_nb.frames import accounts_frame
        >>> select_accounts(accounts_frame(b"[]"), link_item="uber", created_from="2024-01").shape
        (0, 17)
    """
    needs = [c for c, v in (("link_item", link_item), ("source", source)) if v is not None]
    needs += ["created_at"] if created_from is not None or created_to is not None else []
    require_columns(accounts, needs, by="select_accounts", made_by="accounts_frame")
    keep = pd.Series(True, index=accounts.index)
    for column, wanted in (("link_item", link_item), ("source", source)):
        if wanted is not None:
            values = [wanted] if isinstance(wanted, str) else list(wanted)
            keep &= accounts[column].astype("str").isin(values).to_numpy()
    for bound, inclusive in ((created_from, True), (created_to, False)):
        if bound is not None:
            stamp = pd.Timestamp(bound)
            stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
            created = accounts["created_at"]
            keep &= (created >= stamp) if inclusive else (created < stamp)
    return accounts.loc[keep.to_numpy()]


def top_error_codes(accounts: pd.DataFrame, n: int | None = 10) -> pd.DataFrame:
    """The most frequent ``connection_error_code`` values with their message.

    Columns: ``accounts`` (with that code), ``share`` (of accounts with any code),
    ``message`` (the most frequent message sent with the code, else the documented one).

    Example:
        >>> from argyle_nb.frames import accounts_frame
        >>> top_error_codes(accounts_frame(b"[]")).empty
        True
    """
    require_columns(
        accounts,
        ["connection_error_code", "connection_error_message"],
        by="top_error_codes",
        made_by="accounts_frame",
    )
    with_code = accounts[accounts["connection_error_code"].notna()]
    codes = with_code["connection_error_code"].astype("str")
    tally = codes.value_counts()
    tally = tally.sort_index().sort_values(ascending=False, kind="stable")
    if n is not None:
        tally = tally.head(n)
    messages = (
        with_code["connection_error_message"]
        .astype("str")
        .where(with_code["connection_error_message"].notna().to_numpy())
    )
    pairs = pd.DataFrame({"code": codes.to_numpy(), "message": messages.to_numpy()}).dropna()
    common: dict[str, str] = {}
    if len(pairs):
        m = pairs.value_counts().reset_index(name="k")
        m = m.sort_values(["code", "k", "message"], ascending=[True, False, True])
        common = dict(m.drop_duplicates("code").set_index("code")["message"])
    out = pd.DataFrame(
        {
            "accounts": tally.astype("int64").to_numpy(),
            "share": (tally / max(len(with_code), 1)).to_numpy(),
            "message": pd.Series(
                [common.get(c, CONNECTION_ERROR_MESSAGES.get(c)) for c in tally.index],
                dtype="str",
            ).to_numpy(),
        },
        index=pd.Index(tally.index, dtype="str", name="connection_error_code"),
    )
    return out


def plot_connection_status_distribution(dist: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Stacked bars of status shares per group (or per period)."""
    import matplotlib.pyplot as plt

    require_columns(
        dist,
        ["total"],
        by="plot_connection_status_distribution",
        made_by="connection_status_distribution",
    )
    if dist.empty:
        return _empty(ax, "Connection status", "no accounts to show")
    shares = dist[[c for c in dist.columns if str(c).startswith("share_")]]
    shares.columns = [str(c).removeprefix("share_") for c in shares.columns]
    if ax is None:
        _, ax = plt.subplots(figsize=(9, max(2.5, 0.35 * len(shares) + 1)))
    by = ", ".join(str(n) for n in dist.index.names if n) or "group"
    labels = [
        " / ".join(_short(v) for v in (i if isinstance(i, tuple) else (i,))) for i in shares.index
    ]
    plot = shares.set_axis(labels, axis=0).iloc[::-1]
    plot.plot.barh(stacked=True, ax=ax, width=0.8)
    ax.set_xlim(0, 1)
    ax.set_title(f"Connection status by {by}")
    ax.set_xlabel("share of accounts")
    ax.set_ylabel(by)
    ax.legend(title="status", loc="lower right", fontsize=8)
    return ax


def _short(value: Any) -> str:
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return str(value)


# ---------------------------------------------------------------------------
# Availability windows
# ---------------------------------------------------------------------------


def availability_windows(
    availability: pd.DataFrame,
    *,
    by: str | None = None,
    stale_days: float = 7,
    now: datetime | str | None = None,
) -> pd.DataFrame:
    """Per resource (and optionally per cohort column ``by``): how complete the scans are.

    Columns: ``accounts`` (rows), ``synced``, ``in_progress``, ``sync_failed`` (shares,
    documented statuses), ``window_days_median``, ``window_days_min``,
    ``window_days_max`` (over rows with a window), ``events_available`` (sum of
    ``available_count``), ``stale`` and ``stale_share``: rows whose ``updated_at`` is
    older than ``stale_days`` before ``now`` (default: the latest ``updated_at`` in the
    data, so the result depends only on the data). Resources follow the documented order.

    Example:
        >>> from argyle_nb.frames import availability_frame
        >>> availability_windows(availability_frame(b"[]")).empty
        True
    """
    needs = [*_WINDOW_NEEDS, *([] if by is None else [by])]
    require_columns(availability, needs, by="availability_windows", made_by="availability_frame")
    now_ts = _resolve_now(availability, now)
    keys: list[str] = ["resource"] if by is None else [by, "resource"]
    frame = pd.DataFrame(
        {
            "resource": availability["resource"],
            "status": availability["status"].astype("str").to_numpy(),
            "window": availability["window_days"].astype("Float64"),
            "count": availability["available_count"].astype("Int64"),
            "stale": (
                availability["updated_at"].isna()
                | (availability["updated_at"] < now_ts - pd.Timedelta(days=stale_days))
            ).to_numpy(),
        },
        index=availability.index,
    )
    if by is not None:
        frame[by] = _group_labels(availability[by]).to_numpy()
    for s in _SCAN_ORDER:
        frame[f"is_{s}"] = (frame["status"] == s).to_numpy(float)
    grouped = frame.groupby(keys, observed=True, sort=True)
    out = pd.DataFrame({"accounts": grouped.size().astype("int64")})
    for s in _SCAN_ORDER:
        out[s] = grouped[f"is_{s}"].mean().astype("float64")
    window = grouped["window"]
    out["window_days_median"] = window.median().astype("Float64")
    out["window_days_min"] = window.min().astype("Float64")
    out["window_days_max"] = window.max().astype("Float64")
    out["events_available"] = grouped["count"].sum().astype("Int64")
    out["stale"] = grouped["stale"].sum().astype("int64")
    out["stale_share"] = out["stale"] / out["accounts"]
    return out


def _resolve_now(availability: pd.DataFrame, now: datetime | str | None) -> pd.Timestamp:
    """``now`` as a UTC Timestamp; by default the latest ``updated_at`` of the data."""
    if now is None:
        latest = availability["updated_at"].max()
        return pd.Timestamp(latest) if pd.notna(latest) else pd.Timestamp.now(tz="UTC")
    stamp = pd.Timestamp(now)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def plot_availability_windows(windows: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Stacked bars of synced / in_progress / sync_failed shares per resource, stale noted."""
    import matplotlib.pyplot as plt

    require_columns(
        windows,
        [*_SCAN_ORDER, "stale_share"],
        by="plot_availability_windows",
        made_by="availability_windows",
    )
    if windows.empty:
        return _empty(ax, "Availability scan status by resource", "no availability to show")
    shares = windows[list(_SCAN_ORDER)]
    labels = [
        " / ".join(str(v) for v in (i if isinstance(i, tuple) else (i,))) for i in shares.index
    ]
    if ax is None:
        _, ax = plt.subplots(figsize=(9, max(2.5, 0.35 * len(shares) + 1)))
    shares.set_axis(labels, axis=0).iloc[::-1].plot.barh(
        stacked=True, ax=ax, width=0.8, color=["tab:green", "tab:orange", "tab:red"]
    )
    for y, stale in enumerate(windows["stale_share"].iloc[::-1]):
        ax.annotate(
            f"{stale:.0%} stale", (1, y), xytext=(-50, -3), textcoords="offset points", fontsize=8
        )
    ax.set_xlim(0, 1)
    ax.set_title("Availability scan status by resource")
    ax.set_xlabel("share of accounts")
    ax.set_ylabel(" / ".join(str(n) for n in windows.index.names if n))
    ax.legend(title="status", loc="lower left", fontsize=8)
    return ax


def availability_timeline(
    availability: pd.DataFrame,
    resource: str = "payouts",
    *,
    statuses: Sequence[str] | None = None,
    sample: int | None = 50,
    seed: int = 0,
    stale_days: float = 7,
    now: datetime | str | None = None,
) -> pd.DataFrame:
    """Windows of one event resource for a sample of accounts, ready for a timeline plot.

    Columns: ``account``, ``status``, ``available_from``, ``available_to``,
    ``available_count``, ``updated_at``, ``stale``; sorted by ``available_from``. The
    sample is drawn with ``seed`` so it is reproducible.

    Example:
        >>> from argyle_nb.frames import availability_frame
        >>> availability_timeline(availability_frame(b"[]")).empty
        True
    """
    require_columns(
        availability, _TIMELINE_NEEDS, by="availability_timeline", made_by="availability_frame"
    )
    rows = availability[availability["resource"].astype("str") == resource]
    if statuses is not None:
        rows = rows[rows["status"].astype("str").isin(list(statuses))]
    rows = rows[rows["available_from"].notna() & rows["available_to"].notna()]
    if sample is not None and len(rows) > sample:
        rows = rows.sample(n=sample, random_state=seed)
    now_ts = _resolve_now(availability, now)
    out = rows[
        ["account", "status", "available_from", "available_to", "available_count", "updated_at"]
    ].copy()
    out["stale"] = (out["updated_at"] < now_ts - pd.Timedelta(days=stale_days)).to_numpy(bool)
    return out.sort_values(["available_from", "account"]).reset_index(drop=True)


def plot_availability_timeline(timeline: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """One horizontal line per account from available_from to available_to, coloured by status."""
    import matplotlib.pyplot as plt

    require_columns(
        timeline,
        ["account", "status", "available_from", "available_to", "stale"],
        by="plot_availability_timeline",
        made_by="availability_timeline",
    )
    if timeline.empty:
        return _empty(ax, "Available event windows", "no windows to show")
    if ax is None:
        _, ax = plt.subplots(figsize=(9, max(2.5, 0.2 * len(timeline) + 1)))
    colours = {"synced": "tab:green", "in_progress": "tab:orange", "sync_failed": "tab:red"}
    starts = timeline["available_from"].dt.tz_convert(None).to_numpy(dtype="datetime64[us]")
    ends = timeline["available_to"].dt.tz_convert(None).to_numpy(dtype="datetime64[us]")
    colour = [colours.get(str(s), "tab:gray") for s in timeline["status"]]
    style: Any = [":" if stale else "-" for stale in timeline["stale"]]
    ys = np.arange(len(timeline))
    ax.hlines(ys, starts, ends, colors=colour, linestyles=style, linewidth=2)
    ax.set_yticks(range(len(timeline)), [str(a)[:8] for a in timeline["account"]], fontsize=7)
    ax.set_title("Available event windows (dotted: stale; red: sync_failed)")
    ax.set_xlabel("time (UTC)")
    ax.set_ylabel("account")
    return ax
