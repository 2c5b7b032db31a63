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


def _frames_of(
    users: pd.DataFrame | None,
    accounts: pd.DataFrame | None,
    availability: pd.DataFrame | None,
    *,
    by: str,
) -> tuple[dict[str, pa.Table], tuple[str, ...], dict[str, dict[str, Any]]]:
    """The frames of :meth:`~argyle_nb.dataset.Dataset.from_frames` as DuckDB scans them
    (each checked to have its table's columns, named with ``by`` if not), the users'
    metadata keys, and each list's provenance the frames carry."""
    from argyle_nb.dataset._tables import COLUMNS
    from argyle_nb.frames import metadata_keys, require_columns
    from argyle_nb.provenance import ATTRS_KEY

    given = {"users": users, "accounts": accounts, "availability": availability}
    for table, frame in given.items():
        if frame is not None:
            require_columns(frame, COLUMNS[table], by=by, made_by=f"{table}_frame")
    lists: dict[str, dict[str, Any]] = {}
    # Availability was listed from /v1/accounts too: its frame says so without accounts.
    listed = (("/v1/users", users), ("/v1/accounts", accounts), ("/v1/accounts", availability))
    for endpoint, frame in listed:
        said = None if frame is None else frame.attrs.get(ATTRS_KEY)
        if isinstance(said, dict):
            lists.setdefault(endpoint, said)
    frames: dict[str, pa.Table] = {}
    meta_keys: tuple[str, ...] = ()
    if users is not None:
        meta_keys = tuple(metadata_keys(users))
        base = [c for c in users.columns if not str(c).startswith("meta")]
        frames["users"] = _scannable(users[base])
    if accounts is not None:
        frames["accounts"] = _scannable(accounts)
    if availability is not None:
        frames["availability"] = _scannable(availability)
    return frames, meta_keys, lists
