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
from argyle_nb.analysis._labels import (
    json_type_of,
    keep_kinds,
    key_sizes_sql,
    kinds_known,
    label_of,
    picked,
)
from argyle_nb.dataset import Dataset
from argyle_nb.errors import ArgyleKeyError, ArgyleTypeError, ArgyleValueError
from argyle_nb.frames import MAX_META_COLUMNS

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


#: The mark of a dataset counted once (:func:`once`).
_ONCE: Final = "counted once"


def once(ds: Dataset) -> Dataset:
    """Mark ``ds`` as counted once: the dataset an analysis made of the frames it was
    given, which goes when the analysis returns. Its per-user tables (:func:`outcomes`,
    :func:`labels`...) are then views, computed where a query reads them, rather than
    temporary tables computed and copied ahead for the next analysis."""
    ds.scratch[_ONCE] = True
    return ds


def _kept(ds: Dataset, name: str, query: str, params: dict[str, Any] | None = None) -> str:
    """The table ``name`` of ``query``'s rows, made at the first call on this dataset (a
    temporary table of its cursor; a view on a dataset counted once), or the fact the
    export stored under that name (:func:`facts`): the name to read."""
    found: str | None = ds.scratch.get(name)
    if found is None:
        found = ds.stored(name)  # derived when the dataset was exported
        if found is not None:
            pass
        elif _ONCE in ds.scratch:
            found = ds.view(query, params)
        else:
            ds.db.execute(f"create temp table {name} as {query}", parameters=params or None)
            found = name
        ds.scratch[name] = found
    return found


def outcomes(ds: Dataset) -> str:
    """The name of the table of what every user of ``ds`` did, made at the first call on
    this dataset (a temporary table of its cursor): one row per user (``id``, ``_seen``,
    ``created_at``), how many of their accounts exist
    (``accounts``), ever connected, are connected and are in error, and
    ``first_connected_at``. (Fully synced accounts: :func:`synced`.)"""
    if "_outcomes" in ds.scratch:
        return str(ds.scratch["_outcomes"])
    return _kept(ds, "_outcomes", _outcomes_sql(ds))


def _outcomes_sql(ds: Dataset, also: str = "") -> str:
    """SQL: the rows of :func:`outcomes`, with the users' columns ``also`` (``,
    u.external_metadata``) after them."""
    status = "cast(connection_status as varchar)"
    per_user = (
        f"per as (select user, count(*) as accounts, count(*) filter (where {status} ="
        f" 'connected' or coalesce(was_connected, false)) as ever_connected,"
        f" count(*) filter (where {status} = 'connected') as connected,"
        f" count(*) filter (where {status} = 'error') as error,"
        f" min(created_at) filter (where {status} = 'connected' or coalesce(was_connected,"
        " false)) as first_connected_at from accounts group by user)"
    )
    return (
        f"with first as (select * from {first_users(ds)}), {per_user}"
        " select u.id, u._seen, u.created_at,"
        " coalesce(p.accounts, 0) as accounts, coalesce(p.ever_connected, 0) as ever_connected,"
        " coalesce(p.connected, 0) as connected, coalesce(p.error, 0) as error,"
        f" p.first_connected_at{also} from first u left join per p on p.user = u.id"
    )


def synced(ds: Dataset) -> str:
    """The name of the table of each user's fully synced accounts (``user``,
    ``fully_synced``: connected, with every present resource ``synced``, at least one),
    made at the first call on this dataset; users without any are not in it."""
    return _kept(ds, "_synced", _SYNCED)


#: SQL: the rows of :func:`synced`.
_SYNCED: Final = (
    "with sync as (select account from availability"
    " where status is not null group by account"
    " having bool_and(cast(status as varchar) = 'synced'))"
    " select a.user, count(*) as fully_synced from accounts a semi join sync s"
    " on s.account = a.id where cast(a.connection_status as varchar) = 'connected'"
    " group by a.user"
)


def labels(ds: Dataset, key: str) -> str:
    """The name of the table of every user's cohort ``label`` of ``key`` (``_seen``, the
    user's row, and ``label``), made at the first call for this key on this dataset."""
    import hashlib

    name = "_label_" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    if name in ds.scratch:
        return str(ds.scratch[name])
    stored = ds.stored(name)  # a cohort key's labels, stored by the export (facts)
    if stored is not None:
        ds.scratch[name] = stored
        return stored
    # Each user's value of the key, then its label: the metadata is read once for the
    # table (a dataset counted once reads it where it is read).
    ask = Params()
    values = f"select _seen, {picked(key, ask)} from {first_users(ds)}"
    if _ONCE in ds.scratch:
        source = ds.view(values, ask.values)
    else:
        source = "_picked"
        ds.db.execute(f"create or replace temp table {source} as {values}", parameters=ask.values)
    p = Params()
    label = label_of(ds, key, source, {}, p)
    found = _kept(ds, name, f"select _seen, {label} as label from {source}", p.values)
    if source == "_picked":
        ds.db.execute("drop table _picked")
    return found


def codes(ds: Dataset) -> str:
    """The name of the table of each user's accounts per error code (``_seen``, the
    user's row, ``code`` and ``n``; accounts of users not listed left out), made at the
    first call on this dataset."""
    return _kept(ds, "_codes", _codes_sql(ds))


def _codes_sql(ds: Dataset) -> str:
    """SQL: the rows of :func:`codes`."""
    return (
        "select u._seen, cast(a.connection_error_code as varchar) as code, count(*) as n"
        f" from accounts a join {first_users(ds)} u on u.id = a.user"
        " where a.connection_error_code is not null group by all"
    )


def key_sizes(ds: Dataset) -> list[tuple[str, int, int, int, float]]:
    """Per metadata key of the users (each once, :func:`first_users`): the key, users
    carrying it (missing values included), users with a value, distinct values, and the
    median users per value (see :func:`~argyle_nb.analysis._labels.key_sizes_sql`); at
    most :data:`~argyle_nb.frames.MAX_META_COLUMNS` keys, those most users carry (then
    by name). Made at the first call on this dataset."""
    query, params = key_sizes_sql(first_users(ds))
    named = ds.sql(f"select * from {_kept(ds, '_key_sizes', query, params)}").fetchall()
    chosen = sorted(named, key=lambda row: (-row[1], row[0]))[:MAX_META_COLUMNS]
    return [(str(k), int(c), int(pr), int(v), float(m)) for k, c, pr, v, m in chosen]


def _latest_sql(ds: Dataset) -> str:
    """SQL: the latest timestamp in the data (users' and accounts' ``created_at``,
    accounts' ``updated_at``), one row (``latest``, null for none)."""
    have = set(ds.columns("accounts"))
    moments = ["(select max(created_at) from users)"]
    moments += [
        f"(select max({c}) from accounts)" for c in ("created_at", "updated_at") if c in have
    ]
    return f"select greatest({', '.join(moments)}) as latest"


def latest_time(ds: Dataset) -> Any:
    """The latest timestamp in the data (see :func:`_latest_sql`), ``None`` for none."""
    return ds.sql(f"select * from {_kept(ds, '_latest', _latest_sql(ds))}").fetchall()[0][0]


#: The most values of a key whose labels an export stores (a key of more is an id, not a
#: cohort: its labels are computed when an analysis asks for them).
STORED_LABELS_VALUES: Final = 1_000


def facts(ds: Dataset) -> dict[str, Any]:
    """The tables the analyses of ``ds`` start from, as DuckDB relations by name: whether
    no user is listed twice, what every user did (:func:`outcomes`), their fully synced
    accounts (:func:`synced`) and error codes (:func:`codes`), the metadata keys' sizes
    (:func:`key_sizes`), the latest time in the data (:func:`latest_time`), and the
    labels (:func:`labels`) of every key of at most :data:`STORED_LABELS_VALUES` values.

    ``client.export`` stores them with each version it writes (see
    :class:`~argyle_nb.dataset.Fact`), and the analyses of that version read them instead
    of computing them again: about a second for a million users.

    Examples:
        >>> from argyle_nb.frames import users_frame, accounts_frame
        >>> users = users_frame([{"id": "0994b847-cc69-4d98-bc99-c5e65e762add",
        ...     "created_at": "2020-01-01", "external_metadata": {"group": "A"}}])
        >>> ds = Dataset.from_frames(users, accounts_frame(b"[]"))
        >>> found = facts(ds)
        >>> found["_outcomes"].df()[["id", "accounts", "connected"]].to_dict("records")
        [{'id': '0994b847-cc69-4d98-bc99-c5e65e762add', 'accounts': 0, 'connected': 0}]
        >>> sorted(name for name in found if not name.startswith("_label_"))
        ['_codes', '_key_sizes', '_latest', '_outcomes', '_synced', '_unique_users']
    """
    query, params = key_sizes_sql(first_users(ds))
    found = {
        "_unique_users": ds.sql(_UNIQUE),
        "_outcomes": ds.sql(_outcomes_sql(ds)),
        "_synced": ds.sql(_SYNCED),
        "_codes": ds.sql(_codes_sql(ds)),
        "_key_sizes": ds.sql(query, params=params),
        "_latest": ds.sql(_latest_sql(ds)),
    }
    for key, _, _, values, _ in key_sizes(ds):
        if values <= STORED_LABELS_VALUES:
            table = labels(ds, key)
            found[table] = ds.sql(f"select * from {table}")
    return found


def _ask_first(ds: Dataset, keys: Sequence[str]) -> None:
    """What labelling ``keys`` asks first, in one scan of the users: whether no user is
    listed twice (:func:`first_users`) and which JSON types each key holds (the users
    each once: when one is listed twice, the types are asked again of the first records).
    Nothing is asked when whether users are unique is known (a dataset's later calls, an
    export's stored fact)."""
    todo = [key for key in keys if not kinds_known(ds, key)]
    if "unique users" in ds.scratch or not todo or ds.stored("_unique_users") is not None:
        return
    p = Params()
    types = ", ".join(
        f"list(distinct t{i}) filter (where t{i} is not null)" for i in range(len(todo))
    )
    picks = ", ".join(f"{json_type_of(key, p)} as t{i}" for i, key in enumerate(todo))
    row = ds.sql(
        f"select count(*) = count(distinct id), {types} from (select id, {picks} from users)",
        params=p.values,
    ).fetchall()[0]
    ds.scratch["unique users"] = bool(row[0])
    if row[0]:
        for key, kinds in zip(todo, row[1:], strict=True):
            keep_kinds(ds, key, frozenset(kinds or ()))


#: SQL: whether no user is listed twice (one row).
_UNIQUE: Final = "select count(*) = count(distinct id) as unique_users from users"


def first_users(ds: Dataset) -> str:
    """SQL: the users, each once, the first record the walk saw (a table name or a
    subquery). An export's users are unique unless a walk never held still: only then is
    the costly ordering done (asked once per dataset)."""
    unique = ds.scratch.get("unique users")
    if unique is None:
        (unique,) = ds.sql(f"select * from {_kept(ds, '_unique_users', _UNIQUE)}").fetchall()[0]
        ds.scratch["unique users"] = unique
    if unique:
        return "users"
    return "(select * from users qualify row_number() over (partition by id order by _seen) = 1)"


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
    for found_key in (f"{kept}, codes", kept)[: 1 if with_codes else 2]:
        if found_key in ds.scratch:
            found: pd.DataFrame = ds.scratch[found_key]
            return (
                found.copy()
                if with_codes
                else found.drop(columns="top_error_code", errors="ignore")
            )
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
        query = (
            f", counted as ({query}), coded as (select c.k0, e.code, sum(e.n) as n"
            f" from cohorts c join {codes(ds)} e on e._seen = c._seen group by all),"
            " top as (select k0, first(code order by n desc, code) as top_error_code"
            " from coded group by k0)"
            " select counted.*, top.top_error_code from counted left join top using (k0)"
        )
    else:
        query = f" {query}"
    frame = ds.sql(f"with {with_}{query}", params=p.values).df()
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
