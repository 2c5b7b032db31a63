"""The one engine that counts: DuckDB, over frames (registered in place) or a dataset.

Every analysis turns what it was given into a :class:`~argyle_nb.dataset.Dataset`
(:func:`dataset_of`: a dataset as is, frames through
:meth:`~argyle_nb.dataset.Dataset.from_frames`), counts there, and finishes the counts
with the statistics of :mod:`argyle_nb.analysis.stats`. What every user did is counted
once per dataset (``argyle_nb.analysis._tables``: a temporary table of its DuckDB cursor,
or the fact its export stored), so many analyses of one dataset (an explorer) pay for it
once.

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
from argyle_nb.analysis._labels import label_of, picked
from argyle_nb.analysis._tables import (
    _ONCE,
    _ask_first,
    _outcomes_sql,
    codes,
    first_users,
    key_sizes,
    labels,
    once,
    outcomes,
    synced,
)
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
    if accounts is None:
        raise ArgyleTypeError(f"{by} needs the accounts frame beside the users frame")
    return frames_dataset(data, accounts, availability, by=by)


def frames_dataset(
    users: pd.DataFrame | None,
    accounts: pd.DataFrame | None,
    availability: pd.DataFrame | None = None,
    *,
    by: str,
) -> Dataset:
    """The frames an analysis named ``by`` was given, as a dataset counted once
    (:func:`once`)."""
    return once(Dataset.from_frames(users, accounts, availability, by=by))


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
        raise ArgyleTypeError(
            f"{by} takes an accounts frame or a Dataset, not {type(data).__name__}"
        )
    return frames_dataset(None, data, by=by)


def check_min_users(min_users: int) -> None:
    if isinstance(min_users, bool) or not isinstance(min_users, int) or min_users < 1:
        raise ArgyleValueError(f"min_users must be a positive whole number, not {min_users!r}")


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
    with_synced: bool = False,
    with_outcomes: bool = True,
    materialized: bool = False,
    p: Params,
) -> str:
    """SQL ``with`` part ``cohorts`` (``materialized``: computed once however often the
    query reads it): every user's outcomes (:func:`outcomes`, and
    ``fully_synced`` from :func:`synced` with ``with_synced``) and their cohort of each
    key (``k0``, ``k1``); users without a key in :data:`MISSING`; with ``pool_small``,
    the users of cohorts under ``min_users`` users (but MISSING) in :data:`OTHER`.
    Without ``with_outcomes``: each user's row (``_seen``) and cohorts alone (no outcome
    columns)."""
    names = [keys] if isinstance(keys, str) else list(keys)
    if not 1 <= len(names) <= 2:
        raise ArgyleValueError(f"one or two metadata keys, not {len(names)}")
    check_min_users(min_users)
    _ask_first(ds, names)
    ks = [f"k{i}" for i in range(len(names))]
    if _ONCE in ds.scratch:
        raw = _cohorts_once(ds, names, with_synced=with_synced, with_outcomes=with_outcomes, p=p)
    else:
        tables = [labels(ds, key) for key in names]
        selects = ", ".join(f"l{i}.label as k{i}" for i in range(len(names)))
        # (labels and outcomes are joined on the user's row, a number: not on the id)
        joins = "".join(
            f" join {t} l{i} on l{i}._seen = l0._seen" for i, t in enumerate(tables) if i
        )
        extra = ""
        if with_synced:
            extra = ", coalesce(s.fully_synced, 0) as fully_synced"
            joins += f" left join {synced(ds)} s on s.user = o.id"
        if with_outcomes or with_synced:
            joins = f" join {outcomes(ds)} o on o._seen = l0._seen{joins}"
        kept = "o.*" if with_outcomes else "l0._seen"
        raw = f"select {kept}{extra}, {selects} from {tables[0]} l0{joins}"
    kind = "materialized " if materialized else ""
    if not pool_small:
        return f"cohorts as {kind}({raw})"
    pooled = ", ".join(
        f"case when {k} != {p(MISSING)} and count(*) over (partition by {k})"
        f" < {p(int(min_users))} then {p(OTHER)} else {k} end as {k}"
        for k in ks
    )
    return (
        f"raw_cohorts as ({raw}), cohorts as {kind}(select * exclude ({', '.join(ks)}), {pooled}"
        " from raw_cohorts)"
    )


def _cohorts_once(
    ds: Dataset, names: list[str], *, with_synced: bool, with_outcomes: bool, p: Params
) -> str:
    """SQL: the rows of :func:`cohorts` (before pooling) on a dataset counted once: each
    key labelled where the users' outcomes are read (no table of labels to join)."""
    source = (
        f"({_outcomes_sql(ds, ', u.external_metadata')})"
        if with_outcomes
        else f"(select _seen, external_metadata from {first_users(ds)})"
    )
    for i, key in enumerate(names):
        ask = Params()
        label = label_of(
            ds, key, f"(select {picked(key, ask)} from {first_users(ds)})", ask.values, p
        )
        source = (
            f"(select * exclude (_v, _t), {label} as k{i}"
            f" from (select *, {picked(key, p)} from {source}))"
        )
    if not with_synced:
        return f"select * exclude (external_metadata) from {source}"
    return (
        "select o.* exclude (external_metadata), coalesce(s.fully_synced, 0) as fully_synced"
        f" from {source} o left join {synced(ds)} s on s.user = o.id"
    )


def tally(
    ds: Dataset,
    keys: str | Sequence[str],
    *,
    min_users: int = MIN_USERS,
    pool_small: bool = False,
    with_synced: bool = False,
    with_codes: bool = False,
) -> pd.DataFrame:
    """Per cohort of one key (or pair of cohorts of two): ``users``, and per metric of
    :data:`~argyle_nb.analysis.METRICS` the users with it (``users_<metric>``) and the
    accounts with it (``accounts_<metric>``; ``accounts_with_account`` is every account),
    then ``small``. ``fully_synced`` only ``with_synced``; ``with_codes`` (one key): the
    cohort's ``top_error_code`` too, its most frequent ``connection_error_code`` (ties by
    name; missing for none), counted in the same query. Indexed by the cohorts (named by
    the keys), in no order. Kept in the dataset's scratch: the analyses of one key (its
    groups, their comparison, an explorer's choices) count it once."""
    names = [keys] if isinstance(keys, str) else list(keys)
    if with_codes and len(names) != 1:
        raise ArgyleValueError("the top error codes are of the cohorts of one key")
    kept = f"tally of {names!r}, {min_users!r}, {pool_small!r}, {with_synced!r}"
    # a tally with the top codes serves one without them
    found: pd.DataFrame | None = ds.scratch.get(f"{kept}, codes")
    if found is None and not with_codes:
        found = ds.scratch.get(kept)
    if found is not None:
        return found.copy() if with_codes else found.drop(columns="top_error_code", errors="ignore")
    p = Params()
    with_ = cohorts(
        ds,
        names,
        min_users=min_users,
        pool_small=pool_small,
        with_synced=with_synced,
        materialized=with_codes,  # read twice: per code too
        p=p,
    )
    groups = ", ".join(f"k{i}" for i in range(len(names)))
    counts = ", ".join(
        f"count(*) filter (where {column} > 0) as users_{metric},"
        f" sum({column}) as accounts_{metric}"
        for metric, column in _METRIC_COLUMNS.items()
        if with_synced or metric != "fully_synced"
    )
    query = f"select {groups}, count(*) as users, {counts} from cohorts group by {groups}"
    if with_codes:
        with_ += (
            f", counted as ({query}), coded as (select c.k0, e.code, sum(e.n) as n"
            f" from cohorts c join {codes(ds)} e on e._seen = c._seen group by all),"
            " top as (select k0, first(code order by n desc, code) as top_error_code"
            " from coded group by k0)"
        )
        query = "select counted.*, top.top_error_code from counted left join top using (k0)"
    frame = ds.sql(f"with {with_} {query}", params=p.values).df()
    if len(names) == 1:
        index: pd.Index[Any] = pd.Index(frame["k0"].astype("str").to_numpy(), dtype="str")
        index.name = names[0]
    else:
        index = pd.MultiIndex.from_arrays(
            [pd.Index(frame[f"k{i}"].astype("str").to_numpy(), dtype="str") for i in range(2)],
            names=names,
        )
    numbers = [c for c in frame.columns if c not in ("k0", "k1", "top_error_code")]
    out = pd.DataFrame(
        {c: frame[c].fillna(0).to_numpy("int64") for c in numbers},
        index=index,
    )
    for level, name in enumerate(names):
        require_key(ds, out.index.get_level_values(level), name)
    out["small"] = (out["users"] < min_users).to_numpy()
    if with_codes:
        out["top_error_code"] = pd.array(frame["top_error_code"].to_numpy(object), dtype="str")
        kept = f"{kept}, codes"
    ds.scratch[kept] = out
    return out.copy()


def require_key(ds: Dataset, found: Any, key: str) -> None:
    """Refuse a key no user has (no label but :data:`MISSING` ``found``, and not among
    the keys of the users: a typo, most likely), naming the keys there are."""
    if any(label != MISSING for label in found):
        return
    known = {k for k, *_ in key_sizes(ds)} | set(ds.meta_keys)
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
