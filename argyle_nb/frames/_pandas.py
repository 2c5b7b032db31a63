"""Arrow columns to pandas: Categoricals over documented values, UTC timestamps, lists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from argyle_nb.frames._schema import _RESOURCE, _STR, ACCOUNT_COLUMNS, AVAILABILITY_COLUMNS
from argyle_nb.models import (
    AVAILABILITY_STATUSES,
    CONNECTION_ERROR_CODES,
    CONNECTION_STATUSES,
    PAY_DISTRIBUTION_STATUSES,
    RESOURCES,
)

# ---------------------------------------------------------------------------
# Arrow -> pandas columns
# ---------------------------------------------------------------------------


def _categorical(array: pa.Array, known: Sequence[str] = ()) -> pd.Categorical:
    """Arrow strings -> Categorical over ``known`` then the unseen values, sorted."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    seen = [v for v in pc.unique(array).to_pylist() if v is not None]
    known_set = set(known)
    categories = [*known, *sorted(v for v in seen if v not in known_set)]
    codes = pc.index_in(array, value_set=pa.array(categories, type=_STR))
    np_codes = codes.fill_null(-1).to_numpy(zero_copy_only=False)
    code_type = (
        np.int8 if len(categories) < 127 else np.int16 if len(categories) < 32767 else np.int32
    )
    return pd.Categorical.from_codes(
        np_codes.astype(code_type, copy=False),
        categories=pd.Index(categories, dtype="str"),
    )


def _strings(array: pa.Array) -> pd.Series[str]:
    return pd.Series(array.to_pandas(), dtype="str")


def _times(array: pa.Array) -> pd.Series[pd.Timestamp]:
    return pd.Series(array.to_pandas())


def _ints(array: pa.Array) -> pd.Series[int]:
    values = pd.Int64Dtype().__from_arrow__(array)  # type: ignore[attr-defined]
    return pd.Series(values, dtype="Int64")


def _floats(array: pa.Array) -> pd.Series[float]:
    values = pd.Float64Dtype().__from_arrow__(array)  # type: ignore[attr-defined]
    return pd.Series(values, dtype="Float64")


def _lists(array: pa.Array) -> pd.Series[Any]:
    return pd.Series(pd.arrays.ArrowExtensionArray(array))


def _accounts_pandas(accounts: pa.StructArray) -> pd.DataFrame:
    connection = accounts.field("connection")
    pay = accounts.field("pay_distribution")
    pay_error = pc.coalesce(pay.field("error_code"), pay.field("error"))
    columns: dict[str, Any] = {
        "id": _strings(accounts.field("id")),
        "user": _strings(accounts.field("user")),
        "link_item": _categorical(accounts.field("link_item")),
        "item": _categorical(accounts.field("item")),
        "source": _categorical(accounts.field("source")),
        "employers": _lists(accounts.field("employers")),
        "created_at": _times(accounts.field("created_at")),
        "updated_at": _times(accounts.field("updated_at")),
        "was_connected": accounts.field("was_connected")
        .fill_null(False)
        .to_numpy(zero_copy_only=False),
        "connection_status": _categorical(connection.field("status"), CONNECTION_STATUSES),
        "connection_error_code": _categorical(
            connection.field("error_code"), CONNECTION_ERROR_CODES
        ),
        "connection_error_message": _categorical(connection.field("error_message")),
        "connection_updated_at": _times(connection.field("updated_at")),
        "pay_distribution_status": _categorical(pay.field("status"), PAY_DISTRIBUTION_STATUSES),
        "pay_distribution_error_code": _categorical(pay_error),
        "pay_distribution_error_message": _categorical(pay.field("error_message")),
        "pay_distribution_updated_at": _times(pay.field("updated_at")),
    }
    return pd.DataFrame(columns, columns=list(ACCOUNT_COLUMNS))


def _availability_pandas(accounts: pa.StructArray) -> pd.DataFrame:
    availability = accounts.field("availability")
    n = len(accounts)
    rows: list[np.ndarray[Any, Any]] = []
    parts: list[pa.Array] = []
    codes: list[np.ndarray[Any, Any]] = []
    for code, resource in enumerate(RESOURCES):
        child = availability.field(resource)
        # A resource is present when the availability object and its entry are both non-null.
        valid = pc.and_(child.is_valid(), availability.is_valid()) if n else child.is_valid()
        index = np.flatnonzero(valid.to_numpy(zero_copy_only=False))
        if not len(index):
            continue
        rows.append(index)
        parts.append(child.take(pa.array(index)))
        codes.append(np.full(len(index), code, dtype=np.int8))
    if rows:
        row = np.concatenate(rows)
        order = np.lexsort((np.concatenate(codes), row))
        row = row[order]
        stacked = pa.concat_arrays(parts).take(pa.array(order))
        resource_codes = np.concatenate(codes)[order]
    else:
        row = np.empty(0, dtype=np.int64)
        stacked = pa.array([], type=_RESOURCE)
        resource_codes = np.empty(0, dtype=np.int8)
    taken = pa.array(row, type=pa.int64())
    available_from = stacked.field("available_from")
    available_to = stacked.field("available_to")
    window = pc.divide(
        pc.cast(pc.subtract(available_to, available_from), pa.int64()).cast(pa.float64()),
        86_400_000_000.0,
    )
    columns: dict[str, Any] = {
        "account": _strings(accounts.field("id").take(taken)),
        "user": _strings(accounts.field("user").take(taken)),
        "resource": pd.Categorical.from_codes(
            resource_codes, categories=pd.Index(list(RESOURCES), dtype="str")
        ),
        "status": _categorical(stacked.field("status"), AVAILABILITY_STATUSES),
        "updated_at": _times(stacked.field("updated_at")),
        "available_count": _ints(stacked.field("available_count")),
        "available_from": _times(available_from),
        "available_to": _times(available_to),
        "window_days": _floats(window),
        "files_count": _ints(stacked.field("files_count")),
        "in_progress_count": _ints(stacked.field("in_progress_count")),
    }
    return pd.DataFrame(columns, columns=list(AVAILABILITY_COLUMNS))
