"""Connection health: status distributions by group or period, error codes, selections.

Counted in DuckDB whatever was given (an accounts frame, scanned in place, or a
:class:`~argyle_nb.dataset.Dataset`), finished here (shares, Wilson intervals, order).
One semantics for both:

- an account counts once per row; accounts without a ``connection_status`` are left out;
- a group is the column's value as text (DuckDB's text: ``true``, ``2.5``), a text that
  reads as a label of ours quoted once more, a missing value :data:`MISSING`;
- periods are of ``created_at`` in UTC: days, ISO weeks (from Monday), months; accounts
  without ``created_at`` are in no period;
- statuses: the documented ones (:data:`~argyle_nb.models.CONNECTION_STATUSES`) always,
  others seen after them by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, overload

import numpy as np
import pandas as pd

from argyle_nb._sql import Params, quote
from argyle_nb.analysis._labels import group_label
from argyle_nb.analysis._source import dataset_for, has_column, one_of, selected, utc_bound
from argyle_nb.analysis.stats import wilson
from argyle_nb.dataset import Dataset
from argyle_nb.errors import ArgyleValueError
from argyle_nb.frames import require_columns
from argyle_nb.models import CONNECTION_ERROR_MESSAGES, CONNECTION_STATUSES

#: The periods ``by`` and ``freq`` accept.
_PERIODS = ("day", "week", "month")


def connection_status_distribution(
    accounts: pd.DataFrame | Dataset,
    by: str = "link_item",
    *,
    freq: Literal["day", "week", "month"] | None = None,
) -> pd.DataFrame:
    """Counts and shares of ``connection_status`` per group.

    ``accounts`` is an accounts frame or a :class:`~argyle_nb.dataset.Dataset`. ``by`` is
    any column of the accounts (``link_item``, ``source``, ``connection_error_code``, a
    cohort column added by :func:`~argyle_nb.frames.attach_metadata`) or ``"day"`` /
    ``"week"`` / ``"month"``: the period of ``created_at`` (UTC, ISO weeks from Monday).
    With ``freq`` as well, the rows are (group, period) pairs. Columns: one count per
    status (documented statuses first, others seen after them by name), ``total``, then
    ``share_<status>`` (of the group's accounts), then each share's 95% Wilson interval
    ``low_<status>`` and ``high_<status>`` (accounts are the unit: several of one user's
    accounts count apart). Missing group values form the group :data:`MISSING`; accounts
    without a status are left out. Groups are ordered by total, then by label (periods
    by time).

    Examples:
        >>> from argyle_nb.frames import accounts_frame
        >>> list(connection_status_distribution(accounts_frame(b"[]")).columns)[:4]
        ['connecting', 'connected', 'error', 'total']
    """
    timed = by in _PERIODS
    period = by if timed else freq
    if period is not None and period not in _PERIODS:
        raise ArgyleValueError(f"period must be 'day', 'week' or 'month', not {period!r}")
    needs = ["connection_status", *([] if period is None else ["created_at"])]
    ds = dataset_for(accounts, "accounts", needs, by="connection_status_distribution")
    p = Params()
    keys: list[str] = []
    names: list[str] = []
    where = ["connection_status is not null"]
    if not timed:
        has_column(ds, "accounts", by)
        keys.append(group_label(by, p))
        names.append(by)
    if period is not None:
        keys.append(f"date_trunc({p(period)}, timezone({p('UTC')}, created_at))")
        names.append(period)
        where.append("created_at is not null")
    picked = ", ".join(f"{key} as k{i}" for i, key in enumerate(keys))
    counts = ds.sql(
        f"select {picked}, cast(connection_status as varchar) as status, count(*) as n"
        f" from accounts where {' and '.join(where)} group by all",
        params=p.values,
    ).df()
    seen = {str(s) for s in counts["status"]}
    statuses = [*CONNECTION_STATUSES, *sorted(seen - set(CONNECTION_STATUSES))]
    levels = [
        _periods(counts[f"k{i}"])
        if (period is not None and i == len(keys) - 1)
        else pd.Index(counts[f"k{i}"].astype("str").to_numpy(), dtype="str")
        for i in range(len(keys))
    ]
    index: pd.Index[Any] = (
        pd.MultiIndex.from_arrays(levels, names=names)
        if len(levels) > 1
        else levels[0].rename(names[0])
    )
    if len(counts):
        long = pd.Series(counts["n"].to_numpy("int64"), index=index)
        long.index = pd.MultiIndex.from_arrays(
            [*(index.get_level_values(i) for i in range(index.nlevels)), counts["status"]],
            names=[*names, "status"],
        )
        table = long.unstack("status", fill_value=0)
    else:
        table = pd.DataFrame(index=index, columns=statuses, dtype="int64")
    table = table.reindex(columns=statuses, fill_value=0).sort_index()
    table.columns.name = None
    return _finish_distribution(table, statuses, timed=timed, period=period)


def _periods(values: pd.Series[Any]) -> pd.Index[Any]:
    """The periods DuckDB gave (naive UTC starts) as a UTC index, to the microsecond."""
    start = pd.to_datetime(values)
    start = start.dt.tz_localize("UTC") if start.dt.tz is None else start.dt.tz_convert("UTC")
    return pd.DatetimeIndex(start.astype("datetime64[us, UTC]"))


def _finish_distribution(
    table: pd.DataFrame, statuses: list[str], *, timed: bool, period: str | None
) -> pd.DataFrame:
    """:func:`connection_status_distribution` from its counts (one row per group, sorted
    by its keys; one column per status): the totals, shares, intervals and order."""
    table = table.astype("int64")
    table.columns = pd.Index([str(c) for c in table.columns], dtype="str")
    table["total"] = table[statuses].sum(axis=1)
    for s in statuses:
        table[f"share_{s}"] = table[s] / table["total"]
    for s in statuses:
        low, high = wilson(table[s].to_numpy(), table["total"].to_numpy())
        table[f"low_{s}"], table[f"high_{s}"] = low, high
    if timed:
        return table
    order = table.groupby(level=0)["total"].sum().sort_values(ascending=False, kind="stable")
    if period is None:
        return table.loc[order.index]
    return table.reindex(order.index, level=0)


@overload
def select_accounts(
    accounts: pd.DataFrame,
    *,
    link_item: str | Sequence[str] | None = None,
    source: str | Sequence[str] | None = None,
    created_from: datetime | str | None = None,
    created_to: datetime | str | None = None,
) -> pd.DataFrame: ...


@overload
def select_accounts(
    accounts: Dataset,
    *,
    link_item: str | Sequence[str] | None = None,
    source: str | Sequence[str] | None = None,
    created_from: datetime | str | None = None,
    created_to: datetime | str | None = None,
) -> Dataset: ...


def select_accounts(
    accounts: pd.DataFrame | Dataset,
    *,
    link_item: str | Sequence[str] | None = None,
    source: str | Sequence[str] | None = None,
    created_from: datetime | str | None = None,
    created_to: datetime | str | None = None,
) -> pd.DataFrame | Dataset:
    """The accounts matching every filter given (link items, sources, a created-at range).

    Of a frame, its rows (in their order, with their index); of a
    :class:`~argyle_nb.dataset.Dataset`, the dataset with only those accounts (the other
    tables unchanged; nothing is read until it is queried). ``created_from`` is inclusive
    and ``created_to`` exclusive; naive times are UTC. An account without a link item
    (source, creation time) matches no filter on it.

    Examples:
        >>> from argyle_nb.frames import accounts_frame
        >>> select_accounts(accounts_frame(b"[]"), link_item="uber", created_from="2024-01").shape
        (0, 17)
    """
    needs = [c for c, v in (("link_item", link_item), ("source", source)) if v is not None]
    needs += ["created_at"] if created_from is not None or created_to is not None else []
    ds = dataset_for(accounts, "accounts", needs, by="select_accounts")
    p = Params()
    conditions: list[str] = []
    for column, wanted in (("link_item", link_item), ("source", source)):
        if wanted is not None:
            conditions.append(one_of(column, wanted, p, name=column))
    for bound, operator, name in (
        (created_from, ">=", "created_from"),
        (created_to, "<", "created_to"),
    ):
        if bound is not None:
            # Stored times are whole microseconds: comparing with the bound rounded up to
            # one is comparing with the bound itself (which may be finer).
            stamp = utc_bound(bound, name=name).ceil("us").to_pydatetime()
            conditions.append(f"{quote('created_at')} {operator} {p(stamp)}")
    return selected(accounts, ds, "accounts", conditions, p)


def top_error_codes(accounts: pd.DataFrame | Dataset, n: int | None = 10) -> pd.DataFrame:
    """The most frequent ``connection_error_code`` values with their message.

    ``accounts`` is an accounts frame or a :class:`~argyle_nb.dataset.Dataset`. Columns:
    ``accounts`` (with that code), ``share`` (of accounts with any code) with its 95%
    Wilson interval ``low``/``high``, ``message`` (the message sent with the code most
    often, the first by name among as frequent ones; else the documented one). The most
    frequent code first (as frequent ones by name); ``n`` of them (``None``: all).

    Examples:
        >>> from argyle_nb.frames import accounts_frame
        >>> top_error_codes(accounts_frame(b"[]")).empty
        True
    """
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
        raise ArgyleValueError(f"n must be a whole number of codes (or None), not {n!r}")
    ds = dataset_for(
        accounts,
        "accounts",
        ["connection_error_code", "connection_error_message"],
        by="top_error_codes",
    )
    counts = ds.sql(
        "with said as (select cast(connection_error_code as varchar) as code,"
        " cast(connection_error_message as varchar) as message, count(*) as k"
        " from accounts where connection_error_code is not null group by all)"
        " select code, sum(k) as n, first(message order by k desc, message)"
        " filter (where message is not null) as message from said group by code"
    ).df()
    tally = pd.Series(
        counts["n"].to_numpy("int64"),
        index=pd.Index(counts["code"].astype("str").to_numpy(), dtype="str"),
    )
    said = dict(zip(tally.index, counts["message"], strict=True))
    with_code = int(tally.sum())
    tally = tally.sort_index().sort_values(ascending=False, kind="stable")
    if n is not None:
        tally = tally.head(n)
    low, high = wilson(tally.to_numpy(), np.full(len(tally), with_code))
    messages = [
        said[c] if isinstance(said[c], str) else CONNECTION_ERROR_MESSAGES.get(c)
        for c in tally.index
    ]
    return pd.DataFrame(
        {
            "accounts": tally.to_numpy("int64"),
            "share": (tally / max(with_code, 1)).to_numpy(),
            "low": low,
            "high": high,
            "message": pd.Series(messages, dtype="str").to_numpy(),
        },
        index=pd.Index(tally.index, dtype="str", name="connection_error_code"),
    )


def plot_connection_status_distribution(dist: pd.DataFrame, *, title: str | None = None) -> Any:
    """Stacked bars of status shares per group (or per period), coloured by meaning.

    ``dist`` is a :func:`connection_status_distribution`. Connected is bluish green, error
    vermillion, connecting amber (:mod:`argyle_nb.palette`); the legend stands right of
    the bars and highlights a status when clicked; hovering a segment gives its count,
    share and 95% interval. Returns the Altair chart the ConnectionExplorer shows (save
    it offline with ``.save("chart.png")``, ``.svg``, ``.pdf`` or ``.html``); an empty
    ``dist`` gives a chart that says so.

    Examples:
        >>> dist = connection_status_distribution(accounts, by="link_item")  # doctest: +SKIP
        >>> plot_connection_status_distribution(dist).save("status.png")  # doctest: +SKIP
        >>> from argyle_nb.frames import accounts_frame
        >>> none = connection_status_distribution(accounts_frame(b"[]"))
        >>> spec = plot_connection_status_distribution(none).to_dict()
        >>> spec["datasets"][spec["data"]["name"]]
        [{'message': 'no accounts to show'}]
    """
    from argyle_nb.analysis._chart_base import empty_chart
    from argyle_nb.analysis._chart_status import status_chart

    require_columns(
        dist,
        ["total"],
        by="plot_connection_status_distribution",
        made_by="connection_status_distribution",
    )
    if dist.empty:
        return empty_chart(title or "Connection status", "no accounts to show")
    return status_chart(dist, title=title)
