"""The one engine that counts: DuckDB, over frames (registered in place) or a dataset.

Every analysis turns what it was given into a :class:`~argyle_nb.dataset.Dataset`
(:func:`dataset_of`: a dataset as is, frames through
:meth:`~argyle_nb.dataset.Dataset.from_frames`), counts there, and finishes the counts
with the statistics of :mod:`argyle_nb.analysis.stats`. What every user did is counted
once per dataset (:func:`outcomes`, a temporary table of its DuckDB cursor), so many
analyses of one dataset (an explorer) pay for it once.

The semantics, written once here:

- a user id seen twice (a walk that did not hold still) counts once: its first record
  in the order the walk saw them (``_seen``);
- accounts count as listed; accounts of users not among the users are left out of the
  cohort analyses;
- ``ever_connected`` is ``was_connected`` or connected now; ``fully_synced`` is
  connected with every present resource ``synced`` (at least one);
- a user's ``first_connected_at`` is the ``created_at`` of their first account that
  ever connected.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import pandas as pd

from argyle_nb._sql import Params
from argyle_nb.analysis._common import MIN_USERS, MISSING, OTHER
from argyle_nb.analysis._labels import labelled
from argyle_nb.dataset import Dataset
from argyle_nb.errors import ArgyleKeyError, ArgyleTypeError, ArgyleValueError

#: The per-user outcomes each metric is counted from: its column of :func:`outcomes`
#: (how many of the user's accounts have it).
_METRIC_COLUMNS: Final = {
    "with_account": "accounts",
    "ever_connected": "ever_connected",
    "connected": "connected",
    "fully_synced": "fully_synced",
    "error": "error",
}


def dataset_of(
    data: pd.DataFrame | Dataset,
    accounts: pd.DataFrame | None = None,
    availability: pd.DataFrame | None = None,
    *,
    by: str,
) -> Dataset:
    """The dataset an analysis named ``by`` counts in: ``data`` itself when it is one,
    else the frames given as a dataset over them."""
    if isinstance(data, Dataset):
        if accounts is not None or availability is not None:
            raise ArgyleTypeError(
                f"{by}: a Dataset holds its accounts and availability: pass it alone"
            )
        return data
    if not isinstance(data, pd.DataFrame):
        raise ArgyleTypeError(
            f"{by} takes frames or a Dataset, not {type(data).__name__}"
        )
    if accounts is None:
        raise ArgyleTypeError(f"{by} needs the accounts frame beside the users frame")
    if not isinstance(accounts, pd.DataFrame):
        raise ArgyleTypeError(f"{by}: accounts must be a DataFrame, not {type(accounts).__name__}")
    return Dataset.from_frames(data, accounts, availability)


def keyed(
    users: pd.DataFrame | Dataset,
    accounts: pd.DataFrame | str | None,
    key: str | None,
    availability: pd.DataFrame | None = None,
    *,
    by: str,
) -> tuple[Dataset, str]:
    """The dataset and the metadata key of a cohort analysis called as ``f(users,
    accounts, key)`` on frames or ``f(ds, key)`` on a dataset."""
    if isinstance(users, Dataset):
        if key is not None or not isinstance(accounts, str):
            raise ArgyleTypeError(f"{by} takes (dataset, key) or (users, accounts, key)")
        return dataset_of(users, availability=availability, by=by), accounts
    if isinstance(accounts, str) or accounts is None:
        raise ArgyleTypeError(f"{by} takes (users, accounts, key) or (dataset, key)")
    if not isinstance(key, str):
        raise ArgyleTypeError(f"{by}: the metadata key must be text, not {key!r}")
    return dataset_of(users, accounts, availability, by=by), key


def accounts_dataset(data: pd.DataFrame | Dataset, *, by: str) -> Dataset:
    """The dataset of an analysis of accounts alone: ``data`` itself, or an accounts
    frame as a dataset (without users)."""
    if isinstance(data, Dataset):
        return data
    if not isinstance(data, pd.DataFrame):
        raise ArgyleTypeError(f"{by} takes an accounts frame or a Dataset, not {type(data).__name__}")
    return Dataset.from_frames(None, data)


def check_min_users(min_users: int) -> None:
    if isinstance(min_users, bool) or not isinstance(min_users, int) or min_users < 1:
        raise ArgyleValueError(f"min_users must be a positive whole number, not {min_users!r}")


def outcomes(ds: Dataset) -> str:
    """The name of the table of what every user of ``ds`` did, made at the first call on
    this dataset (a temporary table of its cursor): one row per user (``id``,
    ``created_at``, ``external_metadata``), how many of their accounts exist
    (``accounts``), ever connected, are connected, are fully synced and are in error, and
    ``first_connected_at``."""
    name = "_outcomes"
    if ds.sql(
        "select count(*) from duckdb_tables() where table_name = $name and temporary",
        params={"name": name},
    ).fetchall()[0][0]:
        return name
    synced = (
        "sync as (select account, bool_and(status = 'synced') as synced from availability"
        " where status is not null group by account),"
    )
    per_account = (
        "acc as (select a.user, cast(a.connection_status as varchar) = 'connected' as connected,"
        " cast(a.connection_status as varchar) = 'error' as error, coalesce(a.was_connected,"
        " false) or cast(a.connection_status as varchar) = 'connected' as ever,"
        " cast(a.connection_status as varchar) = 'connected' and coalesce(s.synced, false)"
        " as fully_synced, a.created_at from accounts a left join sync s on s.account = a.id),"
    )
    per_user = (
        "per as (select user, count(*) as accounts, count(*) filter (where ever)"
        " as ever_connected, count(*) filter (where connected) as connected,"
        " count(*) filter (where fully_synced) as fully_synced,"
        " count(*) filter (where error) as error,"
        " min(created_at) filter (where ever) as first_connected_at from acc group by user)"
    )
    ds.db.execute(
        f"create temp table {name} as with {first_users(ds)}, {synced} {per_account}"
        f" {per_user} select u.id, u.created_at, u.external_metadata,"
        " coalesce(p.accounts, 0) as accounts, coalesce(p.ever_connected, 0) as ever_connected,"
        " coalesce(p.connected, 0) as connected, coalesce(p.fully_synced, 0) as fully_synced,"
        " coalesce(p.error, 0) as error, p.first_connected_at"
        " from first u left join per p on p.user = u.id"
    )
    return name


def first_users(ds: Dataset) -> str:
    """SQL ``with`` part ``first``: each user once, the first record the walk saw. An
    export's users are unique unless a walk never held still: only then is the costly
    ordering done."""
    rows, users = ds.sql("select count(*), count(distinct id) from users").fetchall()[0]
    if rows == users:
        return "first as (select id, created_at, external_metadata from users)"
    return (
        "first as (select id, created_at, external_metadata from users"
        " qualify row_number() over (partition by id order by _seen) = 1)"
    )


def check_metric(metric: str, unit: str, ds: Dataset) -> None:
    from argyle_nb.analysis._outcomes import METRICS, UNITS

    if unit not in UNITS:
        raise ArgyleValueError(f"unit must be 'users' or 'accounts', not {unit!r}")
    if metric not in METRICS:
        raise ArgyleValueError(f"unknown metric {metric!r}: choose one of {', '.join(METRICS)}")
    if metric == "with_account" and unit == "accounts":
        raise ArgyleValueError("every account is 'with_account': use unit='users' for that metric")
    if metric == "fully_synced" and not ds.has_availability:
        raise ArgyleValueError(
            "metric 'fully_synced' needs the availability frame (availability=...)"
        )


def cohorts(
    ds: Dataset,
    keys: str | Sequence[str],
    *,
    min_users: int = MIN_USERS,
    pool_small: bool = False,
    p: Params,
) -> str:
    """SQL ``with`` parts ending in ``cohorts``: every user's outcomes (:func:`outcomes`)
    and their cohort of each key (``k0``, ``k1``); users without a key in
    :data:`MISSING`; with ``pool_small``, the users of cohorts under ``min_users`` users
    (but MISSING) in :data:`OTHER`."""
    names = [keys] if isinstance(keys, str) else list(keys)
    if not 1 <= len(names) <= 2:
        raise ArgyleValueError(f"one or two metadata keys, not {len(names)}")
    check_min_users(min_users)
    table = outcomes(ds)
    parts = []
    for i, key in enumerate(names):
        parts.append(labelled(ds, key, table, p=p, name=f"l{i}"))
    selects = ", ".join(f"l{i}.label as k{i}" for i in range(len(names)))
    joins = "".join(f" join l{i} using (id)" for i in range(1, len(names)))
    out = ", ".join(parts) + f", raw_cohorts as (select o.*, {selects} from {table} o"
    out += " join l0 using (id)" + joins + ")"
    if not pool_small:
        return out + ", cohorts as (select * from raw_cohorts)"
    pooled = ", ".join(
        f"case when k{i} != {p(MISSING)} and count(*) over (partition by k{i})"
        f" < {p(int(min_users))} then {p(OTHER)} else k{i} end as k{i}"
        for i in range(len(names))
    )
    return out + (
        f", cohorts as (select * exclude ({', '.join(f'k{i}' for i in range(len(names)))}),"
        f" {pooled} from raw_cohorts)"
    )


def tally(
    ds: Dataset,
    keys: str | Sequence[str],
    *,
    min_users: int = MIN_USERS,
    pool_small: bool = False,
) -> pd.DataFrame:
    """Per cohort of one key (or pair of cohorts of two): ``users``, and per metric of
    :data:`~argyle_nb.analysis.METRICS` the users with it (``users_<metric>``) and the
    accounts with it (``accounts_<metric>``; ``accounts_with_account`` is every account),
    then ``small``. Indexed by the cohorts (named by the keys), in no order."""
    names = [keys] if isinstance(keys, str) else list(keys)
    p = Params()
    with_ = cohorts(ds, names, min_users=min_users, pool_small=pool_small, p=p)
    groups = ", ".join(f"k{i}" for i in range(len(names)))
    counts = ", ".join(
        f"count(*) filter (where {column} > 0) as users_{metric},"
        f" sum({column}) as accounts_{metric}"
        for metric, column in _METRIC_COLUMNS.items()
    )
    frame = ds.sql(
        f"with {with_} select {groups}, count(*) as users, {counts} from cohorts"
        f" group by {groups}",
        params=p.values,
    ).df()
    if len(names) == 1:
        index: pd.Index[Any] = pd.Index(frame["k0"].astype("str").to_numpy(), dtype="str")
        index.name = names[0]
    else:
        index = pd.MultiIndex.from_arrays(
            [pd.Index(frame[f"k{i}"].astype("str").to_numpy(), dtype="str") for i in range(2)],
            names=names,
        )
    out = pd.DataFrame(
        {c: frame[c].fillna(0).to_numpy("int64") for c in frame.columns if c[:2] != "k0"
         and c[:2] != "k1"},
        index=index,
    )
    for level, name in enumerate(names):
        require_key(ds, out.index.get_level_values(level), name)
    out["small"] = (out["users"] < min_users).to_numpy()
    return out


def require_key(ds: Dataset, labels: Any, key: str) -> None:
    """Refuse a key no user has (no label but :data:`MISSING`, and not among the keys
    of the users: a typo, most likely), naming the keys there are."""
    if any(label != MISSING for label in labels):
        return
    from argyle_nb.analysis._labels import key_sizes

    known = {k for k, *_ in key_sizes(ds, "users")} | set(ds.meta_keys)
    bare = key if key == "meta" or not key.startswith("meta.") else key.removeprefix("meta.")
    if bare not in known:
        listed = ", ".join(sorted(known)) or "none"
        raise ArgyleKeyError(f"no metadata key {key!r} among the users (keys: {listed})")


def counts_of(table: pd.DataFrame, metric: str, unit: str) -> pd.DataFrame:
    """``users``, ``trials``, ``successes`` and ``small`` per cohort of a :func:`tally`,
    for one metric and unit."""
    if unit == "users":
        trials, successes = table["users"], table[f"users_{metric}"]
    else:
        trials, successes = table["accounts_with_account"], table[f"accounts_{metric}"]
    return pd.DataFrame(
        {
            "users": table["users"].to_numpy("int64"),
            "trials": trials.to_numpy("int64"),
            "successes": successes.to_numpy("int64"),
            "small": table["small"].to_numpy(bool),
        },
        index=table.index,
    )
