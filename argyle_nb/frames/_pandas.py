"""Arrow to pandas, a batch of pages at a time.

Each batch's columns are kept as compact Arrow chunks (:class:`Columns`: strings stay
strings, Categoricals are dictionary-encoded per batch); the pandas columns are made once,
column by column, at the end, and each column's chunks are let go as soon as it is made.
Strings and lists stay Arrow-backed (no copy); a Categorical's codes are mapped from each
chunk's dictionary onto categories shared by the whole frame.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from argyle_nb.frames._schema import _RESOURCE, _STR, _TS, ACCOUNT_COLUMNS, AVAILABILITY_COLUMNS
from argyle_nb.models import (
    AVAILABILITY_STATUSES,
    CONNECTION_ERROR_CODES,
    CONNECTION_STATUSES,
    PAY_DISTRIBUTION_STATUSES,
    RESOURCES,
)

Kind = Literal["str", "category", "list", "time", "bool", "Int64", "Float64", "resource"]


@dataclass(frozen=True)
class Column:
    """How a frame's column is kept per batch and made pandas: its kind, the documented
    values a Categorical starts from, and the Arrow type of its chunks."""

    kind: Kind
    known: tuple[str, ...] = ()

    @property
    def arrow_type(self) -> pa.DataType:
        return _ARROW_TYPES[self.kind]


_ARROW_TYPES: dict[str, pa.DataType] = {
    "str": _STR,
    "category": pa.dictionary(pa.int32(), _STR),
    "list": pa.list_(_STR),
    "time": _TS,
    "bool": pa.bool_(),
    "Int64": pa.int64(),
    "Float64": pa.float64(),
    "resource": pa.int8(),
}

_CATEGORY = Column("category")

#: The columns of :func:`~argyle_nb.frames.accounts_frame`, by kind.
ACCOUNT_KINDS: dict[str, Column] = {
    "id": Column("str"),
    "user": Column("str"),
    "link_item": _CATEGORY,
    "item": _CATEGORY,
    "source": _CATEGORY,
    "employers": Column("list"),
    "created_at": Column("time"),
    "updated_at": Column("time"),
    "was_connected": Column("bool"),
    "connection_status": Column("category", CONNECTION_STATUSES),
    "connection_error_code": Column("category", CONNECTION_ERROR_CODES),
    "connection_error_message": _CATEGORY,
    "connection_updated_at": Column("time"),
    "pay_distribution_status": Column("category", PAY_DISTRIBUTION_STATUSES),
    "pay_distribution_error_code": _CATEGORY,
    "pay_distribution_error_message": _CATEGORY,
    "pay_distribution_updated_at": Column("time"),
}
#: The columns of :func:`~argyle_nb.frames.availability_frame`, by kind.
AVAILABILITY_KINDS: dict[str, Column] = {
    "account": Column("str"),
    "user": Column("str"),
    "resource": Column("resource"),
    "status": Column("category", AVAILABILITY_STATUSES),
    "updated_at": Column("time"),
    "available_count": Column("Int64"),
    "available_from": Column("time"),
    "available_to": Column("time"),
    "window_days": Column("Float64"),
    "files_count": Column("Int64"),
    "in_progress_count": Column("Int64"),
}
assert tuple(ACCOUNT_KINDS) == ACCOUNT_COLUMNS
assert tuple(AVAILABILITY_KINDS) == AVAILABILITY_COLUMNS


class Columns:
    """The chunks of one frame's columns, a batch at a time; :meth:`frame` makes it pandas.

    Examples:
        >>> import pyarrow as pa
        >>> columns = Columns({"status": Column("category", ("connected",))})
        >>> columns.add({"status": pa.array(["error", None])})
        >>> columns.add({"status": pa.array(["connected"])})
        >>> columns.rows, columns.frame()["status"].tolist()
        (3, ['error', nan, 'connected'])
    """

    def __init__(self, kinds: Mapping[str, Column]) -> None:
        self.kinds = dict(kinds)
        self.rows = 0
        self._parts: dict[str, list[pa.Array]] = {name: [] for name in kinds}

    def add(self, batch: Mapping[str, pa.Array]) -> None:
        """One batch's columns (Arrow arrays of equal length, one per column)."""
        lengths = {len(batch[name]) for name in self.kinds}
        if len(lengths) > 1:  # pragma: no cover - a bug of the caller, not of the data
            raise ValueError(f"a batch's columns differ in length: {sorted(lengths)}")
        for name, column in self.kinds.items():
            array = batch[name]
            if isinstance(array, pa.ChunkedArray):
                array = array.combine_chunks()
            if column.kind == "category" and not pa.types.is_dictionary(array.type):
                array = pc.dictionary_encode(array)
            self._parts[name].append(array)
        self.rows += lengths.pop() if lengths else 0

    def frame(self) -> pd.DataFrame:
        """The pandas frame of every batch added (the chunks are let go, column by column)."""
        columns: dict[str, Any] = {}
        for name, column in self.kinds.items():
            parts = self._parts.pop(name)
            columns[name] = _pandas(column, pa.chunked_array(parts, type=column.arrow_type))
            del parts
            pa.default_memory_pool().release_unused()  # what the column's chunks held
        self._parts = {name: [] for name in self.kinds}
        self.rows = 0
        return pd.DataFrame(columns, columns=list(self.kinds), copy=False)


def _pandas(column: Column, chunks: pa.ChunkedArray) -> Any:
    kind = column.kind
    if kind == "str":
        return pd.Series(pd.array(chunks, dtype="str"))
    if kind == "category":
        return _categorical(chunks, column.known)
    if kind == "list":
        return pd.Series(pd.arrays.ArrowExtensionArray(chunks))
    if kind == "time":
        return pd.Series(chunks.to_pandas())
    if kind == "bool":
        return chunks.fill_null(False).to_numpy()
    if kind in ("Int64", "Float64"):
        return _masked(chunks, kind)
    codes: np.ndarray[Any, np.dtype[np.int8]] = (
        chunks.to_numpy() if len(chunks) else np.empty(0, dtype=np.int8)
    )
    return pd.Categorical.from_codes(codes, categories=pd.Index(list(RESOURCES), dtype="str"))


def _masked(chunks: pa.ChunkedArray, kind: str) -> pd.Series[Any]:
    """Int64 or Float64, filled chunk by chunk (``__from_arrow__`` would hold a copy of
    every chunk at once)."""
    values: np.ndarray[Any, Any] = np.empty(
        len(chunks), dtype=np.int64 if kind == "Int64" else np.float64
    )
    mask = np.empty(len(chunks), dtype=bool)
    at = 0
    for chunk in chunks.chunks:
        end = at + len(chunk)
        values[at:end] = chunk.fill_null(0).to_numpy(zero_copy_only=False)
        mask[at:end] = chunk.is_null().to_numpy(zero_copy_only=False)
        at = end
    if kind == "Int64":
        return pd.Series(pd.arrays.IntegerArray(values, mask), dtype="Int64", copy=False)
    return pd.Series(pd.arrays.FloatingArray(values, mask), dtype="Float64", copy=False)


def _categorical(chunks: pa.ChunkedArray, known: Sequence[str] = ()) -> pd.Categorical:
    """Dictionary chunks -> Categorical over ``known`` then the unseen values, sorted."""
    seen: set[str] = set()
    for chunk in chunks.chunks:
        seen.update(v for v in chunk.dictionary.to_pylist() if v is not None)
    known_set = set(known)
    categories = [*known, *sorted(v for v in seen if v not in known_set)]
    value_set = pa.array(categories, type=_STR)
    code_type = (
        np.int8 if len(categories) < 127 else np.int16 if len(categories) < 32767 else np.int32
    )
    codes: np.ndarray[Any, np.dtype[np.signedinteger[Any]]] = np.empty(len(chunks), dtype=code_type)
    at = 0
    for chunk in chunks.chunks:
        mapping = pc.index_in(chunk.dictionary, value_set=value_set).fill_null(-1)
        lookup = np.append(mapping.to_numpy(zero_copy_only=False), -1).astype(code_type)
        indices = chunk.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        codes[at : at + len(chunk)] = lookup[indices]  # -1 (null) takes the appended -1
        at += len(chunk)
    return pd.Categorical.from_codes(codes, categories=pd.Index(categories, dtype="str"))


# ---------------------------------------------------------------------------
# One batch of accounts (an Arrow struct array) -> the columns of each frame
# ---------------------------------------------------------------------------


def account_columns(accounts: pa.StructArray) -> dict[str, pa.Array]:
    """The columns of :data:`ACCOUNT_KINDS` of one batch of accounts."""
    connection = accounts.field("connection")
    pay = accounts.field("pay_distribution")
    return {
        "id": accounts.field("id"),
        "user": accounts.field("user"),
        "link_item": accounts.field("link_item"),
        "item": accounts.field("item"),
        "source": accounts.field("source"),
        "employers": accounts.field("employers"),
        "created_at": accounts.field("created_at"),
        "updated_at": accounts.field("updated_at"),
        "was_connected": accounts.field("was_connected"),
        "connection_status": connection.field("status"),
        "connection_error_code": connection.field("error_code"),
        "connection_error_message": connection.field("error_message"),
        "connection_updated_at": connection.field("updated_at"),
        "pay_distribution_status": pay.field("status"),
        "pay_distribution_error_code": pc.coalesce(pay.field("error_code"), pay.field("error")),
        "pay_distribution_error_message": pay.field("error_message"),
        "pay_distribution_updated_at": pay.field("updated_at"),
    }


def availability_columns(accounts: pa.StructArray) -> dict[str, pa.Array]:
    """The columns of :data:`AVAILABILITY_KINDS` of one batch of accounts: a row per
    account and resource present, in the accounts' order, then the resources'."""
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
    return {
        "account": accounts.field("id").take(taken),
        "user": accounts.field("user").take(taken),
        "resource": pa.array(resource_codes, type=pa.int8()),
        "status": stacked.field("status"),
        "updated_at": stacked.field("updated_at"),
        "available_count": stacked.field("available_count"),
        "available_from": available_from,
        "available_to": available_to,
        "window_days": window,
        "files_count": stacked.field("files_count"),
        "in_progress_count": stacked.field("in_progress_count"),
    }
