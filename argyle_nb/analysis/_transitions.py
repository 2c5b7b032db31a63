"""How accounts moved between two snapshots of a dataset: from each state to each
(:func:`transitions`, its matrix :func:`plot_transitions`), and the accounts behind one
move (:func:`transition_accounts`). States and groups as :mod:`._history` says."""

from __future__ import annotations

from typing import Any

import pandas as pd

from argyle_nb._sql import Params
from argyle_nb.analysis._history import (
    NEW,
    NO_STATUS,
    REMOVED,
    _history_of,
    _one_group,
    _statuses,
    grouped,
    snapshot_range,
)
from argyle_nb.analysis.stats import wilson
from argyle_nb.dataset import Dataset
from argyle_nb.errors import ArgyleValueError

#: The columns of :func:`transition_accounts` besides the group and the states.
LISTED = ("id", "user", "link_item", "source", "connection_error_code", "updated_at")


def _pair(ds: Dataset, start: int | None, end: int | None) -> tuple[int, int]:
    """The two snapshots compared: ``start`` and ``end`` (default: the last two)."""
    count = len(ds.snapshots)
    if count < 2:
        raise ArgyleValueError(
            f"transitions need two snapshots; the dataset has {count}: export again later"
        )
    first, last = snapshot_range(
        ds, count - 2 if start is None else start, count - 1 if end is None else end
    )
    if first == last:
        raise ArgyleValueError(f"start and end are both snapshot {first}: give two snapshots")
    return first, last


def _moves(ds: Dataset, first: int, last: int, by: str | None, p: Params) -> str:
    """SQL ``with`` parts ``a`` and ``b`` (each account at ``first`` and at ``last``: its
    row, ``status`` and ``grp``) and ``moves``: per account of either, ``from_state``,
    ``to_state``, ``grp`` and the columns :data:`LISTED` (later, else earlier)."""
    source = grouped(ds, [first, last], by, p)
    at = (
        f"select *, coalesce(cast(connection_status as varchar), {p(NO_STATUS)}) as status"
        f" from {source}"
    )
    listed = "".join(f", coalesce(b.{name}, a.{name}) as {name}" for name in LISTED[1:])
    return (
        f"a as ({at} where snapshot = {p(first)}), b as ({at} where snapshot = {p(last)}),"
        f" moves as (select case when a.id is null then {p(NEW)} else a.status end"
        f" as from_state, case when b.id is null then {p(REMOVED)} else b.status end"
        f" as to_state, coalesce(b.grp, a.grp) as grp, id{listed} from a full join b using (id))"
    )


def transitions(
    ds: Dataset, start: int | None = None, end: int | None = None, by: str | None = None
) -> pd.DataFrame:
    """How accounts moved between two snapshots of ``ds``: from each state to each.

    ``start`` and ``end`` are snapshot numbers (default: the last two). One row per
    (group, with ``by``: a column of the accounts or a metadata key of their users),
    ``from`` and ``to`` state that some account took: ``accounts`` and ``rate``, the
    share of the accounts in ``from`` at ``start`` (of the group) that were in ``to`` at
    ``end``, with its 95% Wilson interval ``rate_low``/``rate_high``. States are the
    statuses and :data:`NEW` (``from``: only ``end`` lists the account; its rate is of
    all the new accounts) and :data:`REMOVED` (``to``: only ``start`` does).

    Examples:
        >>> moves = transitions(Dataset("portfolio"))                     # doctest: +SKIP
        >>> moves[(moves["from"] == "connected") & (moves["to"] == "error")]  # doctest: +SKIP
    """
    ds = _history_of(ds, by, "transitions")
    first, last = _pair(ds, start, end)
    p = Params()
    grp = "" if by is None else ", grp"
    moved = ds.sql(
        f"with {_moves(ds, first, last, by, p)} select from_state, to_state{grp},"
        " count(*) as accounts from moves group by all",
        params=p.values,
    ).df()
    states = _statuses(set(moved["from_state"].astype(str)) | set(moved["to_state"].astype(str)))
    order = {s: i for i, s in enumerate([NEW, *states, REMOVED])}
    keys = [] if by is None else ["grp"]
    moved["total"] = moved.groupby([*keys, "from_state"])["accounts"].transform("sum")
    moved["rate"] = moved["accounts"] / moved["total"]
    moved["rate_low"], moved["rate_high"] = wilson(
        moved["accounts"].to_numpy(), moved["total"].to_numpy()
    )
    moved = moved.assign(
        _f=moved["from_state"].map(order), _t=moved["to_state"].map(order)
    ).sort_values([*keys, "_f", "_t"], kind="stable", ignore_index=True)
    out = moved.rename(columns={"from_state": "from", "to_state": "to", "grp": by or "grp"})
    columns = [*([] if by is None else [by]), "from", "to", "accounts", "rate"]
    out["accounts"] = out["accounts"].astype("int64")
    out = pd.DataFrame(out[[*columns, "rate_low", "rate_high"]])
    out.attrs["snapshots"] = (first, last)
    return out


def transition_accounts(
    ds: Dataset,
    from_state: str,
    to_state: str,
    start: int | None = None,
    end: int | None = None,
    *,
    by: str | None = None,
    group: str | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """The accounts behind one cell of :func:`transitions`: those in ``from_state`` at
    ``start`` and in ``to_state`` at ``end`` (of ``group`` by ``by``, when given), the
    first ``limit`` of them by ``id`` (all: ``None``).

    Columns: ``id``, ``user``, ``link_item``, ``source``, the group (with ``by`` a
    metadata key),
    ``from``, ``to``, ``connection_error_code`` and ``updated_at`` (from ``end``, or from
    ``start`` for a removed account). ``attrs["snapshots"]`` holds the two numbers.

    Examples:
        >>> transition_accounts(Dataset("portfolio"), "connected", "error")  # doctest: +SKIP
    """
    ds = _history_of(ds, by, "transition_accounts")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ArgyleValueError(f"limit must be a whole number of accounts, not {limit!r}")
    if group is not None and by is None:
        raise ArgyleValueError("group= picks a group of by=: give by too")
    first, last = _pair(ds, start, end)
    p = Params()
    where = f"from_state = {p(str(from_state))} and to_state = {p(str(to_state))}"
    if group is not None:
        where += f" and grp = {p(str(group))}"
    cap = "" if limit is None else f" limit {p(int(limit))}"
    rows = ds.sql(
        f"with {_moves(ds, first, last, by, p)} select {', '.join(LISTED)}, grp, from_state,"
        " to_state"
        f" from moves where {where} order by id{cap}",
        params=p.values,
    ).df()
    out = rows.rename(columns={"from_state": "from", "to_state": "to"})
    # (a group that is a listed column, such as link_item, is listed once)
    extra = by is not None and by not in LISTED
    out = out.rename(columns={"grp": by}) if extra else out.drop(columns="grp")
    columns = [*LISTED[:4], *([by] if extra else []), "from", "to", *LISTED[4:]]
    out = pd.DataFrame(out[columns])
    out.attrs["snapshots"] = (first, last)
    return out


def plot_transitions(moves: pd.DataFrame, *, title: str | None = None) -> Any:
    """The transitions between two snapshots as a matrix: a row per state at the first,
    a column per state at the second, each cell the accounts that moved and their share
    of the row (darker is more), its 95% interval on hover.

    ``moves`` is a :func:`transitions` without ``by`` (of one group, select its rows
    first). Returns an Altair chart; no accounts give a chart that says so.

    Examples:
        >>> plot_transitions(transitions(ds)).save("moves.png")  # doctest: +SKIP
    """
    from argyle_nb.analysis._chart_base import empty_chart
    from argyle_nb.analysis._chart_history import transitions_chart

    _one_group(moves, ["from", "to"], {"accounts", "rate"}, "transitions")
    if moves.empty:
        return empty_chart(title or "Transitions between two snapshots", "no accounts")
    return transitions_chart(moves, title=title)
