"""Connection health: status distributions by group or period, error codes, filters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

from argyle_nb.analysis._common import MISSING, _utc, text_labels
from argyle_nb.analysis._stats import wilson
from argyle_nb.errors import ArgyleKeyError, ArgyleValueError
from argyle_nb.frames import require_columns
from argyle_nb.models import CONNECTION_ERROR_MESSAGES, CONNECTION_STATUSES

#: The periods ``by`` and ``freq`` accept.
_PERIODS = ("day", "week", "month")

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
    freq: Literal["day", "week", "month"] | None = None,
) -> pd.DataFrame:
    """Counts and shares of ``connection_status`` per group.

    ``by`` is any column of ``accounts`` (``link_item``, ``source``,
    ``connection_error_code``, a cohort column added by
    :func:`~argyle_nb.frames.attach_metadata`) or ``"day"`` / ``"week"`` / ``"month"``:
    the period of ``created_at`` (UTC, weeks start on Monday). With ``freq`` as well,
    the rows are (group, period) pairs. Columns: one count per status (documented
    statuses first), ``total``, then ``share_<status>`` (of the group's accounts), then
    each share's 95% Wilson interval ``low_<status>`` and ``high_<status>`` (accounts
    are the unit: several of one user's accounts count apart). Missing group values form the group
    :data:`MISSING`. Groups are ordered by total (periods by time).

    Example:
        >>> from argyle_nb.frames import accounts_frame
        >>> list(connection_status_distribution(accounts_frame(b"[]")).columns)[:4]
        ['connecting', 'connected', 'error', 'total']
    """
    needs = ["connection_status"]
    needs += ["created_at"] if by in _PERIODS or freq is not None else [by]
    require_columns(accounts, needs, by="connection_status_distribution", made_by="accounts_frame")
    statuses = _status_order(accounts["connection_status"])
    keys: list[pd.Series[Any]] = []
    names: list[str] = []
    timed = by in _PERIODS
    if not timed:
        if by not in accounts.columns:
            raise ArgyleKeyError(f"accounts have no column {by!r}")
        keys.append(_group_labels(accounts[by]))
        names.append(by)
    period = by if timed else freq
    if period is not None:
        keys.append(_periods(accounts["created_at"], period))
        names.append(period)
    status = accounts["connection_status"].astype("str")
    # The keys keep their dtypes: a UTC period as datetime64, not an object Timestamp each.
    frame = pd.DataFrame({f"k{i}": k.reset_index(drop=True) for i, k in enumerate(keys)})
    frame["status"] = pd.Categorical(status.to_numpy(), categories=statuses)
    counts = frame.groupby([*frame.columns[:-1]], observed=True)["status"].value_counts()
    table = counts.unstack("status", fill_value=0).reindex(columns=statuses, fill_value=0)
    return finish_distribution(table, statuses, names, timed=timed, period=period)


def finish_distribution(
    table: pd.DataFrame,
    statuses: list[str],
    names: list[str],
    *,
    timed: bool,
    period: str | None,
) -> pd.DataFrame:
    """:func:`connection_status_distribution` from its counts: one row per group (sorted by
    its keys), one column per status. The shares, intervals and order, from any engine."""
    table = table.astype("int64")
    table.columns = pd.Index([str(c) for c in table.columns], dtype="str")
    if isinstance(table.index, pd.MultiIndex):
        table.index = table.index.set_names(names)
    else:
        table.index.name = names[0]
    table["total"] = table[statuses].sum(axis=1)
    for s in statuses:
        table[f"share_{s}"] = table[s] / table["total"]
    for s in statuses:
        low, high = wilson(table[s].to_numpy(), table["total"].to_numpy())
        table[f"low_{s}"], table[f"high_{s}"] = low, high
    if timed:
        return table.sort_index()
    order = table.groupby(level=0)["total"].sum().sort_values(ascending=False, kind="stable")
    if period is None:
        return table.loc[order.index]
    return table.reindex(order.index, level=0)


def _group_labels(values: pd.Series[Any]) -> pd.Series[str]:
    """Values as group labels: as text (:func:`text_labels`: a real ``"(missing)"`` is
    quoted), :data:`MISSING` for a missing one."""
    return text_labels(values).where(values.notna(), MISSING).astype("str")


def _periods(created: pd.Series[Any], period: str) -> pd.Series[Any]:
    naive = created.dt.tz_convert("UTC").dt.tz_localize(None)
    if period == "day":
        start = naive.dt.normalize()
    elif period == "week":
        start = naive.dt.normalize() - pd.to_timedelta(naive.dt.day_of_week, unit="D")
    elif period == "month":
        start = naive.dt.to_period("M").dt.start_time
    else:
        raise ArgyleValueError(f"period must be 'day', 'week' or 'month', not {period!r}")
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
            stamp = _utc(bound)
            created = accounts["created_at"]
            keep &= (created >= stamp) if inclusive else (created < stamp)
    return accounts.loc[keep.to_numpy()]


def top_error_codes(accounts: pd.DataFrame, n: int | None = 10) -> pd.DataFrame:
    """The most frequent ``connection_error_code`` values with their message.

    Columns: ``accounts`` (with that code), ``share`` (of accounts with any code) with
    its 95% Wilson interval ``low``/``high``, ``message`` (the most frequent message
    sent with the code, else the documented one).

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
    messages = (
        with_code["connection_error_message"]
        .astype("str")
        .where(with_code["connection_error_message"].notna().to_numpy())
    )
    pairs = pd.DataFrame({"code": codes.to_numpy(), "message": messages.to_numpy()}).dropna()
    said = pairs.value_counts().reset_index(name="k") if len(pairs) else None
    return finish_error_codes(codes.value_counts(), said, n=n)


def finish_error_codes(
    tally: pd.Series[Any], messages: pd.DataFrame | None, *, n: int | None
) -> pd.DataFrame:
    """:func:`top_error_codes` from the accounts per code (``tally``) and, per ``code`` and
    ``message`` sent with it, how many accounts (``k``): shared with the DuckDB path."""
    with_code = int(tally.sum())
    tally = tally.sort_index().sort_values(ascending=False, kind="stable")
    if n is not None:
        tally = tally.head(n)
    common: dict[str, str] = {}
    if messages is not None and len(messages):
        m = messages.sort_values(["code", "k", "message"], ascending=[True, False, True])
        common = dict(m.drop_duplicates("code").set_index("code")["message"])
    low, high = wilson(tally.to_numpy(), np.full(len(tally), with_code))
    return pd.DataFrame(
        {
            "accounts": tally.astype("int64").to_numpy(),
            "share": (tally / max(with_code, 1)).to_numpy(),
            "low": low,
            "high": high,
            "message": pd.Series(
                [common.get(c, CONNECTION_ERROR_MESSAGES.get(c)) for c in tally.index],
                dtype="str",
            ).to_numpy(),
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

    Example:
        >>> dist = connection_status_distribution(accounts, by="link_item")  # doctest: +SKIP
        >>> plot_connection_status_distribution(dist).save("status.png")  # doctest: +SKIP
        >>> from argyle_nb.frames import accounts_frame
        >>> none = connection_status_distribution(accounts_frame(b"[]"))
        >>> plot_connection_status_distribution(none).to_dict()["data"]["values"]
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


def _short(value: Any) -> str:
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return str(value)
