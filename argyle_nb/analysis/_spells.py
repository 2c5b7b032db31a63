"""How long connections last and how fast lost ones come back, from the snapshots of a
dataset: Kaplan–Meier of the days from a connection seen to begin to its first loss
(:func:`connection_lifetime`), and from a loss to connected again (:func:`reconnection`),
each spell dated by the snapshots that saw it begin and end (days apart to the hour),
censored at the last snapshot listing the account."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from argyle_nb._sql import Params
from argyle_nb.analysis._common import MIN_USERS
from argyle_nb.analysis._history import _history_of, grouped
from argyle_nb.analysis._survival import DEFAULT_DAYS, _horizons, fit_each, fits_table
from argyle_nb.dataset import Dataset
from argyle_nb.errors import ArgyleValueError


def reconnection(
    ds: Dataset,
    by: str | None = None,
    *,
    days: Sequence[float] | float = DEFAULT_DAYS,
    min_losses: int = MIN_USERS,
) -> pd.DataFrame:
    """How long accounts that lost their connection took to be connected again
    (Kaplan–Meier), overall or per group (``by``: a column of the accounts or a metadata
    key of their users).

    A loss is a snapshot that lists an account not connected when the snapshot before it
    listed it connected (the loss is dated by the later one: snapshots a day apart date
    it to the day). It ends at the first later snapshot listing the account connected;
    until then it is censored at the last snapshot listing the account (the latest, or
    before the account went). An account may lose its connection more than once: each
    loss counts. One row per group: ``losses``, ``back`` (connected again), ``median_days``
    with ``median_low``/``median_high``, ``within_<d>d`` (back within ``d`` days, with its
    interval) for each of ``days``, ``small`` (fewer than ``min_losses`` losses) and
    ``note`` (why a figure is missing).

    Examples:
        >>> reconnection(Dataset("portfolio"), by="link_item")          # doctest: +SKIP
    """
    return _survival_of(
        ds,
        "reconnection",
        days,
        # A spell begins at each loss, and ends when connected again.
        "select id, snapshot as t0, grp from b where not up and was_up and prev = snapshot - 1",
        # (only an account listed connected once and not connected once can lose it)
        "bool_or(up) and bool_or(not up)",
        True,
        by,
        min_losses,
        units=("losses", "back"),
    )


def _survival_of(
    ds: Dataset,
    name: str,
    days: Sequence[float] | float,
    starts: str,
    could: str,
    ends_up: bool,
    by: str | None,
    least: int,
    *,
    units: tuple[str, str],
) -> pd.DataFrame:
    """The Kaplan–Meier table (:func:`~argyle_nb.analysis._survival.fits_table`) of the
    analysis ``name``: of the spells that begin where the SQL ``starts`` says (``id``,
    ``t0``: the snapshot, ``grp``) and end at the first later snapshot listing the account
    connected (``ends_up``) or not connected, else censored at the last one listing it;
    days apart by the time the snapshots were taken; one fit per group. ``starts`` reads
    ``b``: each account at each snapshot (``id``, ``snapshot``, ``grp``, ``up`` for
    connected), with ``was_up`` and ``prev`` (the snapshot before that listed it), of the
    accounts whose rows satisfy ``could`` (an aggregate condition, true of every account
    that may begin a spell: the others are left out before the window over every row,
    most of a portfolio's accounts on 30 snapshots of a million)."""
    horizons = _horizons(days)
    ds = _history_of(ds, by, name)
    p = Params()
    source = grouped(ds, list(range(len(ds.snapshots))), by, p)
    query = (
        f"with every as (select id, snapshot, grp, coalesce(cast(connection_status"
        f" as varchar), '') = {p('connected')} as up from {source}),"
        f" could as (select id from every group by id having {could}),"
        " a as (select * from every semi join could using (id)),"
        " b as (select *, lag(up) over w as was_up, lag(snapshot) over w as prev from a"
        f" window w as (partition by id order by snapshot)), starts as ({starts}),"
        " ends as (select s.id, s.t0, s.grp, min(a.snapshot) filter (where a.up = "
        f"{p(ends_up)} and a.snapshot > s.t0) as t_end, max(a.snapshot) as last_seen"
        " from starts s join a on a.id = s.id and a.snapshot >= s.t0 group by all)"
        " select grp, t_end is not null as event, t0, coalesce(t_end, last_seen) as t1"
        " from ends"
    )
    found = ds.sql(query, params=p.values).df()
    taken = ds.snapshots["taken_at"].to_numpy("datetime64[us]").astype("int64")
    # Days between the snapshots, to the hour: snapshots a day apart are a day apart,
    # whatever seconds or minutes the exports took.
    apart = taken[found["t1"].to_numpy("int64")] - taken[found["t0"].to_numpy("int64")]
    found["days"] = np.round(apart / 3600e6) / 24
    groups = found["grp"].fillna("all" if by is None else "").astype(str)
    sizes = groups.value_counts().sort_index().sort_values(ascending=False, kind="stable")
    parts = {
        str(g): (
            found.loc[groups == g, "days"].to_numpy("float64"),
            found.loc[groups == g, "event"].to_numpy(bool),
        )
        for g in sizes.index
    }
    fits = fit_each(parts, units[1] if units[1] != "back" else "connected again")
    events = found[found["event"]].groupby(groups[found["event"]]).size()
    return fits_table(fits, sizes, events, horizons, least, by or "accounts", units=units)


def connection_lifetime(
    ds: Dataset,
    by: str | None = None,
    *,
    days: Sequence[float] | float = DEFAULT_DAYS,
    min_accounts: int = MIN_USERS,
) -> pd.DataFrame:
    """How long connections last: Kaplan–Meier of the days from an account's connection
    to its first loss, overall or per group (``by``: a column of the accounts).

    A connection begins at the first snapshot listing the account connected, when the
    snapshots saw it begin: the account was listed not connected just before, or was not
    listed yet (an account connected at the first snapshot is left out: when it connected
    is not known). It ends at the first later snapshot listing it not connected; until
    then it is censored at the last snapshot listing it. One row per group: ``accounts``,
    ``lost``, ``median_days`` with its interval, ``within_<d>d`` (lost within ``d`` days,
    with its interval) for each of ``days``, ``small`` and ``note``.

    Examples:
        >>> connection_lifetime(Dataset("portfolio"), by="link_item")   # doctest: +SKIP
    """
    return _survival_of(
        ds,
        "connection_lifetime",
        days,
        # A spell begins at the first connection the snapshots saw begin, of each account,
        # and ends when lost.
        "select id, min(snapshot) as t0, any_value(grp) as grp from b where up and snapshot > 0"
        " and (prev is null or (not was_up and prev = snapshot - 1)) group by id",
        # (only an account first listed after the first snapshot, or listed not
        # connected once, can be seen to connect)
        "min(snapshot) > 0 or bool_or(not up)",
        False,
        by,
        min_accounts,
        units=("accounts", "lost"),
    )


def _plot_spells(table: pd.DataFrame, units: tuple[str, str], what: str, title: str) -> Any:
    """The shares by each horizon of a :func:`reconnection` or
    :func:`connection_lifetime` table, per group, with their intervals."""
    from argyle_nb.analysis._chart_base import empty_chart
    from argyle_nb.analysis._chart_history import dots_chart
    from argyle_nb.palette import cohort_colours

    horizons = [c for c in table.columns if c.startswith("within_") and c.count("_") == 1]
    if not {*units, *horizons} <= set(table.columns) or not horizons:
        raise ArgyleValueError(f"this plot draws the result of {what}")
    if table.empty:
        return empty_chart(title, f"no {units[0]}")
    days = {h: h.removeprefix("within_").removesuffix("d") for h in horizons}
    names = {h: f"within {d} day{'' if d == '1' else 's'}" for h, d in days.items()}
    rows = [
        {
            "label": str(group),
            "series": names[h],
            "share": None if pd.isna(row[h]) else float(row[h]),
            "low": None if pd.isna(row[f"{h}_low"]) else float(row[f"{h}_low"]),
            "high": None if pd.isna(row[f"{h}_high"]) else float(row[f"{h}_high"]),
            "count": int(row[units[0]]),
            "n": f"n={int(row[units[0]]):,}",
        }
        for group, row in table.iterrows()
        for h in horizons
    ]
    colours = dict(zip(names.values(), cohort_colours(len(names)), strict=True))
    return dots_chart(
        rows,
        colours=colours,
        x_title=f"share of the {units[0]} (95% interval)",
        y_title=str(table.index.name),
        title=title,
    )


def plot_reconnection(back: pd.DataFrame, *, title: str | None = None) -> Any:
    """The share of the lost connections back within each horizon, per group, with its
    95% interval (a :func:`reconnection`).

    Examples:
        >>> plot_reconnection(reconnection(ds, by="link_item"))         # doctest: +SKIP
    """
    return _plot_spells(
        back, ("losses", "back"), "reconnection", title or "Lost connections connected again"
    )


def plot_connection_lifetime(lasting: pd.DataFrame, *, title: str | None = None) -> Any:
    """The share of the connections lost within each horizon, per group, with its 95%
    interval (a :func:`connection_lifetime`).

    Examples:
        >>> plot_connection_lifetime(connection_lifetime(ds))            # doctest: +SKIP
    """
    return _plot_spells(
        lasting,
        ("accounts", "lost"),
        "connection_lifetime",
        title or "Connections lost, by days since they began",
    )
