"""Time to connect: from a user's sign-up to their first connected account, per cohort.

Users who have not connected yet are *censored*: they are counted as waiting up to the
data's time, not as never connecting and not as dropped. Kaplan–Meier curves make the
two comparable: a cohort that connects slowly is not a cohort that connects less.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from argyle_nb._sql import Params
from argyle_nb.analysis._common import MIN_USERS, _utc
from argyle_nb.analysis._engine import cohorts, keyed, require_key
from argyle_nb.analysis._outcomes import cohort_order
from argyle_nb.analysis._tables import latest_time
from argyle_nb.analysis.stats import KaplanMeier, kaplan_meier
from argyle_nb.dataset import Dataset
from argyle_nb.errors import ArgyleValueError
from argyle_nb.frames import require_columns

#: The horizons of :func:`time_to_connect`, in days.
DEFAULT_DAYS = (1, 7, 30)


def _as_of(ds: Dataset, as_of: datetime | str | None) -> pd.Timestamp:
    """``as_of`` as UTC, or the latest timestamp in the data (asked once per dataset)."""
    if as_of is not None:
        return _utc(as_of)
    if "latest time" in ds.scratch:
        found: pd.Timestamp = ds.scratch["latest time"]
        return found
    latest = latest_time(ds)
    if latest is None:
        raise ArgyleValueError("no timestamps in the data: give as_of")
    ds.scratch["latest time"] = _utc(latest)
    return _utc(latest)


def _fits(
    ds: Dataset,
    key: str,
    as_of: datetime | str | None,
    min_users: int,
    pool_small: bool,
) -> tuple[dict[str, KaplanMeier], pd.Series[Any], pd.Series[Any]]:
    """Per cohort: its Kaplan–Meier fit of the days from sign-up to the first connected
    account (censored at ``as_of``), its users and its users who connected. Kept in the
    dataset's scratch: the table and the curves of one key fit once."""
    now = _as_of(ds, as_of)
    kept = f"fits of {key!r} as of {now.isoformat()}, {min_users}, {pool_small}"
    if kept in ds.scratch:
        found: tuple[dict[str, KaplanMeier], pd.Series[Any], pd.Series[Any]] = ds.scratch[kept]
        return found
    p = Params()
    with_ = cohorts(ds, key, min_users=min_users, pool_small=pool_small, p=p)
    # A user without a sign-up time cannot be placed on the clock: counted, not timed.
    # The cohorts come into Python as Arrow text, coded (a million users: about 30 MB).
    table = ds.sql(
        f"with {with_} select k0, created_at is not null as timed,"
        " first_connected_at is not null as connected,"
        # (microseconds apart, then days: one rounding, and no interval to build)
        " greatest((epoch_us(coalesce(first_connected_at,"
        f" {p(now.to_pydatetime())}::timestamptz)) - epoch_us(created_at)) / 86400e6, 0.0)"
        " as days from cohorts",
        params=p.values,
    ).to_arrow_table()
    coded = pc.dictionary_encode(table.column("k0")).combine_chunks()
    names = [str(name) for name in coded.dictionary.to_pylist()]
    codes = coded.indices.to_numpy(zero_copy_only=False).astype("int64")
    timed = table.column("timed").to_numpy().astype(bool)
    days = table.column("days").to_numpy().astype("float64")
    events = table.column("connected").to_numpy().astype(bool)
    del table, coded
    sizes = pd.Series(np.bincount(codes, minlength=len(names)), index=names, dtype="int64")
    require_key(ds, names, key)
    parts = {}
    for group in cohort_order(sizes):
        mine = timed & (codes == names.index(str(group)))
        parts[str(group)] = (days[mine], events[mine])
    fits = fit_each(parts, "connected")
    connected = pd.Series(
        np.bincount(codes[timed & events], minlength=len(names)), index=names, dtype="int64"
    )
    ds.scratch[kept] = (fits, sizes, connected)
    return fits, sizes, connected


def fit_each(
    parts: dict[str, tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]], event: str
) -> dict[str, KaplanMeier]:
    """The Kaplan–Meier fit of each group's ``(durations, events)`` of ``parts``, in their
    order (``event`` in words, for the notes), two at a time: the fits' sorts let go of
    the GIL (a million users' five cohorts: 0.11 s one by one, 0.065 s two at a time)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        fitted = pool.map(lambda part: kaplan_meier(*part, event=event), parts.values())
        return dict(zip(parts, fitted, strict=True))


def _horizons(days: Sequence[float] | float) -> list[float]:
    """``days`` as a list of positive numbers (one number is one horizon)."""
    given = [days] if isinstance(days, int | float) else days
    if isinstance(given, str) or not isinstance(given, Sequence):
        raise ArgyleValueError(f"days must be numbers of days, such as (1, 7, 30), not {days!r}")
    horizons = []
    for d in given:
        if isinstance(d, bool) or not isinstance(d, int | float) or not np.isfinite(d) or d <= 0:
            raise ArgyleValueError(f"days must be positive numbers of days, not {days!r}")
        horizons.append(float(d))
    return horizons


def time_to_connect(
    users: pd.DataFrame | Dataset,
    accounts: pd.DataFrame | str,
    key: str | None = None,
    *,
    days: Sequence[float] | float = DEFAULT_DAYS,
    as_of: datetime | str | None = None,
    min_users: int = MIN_USERS,
    pool_small: bool = False,
) -> pd.DataFrame:
    """Per cohort: how long users take to connect their first account (Kaplan–Meier).

    The wait runs from the user's ``created_at`` to the ``created_at`` of their first
    account that ever connected; users who have not connected are censored at
    ``as_of`` (default: the latest timestamp in the data, so the result depends only on
    the data). Columns: ``users``, ``connected`` (users who did), ``median_days`` with
    ``median_low``/``median_high`` (Brookmeyer–Crowley interval), and for each horizon
    ``d`` in ``days`` the share connected within it, ``within_<d>d`` with
    ``within_<d>d_low``/``_high``, and ``small``. ``note`` says why a figure is missing
    (fewer than half connected; not followed that long; an open upper bound; too few
    distinct waits for an interval). Takes ``(users, accounts, key)`` or ``(dataset,
    key)``.

    Examples:
        >>> from argyle_nb.frames import users_frame, accounts_frame
        >>> users = users_frame([
        ...     {"id": "0994b847-cc69-4d98-bc99-c5e65e762add", "created_at": "2026-01-01",
        ...      "external_metadata": {"group": "A"}}])
        >>> accounts = accounts_frame([{"id": "ac81e2bc-2157-4535-8ca4-fb1f068df1fc",
        ...     "user": "0994b847-cc69-4d98-bc99-c5e65e762add", "was_connected": True,
        ...     "created_at": "2026-01-03", "connection": {"status": "connected"}}])
        >>> waits = time_to_connect(users, accounts, "group")
        >>> int(waits.loc["A", "connected"]), float(waits.loc["A", "median_days"])
        (1, 2.0)
    """
    horizons = _horizons(days)
    ds, key = keyed(users, accounts, key, by="time_to_connect")
    fits, sizes, connected = _fits(ds, key, as_of, min_users, pool_small)
    return fits_table(
        fits, sizes, connected, horizons, min_users, key, units=("users", "connected")
    )


def fits_table(
    fits: dict[str, KaplanMeier],
    sizes: pd.Series[Any],
    connected: pd.Series[Any],
    horizons: list[float],
    min_users: int,
    key: str,
    *,
    units: tuple[str, str],
) -> pd.DataFrame:
    """The table of Kaplan–Meier ``fits`` by group (in their order): ``units[0]`` (the
    group's ``sizes``), ``units[1]`` (its events, ``connected``), the median with its
    interval, the share by each of ``horizons`` days with its interval, ``small`` (under
    ``min_users``) and ``note`` (why a figure is missing); indexed by ``key``."""
    rows: list[dict[str, Any]] = []
    for group, fit in fits.items():
        median, low, high, note = fit.median()
        row: dict[str, Any] = {
            units[0]: int(sizes[group]),
            units[1]: int(connected.get(group, 0)),
            "median_days": median,
            "median_low": low,
            "median_high": high,
        }
        notes = [note] if note else []
        for d in horizons:
            share, lo, hi, why = fit.at(d)
            name = f"within_{d:g}d"
            row[name], row[f"{name}_low"], row[f"{name}_high"] = share, lo, hi
            if why:
                notes.append(why)
        row["small"] = int(sizes[group]) < min_users
        row["note"] = "; ".join(dict.fromkeys(notes))
        rows.append(row)
    out = pd.DataFrame(rows, index=pd.Index(list(fits), dtype="str", name=key))
    if out.empty:
        columns = [*units, "median_days", "median_low", "median_high"]
        for d in horizons:
            columns += [f"within_{d:g}d", f"within_{d:g}d_low", f"within_{d:g}d_high"]
        out = pd.DataFrame(columns=[*columns, "small", "note"], index=out.index)
    floats = [c for c in out.columns if c not in (*units, "small", "note")]
    out[floats] = out[floats].astype("Float64")
    out[list(units)] = out[list(units)].astype("int64")
    out["small"] = out["small"].astype(bool)
    out["note"] = out["note"].astype("str")
    return out


def time_to_connect_curves(
    users: pd.DataFrame | Dataset,
    accounts: pd.DataFrame | str,
    key: str | None = None,
    *,
    as_of: datetime | str | None = None,
    min_users: int = MIN_USERS,
    pool_small: bool = False,
) -> pd.DataFrame:
    """The Kaplan–Meier curves of :func:`time_to_connect`: share connected by each wait.

    One row per cohort and event time (plus day 0): ``days``, ``connected_share`` with
    its pointwise interval ``connected_low``/``connected_high``, and ``at_risk`` (users
    still waiting just before). The last row of a cohort is the longest wait observed.
    """
    ds, key = keyed(users, accounts, key, by="time_to_connect_curves")
    fits, _, _ = _fits(ds, key, as_of, min_users, pool_small)
    if not fits:
        return pd.DataFrame(
            columns=[key, "days", "connected_share", "connected_low", "connected_high", "at_risk"]
        )
    # Each curve as arrays, joined once (a million users: half a million rows), the cohort
    # as Arrow text from its code.
    columns: dict[str, list[np.ndarray[Any, Any]]] = {
        "days": [], "connected_share": [], "connected_low": [], "connected_high": [],
        "at_risk": [],
    }  # fmt: skip
    lengths = []
    for fit in fits.values():
        columns["days"].append(np.concatenate([[0.0], fit.times, [fit.followed]]))
        for name, values in (
            ("connected_share", fit.share),
            ("connected_low", fit.low),
            ("connected_high", fit.high),
        ):
            columns[name].append(
                np.concatenate([[0.0], values, values[-1:] if len(values) else [0.0]])
            )
        columns["at_risk"].append(np.concatenate([[np.nan], fit.at_risk, [np.nan]]))
        lengths.append(len(fit.times) + 2)
    codes = pa.array(np.repeat(np.arange(len(fits), dtype="int32"), lengths))
    cohort = pa.DictionaryArray.from_arrays(codes, pa.array(list(fits), pa.string()))
    # (one array per column, not stacked into one block: a copy of half a million rows)
    out = pd.DataFrame({name: np.concatenate(parts) for name, parts in columns.items()}, copy=False)
    out.insert(0, key, cohort.cast(pa.string()).to_pandas())
    return out


def plot_time_to_connect(
    curves: pd.DataFrame, *, bands: bool = True, title: str | None = None
) -> Any:
    """Step curves of the share connected by time since sign-up, one per cohort.

    ``curves`` is a :func:`time_to_connect_curves`. The time axis is logarithmic (an
    hour, a day, a week and a month all readable); ``bands`` shades each curve's 95%
    pointwise interval. Hovering gives the wait, the share connected with its interval
    and the users still waiting. Returns an Altair chart; empty ``curves`` give a chart
    that says so.

    Examples:
        >>> curves = time_to_connect_curves(users, accounts, "region")  # doctest: +SKIP
        >>> plot_time_to_connect(curves, bands=False)  # doctest: +SKIP
    """
    from argyle_nb.analysis._chart_base import empty_chart
    from argyle_nb.analysis._chart_cohorts import curves_chart

    require_columns(
        curves,
        ["days", "connected_share", "connected_low", "connected_high"],
        by="plot_time_to_connect",
        made_by="time_to_connect_curves",
    )
    if curves.empty:
        return empty_chart(
            title or "Time from sign-up to first connected account", "no users to show"
        )
    return curves_chart(curves, bands=bands, title=title)
