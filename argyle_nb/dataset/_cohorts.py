"""Metadata cohorts on a :class:`Dataset`: which keys make cohorts, each cohort's size
and health, the comparison of cohorts and a cohort's users, counted in DuckDB and
finished as in pandas."""

from __future__ import annotations

from typing import Any

import pandas as pd

from argyle_nb.analysis._cohorts import (
    finish_groups,
    finish_key_summary,
    judge_key,
    most_frequent_codes,
)
from argyle_nb.analysis._common import MIN_USERS, MISSING, OTHER
from argyle_nb.analysis._compare import CohortComparison, _compare
from argyle_nb.analysis._outcomes import Unit, _check_min_users, describe
from argyle_nb.dataset._manifest import DatasetError
from argyle_nb.dataset._read import Dataset
from argyle_nb.dataset._sql import sql_text, text_label
from argyle_nb.envelope import loads_json
from argyle_nb.errors import ArgyleValueError
from argyle_nb.frames import users_frame
from argyle_nb.frames._schema import MAX_META_COLUMNS

__all__ = ["compare_cohorts", "metadata_groups", "metadata_key_summary", "users_in_group"]


def _first(ds: Dataset) -> tuple[str, int]:
    """The SQL ``with`` part ``first`` (each user once) and how many users there are. An
    export's users are unique unless a walk never held still (then some came twice); only
    then is the costly grouping by id done (counting distinct ids holds the ids alone)."""
    rows, users = ds.sql("select count(*), count(distinct id) from users").fetchall()[0]
    if rows == users:
        return "first as (select id, external_metadata from users)", int(users)
    return (
        "first as (select id, any_value(external_metadata) as external_metadata"
        " from users group by id)"
    ), int(users)


#: SQL: the text of a JSON string value.
_TEXT = "json_extract_string({}, '$')"

#: SQL: the dotted key of a leaf's DuckDB path ``$.a."b.c"`` (``a.b.c``; ``meta`` for ``$``),
#: as :func:`~argyle_nb.frames.users_frame` names its column: quoted members unquoted and
#: unescaped (plain members hold no quote nor backslash).
_DOTTED = (
    "case when fullkey = '$' then 'meta' else regexp_replace(regexp_replace("
    r"""substr(fullkey, 3), '"((?:[^"\\]|\\.)*)"', '\1', 'g'), '\\(.)', '\1', 'g') end"""
)


def _digits(text: str) -> str:
    """SQL: the significant digits of a number's text (``-0.0120e5`` -> ``12``)."""
    return f"trim(replace(regexp_extract({text}, '^-?([0-9.]*)', 1), '.', ''), '0')"


def _float_text(number: str) -> str:
    """SQL: a number as the frames label a float (orjson's text of the double: ``1.5`` for
    ``1.50``, ``100.0`` for ``1E2``, ``0.00001`` and ``1e-7`` where DuckDB writes
    ``1e-05`` and ``1e-07``)."""
    text = f"cast(cast({number} as double) as varchar)"
    fixed = r"regexp_replace({}, '^(-?)([0-9])(?:\.([0-9]+))?e-05$', '\10.0000\2\3')"
    return rf"regexp_replace({fixed.format(text)}, 'e-0([0-9])$', 'e-\1')"


def _kinds(text: str, kind: str, empty: str) -> tuple[str, str]:
    """SQL conditions on a JSON value of DuckDB type ``kind`` and JSON text ``text``
    (``empty``: whether an object is empty): a float as the frames hold it, and a value
    that makes the frames' column one of objects (text, booleans, arrays, empty objects,
    and the numbers the frames keep as text: integers beyond int64 and decimals whose
    double reads back as other digits, see :class:`~argyle_nb.envelope.ExactNumber`). A
    key's integers are labelled as floats when it holds floats and nothing of the second
    kind (pandas' column is of floats then)."""
    # DuckDB reads a finite double as a double (its text has a dot or an exponent) and
    # keeps the text of the others (integers beyond 64 bits, 1e400): only those are
    # looked at closely, so a key of many numbers costs little more than their types.
    double = f"cast(try_cast({text} as double) as varchar)"
    exact = (
        f"(case when {kind} = 'UBIGINT' then length({text}) >= 19"
        f" and try_cast({text} as ubigint) > {2**63 - 1}"
        f" when {kind} = 'DOUBLE' and (not contains({text}, '.')"
        f" or contains({text}, 'e') or contains({text}, 'E'))"
        f" then regexp_full_match({text}, '-?[0-9]+')"
        f" or coalesce({_digits(text)} != {_digits(double)}, true) else false end)"
    )
    frac = f"({kind} = 'DOUBLE' and not {exact})"
    other = (
        f"({kind} in ('VARCHAR', 'BOOLEAN', 'ARRAY') or {exact} or ({kind} = 'OBJECT' and {empty}))"
    )
    return frac, other


def _splits(parts: list[str]) -> list[list[str]]:
    """The JSON paths a dotted key may name, as lists of members: ``a.b`` is ``{"a":
    {"b": ..}}`` or ``{"a.b": ..}`` (the frames dot both alike); nested first. Beyond
    :data:`_MAX_SPLIT_DOTS` dots, only the fully nested and the flat key."""
    if len(parts) - 1 > _MAX_SPLIT_DOTS:
        return [parts, [".".join(parts)]]
    found: list[list[str]] = [[parts[0]]]
    for part in parts[1:]:
        found = [[*f, part] for f in found] + [[*f[:-1], f"{f[-1]}.{part}"] for f in found]
    return found


#: Keys with more dots are looked up fully nested and flat only (2**10 paths at most).
_MAX_SPLIT_DOTS = 10


def _json_path(members: list[str]) -> str:
    """``$."a"."b.c"``: each member quoted, its quotes and backslashes escaped."""
    return "$" + "".join('."' + m.replace("\\", "\\\\").replace('"', '\\"') + '"' for m in members)


def metadata_key_summary(ds: Dataset, *, min_users: int = MIN_USERS) -> pd.DataFrame:
    """:func:`argyle_nb.analysis.metadata_key_summary` of the dataset's users.

    The keys are those :func:`~argyle_nb.frames.users_frame` makes columns of: every leaf
    of the metadata objects (nested objects dotted, arrays as values), ``meta`` for
    metadata that is not an object, at most :data:`~argyle_nb.frames.MAX_META_COLUMNS`
    (those most users carry).

    Example:
        >>> with Dataset("portfolio") as ds:                             # doctest: +SKIP
        ...     metadata_key_summary(ds)[["users", "cohort", "reason"]]
    """
    _check_min_users(min_users)
    first, total = _first(ds)
    # Leaves of the metadata: values whose parent is an object and which are no object
    # themselves (or an empty one), outside arrays; the root when it is no object.
    label = (
        f"case when t.type = 'NULL' then {sql_text(MISSING)} when t.type = 'VARCHAR'"
        f" then {text_label(_TEXT.format('t.value'))}"
        " else cast(t.value as varchar) end"
    )
    outside_arrays = (
        "not contains(regexp_replace(t.fullkey, '\"([^\"\\\\]|\\\\.)*\"', '', 'g'), '[')"
    )
    # Counted per value first (a streaming aggregate: no window over the users' leaves),
    # then per dotted key (a flat "a.b" and a nested a.b are one key, as in the frames),
    # and the integers of a key that holds floats (and no text) are relabelled as floats.
    frac, other = _kinds("label", "type", "true")  # object leaves are empty objects
    leaves = (
        f"with {first}, raw as (select t.fullkey, t.type, {label} as label,"
        " count(*) as n from first f, json_tree(f.external_metadata) t"
        " where f.external_metadata is not null and json_type(f.external_metadata) != 'NULL'"
        " and ((t.fullkey = '$' and t.type != 'OBJECT') or (t.fullkey != '$'"
        " and (t.type != 'OBJECT' or json_array_length(json_keys(t.value)) = 0)"
        f" and {outside_arrays})) group by all),"
        f" kinds as (select {_DOTTED} as fullkey, label, n,"
        f" type in ('UBIGINT', 'BIGINT') and not {other} as whole, {frac} as frac,"
        f" {other} as other from raw),"
        " keyed as (select *, bool_or(frac) over (partition by fullkey)"
        " and not bool_or(other) over (partition by fullkey) as floaty from kinds),"
        " sizes as (select fullkey, case when (whole and floaty) or frac then"
        f" {_float_text('label')} else label end as label, sum(n) as n"
        " from keyed group by all)"
    )
    named = ds.sql(
        f"{leaves} select fullkey, sum(n) as carried,"
        f" coalesce(sum(n) filter (where label != {sql_text(MISSING)}), 0) as present,"
        f" count(*) filter (where label != {sql_text(MISSING)}) as n_values,"
        f" coalesce(median(n) filter (where label != {sql_text(MISSING)}), 0) as median"
        " from sizes group by fullkey"
    ).fetchall()
    chosen = sorted(named, key=lambda row: (-row[1], row[0]))[:MAX_META_COLUMNS]
    rows = [
        judge_key(key, int(present), int(values), float(median), int(total), min_users)
        for key, _, present, values, median in chosen
    ]
    return finish_key_summary(rows)


def _labelled(ds: Dataset, key: str, source: str, keep: str = "id") -> str:
    """SQL ``with`` parts ending in ``labelled``: the rows of ``source`` (which has
    ``external_metadata`` as JSON text) with the cohort ``label`` of each for ``key``, as
    the pandas analyses label it: text as is, other JSON values as JSON, missing
    explicit; integers as floats when the key also holds floats (pandas' column is one of
    floats then; that is asked first, so no part of the query is read twice)."""
    name = key.removeprefix("meta.") if key != "meta" else ""
    # "meta" is metadata that is not an object; a key's object value is split into keys.
    split = "" if not name else " and json_array_length(json_keys(_v)) > 0"
    if not name:
        value = "json_extract(external_metadata, '$')"
    elif "." not in name:
        value = f"json_extract(external_metadata, {sql_text(_json_path([name]))})"
    else:  # a dotted key: its value nested or under a key holding dots, the first found
        paths = ", ".join(sql_text(_json_path(m)) for m in _splits(name.split(".")))
        value = (
            f"list_filter(json_extract(external_metadata, [{paths}]), lambda x: x is not null)[1]"
        )
    frac, other = _kinds(
        "cast(_v as varchar)", "json_type(_v)", "json_array_length(json_keys(_v)) = 0"
    )
    # Only a key holding doubles may be one of floats: most keys are asked no more.
    (doubles,) = ds.sql(f"select bool_or(json_type({value}) = 'DOUBLE') from users").fetchall()[0]
    (floats,) = (
        ds.sql(
            f"select bool_or({frac}) and not bool_or({other})"
            f" from (select {value} as _v from users)"
        ).fetchall()[0]
        if doubles
        else (False,)
    )
    floaty = "true" if floats else "false"
    label = (
        f"case when _v is null or json_type(_v) = 'NULL'"
        f" or (json_type(_v) = 'OBJECT'{split}) then {sql_text(MISSING)}"
        f" when json_type(_v) = 'VARCHAR' then {text_label(_TEXT.format('_v'))}"
        f" when ({floaty} and json_type(_v) in ('UBIGINT', 'BIGINT')) or {frac}"
        f" then {_float_text('_v')} else cast(_v as varchar) end"
    )
    return (
        f"picked as (select {keep}, {value} as _v from {source}),"
        f" labelled as (select {keep}, {label} as label from picked)"
    )


def metadata_groups(
    ds: Dataset, key: str, *, min_users: int = MIN_USERS, pool_small: bool = False
) -> pd.DataFrame:
    """:func:`argyle_nb.analysis.metadata_groups` of the dataset's users and accounts.

    Users are counted once each; accounts of users not in the dataset are left out. The
    cohorts are those of the frames: a dotted key is found nested or flat (``"utm.source"``
    as a key of its own), a real value that reads as :data:`~argyle_nb.analysis.MISSING`
    (or ``OTHER``, ``REST``) is quoted once more, an integer beyond int64 is its exact text.
    One difference is left: DuckDB's JSON functions read a decimal of more digits than a
    double keeps (``0.12345678901234567890``) as the nearest double, so its cohort here is
    that double's text, where the frames keep its exact text (``external_metadata`` keeps
    it exact in both).

    Example:
        >>> with Dataset("portfolio") as ds:                             # doctest: +SKIP
        ...     metadata_groups(ds, "customer group")
    """
    table, labelled = _cohort_counts(ds, key, min_users, pool_small)
    codes = ds.sql(
        f"{labelled} select c.cohort as cohort, cast(a.connection_error_code as varchar)"
        " as code, count(*) as n from cohorts c join accounts a on a.user = c.id"
        " where a.connection_error_code is not null group by all"
    ).df()
    return finish_groups(table, _top_codes(codes))


def _cohort_counts(
    ds: Dataset, key: str, min_users: int, pool_small: bool
) -> tuple[pd.DataFrame, str]:
    """Per cohort of ``key``: users, connected users, accounts, connected and error
    accounts, small; and the SQL ``with`` clause naming each user's cohort."""
    _check_min_users(min_users)
    labelled = f"with {_first(ds)[0]}, {_labelled(ds, key, 'first')}"
    cohort = "label"
    if pool_small:
        cohort = (
            f"case when label != {sql_text(MISSING)} and count(*) over (partition by label)"
            f" < {int(min_users)} then {sql_text(OTHER)} else label end"
        )
    labelled += f", cohorts as (select id, {cohort} as cohort from labelled)"
    counts = ds.sql(
        f"{labelled}, per_user as ("
        " select c.cohort, c.id, count(a.id) as accounts,"
        " count(*) filter (where a.connection_status = 'connected') as connected,"
        " count(*) filter (where a.connection_status = 'error') as errors"
        " from cohorts c left join accounts a on a.user = c.id group by c.cohort, c.id)"
        " select cohort, count(*) as users, count(*) filter (where connected > 0)"
        " as connected_users, sum(accounts) as accounts, sum(connected) as connected_accounts,"
        " sum(errors) as error_accounts from per_user group by cohort"
    ).df()
    index = pd.Index(counts["cohort"].astype("str").to_numpy(), dtype="str", name=key)
    table = pd.DataFrame(
        {c: counts[c].to_numpy("int64") for c in counts.columns if c != "cohort"}, index=index
    )
    if not table.loc[table.index != MISSING, "users"].sum():
        raise DatasetError(f"no user of {ds.path} has the metadata key {key!r}")
    table["small"] = table["users"] < min_users
    return table, labelled


def _top_codes(codes: pd.DataFrame) -> pd.Series[Any]:
    """The most frequent code of each cohort, ties broken by name (as the pandas path)."""
    if codes.empty:
        return pd.Series(dtype="str")
    return most_frequent_codes(codes.rename(columns={"cohort": "group"}))


def compare_cohorts(
    ds: Dataset,
    key: str,
    *,
    unit: Unit = "users",
    baseline: str | None = None,
    include_missing: bool = False,
    min_users: int = MIN_USERS,
    pool_small: bool = False,
    alpha: float = 0.05,
    groups: pd.DataFrame | None = None,
) -> CohortComparison:
    """:func:`argyle_nb.analysis.compare_cohorts` of the dataset, for the metric
    ``"connected"`` (users with an account connected now, or accounts connected now).

    ``groups``: the :func:`metadata_groups` of this key with the same ``min_users`` and
    ``pool_small``, to compare the users it counted instead of counting them again
    (``unit="users"`` only: it keeps the accounts' shares, not their counts).

    Example:
        >>> with Dataset("portfolio") as ds:                             # doctest: +SKIP
        ...     print(compare_cohorts(ds, "customer group"))
    """
    if unit not in ("users", "accounts"):
        raise ArgyleValueError(f"unit must be 'users' or 'accounts', not {unit!r}")
    if groups is not None:
        if unit != "users":
            raise ArgyleValueError(
                "groups= holds the users' counts: compare them with unit='users'"
            )
        table = groups
    else:
        table, _ = _cohort_counts(ds, key, min_users, pool_small)
    trials, successes = (
        ("users", "connected_users") if unit == "users" else ("accounts", "connected_accounts")
    )
    counts = pd.DataFrame(
        {
            "users": table["users"],
            "trials": table[trials],
            "successes": table[successes],
            "small": table["small"],
        },
        index=table.index,
    )
    what = describe("connected", unit)
    return _compare(
        counts,
        key=key,
        metric="connected",
        unit=unit,
        description=what[:1].upper() + what[1:],
        baseline=baseline,
        include_missing=include_missing,
        alpha=alpha,
        min_users=min_users,
    )


_LISTED = "id, created_at, employers_connected, data_providers_connected, external_metadata"


def users_in_group(ds: Dataset, key: str, group: str, *, limit: int | None = None) -> pd.DataFrame:
    """:func:`argyle_nb.analysis.users_in_group` of the dataset: the users of one cohort
    of ``key`` (:data:`~argyle_nb.analysis.MISSING` for no key) as a
    :func:`~argyle_nb.frames.users_frame`, the first ``limit`` of them (all: ``None``).

    Example:
        >>> with Dataset("portfolio") as ds:                             # doctest: +SKIP
        ...     users_in_group(ds, "region", "west", limit=100)
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ArgyleValueError(f"limit must be a whole number of users, not {limit!r}")
    cap = "" if limit is None else f" limit {int(limit)}"
    rows = ds.sql(
        f"with {_labelled(ds, key, 'users', keep=_LISTED)} select id,"
        " strftime(created_at at time zone 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ'),"
        " employers_connected, data_providers_connected, external_metadata from labelled"
        f" where label = ?{cap}",
        params=[group],
    ).fetchall()
    records = [
        {
            "id": uid,
            "created_at": created,
            "employers_connected": employers,
            "data_providers_connected": providers,
            "external_metadata": None if meta is None else loads_json(meta),
        }
        for uid, created, employers, providers, meta in rows
    ]
    return users_frame(records)
