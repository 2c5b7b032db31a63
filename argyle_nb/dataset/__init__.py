"""Portfolios beyond memory: a Parquet dataset written page batch by page batch, and the
analyses run on it in DuckDB.

``client.export(path)`` (or ``argyle-nb export PATH``) writes the dataset;
:class:`Dataset` opens it; :func:`metadata_groups`, :func:`connection_status_distribution`
and :func:`availability_windows` run the cohort, connection and availability analyses on
it in DuckDB, equal to the pandas ones (:mod:`argyle_nb.analysis`) on the same data.
"""

from __future__ import annotations

from argyle_nb.dataset._analyses import (
    availability_windows,
    connection_status_distribution,
    metadata_groups,
)
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
    "availability_windows",
    "connection_status_distribution",
    "metadata_groups",
]
