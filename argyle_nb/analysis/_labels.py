"""Cohort labels in SQL: each user's label for a metadata key, and the keys themselves.

One rule for every engine and call: a text value is its label (a text that reads as a
label of ours, :data:`~argyle_nb.analysis.MISSING`, ``OTHER`` or ``REST``, is quoted once
more), other JSON values their JSON text, users without the key (or with ``null``, or an
object under it) :data:`~argyle_nb.analysis.MISSING`. A key holding both integers and
floats labels its integers as floats (``2`` as ``2.0``); a number no int64 or double
holds keeps its exact text. A dotted key ``a.b`` is found nested (``{"a": {"b": ..}}``)
or flat (``{"a.b": ..}``), as :func:`~argyle_nb.frames.users_frame` names its columns.
"""

from __future__ import annotations

from typing import Any

from argyle_nb._sql import Params
from argyle_nb.analysis._common import MISSING, RESERVED_LABEL
from argyle_nb.dataset import Dataset


def text_label(text: str, p: Params) -> str:
    """SQL: the text ``text`` as a group label, as
    :func:`~argyle_nb.analysis._common.text_labels` makes it (a text that reads as a label
    of ours is quoted once more)."""
    # every label of ours begins with "(" or '"': the pattern is tried on those alone
    return (
        f"case when (starts_with({text}, '(') or starts_with({text}, '\"'))"
        f" and regexp_full_match({text}, {p(RESERVED_LABEL)})"
        f" then '\"' || {text} || '\"' else {text} end"
    )


def group_label(column: str, p: Params) -> str:
    """A group label of a column's values: the value as text (see :func:`text_label`),
    or MISSING."""
    from argyle_nb._sql import quote

    text = text_label(f"cast({quote(column)} as varchar)", p)
    return f"coalesce({text}, {p(MISSING)})"


#: SQL: the text of a JSON string value.
_TEXT = "json_extract_string({}, '$')"

#: SQL: the dotted key of a leaf's DuckDB path ``$.a."b.c"`` (``a.b.c``), as
#: :func:`~argyle_nb.frames.users_frame` names its column: quoted members unquoted and
#: unescaped (plain members hold no quote nor backslash).
_DOTTED = (
    "regexp_replace(regexp_replace("
    r"""substr(fullkey, 3), '"((?:[^"\\]|\\.)*)"', '\1', 'g'), '\\(.)', '\1', 'g')"""
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


def picked(key: str, p: Params) -> str:
    """SQL select items: the JSON value ``_v`` of ``key`` in ``external_metadata`` and its
    JSON type ``_t`` (what :func:`label_of` labels)."""
    value = _value(key.removeprefix("meta.") if key != "meta" else "", p)
    return f"{value} as _v, json_type({value}) as _t"


def json_type_of(key: str, p: Params) -> str:
    """SQL: the JSON type of the value of ``key`` in ``external_metadata`` (``_t`` of
    :func:`picked`)."""
    return f"json_type({_value(key.removeprefix('meta.') if key != 'meta' else '', p)})"


def _asked(key: str) -> str:
    """The dataset's scratch entry of the JSON types ``key`` holds."""
    return f"kinds of {key!r}"


def kinds_known(ds: Dataset, key: str) -> bool:
    """Whether the JSON types ``key`` holds were asked of ``ds``'s users."""
    return _asked(key) in ds.scratch


def keep_kinds(ds: Dataset, key: str, kinds: frozenset[str]) -> None:
    """Keep the JSON types ``key`` holds among ``ds``'s users (each once), asked with other
    questions in one scan; one holding doubles is asked again by :func:`label_of`, which
    asks of it more."""
    if "DOUBLE" not in kinds:
        ds.scratch[_asked(key)] = (kinds, False)


def label_of(ds: Dataset, key: str, values: str, params: dict[str, Any], p: Params) -> str:
    """SQL: the cohort label of a row holding ``_v`` and ``_t`` (:func:`picked`), for the
    rows of ``values`` (a table or subquery of them, with ``params``: the picked values
    of every user of the dataset, each once): the JSON types the key holds are asked of
    them first, once per dataset (a key of text alone is labelled by the text rule alone;
    whether a key's integers read as floats is asked only of a key holding doubles)."""
    # "meta" is metadata that is not an object; a key's object value is split into keys.
    split = " and json_array_length(json_keys(_v)) > 0" if key != "meta" else ""
    frac, other = _kinds("cast(_v as varchar)", "_t", "json_array_length(json_keys(_v)) = 0")
    asked = _asked(key)
    if asked not in ds.scratch:
        # The JSON types the key holds; only a key holding doubles is looked at closer
        # (whether its integers read as floats: that costs twice the first question).
        (kinds,) = ds.sql(
            f"select list(distinct _t) filter (where _t is not null) from {values}",
            params=params or None,
        ).fetchall()[0]
        kinds = frozenset(kinds or ())
        floats = False
        if "DOUBLE" in kinds:
            (floats,) = ds.sql(
                f"select bool_or({frac}) and not bool_or({other}) from {values}",
                params=params or None,
            ).fetchall()[0]
        ds.scratch[asked] = (kinds, bool(floats))
    kinds, floats = ds.scratch[asked]
    text = text_label(_TEXT.format("_v"), p)
    if kinds <= {"VARCHAR", "NULL"}:  # most keys: text alone
        return f"case when _t = 'VARCHAR' then {text} else {p(MISSING)} end"
    floaty = "true" if floats else "false"
    return (
        f"case when _v is null or _t = 'NULL' or (_t = 'OBJECT'{split}) then {p(MISSING)}"
        f" when _t = 'VARCHAR' then {text}"
        f" when ({floaty} and _t in ('UBIGINT', 'BIGINT')) or {frac}"
        f" then {_float_text('_v')} else cast(_v as varchar) end"
    )


def _value(member: str, p: Params) -> str:
    """SQL: the JSON value of the metadata key ``member`` ("": the whole metadata)."""
    if not member:
        return "json_extract(external_metadata, '$')"
    if "." not in member:
        return f"json_extract(external_metadata, {p(_json_path([member]))})"
    # a dotted key: its value nested or under a key holding dots, the first found
    paths = [_json_path(m) for m in _splits(member.split("."))]
    return f"list_filter(json_extract(external_metadata, {p(paths)}), lambda x: x is not null)[1]"


def key_sizes_sql(source: str) -> tuple[str, dict[str, Any]]:
    """SQL and its values: per metadata key of the users of ``source`` (one row per user,
    with ``external_metadata``): ``fullkey``, users carrying it (``carried``, missing
    values included), users with a value (``present``), distinct values (``n_values``),
    and the median users per value (``median``).

    The keys are those :func:`~argyle_nb.frames.users_frame` makes columns of: every leaf
    of the metadata objects (nested objects dotted, arrays as values), ``meta`` for
    metadata that is not an object.
    """
    p = Params()

    def label(value: str, kind: str) -> str:
        return (
            f"case when {kind} = 'NULL' then {p(MISSING)} when {kind} = 'VARCHAR'"
            f" then {text_label(_TEXT.format(value), p)} else cast({value} as varchar) end"
        )

    # Leaves of the metadata: values whose parent is an object and which are no object
    # themselves (or an empty one), outside arrays; the root when it is no object. Most
    # metadata is a flat object (no "{" but its first) or no object: its leaves are read
    # off its keys and values; the rest is walked (json_tree).
    text = f"(select cast(external_metadata as varchar) as external_metadata from {source})"
    meta = "ltrim(f.external_metadata, ' ' || chr(9) || chr(10) || chr(13))"  # JSON's spaces
    is_object = f"starts_with({meta}, '{{')"
    nested = f"{is_object} and contains(substr({meta}, 2), '{{')"
    # (a "[" in a quoted key name is no array: only paths with one are looked at closer)
    outside_arrays = (
        "case when contains(t.fullkey, '[') then not contains(regexp_replace(t.fullkey,"
        " '\"([^\"\\\\]|\\\\.)*\"', '', 'g'), '[') else true end"
    )
    walked = (
        f"select {_DOTTED} as fullkey, t.type, {label('t.value', 't.type')} as label,"
        f" count(*) as n from {text} f, json_tree(f.external_metadata) t"
        f" where f.external_metadata is not null and {nested}"
        " and t.fullkey != '$'"
        " and (t.type != 'OBJECT' or json_array_length(json_keys(t.value)) = 0)"
        f" and {outside_arrays} group by all"
    )
    flat = (
        f"select fullkey, type, {label('value', 'type')} as label, count(*) as n"
        " from (select *, json_type(value) as type from (select"
        " unnest(json_keys(f.external_metadata)) as fullkey,"
        " unnest(json_extract(f.external_metadata, '$.*')) as value"
        f" from {text} f where f.external_metadata is not null and {is_object}"
        f" and not ({nested}))) group by all"
    )
    root = (
        f"select 'meta' as fullkey, type, {label('value', 'type')} as label, count(*) as n"
        " from (select json_extract(f.external_metadata, '$') as value, json_type(value)"
        f" as type from {text} f where f.external_metadata is not null and not {is_object})"
        " where type != 'NULL' group by all"
    )
    # Counted per value first (a streaming aggregate: no window over the users' leaves),
    # then per dotted key (a flat "a.b" and a nested a.b are one key, as in the frames),
    # and the integers of a key that holds floats (and no text) are relabelled as floats.
    frac, other = _kinds("label", "type", "true")  # object leaves are empty objects
    leaves = (
        f"with raw as ({walked} union all {flat} union all {root}),"
        " kinds as (select fullkey, label, n,"
        f" type in ('UBIGINT', 'BIGINT') and not {other} as whole, {frac} as frac,"
        f" {other} as other from raw),"
        " keyed as (select *, bool_or(frac) over (partition by fullkey)"
        " and not bool_or(other) over (partition by fullkey) as floaty from kinds),"
        " sizes as (select fullkey, case when (whole and floaty) or frac then"
        f" {_float_text('label')} else label end as label, sum(n) as n"
        " from keyed group by all)"
    )
    missing = p(MISSING)
    query = (
        f"{leaves} select fullkey, sum(n) as carried,"
        f" coalesce(sum(n) filter (where label != {missing}), 0) as present,"
        f" count(*) filter (where label != {missing}) as n_values,"
        f" coalesce(median(n) filter (where label != {missing}), 0) as median"
        " from sizes group by fullkey"
    )
    return query, p.values
