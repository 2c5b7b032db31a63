"""Portfolios beyond memory: a Parquet dataset written page batch by page batch, and the
analyses run on it in DuckDB.

``client.export(path)`` (or ``argyle-nb export PATH``) writes the dataset;
:class:`Dataset` opens it; :func:`metadata_groups`, :func:`connection_status_distribution`
and :func:`availability_windows` run the cohort, connection and availability analyses on
it in DuckDB, equal to the pandas ones (:mod:`argyle_nb.analysis`) on the same data;
:func:`select_accounts`, :func:`top_error_codes`, :func:`metadata_key_summary`,
:func:`compare_cohorts`, :func:`users_in_group`, :func:`availability_timeline` and
:func:`scan_counts` are what the explorers need to show a dataset.
"""

from __future__ import annotations

from argyle_nb.dataset._availability import (
    availability_timeline,
    availability_windows,
    scan_counts,
    select_availability,
)
from argyle_nb.dataset._cohorts import (
    compare_cohorts,
    metadata_groups,
    metadata_key_summary,
    users_in_group,
)
from argyle_nb.dataset._connection import (
    connection_status_distribution,
    select_accounts,
    top_error_codes,
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
    "availability_timeline",
    "availability_windows",
    "compare_cohorts",
    "connection_status_distribution",
    "metadata_groups",
    "metadata_key_summary",
    "scan_counts",
    "select_accounts",
    "select_availability",
    "top_error_codes",
    "users_in_group",
]
