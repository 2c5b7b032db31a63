"""The funnel of a cohort: users, with an account, ever connected, connected now, synced."""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pandas as pd

from argyle_nb.analysis._common import MIN_USERS
from argyle_nb.analysis._outcomes import Prepared, cohort_order
from argyle_nb.analysis._stats import add_share
from argyle_nb.frames import require_columns

#: The funnel's steps: (name, outcome of :func:`user_outcomes`); each needs the one before.
FUNNEL_STEPS: Final = (
    ("users", None),
    ("with an account", "with_account"),
    ("ever connected", "ever_connected"),
    ("connected now", "connected"),
    ("fully synced", "fully_synced"),
)


def cohort_funnel(
    users: pd.DataFrame,
    accounts: pd.DataFrame,
    availability: pd.DataFrame,
    key: str,
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

    Example:
        >>> from argyle_nb.frames import users_frame, accounts_frame, availability_frame
        >>> users = users_frame([
        ...     {"id": "0994b847-cc69-4d98-bc99-c5e65e762add", "created_at": "2020-01-01",
        ...      "external_metadata": {"group": "A"}}])
        >>> funnel = cohort_funnel(users, accounts_frame(b"[]"), availability_frame(b"[]"), "group")
        >>> funnel.loc["A"]["users"].tolist()
        [1, 0, 0, 0, 0]
    """  # noqa: E501
    require_columns(users, ["id"], by="cohort_funnel", made_by="users_frame")
    prepared = Prepared.of(
        users, accounts, key, availability=availability, min_users=min_users, pool_small=pool_small
    )
    outcomes, labels = prepared.outcomes, prepared.by_user["k0"]
    reached = pd.Series(True, index=outcomes.index)
    per_step = {}
    for step, outcome in FUNNEL_STEPS:
        if outcome is not None:
            reached = reached & outcomes[outcome]
        per_step[step] = reached.groupby(labels.to_numpy()).sum()
    sizes = labels.value_counts()
    order = cohort_order(sizes)
    steps = [s for s, _ in FUNNEL_STEPS]
    index = pd.MultiIndex.from_product(
        [pd.Index(order, dtype="str"), pd.Index(steps, dtype="str")], names=[key, "step"]
    )
    counts = np.array(
        [[int(per_step[s].get(g, 0)) for s in steps] for g in order], dtype="int64"
    ).reshape(len(order), len(steps))
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

    Example:
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
