"""Parquet export: :func:`to_parquet` and :func:`read_parquet`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from os import PathLike
from typing import Any

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from argyle_nb.frames._errors import FrameError

# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------


def _arrow_table(frame: pd.DataFrame) -> pa.Table:
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype == object:
            # Metadata of several JSON shapes cannot be one Arrow type: store it as JSON text.
            frame[column] = pd.Series(
                [None if _is_missing(v) else orjson.dumps(v).decode() for v in frame[column]],
                index=frame.index,
                dtype="str",
            )
    table = pa.Table.from_pandas(frame, preserve_index=False)
    # pandas cannot name nested Arrow dtypes in its Parquet metadata
    # ("list<item: string>[pyarrow]"): record them as object so every reader opens the
    # file, and let read_parquet() map the Arrow lists back to ArrowDtype.
    meta = orjson.loads(table.schema.metadata[b"pandas"])
    for entry in meta["columns"]:
        if str(entry.get("numpy_type", "")).startswith(("list<", "large_list<", "struct<")):
            entry["numpy_type"] = "object"
    extra = {b"pandas": orjson.dumps(meta)}
    if frame.attrs:
        # pandas' own key: pandas.read_parquet and read_parquet() restore df.attrs (the
        # provenance of a fetched table) from it. Values that are not JSON are left out.
        extra[b"PANDAS_ATTRS"] = orjson.dumps(frame.attrs, default=lambda value: None)
    return table.replace_schema_metadata({**table.schema.metadata, **extra})


def _is_missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def to_parquet(
    frames: Mapping[str, pd.DataFrame] | pd.DataFrame,
    path: str | PathLike[str],
) -> list[str]:
    """Write frames as Arrow-typed Parquet that pandas, DuckDB, polars and dask read back.

    One frame goes to ``path`` itself; a mapping of frames goes to ``path/<name>.parquet``
    (the directory is created). Timestamps stay UTC microseconds, Categoricals become
    Parquet dictionary columns, lists stay lists; the pandas metadata in the file
    restores the dtypes when pandas reads it back. Metadata columns of ``object`` dtype (values of
    mixed JSON shapes) are written as JSON text. ``df.attrs`` (a fetched table's
    provenance) is stored too, and comes back with the frame. Returns the files written.

    Examples:
        >>> import tempfile, pathlib
        >>> from argyle_nb.frames import accounts_frame
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     written = to_parquet({"accounts": accounts_frame(b"[]")}, tmp)
        ...     [pathlib.Path(p).name for p in written]
        ['accounts.parquet']
    """
    from pathlib import Path

    target = Path(path)
    if isinstance(frames, pd.DataFrame):
        target.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(_arrow_table(frames), target)
        return [str(target)]
    target.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    for name, frame in frames.items():
        file = target / f"{name}.parquet"
        pq.write_table(_arrow_table(frame), file)
        written.append(str(file))
    return written


def _nested_as_arrow(data_type: pa.DataType) -> pd.ArrowDtype | None:
    nested = pa.types.is_list(data_type) or pa.types.is_large_list(data_type)
    return pd.ArrowDtype(data_type) if nested else None


def read_parquet(path: str | PathLike[str]) -> pd.DataFrame | dict[str, pd.DataFrame]:
    """Read what :func:`to_parquet` wrote back into the same frames, dtypes included.

    ``pandas.read_parquet`` reads the files too (list columns then come back as object
    columns of arrays); this also restores them as Arrow lists. A directory gives a
    dict of frames by file stem.

    Examples:
        >>> import tempfile, pathlib
        >>> from argyle_nb.frames import accounts_frame
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = to_parquet(accounts_frame(b"[]"), pathlib.Path(tmp) / "a.parquet")
        ...     read_parquet(pathlib.Path(tmp) / "a.parquet").shape
        (0, 17)
    """
    from pathlib import Path

    if not isinstance(path, str | PathLike):
        raise FrameError(f"read_parquet needs a path, not {type(path).__name__}")
    target = Path(path)
    if not target.exists():
        raise FrameError(f"read_parquet: there is no {target}")
    if target.is_dir():
        return {file.stem: _read_one(file) for file in sorted(target.glob("*.parquet"))}
    return _read_one(target)


def _read_one(file: PathLike[str]) -> pd.DataFrame:
    try:
        table = pq.read_table(file)
        frame: pd.DataFrame = table.to_pandas(types_mapper=_nested_as_arrow)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise FrameError(f"{os.fspath(file)} is not a Parquet file of frames: {exc}") from None
    attrs = (table.schema.metadata or {}).get(b"PANDAS_ATTRS")
    if attrs:
        try:
            frame.attrs = orjson.loads(attrs)
        except orjson.JSONDecodeError:
            frame.attrs = {}  # damaged provenance: the rows themselves are still good
    for column in frame.columns:
        dtype = frame[column].dtype
        # An empty dictionary comes back with object categories: the frames use str.
        if (
            isinstance(dtype, pd.CategoricalDtype)
            and dtype.categories.dtype == object
            and all(isinstance(c, str) for c in dtype.categories)
        ):
            frame[column] = frame[column].cat.set_categories(
                pd.Index(list(dtype.categories), dtype="str")
            )
    return frame
