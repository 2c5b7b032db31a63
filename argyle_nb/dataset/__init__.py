"""Portfolios beyond memory: a Parquet dataset written page batch by page batch, and the
analyses run on it in DuckDB.

``client.export(path)`` (or ``argyle-nb export PATH``) writes the dataset;
:class:`Dataset` opens it; :mod:`argyle_nb.dataset.analysis` runs the cohort, connection
and availability analyses on it, equal to the pandas ones on the same data.
"""

from __future__ import annotations

from argyle_nb.dataset._manifest import DatasetError, Manifest, Part
from argyle_nb.dataset._read import Dataset
from argyle_nb.dataset._write import BATCH_PAGES, DatasetWriter, ServedPage

__all__ = [
    "BATCH_PAGES",
    "Dataset",
    "DatasetError",
    "DatasetWriter",
    "Manifest",
    "Part",
    "ServedPage",
]
