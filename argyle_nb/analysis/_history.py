"""What changed between snapshots of a dataset: the connection status shares at each
snapshot, the connected share of every account ever seen (:func:`removal_bias`), and
what the other history analyses (:mod:`._transitions`, :mod:`._spells`) start from.

Counted in DuckDB over the snapshots' own rows (:meth:`~argyle_nb.dataset.Dataset.
across`), finished here (rates, Wilson intervals, order). One semantics:

- an account is identified by its ``id``; its status is its ``connection_status`` as text
  (an account without one is in the status :data:`NO_STATUS`);
- between two snapshots an account is ``new`` when only the later one lists it, and
  ``removed`` when only the earlier one does (Argyle removes never-connected accounts
  after 30 days); ``new`` and ``removed`` are states beside the statuses;
- a group (``by``) is a column of the accounts (``link_item``, ``source``) as text, or
  else a metadata key of the account's user in the same snapshot, labelled as the cohort
  analyses label it; :data:`~argyle_nb.analysis.MISSING` when missing. An account's
  group in a transition is its group in the later snapshot (in the earlier one if
  removed).
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pandas as pd

from argyle_nb._sql import Params
from argyle_nb.analysis._common import MISSING
from argyle_nb.analysis._labels import group_label, label_of, picked
from argyle_nb.analysis._tables import first_users
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
    """``ds`` as a dataset of snapshots and ``by`` a group of its accounts (a column of
    theirs or a metadata key of their users); else say what is wrong."""
    if not isinstance(ds, Dataset):
        raise ArgyleTypeError(
            f"{name} takes a Dataset of snapshots (client.export(path) adds one at each run;"
            f" Dataset(path)), not {type(ds).__name__}"
        )
    if by is not None and by not in ds.columns("accounts") and by not in _keys(ds):
        raise ArgyleValueError(
            f"{name}: by={by!r} is neither a column of the accounts"
            f" ({', '.join(ds.columns('accounts'))}) nor a metadata key of their users"
        )
    return ds


def _keys(ds: Dataset) -> list[str]:
    """The metadata keys of the users of ``ds`` (see
    :func:`~argyle_nb.analysis.metadata_key_summary`)."""
    from argyle_nb.analysis._cohorts import metadata_key_summary

    return [str(k) for k in metadata_key_summary(ds).index]


def grouped(ds: Dataset, numbers: list[int], by: str | None, p: Params) -> str:
    """SQL: the accounts of the snapshots ``numbers`` of ``ds`` (each row with its
    ``snapshot``) and their group ``grp`` by ``by`` (``None``: null), as the module
    says: a column of the accounts, else a metadata key of the account's user in the
    same snapshot (the user's first record if the walk saw them twice)."""
    view = ds.across("accounts", numbers)
    if by is None:
        return f"(select *, null::varchar as grp from {view})"
    if by in ds.columns("accounts"):
        return f"(select *, {group_label(by, p)} as grp from {view})"
    ask = Params()
    # Labelled by the JSON types the key holds in the snapshot opened, as the cohorts are.
    label = label_of(ds, by, f"(select {picked(by, ask)} from {first_users(ds)})", ask.values, p)
    users = (
        f"(select snapshot, id, {label} as grp from (select snapshot, id, {picked(by, p)}"
        f" from {ds.across('users', numbers)}"
        " qualify row_number() over (partition by snapshot, id order by _seen) = 1))"
    )
    return (
        f"(select a.*, coalesce(u.grp, {p(MISSING)}) as grp from {view} a left join {users} u"
        " on u.snapshot = a.snapshot and u.id = a.user)"
    )


def snapshot_range(ds: Dataset, start: int | None, end: int | None) -> tuple[int, int]:
    """The snapshot numbers ``start`` and ``end`` counted from 0 (``None``: the first, the
    latest; a negative number counts from the latest); else say what is wrong."""
    count = len(ds.snapshots)
    numbers = []
    for given, default in ((start, 0), (end, count - 1)):
        number = default if given is None else given
        if isinstance(number, bool) or not isinstance(number, int):
            raise ArgyleTypeError(f"a snapshot is given by its number, not {number!r}")
        if not -count <= number < count:
            raise ArgyleValueError(
                f"snapshot {number} does not exist: the dataset has {count} (0 to {count - 1})"
            )
        numbers.append(number + count if number < 0 else number)
    if numbers[0] > numbers[1]:
        raise ArgyleValueError(f"start={start} comes after end={end}: give them in order")
    return numbers[0], numbers[1]


def _statuses(seen: set[str]) -> list[str]:
    """The statuses in reading order: the documented ones, then others by name."""
    known = [s for s in CONNECTION_STATUSES if s in seen]
    return [*known, *sorted(seen - set(known) - {NEW, REMOVED})]


def status_over_time(
    ds: Dataset, by: str | None = None, *, start: int | None = None, end: int | None = None
) -> pd.DataFrame:
    """The connection status shares of the accounts at each snapshot of ``ds`` from
    ``start`` to ``end`` (snapshot numbers; default: all).

    One row per snapshot (and group, with ``by``: a column of the accounts such as
    ``link_item``, or a metadata key of their users) and status: ``snapshot`` (its
    number), ``taken_at`` (UTC), the group, ``status``, ``accounts`` (in that status),
    ``total`` (accounts of the snapshot, or of its group) and ``share`` with its 95%
    Wilson interval ``low``/``high``. Statuses documented first, others by name; every
    documented status at every snapshot (zero when none).

    Examples:
        >>> shares = status_over_time(Dataset("portfolio"))              # doctest: +SKIP
        >>> shares[shares["status"] == "connected"][["taken_at", "share"]]  # doctest: +SKIP
    """
    ds = _history_of(ds, by, "status_over_time")
    first, last = snapshot_range(ds, start, end)
    snapshots = ds.snapshots.iloc[first : last + 1]
    p = Params()
    source = grouped(ds, list(range(first, last + 1)), by, p)
    group = "" if by is None else ", grp"
    counts = ds.sql(
        f"select snapshot{group}, coalesce(cast(connection_status as varchar),"
        f" {p(NO_STATUS)}) as status, count(*) as accounts from {source} group by all",
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
        # (a flag, not the status text, in each account's state: fixed-size states spill
        # to disk past DuckDB's memory limit; 5 snapshots of a million accounts did not fit)
        f"with last as (select id, arg_max(coalesce(cast(connection_status as varchar)"
        f" = {p('connected')}, false), snapshot) as connected, max(snapshot) as seen"
        f" from {view} group by id)"
        f" select count(*), count(*) filter (where connected),"
        f" count(*) filter (where seen = {p(count - 1)}),"
        f" count(*) filter (where seen = {p(count - 1)} and connected)"
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
