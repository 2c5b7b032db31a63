"""A snapshot's facts: tables derived from its records as it is taken, stored with them.

What every analysis of a dataset starts from (what every user did, the metadata keys'
sizes...) costs about a second for a million users. An export computes it once, after
its records are staged and before the snapshot is added, with the queries the analyses
would run (:func:`~argyle_nb.analysis.facts`: one implementation), and the store keeps
each result with the snapshot (:attr:`~argyle_nb.dataset.Snapshot.facts`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

import pyarrow.parquet as pq

from argyle_nb.dataset._read import Dataset
from argyle_nb.dataset._tables import DatasetError

#: ``derive(ds)`` -> the facts of the export ``ds``: DuckDB relations by name.
Derive = Callable[[Dataset], Mapping[str, Any]]

#: The most memory DuckDB takes to derive the facts (past it, it spills to disk): an
#: export of a million accounts runs under 1 GB.
MEMORY: Final = "400MB"
#: Rows per batch streamed from DuckDB into a fact's file.
_BATCH: Final = 65_536
#: What a fact may be called (it names a table of the store).
_NAME: Final = re.compile(r"_?[a-z][a-z0-9_]{0,63}")


def write_facts(folder: Path, staged: Mapping[str, list[str]], derive: Derive) -> dict[str, str]:
    """Derive the facts of the export staged in ``folder`` (its files by table,
    ``staged``) and write each as a Parquet file there; their files by name."""
    ds = Dataset._staged(dict(staged), MEMORY)
    try:
        (folder / "facts").mkdir(exist_ok=True)
        written = {}
        for name, rel in derive(ds).items():
            if not _NAME.fullmatch(name):
                raise DatasetError(f"{name!r} cannot name a fact (lower-case letters, digits, _)")
            file = folder / "facts" / f"{name}.parquet"
            reader = rel.to_arrow_reader(_BATCH)
            with pq.ParquetWriter(file, reader.schema) as out:
                for batch in reader:
                    out.write_batch(batch)
            written[name] = str(file)
        return written
    finally:
        ds.db.close()
