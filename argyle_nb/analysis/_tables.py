"""The tables every analysis of a dataset starts from, made once per dataset.

What every user did (:func:`outcomes`), their fully synced accounts (:func:`synced`) and
error codes (:func:`codes`), each key's labels (:func:`labels`), the keys' sizes
(:func:`key_sizes`), whether users are unique (:func:`first_users`) and the latest time
(:func:`latest_time`): each made at the first call on a dataset and kept in its DuckDB
cursor (a view on a dataset counted once, :func:`once`), or read from the facts an export
stored with its records (:func:`facts`, :attr:`~argyle_nb.dataset.Snapshot.facts`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from argyle_nb._sql import Params
from argyle_nb.analysis._labels import (
    json_type_of,
    keep_kinds,
    key_sizes_sql,
    kinds_known,
    label_of,
    picked,
)
from argyle_nb.dataset import Dataset
from argyle_nb.frames import MAX_META_COLUMNS

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
    named = ds.sql(f"select * from {_key_sizes_table(ds)}").fetchall()
    chosen = sorted(named, key=lambda row: (-row[1], row[0]))[:MAX_META_COLUMNS]
    return [(str(k), int(c), int(pr), int(v), float(m)) for k, c, pr, v, m in chosen]


def _key_sizes_table(ds: Dataset) -> str:
    """The name of the table of :func:`key_sizes`' rows (every key, in no order)."""
    query, params = key_sizes_sql(first_users(ds))
    return _kept(ds, "_key_sizes", query, params)


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

    ``client.export`` stores them with each snapshot it adds (see
    :attr:`~argyle_nb.dataset.Snapshot.facts`), and the analyses of that snapshot read
    them instead of computing them again: about a second for a million users.

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
    # (what the labels need is made once, and stored as made)
    found = {
        "_unique_users": ds.sql(f"select * from {_kept(ds, '_unique_users', _UNIQUE)}"),
        "_outcomes": ds.sql(_outcomes_sql(ds)),
        "_synced": ds.sql(_SYNCED),
        "_codes": ds.sql(_codes_sql(ds)),
        "_key_sizes": ds.sql(f"select * from {_key_sizes_table(ds)}"),
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
