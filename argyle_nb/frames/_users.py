"""The users builder, its metadata columns, and :func:`attach_metadata`."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa

from argyle_nb.envelope import EnvelopeError, parse_list_page, unrepresentable
from argyle_nb.frames._errors import FrameError, MissingColumnsError, require_columns
from argyle_nb.frames._pandas import _lists
from argyle_nb.frames._schema import (
    _STR,
    _UUID_RE,
    MAX_META_COLUMNS,
    META_LEFT_OUT,
    META_PREFIX,
    USER_RULES,
)
from argyle_nb.frames._screen import _json_kind
from argyle_nb.frames._sources import Source, _iter_pages, _refuse_other_kind
from argyle_nb.models import (
    MAX_METADATA_DEPTH,
    metadata_depth,
)
from argyle_nb.quarantine import RejectedRecord

# ---------------------------------------------------------------------------
# Users
# ---------------------------------------------------------------------------


def _user_objects(source: Source) -> list[tuple[int, int, Any, bool]]:
    """``(page, index, object, suspect)`` of every user of a source (objects count as page
    0); ``suspect``: its page held text that is not UTF-8."""
    kind, items = _iter_pages(source)
    if kind == "objects":
        return [(0, index, item, False) for index, item in enumerate(items)]
    users: list[tuple[int, int, Any, bool]] = []
    for position, raw in enumerate(items):
        try:
            page = parse_list_page(raw)
        except EnvelopeError as exc:
            raise FrameError(f"page {position}: {exc}") from None
        suspect = page.lenient
        users.extend((position, index, user, suspect) for index, user in enumerate(page.results))
    return users


_UUID_PATTERN = re.compile(_UUID_RE)


def _user_problem(user: Any) -> str | None:
    """What makes ``user`` unfit for :func:`users_frame` (by :data:`USER_RULES`), or None."""
    rules = USER_RULES
    if not isinstance(user, Mapping):
        return f"is a JSON {_json_kind(user)}, not a user object"
    for name in rules.required:
        if user.get(name) is None:
            return f"has no {name!r}"
    for name in rules.uuids:
        value = user.get(name)
        if value is not None and (not isinstance(value, str) or not _UUID_PATTERN.match(value)):
            return f"has {name}={value!r}, not a UUID"
    for name in rules.timestamps:
        problem = _timestamp_problem(name, user.get(name))
        if problem is not None:
            return problem
    if metadata_depth(user.get("external_metadata")) > MAX_METADATA_DEPTH:
        return f"has external_metadata nested more than {MAX_METADATA_DEPTH} levels deep"
    for name in rules.string_lists:
        value = user.get(name)
        if value is not None and (
            not isinstance(value, list) or not all(isinstance(v, str) for v in value)
        ):
            return f"has {name}={value!r}, not a list of strings"
    return None


def _timestamp_problem(name: str, value: Any) -> str | None:
    """Why ``value`` is not an ISO 8601 timestamp UTC can hold, or None (absent is fine)."""
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        stamp = datetime.fromisoformat(value)
    except ValueError:
        return f"has {name}={value!r}, not an ISO 8601 timestamp"
    if stamp.tzinfo is not None:
        try:
            stamp.astimezone(UTC)
        except OverflowError:
            return f"has {name}={value!r}, outside the years 1 to 9999 in UTC"
    return None


def _flatten(value: Mapping[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key, item in value.items():
        if type(item) is dict and item:  # decoded JSON: plain dicts (no ABC check per value)
            _flatten(item, f"{prefix}.{key}", out)
        else:
            out[f"{prefix}.{key}"] = item


def _meta_column(values: list[Any]) -> pd.Series[Any]:
    present = [v for v in values if v is not None]
    kinds = {type(v) for v in present}
    if kinds == {str}:
        return pd.Series(values, dtype="str")
    if kinds == {bool}:
        return pd.Series(values, dtype="boolean")
    if kinds and kinds <= {int}:
        return pd.Series(values, dtype="Int64")
    if kinds and kinds <= {int, float}:
        return pd.Series(values, dtype="Float64")
    return pd.Series(values, dtype=object)


def users_frame(source: Source, *, rejected: list[RejectedRecord] | None = None) -> pd.DataFrame:
    """One row per user, with ``external_metadata`` flattened into ``meta.*`` columns.

    Columns: ``id``, ``created_at`` (UTC), ``employers_connected``,
    ``data_providers_connected`` (Arrow lists of strings), ``external_metadata`` (the
    raw metadata as compact JSON text, ``"null"`` when absent), then one column per
    metadata key: ``meta.<key>``, nested objects dotted (``meta.address.state``). A
    metadata value that is not an object (a string, number or list) goes in the
    single column ``meta``. Metadata columns are typed when their values agree
    (``str``, ``Int64``, ``Float64``, ``boolean``) and ``object`` otherwise. At most
    :data:`MAX_META_COLUMNS` keys get a column, those most users carry (ties by name); the
    others live on in ``external_metadata``, and ``users.attrs["meta_keys_left_out"]``
    says how many there were. So the cost grows with the metadata values, not users x keys.

    With ``rejected`` (a list), a user that is not an object, has no ``id`` or
    ``created_at``, an id that is not a UUID, a ``created_at`` that is not ISO 8601 or
    connected lists that are not lists of strings, a ``created_at`` UTC cannot hold,
    metadata nested deeper than :data:`~argyle_nb.models.MAX_METADATA_DEPTH` levels or text
    that is not UTF-8 is appended to it as a
    :class:`~argyle_nb.quarantine.RejectedRecord` and left out; without it, the first
    such user raises :class:`FrameError`. Account records raise :class:`FrameError`
    whatever ``rejected`` is ("these look like account records (have 'user',
    'connection'); use accounts_frame"); an empty page is an empty frame.

    Example:
        >>> users = users_frame([{"id": "0994b847-cc69-4d98-bc99-c5e65e762add",
        ...     "created_at": "2019-11-27T15:56:50.583233",
        ...     "external_metadata": {"address": {"state": "NY"}, "group_id": "A5"}}])
        >>> users[["meta.address.state", "meta.group_id"]]
          meta.address.state meta.group_id
        0                 NY            A5
    """
    ids: list[Any] = []
    created: list[Any] = []
    employers: list[Any] = []
    providers: list[Any] = []
    raw: list[str] = []
    flat: list[dict[str, Any]] = []
    users = _user_objects(source)
    _refuse_other_kind((user for _, _, user, _ in users), "user", "users_frame")
    for position, (page, index, user, suspect) in enumerate(users):
        problem = _user_problem(user)
        if problem is None and suspect:
            problem = unrepresentable(user)
        if problem is not None:
            if rejected is None:
                raise FrameError(f"user {position} {problem}")
            rejected.append(RejectedRecord.of(page, index, user, problem))
            continue
        ids.append(str(user["id"]))
        created.append(user["created_at"])
        employers.append(user.get("employers_connected") or [])
        providers.append(user.get("data_providers_connected") or [])
        metadata = user.get("external_metadata")
        raw.append(orjson.dumps(metadata).decode())
        row: dict[str, Any] = {}
        if isinstance(metadata, Mapping):
            _flatten(metadata, META_PREFIX, row)
        elif metadata is not None:
            row[META_PREFIX] = metadata
        flat.append(row)
    try:
        created_at = pd.to_datetime(pd.Series(created, dtype=object), utc=True, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise FrameError(f"a user's created_at is not an ISO 8601 timestamp: {exc}") from exc
    list_type = pa.list_(_STR)
    try:
        employer_array = pa.array(employers, type=list_type)
        provider_array = pa.array(providers, type=list_type)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise FrameError(f"a user's connected lists are not lists of strings: {exc}") from exc
    columns: dict[str, Any] = {
        "id": pd.Series(ids, dtype="str"),
        "created_at": created_at.astype("datetime64[us, UTC]"),
        "employers_connected": _lists(employer_array),
        "data_providers_connected": _lists(provider_array),
        "external_metadata": pd.Series(raw, dtype="str"),
    }
    carried: Counter[str] = Counter()
    for row in flat:
        carried.update(row.keys())
    # The keys most users carry become columns, at most MAX_META_COLUMNS of them: the cost
    # is the values' count, never users x keys; the rest stay in external_metadata.
    chosen = sorted(carried, key=lambda k: (-carried[k], k))[:MAX_META_COLUMNS]
    for key in sorted(chosen, key=lambda k: (k != META_PREFIX, k)):
        columns[key] = _meta_column([row.get(key) for row in flat])
    frame = pd.DataFrame(columns, columns=list(columns))
    frame.attrs[META_LEFT_OUT] = len(carried) - len(chosen)
    return frame


def attach_metadata(
    frame: pd.DataFrame,
    users: pd.DataFrame,
    key: str | None = None,
    *,
    on: str = "user",
    name: str | None = None,
) -> pd.DataFrame:
    """Add users' metadata to rows that name a user (accounts or availability rows).

    With ``key=None`` every ``meta.*`` column of ``users`` is added. With a key
    (``"group_id"``, ``"address.state"``, ``"meta"`` for non-object metadata, or the
    full column name ``"meta.group_id"``) one column is added, named ``name`` or the
    key, so a cohort is one call away. Rows whose user is unknown, or has no such key,
    get a missing value. The frame's index and row order are kept.

    Example:
        >>> users = users_frame([{"id": "0994b847-cc69-4d98-bc99-c5e65e762add",
        ...     "created_at": "2019-11-27T15:56:50Z", "external_metadata": {"group": "A"}}])
        >>> rows = pd.DataFrame({"user": ["0994b847-cc69-4d98-bc99-c5e65e762add", "x"]})
        >>> attach_metadata(rows, users, "group")["group"].tolist()
        ['A', nan]
    """
    require_columns(
        frame, [on], by="attach_metadata", made_by="accounts_frame or availability_frame"
    )
    require_columns(users, ["id"], by="attach_metadata", made_by="users_frame")
    if key is None:
        wanted = [c for c in users.columns if _is_meta(c)]
        names = wanted
    else:
        column = _meta_name(key)
        if column not in users.columns:
            known = ", ".join(metadata_keys(users)) or "none"
            raise MissingColumnsError(f"no metadata key {key!r} among the users (keys: {known})")
        wanted = [column]
        names = [name or key]
    lookup = users.drop_duplicates("id").set_index("id")[wanted]
    positions = lookup.index.get_indexer(pd.Index(frame[on].astype("str")))
    out = frame.copy()
    for source_name, target in zip(wanted, names, strict=True):
        values = lookup[source_name]
        taken = (
            values.iloc[np.where(positions >= 0, positions, 0)].to_numpy()
            if len(values)
            else np.full(len(frame), None, dtype=object)
        )
        series = pd.Series(taken, index=frame.index, dtype=values.dtype)
        series[positions < 0] = None
        out[target] = series
    return out


def _is_meta(column: object) -> bool:
    return isinstance(column, str) and (
        column == META_PREFIX or column.startswith(META_PREFIX + ".")
    )


def _meta_name(key: str) -> str:
    return key if _is_meta(key) else f"{META_PREFIX}.{key}"


def metadata_keys(users: pd.DataFrame) -> list[str]:
    """The metadata keys present in a :func:`users_frame`, dotted, without the prefix.

    Example:
        >>> metadata_keys(users_frame([{"id": "0994b847-cc69-4d98-bc99-c5e65e762add",
        ...     "created_at": "2019-11-27T15:56:50Z", "external_metadata": {"a": {"b": 1}}}]))
        ['a.b']
    """
    prefix = META_PREFIX + "."
    return [c if c == META_PREFIX else c[len(prefix) :] for c in users.columns if _is_meta(c)]
