"""What happened to each user and each account (the outcomes every cohort analysis counts),
and the cohorts users fall into by their metadata: counted by the engine
(:mod:`argyle_nb.analysis._engine`), over frames or a dataset alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Literal

import pandas as pd

from argyle_nb._sql import Params
from argyle_nb.analysis._common import MIN_USERS, MISSING, OTHER
from argyle_nb.analysis._engine import (
    check_metric,
    cohorts,
    counts_of,
    dataset_of,
    frames_dataset,
    keyed,
    tally,
)
from argyle_nb.analysis._tables import outcomes, synced
from argyle_nb.dataset import Dataset

#: The outcomes a share can be taken of, in funnel order, and what each means for a user.
#: For accounts (``unit="accounts"``) each means the same of the account itself, but
#: ``with_account``, which every account has.
METRICS: Final[dict[str, str]] = {
    "with_account": "have at least one account",
    "ever_connected": "ever connected an account (was_connected)",
    "connected": "have an account connected now",
    "fully_synced": "have a connected account with every resource synced",
    "error": "have an account in error now",
}

#: What a share of accounts means, per metric.
ACCOUNT_METRICS: Final[dict[str, str]] = {
    "ever_connected": "ever connected (was_connected)",
    "connected": "connected now",
    "fully_synced": "connected with every resource synced",
    "error": "in error now",
}

Unit = Literal["users", "accounts"]
UNITS: Final = ("users", "accounts")


def describe(metric: str, unit: str) -> str:
    """What a share of ``unit`` with ``metric`` is, in words."""
    if unit == "users":
        return f"share of users who {METRICS[metric]}"
    return f"share of accounts {ACCOUNT_METRICS[metric]}"


def user_outcomes(
    users: pd.DataFrame | Dataset,
    accounts: pd.DataFrame | None = None,
    availability: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per user (indexed by id): what they did, as the funnel counts it.

    Columns: ``created_at``, ``accounts`` (how many), then one boolean per metric of
    :data:`METRICS` (``fully_synced`` only when the availability is known), and
    ``first_connected_at``: the ``created_at`` of the user's first account that ever
    connected (Argyle creates an account when its user connects it), missing for users
    who never connected. Accounts of users not in ``users`` are left out; a user id
    seen twice counts once (its first record). Takes frames or a dataset.

    Examples:
        >>> from argyle_nb.frames import users_frame, accounts_frame
        >>> users = users_frame([
        ...     {"id": "0994b847-cc69-4d98-bc99-c5e65e762add", "created_at": "2020-01-01"}])
        >>> user_outcomes(users, accounts_frame(b"[]"))[["accounts", "connected"]].to_dict()
        {'accounts': {'0994b847-cc69-4d98-bc99-c5e65e762add': 0}, 'connected': {'0994b847-cc69-4d98-bc99-c5e65e762add': False}}
    """  # noqa: E501
    ds = dataset_of(users, accounts, availability, by="user_outcomes")
    flags = [
        m for m in METRICS if m != "with_account" and (m != "fully_synced" or ds.has_availability)
    ]
    joined = f"{outcomes(ds)} o"
    if ds.has_availability:
        joined += f" left join {synced(ds)} s on s.user = o.id"
    values = ", ".join(
        "coalesce(s.fully_synced, 0) > 0 as fully_synced"
        if m == "fully_synced"
        else f"{m} > 0 as {m}"
        for m in flags
    )
    frame = ds.sql(
        f"select id, created_at, accounts, {values}, first_connected_at from {joined} order by id"
    ).df()
    out = pd.DataFrame(
        index=pd.Index(frame["id"].astype("str").to_numpy(), dtype="str", name="user")
    )
    out["created_at"] = _utc_times(frame["created_at"])
    out["accounts"] = frame["accounts"].to_numpy("int64")
    out["with_account"] = out["accounts"].to_numpy() > 0
    for flag in flags:
        out[flag] = frame[flag].to_numpy(bool)
    out["first_connected_at"] = _utc_times(frame["first_connected_at"])
    return out


def _utc_times(values: pd.Series[Any]) -> Any:
    """DuckDB's times as pandas' UTC times (microseconds)."""
    return pd.to_datetime(values, utc=True).dt.as_unit("us").array


def cohort_labels(
    users: pd.DataFrame | Dataset,
    key: str,
    *,
    min_users: int = MIN_USERS,
    pool_small: bool = False,
) -> pd.Series[str]:
    """The cohort of each user (indexed by user id, sorted) for one metadata key.

    Users without the key are in :data:`MISSING`. With ``pool_small``, the users of
    cohorts smaller than ``min_users`` (but :data:`MISSING`) are pooled into
    :data:`OTHER`, so that no user is dropped and no tiny cohort is shown as its own.
    Takes a users frame or a dataset.

    Examples:
        >>> from argyle_nb.frames import users_frame
        >>> users = users_frame([
        ...     {"id": "0994b847-cc69-4d98-bc99-c5e65e762add", "created_at": "2020-01-01",
        ...      "external_metadata": {"group": "A"}}])
        >>> cohort_labels(users, "group").tolist()
        ['A']
        >>> cohort_labels(users, "group", pool_small=True).tolist()
        ['(other)']
    """
    ds = users if isinstance(users, Dataset) else frames_dataset(users, None, by="cohort_labels")
    p = Params()
    with_ = cohorts(ds, key, min_users=min_users, pool_small=pool_small, p=p)
    frame = ds.sql(f"with {with_} select id, k0 from cohorts order by id", params=p.values).df()
    return pd.Series(
        frame["k0"].astype("str").to_numpy(),
        index=pd.Index(frame["id"].astype("str").to_numpy(), dtype="str", name="user"),
        dtype="str",
        name=key,
    )


def cohort_counts(
    users: pd.DataFrame | Dataset,
    accounts: pd.DataFrame | str | Sequence[str],
    keys: str | Sequence[str] | None = None,
    *,
    metric: str = "connected",
    unit: Unit = "users",
    availability: pd.DataFrame | None = None,
    min_users: int = MIN_USERS,
    pool_small: bool = False,
) -> pd.DataFrame:
    """Per cohort (of one key, or of the pairs of two keys): users, trials and successes.

    ``trials`` are the cohort's users (``unit="users"``) or accounts
    (``unit="accounts"``); ``successes`` those of them with the ``metric`` (one of
    :data:`METRICS`). ``small`` flags cohorts of fewer than ``min_users`` users. Every
    user is in exactly one cohort, so the users add up to all users. Takes
    ``(users, accounts, keys)`` or ``(dataset, keys)``.

    Examples:
        >>> from argyle_nb.frames import users_frame, accounts_frame
        >>> users = users_frame([
        ...     {"id": "0994b847-cc69-4d98-bc99-c5e65e762add", "created_at": "2020-01-01",
        ...      "external_metadata": {"group": "A"}}])
        >>> cohort_counts(users, accounts_frame(b"[]"), "group").loc["A"].to_dict()
        {'users': 1, 'trials': 1, 'successes': 0, 'small': True}
    """
    if isinstance(users, Dataset):
        if keys is not None or isinstance(accounts, pd.DataFrame):
            from argyle_nb.errors import ArgyleTypeError

            raise ArgyleTypeError("cohort_counts takes (dataset, keys) or (users, accounts, keys)")
        ds, names = dataset_of(users, availability=availability, by="cohort_counts"), accounts
    else:
        frames = accounts if isinstance(accounts, pd.DataFrame) else None
        ds, _ = keyed(users, frames, "", availability, by="cohort_counts")
        names = keys if keys is not None else ""
    check_metric(metric, unit, ds)
    table = tally(
        ds,
        names,
        min_users=min_users,
        pool_small=pool_small,
        with_synced=metric == "fully_synced",
    )
    return counts_of(table, metric, unit)


def cohort_order(users_per_cohort: pd.Series[Any]) -> list[str]:
    """Cohorts by users (most first), then name; :data:`OTHER` and :data:`MISSING` last."""
    sizes = dict(zip(users_per_cohort.index, users_per_cohort.tolist(), strict=True))
    return sorted(sizes, key=lambda g: (g == MISSING, g == OTHER, -sizes[g], str(g)))
