"""What the connection and availability analyses count in: an accounts or availability
frame, or a :class:`~argyle_nb.dataset.Dataset`, as the dataset DuckDB counts in; and a
selection of rows given back as what was given (a frame's rows, or a restricted dataset)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from argyle_nb._sql import Params, quote
from argyle_nb.analysis._common import _utc
from argyle_nb.analysis._engine import accounts_dataset, frames_dataset
from argyle_nb.dataset import Dataset
from argyle_nb.errors import ArgyleKeyError, ArgyleTypeError, ArgyleValueError
from argyle_nb.frames import MissingColumnsError, require_columns

#: The row position of a frame's rows in its dataset (accounts: the order seen).
ROW = "_seen"


def dataset_for(
    data: pd.DataFrame | Dataset, table: str, needs: Sequence[str], *, by: str
) -> Dataset:
    """The dataset an analysis ``by`` of ``table`` (``accounts`` or ``availability``)
    counts in, with the columns it ``needs``: ``data`` itself when it is a dataset, else
    the frame as one (scanned in place). A column missing is named, with what makes it."""
    made_by = f"{table}_frame"
    if isinstance(data, Dataset):
        if table == "availability" and not data.has_availability:
            raise MissingColumnsError(
                f"{by} needs the availability: this dataset has none"
                " (Dataset.from_frames(users, accounts, availability))"
            )
        have = set(data.columns(table))
        missing = [c for c in needs if c not in have]
        if missing:
            names = ", ".join(repr(c) for c in missing)
            raise MissingColumnsError(
                f"{by} needs column{'s' if len(missing) > 1 else ''} {names} of the"
                f" dataset's {table} (made by {made_by})"
            )
        return data
    require_columns(data, needs, by=by, made_by=made_by)
    if table == "accounts":
        return accounts_dataset(data, by=by)
    # Each row has its position (_seen): a selection gives back the frame's rows.
    return frames_dataset(None, None, data, by=by)


def has_column(ds: Dataset, table: str, column: str) -> None:
    """Raise a KeyError naming ``column`` unless ``table`` has it (a column asked for by
    the user, ``by=``)."""
    if not isinstance(column, str):
        raise ArgyleTypeError(f"a column name is text, not {column!r}")
    if column not in ds.columns(table) or column == ROW:
        verb = "have" if table == "accounts" else "has"
        raise ArgyleKeyError(f"{table} {verb} no column {column!r}")


def selected(
    data: pd.DataFrame | Dataset, ds: Dataset, table: str, conditions: list[str], p: Params
) -> pd.DataFrame | Dataset:
    """The rows of ``table`` meeting every condition (SQL with the values of ``p``): a
    dataset restricted to them for a dataset (nothing read until queried), the frame's
    rows in their order for a frame."""
    condition = " and ".join(f"({c})" for c in conditions) or "true"
    if isinstance(data, Dataset):
        return data.restricted(table, condition, p.values)
    rows = ds.sql(
        f"select {ROW} from {table} where {condition} order by {ROW}", params=p.values
    ).fetchnumpy()[ROW]
    return data.iloc[np.asarray(rows, dtype="int64")]


def one_of(column: str, wanted: str | Sequence[str], p: Params, *, name: str) -> str:
    """SQL: the text of ``column`` is one of ``wanted`` (a text or texts); a missing
    value is none of them."""
    if isinstance(wanted, str):
        values = [wanted]
    elif isinstance(wanted, Sequence | set | frozenset | pd.Index | np.ndarray | pd.Series):
        values = [str(v) for v in wanted]
    else:
        raise ArgyleTypeError(f"{name} is a text or a list of texts, not {wanted!r}")
    if not values:
        return "false"
    return f"list_contains({p(values)}, cast({quote(column)} as varchar))"


def utc_bound(value: object, *, name: str) -> pd.Timestamp:
    """``value`` (a time, a date or its ISO text; naive is UTC) as a UTC Timestamp."""
    try:
        stamp = _utc(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ArgyleValueError(f"{name} must be a time or a date, not {value!r} ({exc})") from None
    if pd.isna(stamp):
        raise ArgyleValueError(f"{name} must be a time or a date, not {value!r}")
    return stamp


def timestamps(values: Any) -> pd.Series[Any]:
    """Times DuckDB gave (in its session's zone, or naive UTC) as UTC, to the microsecond."""
    out = pd.to_datetime(pd.Series(values), utc=True)
    return out.astype("datetime64[us, UTC]")
