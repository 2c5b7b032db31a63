"""What changed between snapshots of a dataset: the connection status shares at each
snapshot, and the transitions of accounts between two.

Counted in DuckDB over the snapshots' own rows (:meth:`~argyle_nb.dataset.Dataset.
across`), finished here (rates, Wilson intervals, order). One semantics:

- an account is identified by its ``id``; its status is its ``connection_status`` as text
  (an account without one is in the status :data:`NO_STATUS`);
- between two snapshots an account is ``new`` when only the later one lists it, and
  ``removed`` when only the earlier one does (Argyle removes never-connected accounts
  after 30 days); ``new`` and ``removed`` are states beside the statuses;
- a group (``by``, a column of the accounts such as ``link_item`` or ``source``) is its
  value as text, :data:`~argyle_nb.analysis.MISSING` when missing; an account's group in
  a transition is its group in the later snapshot (in the earlier one if removed).
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pandas as pd

from argyle_nb._sql import Params
from argyle_nb.analysis._labels import group_label
from argyle_nb.analysis.stats import wilson
from argyle_nb.dataset import Dataset
from argyle_nb.errors import ArgyleTypeError, ArgyleValueError
from argyle_nb.models import CONNECTION_STATUSES

#: The state of an account only the later snapshot lists, and of one only the earlier does.
NEW: Final = "new"
REMOVED: Final = "removed"
#: The status of an account listed without a ``connection_status``.
NO_STATUS: Final = "(no status)"


def _history_of(ds: object, by: str | None, name: str) -> Dataset:
    if not isinstance(ds, Dataset):
        raise ArgyleTypeError(
            f"{name} takes a Dataset of snapshots (client.export(path) adds one at each run;"
            f" Dataset(path)), not {type(ds).__name__}"
        )
    if by is not None and by not in ds.columns("accounts"):
        raise ArgyleValueError(
            f"{name}: by={by!r} is not a column of the accounts"
            f" (they have {', '.join(ds.columns('accounts'))})"
        )
    return ds


def _statuses(seen: set[str]) -> list[str]:
    """The statuses in reading order: the documented ones, then others by name."""
    known = [s for s in CONNECTION_STATUSES if s in seen]
    return [*known, *sorted(seen - set(known) - {NEW, REMOVED})]


def status_over_time(ds: Dataset, by: str | None = None) -> pd.DataFrame:
    """The connection status shares of the accounts at each snapshot of ``ds``.

    One row per snapshot (and group, with ``by``: a column of the accounts such as
    ``link_item``) and status: ``snapshot`` (its number), ``taken_at`` (UTC), the group,
    ``status``, ``accounts`` (in that status), ``total`` (accounts of the snapshot, or of
    its group) and ``share`` with its 95% Wilson interval ``low``/``high``. Statuses
    documented first, others by name; every documented status at every snapshot (zero
    when none).

    Examples:
        >>> shares = status_over_time(Dataset("portfolio"))              # doctest: +SKIP
        >>> shares[shares["status"] == "connected"][["taken_at", "share"]]  # doctest: +SKIP
    """
    ds = _history_of(ds, by, "status_over_time")
    snapshots = ds.snapshots
    view = ds.across("accounts", list(range(len(snapshots))))
    p = Params()
    group = "" if by is None else f", {group_label(by, p)} as grp"
    counts = ds.sql(
        f"select snapshot{group}, coalesce(cast(connection_status as varchar),"
        f" {p(NO_STATUS)}) as status, count(*) as accounts from {view} group by all",
        params=p.values,
    ).df()
    statuses = _statuses(set(counts["status"].astype(str)) | set(CONNECTION_STATUSES))
    keys = ["snapshot", *([] if by is None else ["grp"])]
    frames = counts.set_index([*keys, "status"])["accounts"]
    rows = frames.unstack("status", fill_value=0).reindex(columns=statuses, fill_value=0)
    if by is None:
        rows = rows.reindex(snapshots.index, fill_value=0)
    long = rows.stack().rename("accounts").reset_index()
    long["total"] = long.groupby(keys)["accounts"].transform("sum")
    long["share"] = long["accounts"] / long["total"].where(long["total"] > 0)
    long["low"], long["high"] = wilson(long["accounts"].to_numpy(), long["total"].to_numpy())
    long["taken_at"] = snapshots.loc[long["snapshot"], "taken_at"].to_numpy()
    long["status"] = pd.Categorical(long["status"], categories=statuses)
    columns = ["snapshot", "taken_at", *([] if by is None else [by]), "status"]
    long = long.rename(columns={"grp": by} if by else {})
    long = long.sort_values(columns[:1] + columns[2:], kind="stable", ignore_index=True)
    long[["accounts", "total"]] = long[["accounts", "total"]].astype("int64")
    out: pd.DataFrame = long[[*columns, "accounts", "total", "share", "low", "high"]]
    return out


def transitions(
    ds: Dataset, start: int | None = None, end: int | None = None, by: str | None = None
) -> pd.DataFrame:
    """How accounts moved between two snapshots of ``ds``: from each state to each.

    ``start`` and ``end`` are snapshot numbers (default: the last two). One row per
    (group, with ``by``), ``from`` and ``to`` state that some account took: ``accounts``
    and ``rate``, the share of the accounts in ``from`` at ``start`` (of the group) that
    were in ``to`` at ``end``, with its 95% Wilson interval ``rate_low``/``rate_high``.
    States are the statuses and :data:`NEW` (``from``: only ``end`` lists the account; its
    rate is of all the new accounts) and :data:`REMOVED` (``to``: only ``start`` does).

    Examples:
        >>> moves = transitions(Dataset("portfolio"))                     # doctest: +SKIP
        >>> moves[(moves["from"] == "connected") & (moves["to"] == "error")]  # doctest: +SKIP
    """
    ds = _history_of(ds, by, "transitions")
    count = len(ds.snapshots)
    if count < 2 and (start is None or end is None):
        raise ArgyleValueError(
            f"transitions need two snapshots; the dataset has {count}: export again later"
        )
    first = count - 2 if start is None else start
    last = count - 1 if end is None else end
    view = ds.across("accounts", [first, last])
    p = Params()
    grp = ""
    if by is not None:
        # (the group of an account, then its later group if it moved)
        grp = ", coalesce(b.grp, a.grp) as grp"
    pick = "" if by is None else f", {group_label(by, p)} as grp"
    at = f"select id, coalesce(cast(connection_status as varchar), {p(NO_STATUS)}) as status{pick}"
    moved = ds.sql(
        f"with a as ({at} from {view} where snapshot = {p(_number(ds, first))}),"
        f" b as ({at} from {view} where snapshot = {p(_number(ds, last))})"
        f" select case when a.id is null then {p(NEW)} else a.status end as from_state,"
        f" case when b.id is null then {p(REMOVED)} else b.status end as to_state{grp},"
        f" count(*) as accounts from a full join b using (id) group by all",
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
    out.attrs["snapshots"] = (_number(ds, first), _number(ds, last))
    return out


def _number(ds: Dataset, number: int) -> int:
    """A snapshot number as counted from 0 (a negative one counts from the latest)."""
    count = len(ds.snapshots)
    return number + count if number < 0 else number


def _one_group(frame: pd.DataFrame, keys: list[str], needs: set[str], made_by: str) -> None:
    """``frame`` is a result of ``made_by`` of one group (no two rows of the same ``keys``):
    what its plot draws; else say so."""
    if not {*keys, *needs} <= set(frame.columns):
        raise ArgyleValueError(f"plot_{made_by} draws the result of {made_by}")
    if frame.duplicated(keys).any():
        raise ArgyleValueError(
            f"plot_{made_by} draws one group: select one group's rows of"
            f" {made_by}(ds, by=...) first"
        )


def plot_status_over_time(shares: pd.DataFrame, *, title: str | None = None) -> Any:
    """The share of the accounts in each status at each snapshot: a line per status
    (coloured by meaning: connected green, error vermillion), its 95% interval shaded.

    ``shares`` is a :func:`status_over_time` without ``by`` (of one group, select its
    rows first). Returns an Altair chart; no snapshots give a chart that says so.

    Examples:
        >>> plot_status_over_time(status_over_time(ds)).save("status.png")  # doctest: +SKIP
    """
    from argyle_nb.analysis._chart_base import empty_chart
    from argyle_nb.analysis._chart_history import status_over_time_chart

    _one_group(shares, ["snapshot", "status"], {"taken_at", "share"}, "status_over_time")
    if shares.empty:
        return empty_chart(title or "Connection status at each snapshot", "no snapshots")
    return status_over_time_chart(shares, title=title)


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


def removal_bias(ds: Dataset) -> pd.DataFrame:
    """How much removing never-connected accounts (Argyle does, 30 days after creation)
    flatters a connected share computed from the latest snapshot alone.

    Three rows: ``ever seen`` (every account any snapshot of ``ds`` listed, in the status
    it had when last seen), ``latest snapshot`` (the accounts it lists) and ``gone`` (those
    seen before but not listed by it). Columns: ``accounts``, ``connected`` (connected when
    last seen) and ``connected_share`` with its 95% Wilson interval
    ``connected_low``/``connected_high``. The latest share exceeds the share ever seen by
    as much as the gone accounts were less connected.

    Examples:
        >>> removal_bias(Dataset("portfolio"))                            # doctest: +SKIP
    """
    ds = _history_of(ds, None, "removal_bias")
    count = len(ds.snapshots)
    view = ds.across("accounts", list(range(count)))
    p = Params()
    rows = ds.sql(
        f"with last as (select id, arg_max(cast(connection_status as varchar), snapshot)"
        f" as status, max(snapshot) as seen from {view} group by id)"
        f" select count(*), count(*) filter (where status = {p('connected')}),"
        f" count(*) filter (where seen = {p(count - 1)}),"
        f" count(*) filter (where seen = {p(count - 1)} and status = {p('connected')})"
        " from last",
        params=p.values,
    ).fetchall()[0]
    ever, ever_connected, latest, latest_connected = (int(v) for v in rows)
    accounts = np.array([ever, latest, ever - latest], dtype="int64")
    connected = np.array(
        [ever_connected, latest_connected, ever_connected - latest_connected], dtype="int64"
    )
    low, high = wilson(connected, accounts)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(accounts > 0, connected / np.maximum(accounts, 1), np.nan)
    return pd.DataFrame(
        {
            "accounts": accounts,
            "connected": connected,
            "connected_share": share,
            "connected_low": low,
            "connected_high": high,
        },
        index=pd.Index(["ever seen", "latest snapshot", "gone"], dtype="str", name="accounts of"),
    )


def plot_removal_bias(bias: pd.DataFrame, *, title: str | None = None) -> Any:
    """The connected share of every account ever seen, of the latest snapshot's and of
    those gone, with their 95% intervals (a :func:`removal_bias`).

    Examples:
        >>> plot_removal_bias(removal_bias(ds))                          # doctest: +SKIP
    """
    from argyle_nb.analysis._chart_history import dots_chart
    from argyle_nb.palette import WORKED

    if not {"accounts", "connected_share", "connected_low"} <= set(bias.columns):
        raise ArgyleValueError("plot_removal_bias draws the result of removal_bias")
    rows = [
        {
            "label": str(label),
            "series": "connected",
            "share": None if pd.isna(r["connected_share"]) else float(r["connected_share"]),
            "low": None if pd.isna(r["connected_low"]) else float(r["connected_low"]),
            "high": None if pd.isna(r["connected_high"]) else float(r["connected_high"]),
            "count": int(r["accounts"]),
            "n": f"n={int(r['accounts']):,}",
        }
        for label, r in bias.iterrows()
    ]
    return dots_chart(
        rows,
        colours={"connected": WORKED},
        x_title="share of the accounts connected when last seen (95% interval)",
        y_title="accounts",
        title=title or "Connected share: every account ever seen against the latest snapshot",
    )
