"""Connection status on a :class:`Dataset`: the selection of accounts, the status
distribution and the top error codes, counted in DuckDB and finished as in pandas."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd

from argyle_nb.analysis._common import _utc
from argyle_nb.analysis._connection import _PERIODS, finish_distribution, finish_error_codes
from argyle_nb.dataset._read import Dataset
from argyle_nb.dataset._sql import group_label, sql_text, sql_texts
from argyle_nb.errors import ArgyleKeyError, ArgyleValueError
from argyle_nb.frames import MissingColumnsError
from argyle_nb.models import CONNECTION_STATUSES

__all__ = ["connection_status_distribution", "select_accounts", "top_error_codes"]


def select_accounts(
    ds: Dataset,
    *,
    link_item: str | Sequence[str] | None = None,
    source: str | Sequence[str] | None = None,
    created_from: datetime | str | None = None,
    created_to: datetime | str | None = None,
) -> Dataset:
    """:func:`argyle_nb.analysis.select_accounts` of a dataset: the dataset with only the
    accounts matching every filter given (the other tables unchanged).

    Nothing is read until the selection is queried; ``created_from`` is inclusive and
    ``created_to`` exclusive; naive times are UTC.

    Example:
        >>> with Dataset("portfolio") as ds:                             # doctest: +SKIP
        ...     uber = select_accounts(ds, link_item="uber", created_from="2024-01")
        ...     uber.rows("accounts")
        1234
    """
    have = set(ds.columns("accounts"))
    conditions: list[str] = []
    for column, wanted in (("link_item", link_item), ("source", source)):
        if wanted is None:
            continue
        if column not in have:
            raise MissingColumnsError(f"select_accounts needs the accounts' column {column!r}")
        values = [wanted] if isinstance(wanted, str) else [str(v) for v in wanted]
        conditions.append(
            f"cast({column} as varchar) in {sql_texts(values)}" if values else "false"
        )
    for bound, operator in ((created_from, ">="), (created_to, "<")):
        if bound is None:
            continue
        # Stored times are whole microseconds: comparing with the bound rounded up to one
        # keeps exactly the accounts pandas keeps (ns precision).
        stamp = _utc(bound).ceil("us")
        text = stamp.strftime("%Y-%m-%d %H:%M:%S.%f+00")
        conditions.append(f"created_at {operator} {sql_text(text)}::timestamptz")
    return ds.restricted("accounts", " and ".join(conditions) or "true")


def connection_status_distribution(
    ds: Dataset, by: str = "link_item", *, freq: str | None = None
) -> pd.DataFrame:
    """:func:`argyle_nb.analysis.connection_status_distribution` of the dataset's accounts.

    ``by`` is a column of the accounts or a period (``"day"``, ``"week"``, ``"month"`` of
    ``created_at``, UTC, weeks from Monday); ``freq`` adds a period to a column.

    Example:
        >>> with Dataset("portfolio") as ds:                             # doctest: +SKIP
        ...     connection_status_distribution(ds, by="link_item").head()
    """
    timed = by in _PERIODS
    if not timed and by not in ds.columns("accounts"):
        raise ArgyleKeyError(f"accounts have no column {by!r}")
    period = by if timed else freq
    if period is not None and period not in _PERIODS:
        raise ArgyleValueError(f"period must be 'day', 'week' or 'month', not {period!r}")
    keys: list[str] = []
    names: list[str] = []
    if not timed:
        keys.append(f"{group_label(by)} as k0")
        names.append(by)
    if period is not None:
        keys.append(f"date_trunc('{period}', created_at at time zone 'UTC') as k{len(keys)}")
        names.append(period)
    key_names = [f"k{i}" for i in range(len(keys))]
    counts = ds.sql(
        f"select {', '.join(keys)}, cast(connection_status as varchar) as status,"
        " count(*) as n from accounts where connection_status is not null group by all"
    ).df()
    seen = {str(s) for s in counts["status"]}
    statuses = [*CONNECTION_STATUSES, *sorted(seen - set(CONNECTION_STATUSES))]
    for i, name in enumerate(names):
        column = counts[f"k{i}"]
        if name in _PERIODS:
            counts[f"k{i}"] = pd.to_datetime(column).astype("datetime64[us]").dt.tz_localize("UTC")
        else:
            counts[f"k{i}"] = column.astype("str")
    table = counts.pivot_table(
        index=key_names, columns="status", values="n", aggfunc="sum", fill_value=0
    )
    table = table.reindex(columns=statuses, fill_value=0).sort_index()
    table.columns.name = None
    return finish_distribution(table, statuses, names, timed=timed, period=period)


def top_error_codes(ds: Dataset, n: int | None = 10) -> pd.DataFrame:
    """:func:`argyle_nb.analysis.top_error_codes` of the dataset's accounts.

    Example:
        >>> with Dataset("portfolio") as ds:                             # doctest: +SKIP
        ...     top_error_codes(ds, n=5)
    """
    coded = "from accounts where connection_error_code is not null"
    tally = ds.sql(
        f"select cast(connection_error_code as varchar) as code, count(*) as n {coded} group by all"
    ).df()
    messages = ds.sql(
        "select cast(connection_error_code as varchar) as code,"
        f" cast(connection_error_message as varchar) as message, count(*) as k {coded}"
        " and connection_error_message is not null group by all"
    ).df()
    counts = pd.Series(
        tally["n"].to_numpy("int64"), index=pd.Index(tally["code"].astype("str"), dtype="str")
    )
    return finish_error_codes(counts, messages if len(messages) else None, n=n)
