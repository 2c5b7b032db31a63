"""Portfolios beyond memory: a Parquet dataset written page batch by page batch, opened
in DuckDB.

``client.export(path)`` (or ``argyle-nb export PATH``) writes the dataset; :class:`Dataset`
opens it (or puts frames in memory behind the same object: :meth:`Dataset.from_frames`).
Every analysis of :mod:`argyle_nb.analysis` takes a dataset where it takes frames:
``analysis.metadata_groups(ds, "customer group")``. This package holds the storage only:
writing, reading and the manifest (and
the facts an export derives from its records for the analyses: :class:`Fact`).
"""

from __future__ import annotations

from argyle_nb.dataset._manifest import DatasetError, Fact, Manifest, Part
from argyle_nb.dataset._read import Dataset
from argyle_nb.dataset._write import BATCH_PAGES, DatasetWriter, ServedPage

__all__ = [
    "BATCH_PAGES",
    "Dataset",
    "DatasetError",
    "DatasetWriter",
    "Fact",
    "Manifest",
    "Part",
    "ServedPage",
]
