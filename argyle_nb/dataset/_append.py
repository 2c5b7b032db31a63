"""Appending an export's rows to a Delta table of the snapshot store, and the catalogue
row that commits a snapshot (:mod:`argyle_nb.dataset._snapshots`).

In a folder, DuckDB writes the rows as one Parquet file of the export's partition (memory
bounded by DuckDB's limit), which one Delta commit adds; on object storage delta-rs
writes them, a few files of bounded size.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Mapping
from typing import Any, Final

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from argyle_nb.dataset._changes import EXPORT
from argyle_nb.dataset._tables import DatasetError

__all__ = ["CONFIGURATION", "append", "append_row"]

#: The size of the data files written (delta-rs holds one in memory while it writes it).
_FILE_BYTES: Final = 32 << 20
#: Rows per row group of the data files.
_GROUP_ROWS: Final = 131_072
#: Rows per batch streamed from DuckDB into a table.
_BATCH_ROWS: Final = 65_536
#: Each table is created to write a checkpoint of its log every 10 commits (Delta's
#: default: 100): opening a table reads its last checkpoint and the commits since, not
#: one file per export (a store's tables take a commit or more a day; unchecked, each
#: opened 3-4 times slower after 30 exports).
CONFIGURATION: Final = {"delta.checkpointInterval": "10"}


def append(root: str, db: Any, rel: Any, export: str, options: Mapping[str, str]) -> None:
    """Append ``rel``'s rows (a relation of ``db``) to the Delta table at ``root`` as
    ``export``'s (its partition); ``options``: deltalake's storage options."""
    try:
        if "://" in root:
            # On object storage delta-rs writes: it holds a file's rows in memory (and
            # the export's id on each of them), so the files are kept small.
            from deltalake import WriterProperties, write_deltalake

            tagged = db.sql(f"select *, $export as {EXPORT} from rel", params={"export": export})
            write_deltalake(
                root,
                tagged.to_arrow_reader(_BATCH_ROWS),
                mode="append",
                partition_by=[EXPORT],
                schema_mode="merge",
                storage_options=dict(options) or None,
                configuration=CONFIGURATION,
                target_file_size=_FILE_BYTES,
                writer_properties=WriterProperties(max_row_group_size=_GROUP_ROWS),
            )
        else:
            _append_file(root, rel, export)
    except DatasetError:
        raise
    except Exception as exc:  # deltalake raises its own, Arrow, DuckDB and OS errors
        raise DatasetError(f"{root}: could not write ({exc})") from None


def _append_file(root: str, rel: Any, export: str) -> None:
    """In a folder, DuckDB streams the rows into one Parquet file of the export's
    partition (memory bounded by its limit, whatever the rows), then one Delta commit
    adds the file (and the columns the table lacks)."""
    from deltalake import DeltaTable, Field
    from deltalake.transaction import AddAction

    sub = f"{EXPORT}={export}"
    file = os.path.join(root, sub, f"part-{secrets.token_hex(8)}.parquet")
    os.makedirs(os.path.dirname(file), exist_ok=True)
    rel.write_parquet(file, row_group_size=_GROUP_ROWS)
    footer = pq.read_metadata(file)
    fields = [f.with_nullable(True) for f in footer.schema.to_arrow_schema()]
    if not DeltaTable.is_deltatable(root):
        schema = pa.schema([*fields, pa.field(EXPORT, pa.string())])
        DeltaTable.create(
            root,
            schema=schema,
            partition_by=[EXPORT],
            mode="ignore",
            configuration=CONFIGURATION,
        )
    table = DeltaTable(root)
    have = set(pa.schema(table.schema().to_arrow()).names)
    new = [Field.from_arrow(f) for f in fields if f.name not in have]
    if new:  # a column the earlier exports did not have (a new status, say)
        table.alter.add_columns(new)
    add = AddAction(
        path=f"{sub}/{os.path.basename(file)}",
        size=os.path.getsize(file),
        partition_values={EXPORT: export},
        modification_time=int(time.time() * 1000),
        data_change=True,
        stats=orjson.dumps({"numRecords": footer.num_rows}).decode(),
    )
    table.create_write_transaction(
        [add], mode="append", schema=table.schema(), partition_by=[EXPORT]
    )


def append_row(root: str, row: pa.Table, options: Mapping[str, str]) -> None:
    """Append the catalogue's row of a snapshot to the catalogue at ``root`` (the commit
    that makes the snapshot exist)."""
    from deltalake import write_deltalake

    try:
        write_deltalake(
            root,
            row,
            mode="append",
            schema_mode="merge",
            storage_options=dict(options) or None,
            configuration=CONFIGURATION,
        )
    except Exception as exc:  # deltalake raises its own, Arrow and OS errors
        raise DatasetError(f"{root}: could not write ({exc})") from None
