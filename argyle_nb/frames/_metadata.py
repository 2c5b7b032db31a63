"""Users' metadata on other frames: :func:`attach_metadata` and :func:`metadata_keys`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from argyle_nb.frames._errors import MissingColumnsError, require_columns
from argyle_nb.frames._schema import META_PREFIX


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

    Examples:
        >>> from argyle_nb.frames import users_frame
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

    Examples:
        >>> from argyle_nb.frames import users_frame
        >>> metadata_keys(users_frame([{"id": "0994b847-cc69-4d98-bc99-c5e65e762add",
        ...     "created_at": "2019-11-27T15:56:50Z", "external_metadata": {"a": {"b": 1}}}]))
        ['a.b']
    """
    prefix = META_PREFIX + "."
    return [c if c == META_PREFIX else c[len(prefix) :] for c in users.columns if _is_meta(c)]
