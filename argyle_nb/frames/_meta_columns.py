"""The metadata columns of :func:`~argyle_nb.frames.users_frame`: flattened values kept a
batch at a time (:class:`_MetaPart`) and typed into one column per key, numbers exact."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from argyle_nb.envelope import ExactNumber
from argyle_nb.frames._schema import _STR


def _flatten(value: Mapping[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key, item in value.items():
        if type(item) is dict and item:  # decoded JSON: plain dicts (no ABC check per value)
            _flatten(item, f"{prefix}.{key}", out)
        else:
            out[f"{prefix}.{key}"] = item


@dataclass(frozen=True)
class _MetaPart:
    """One batch's values of one metadata key: the users' rows, and the values as Arrow
    (of one ``kind``) when they agree and are many, else as Python objects (a key that
    few users carry costs no Arrow array: 40,000 such keys stay fast)."""

    kind: str  # "str", "bool", "int", "float" (ints and floats), "none" or "object"
    positions: np.ndarray[Any, np.dtype[np.int64]] | list[int]
    values: pa.Array | list[Any]
    #: Users that carry the key (a part over a whole batch holds None for the others).
    carried: int

    @classmethod
    def of(
        cls,
        positions: np.ndarray[Any, np.dtype[np.int64]] | list[int],
        values: list[Any],
        carried: int | None = None,
    ) -> _MetaPart:
        carried = len(values) if carried is None else carried
        kinds = {type(v) for v in values if v is not None}
        if ExactNumber in kinds or kinds == {int, float}:  # (big integers alone fail below)
            values, kinds = _exact(values, kinds)
        kind = (
            "none"
            if not kinds
            else _KINDS.get(frozenset(kinds), "float" if kinds <= {int, float} else "object")
        )
        if kind in _META_ARROW and len(values) >= _ARROW_FROM:
            try:
                array = pa.array(values, type=_META_ARROW[kind])
                return cls(kind, np.asarray(positions, dtype=np.int64), array, carried)
            except (pa.ArrowInvalid, OverflowError):  # an integer beyond 64 bits
                kind = "object"
        return cls(kind, positions, values, carried)


#: A batch's values of a key are kept as Arrow from this many on.
_ARROW_FROM = 64


_KINDS = {frozenset({str}): "str", frozenset({bool}): "bool", frozenset({int}): "int"}
_META_ARROW = {"str": _STR, "bool": pa.bool_(), "int": pa.int64(), "float": pa.float64()}
_META_DTYPES: dict[str, Any] = {
    "bool": pd.BooleanDtype(),
    "int": pd.Int64Dtype(),
    "float": pd.Float64Dtype(),
}


def _meta_parts_column(parts: list[_MetaPart], rows: int) -> pd.Series[Any]:
    """One metadata column over ``rows`` users from its batches' parts: typed when every
    part agrees (ints with floats make floats), as :func:`_meta_column` types it."""
    kinds = {part.kind for part in parts} - {"none"}
    kind = kinds.pop() if len(kinds) == 1 else "float" if kinds == {"int", "float"} else None
    if kind not in _META_ARROW:  # mixed kinds, or no value at all: as Python objects
        full: list[Any] = [None] * rows
        for part in parts:
            values = part.values if isinstance(part.values, list) else part.values.to_pylist()
            positions = part.positions
            at_rows = positions if isinstance(positions, list) else positions.tolist()
            for at, value in zip(at_rows, values, strict=True):
                full[at] = value
        return _meta_column(full)
    arrow_type = _META_ARROW[kind]
    try:
        values = pa.chunked_array(
            [
                pa.nulls(len(p.positions), arrow_type)
                if p.kind == "none"
                else pa.array(p.values).cast(arrow_type)
                for p in parts
            ],
            type=arrow_type,
        ).combine_chunks()
    except (pa.ArrowInvalid, OverflowError):  # an integer beyond 64 bits: as objects
        return _meta_parts_column([replace(p, kind="object") for p in parts], rows)
    index = np.full(rows, -1, dtype=np.int64)
    index[np.concatenate([np.asarray(p.positions, dtype=np.int64) for p in parts])] = np.arange(
        len(values)
    )
    taken = values.take(pa.array(index, mask=index < 0))
    if kind == "str":
        return pd.Series(pd.array(taken, dtype="str"))
    dtype = _META_DTYPES[kind]
    series: pd.Series[Any] = pd.Series(dtype.__from_arrow__(taken), dtype=dtype)
    return series


#: Integers a double holds exactly (a column of integers and floats is one of doubles).
_DOUBLE_INT = 2**53


def _exact(values: list[Any], kinds: set[type]) -> tuple[list[Any], set[type]]:
    """``values`` with every number a column would change as its exact text: an
    :class:`~argyle_nb.envelope.ExactNumber` and an integer outside int64 become ``str``;
    and their kinds. Integers beyond 2**53 with floats make ``object`` (not doubles)."""
    if ExactNumber in kinds or any(type(v) is int and not -(2**63) <= v < 2**63 for v in values):
        values = [
            str.__str__(v)
            if type(v) is ExactNumber
            else str(v)
            if type(v) is int and not -(2**63) <= v < 2**63
            else v
            for v in values
        ]
        kinds = {type(v) for v in values if v is not None}
    if kinds == {int, float} and any(type(v) is int and abs(v) > _DOUBLE_INT for v in values):
        kinds = kinds | {object}  # a double would round them: kept as they are
    return values, kinds


def _meta_column(values: list[Any]) -> pd.Series[Any]:
    present = [v for v in values if v is not None]
    kinds = {type(v) for v in present}
    if ExactNumber in kinds or int in kinds:
        values, kinds = _exact(values, kinds)
    if kinds == {str}:
        return pd.Series(values, dtype="str")
    if kinds == {bool}:
        return pd.Series(values, dtype="boolean")
    if kinds and kinds <= {int}:
        return pd.Series(values, dtype="Int64")
    if kinds and kinds <= {int, float}:
        return pd.Series(values, dtype="Float64")
    return pd.Series(values, dtype=object)
