"""The funnel of a cohort: users, with an account, ever connected, connected now, synced."""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pandas as pd

from argyle_nb._sql import Params
from argyle_nb.analysis._common import MIN_USERS
from argyle_nb.analysis._engine import check_metric, cohorts, frames_dataset, require_key
from argyle_nb.analysis._outcomes import cohort_order
from argyle_nb.analysis.stats import add_share
from argyle_nb.dataset import Dataset
from argyle_nb.errors import ArgyleTypeError
from argyle_nb.frames import require_columns

#: The funnel's steps: (name, outcome of :func:`user_outcomes`); each needs the one before.
FUNNEL_STEPS: Final = (
    ("users", None),
    ("with an account", "with_account"),
    ("ever connected", "ever_connected"),
    ("connected now", "connected"),
    ("fully synced", "fully_synced"),
)

#: The column of the engine's outcomes each step counts.
_COLUMN: Final = {
    "with_account": "accounts",
    "ever_connected": "ever_connected",
    "connected": "connected",
    "fully_synced": "fully_synced",
}


def cohort_funnel(
    users: pd.DataFrame | Dataset,
    accounts: pd.DataFrame | str,
    availability: pd.DataFrame | None = None,
    key: str | None = None,
    *,
    min_users: int = MIN_USERS,
    pool_small: bool = False,
) -> pd.DataFrame:
    """Per cohort, how many users reach each step of :data:`FUNNEL_STEPS`.

    A user reaches a step when they reach every step before it: an account; an account
    that ever connected (``was_connected``); an account connected now; a connected
    account whose every present resource is ``synced`` (from ``availability``). Rows
    are (cohort, step); columns ``users`` (who reached it), ``of_cohort`` (share of the
    cohort's users, with ``of_cohort_low``/``of_cohort_high``), ``conversion`` (share of the previous step's users) with its Wilson
    interval ``conversion_low``/``conversion_high``, ``small``, and a ``note`` saying why
    a conversion is missing (the first step has no previous step; no user reached the
    previous one).

    Examples:
        >>> from argyle_nb.frames import users_frame, accounts_frame, availability_frame
        >>> users = users_frame([
        ...     {"id": "0994b847-cc69-4d98-bc99-c5e65e762add", "created_at": "2020-01-01",
        ...      "external_metadata": {"group": "A"}}])
        >>> funnel = cohort_funnel(users, accounts_frame(b"[]"), availability_frame(b"[]"), "group")
        >>> funnel.loc["A"]["users"].tolist()
        [1, 0, 0, 0, 0]
    """  # noqa: E501
    if isinstance(users, Dataset):
        if not isinstance(accounts, str) or availability is not None or key is not None:
            raise ArgyleTypeError("cohort_funnel takes (dataset, key)")
        ds, key = users, accounts
    else:
        if not isinstance(accounts, pd.DataFrame) or availability is None or key is None:
            raise ArgyleTypeError("cohort_funnel takes (users, accounts, availability, key)")
        # (of the windows, the funnel reads which account and status: nothing else is
        # converted for DuckDB)
        windows = availability[[c for c in availability.columns if c in _WINDOW_COLUMNS]]
        ds = frames_dataset(users, accounts, windows, by="cohort_funnel")
    check_metric("fully_synced", "users", ds)
    # A user reaches a step when they reach every step before it.
    p = Params()
    with_ = cohorts(ds, key, min_users=min_users, pool_small=pool_small, with_synced=True, p=p)
    reached, conditions = [], []
    for _, outcome in FUNNEL_STEPS:
        if outcome is not None:
            conditions.append(f"{_COLUMN[outcome]} > 0")
        where = " and ".join(conditions) or "true"
        reached.append(f"count(*) filter (where {where})")
    frame = ds.sql(
        f"with {with_} select k0, {', '.join(reached)} from cohorts group by k0", params=p.values
    ).fetchall()
    per_group = {str(row[0]): [int(n) for n in row[1:]] for row in frame}
    require_key(ds, list(per_group), key)
    sizes = pd.Series({g: counts[0] for g, counts in per_group.items()}, dtype="int64")
    order = cohort_order(sizes)
    steps = [s for s, _ in FUNNEL_STEPS]
    index = pd.MultiIndex.from_product(
        [pd.Index(order, dtype="str"), pd.Index(steps, dtype="str")], names=[key, "step"]
    )
    counts = np.array([per_group[g] for g in order], dtype="int64").reshape(len(order), len(steps))
    previous = np.concatenate([np.zeros((len(order), 1), "int64"), counts[:, :-1]], axis=1)
    cohort = np.repeat(counts[:, :1], len(steps), axis=1)
    out = pd.DataFrame(
        {"users": counts.ravel(), "previous": previous.ravel(), "cohort": cohort.ravel()},
        index=index,
    )
    add_share(out, "of_cohort", "users", "cohort")
    add_share(out, "conversion", "users", "previous")
    out = out.rename(columns={"of_cohort_share": "of_cohort", "conversion_share": "conversion"})
    out["small"] = (out["cohort"] < min_users).to_numpy()
    first = np.tile(np.arange(len(steps)) == 0, len(order))
    notes = np.where(
        first,
        "the first step: no previous step",
        np.where(out["previous"].to_numpy() == 0, "no user reached the previous step", ""),
    )
    out["note"] = pd.array(notes, dtype="str")
    return out[list(_COLUMNS)]


#: The columns of the availability frame the funnel reads (the others are not converted).
_WINDOW_COLUMNS: Final = frozenset({"account", "resource", "status"})

_COLUMNS: Final = (
    "users",
    "of_cohort",
    "of_cohort_low",
    "of_cohort_high",
    "conversion",
    "conversion_low",
    "conversion_high",
    "small",
    "note",
)


def plot_cohort_funnel(funnel: pd.DataFrame, *, title: str | None = None) -> Any:
    """Lines of the share of each cohort's users reaching each step, with 95% intervals.

    ``funnel`` is a :func:`cohort_funnel`: one line per cohort (the palette's cohort
    colours, largest cohort first), the steps across. Hovering a point gives the users
    who reached the step, the share of the cohort with its interval and the conversion
    from the previous step. Returns an Altair chart; an empty ``funnel`` gives a chart
    that says so.

    Examples:
        >>> funnel = cohort_funnel(users, accounts, availability, "region")  # doctest: +SKIP
        >>> plot_cohort_funnel(funnel)  # doctest: +SKIP
    """
    from argyle_nb.analysis._chart_base import empty_chart
    from argyle_nb.analysis._chart_cohorts import funnel_chart

    require_columns(
        funnel,
        ["users", "of_cohort", "of_cohort_low", "of_cohort_high"],
        by="plot_cohort_funnel",
        made_by="cohort_funnel",
    )
    if funnel.empty:
        return empty_chart(
            title or "Funnel: share of each cohort's users reaching each step", "no users to show"
        )
    return funnel_chart(funnel, title=title)
