"""A version's facts: tables derived from its records as it is written, stored beside them.

What every analysis of a dataset starts from (what every user did, the metadata keys'
sizes...) costs about a second for a million users. An export computes it once, after
its records are written and before the version is made current, with the queries the
analyses would run (:func:`~argyle_nb.analysis.facts`: one implementation), and stores
each result as ``facts/<name>.parquet``, listed in the manifest (:class:`~argyle_nb.
dataset.Fact`) and checked against its footer when the version is opened.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

import orjson
import pyarrow.parquet as pq

from argyle_nb.dataset._manifest import FACTS, Fact, Manifest
from argyle_nb.dataset._read import Dataset

#: ``derive(ds)`` -> the facts of the version ``ds``: DuckDB relations by name.
Derive = Callable[[Dataset], Mapping[str, Any]]

#: The most memory DuckDB takes to derive the facts (past it, it spills to disk): an
#: export of a million accounts runs under 1 GB.
MEMORY: Final = "400MB"
#: Rows per batch streamed from DuckDB into a fact's file.
_BATCH: Final = 65_536


def write_facts(folder: Path, manifest: Manifest, derive: Derive) -> list[Fact]:
    """Derive the facts of the version being written in ``folder`` and write each as a
    Parquet file there (its footer names the fact and the version); their manifest
    entries."""
    ds = Dataset._being_written(folder, manifest, MEMORY)
    try:
        (folder / FACTS).mkdir(exist_ok=True)
        written = []
        for name, rel in derive(ds).items():
            file = folder / Fact(name=name, rows=0).file  # (checks the name)
            reader = rel.to_arrow_reader(_BATCH)
            said = orjson.dumps({"fact": name, "version": manifest.version})
            schema = reader.schema.with_metadata({b"argyle_nb": said})
            rows = 0
            with pq.ParquetWriter(file, schema) as out:
                for batch in reader:
                    out.write_batch(batch)
                    rows += batch.num_rows
            written.append(Fact(name=name, rows=rows))
        return written
    finally:
        ds.db.close()
