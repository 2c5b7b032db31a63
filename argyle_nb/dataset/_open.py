"""What a :class:`~argyle_nb.dataset.Dataset` stands on: its DuckDB database, its frames as
DuckDB scans them, and the names of its views."""

from __future__ import annotations

import functools
import itertools
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

#: Numbers of the views of relations (unique within the process).
_VIEWS = itertools.count()


def _drop_views(db: Any, names: list[str]) -> None:
    """Drop the views ``names`` (a selection's, when it is let go)."""
    import duckdb

    for name in names:
        try:
            db.execute(f"drop view if exists {name}")
        except duckdb.Error:  # the database was closed first: nothing left to drop
            return


#: The DuckDB database every dataset over frames counts in: one per process, each
#: dataset in a cursor of its own (its frames and tables belong to its cursor alone).
#: A database costs 15-35 ms to open, a cursor nothing.
_SHARED: list[Any] = []


def _shared() -> Any:
    if not _SHARED:
        _SHARED.append(_connect(None, None))
    return _SHARED[0]


def _connect(memory_limit: str | None, threads: int | None) -> Any:
    """A DuckDB database in memory, spilling to the temporary folder past its limit."""
    import tempfile

    import duckdb

    config: dict[str, Any] = {"temp_directory": tempfile.gettempdir()}
    if memory_limit is not None:
        config["memory_limit"] = memory_limit
    if threads is not None:
        config["threads"] = int(threads)
    db = duckdb.connect(config=config)
    # A snapshot's files never change: their footers are read once, not at every query
    # (a selection's views and each question of an explorer read them again otherwise).
    db.execute("set parquet_metadata_cache = true")
    return db


#: Rows per batch of a frame's Arrow table: DuckDB scans the batches on every core.
_BATCH_ROWS = 16_384


def _scannable(frame: pd.DataFrame) -> pa.Table:
    """A frame as DuckDB scans it fastest, with the row positions ``_seen`` (the first
    record of a user seen twice wins): an Arrow table in batches (its text columns not
    copied), the types an export's Parquet has (categories as text). A column of
    Python objects Arrow cannot hold as one type (numbers and text mixed, in a column a
    user added) is read as text."""
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False, nthreads=1)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        mixed = {
            column: frame[column].map(lambda v: v if v is None or v != v else str(v))
            for column in frame.columns
            if frame[column].dtype == object
        }
        table = pa.Table.from_pandas(frame.assign(**mixed), preserve_index=False, nthreads=1)
    seen = pa.array(np.arange(len(frame), dtype="int64"))
    table = table.append_column("_seen", seen)
    return pa.Table.from_batches(table.to_batches(max_chunksize=_BATCH_ROWS), schema=table.schema)


@functools.cache  # made once a process: DuckDB only reads it
def _empty(table: str) -> pa.Table | pd.DataFrame:
    """An empty table of each kind, with the columns and types the frames give it (a list
    with no records still has its columns)."""
    from argyle_nb import frames
    from argyle_nb.quarantine import rejected_frame

    if table == "users":
        out = frames.users_frame(b"[]")
    elif table == "accounts":
        out = frames.accounts_frame(b"[]")
    elif table == "availability":
        out = frames.availability_frame(b"[]")
    else:
        return rejected_frame([])
    return _scannable(out)
