"""Portfolios beyond memory and beyond one moment: every export one more snapshot of a
Delta Lake store, written page batch by page batch, opened in DuckDB.

``client.export(path)`` (or ``argyle-nb export PATH``) adds a snapshot to the dataset at
``path`` (a folder or an ``s3://`` URL; only what changed since the last is written);
:class:`Dataset` opens the latest, or ``Dataset(path, snapshot=0)``, or
``Dataset(path, as_of=when)``, and ``Dataset(path).snapshots`` lists them (or puts
frames in memory behind the same object: :meth:`Dataset.from_frames`). Every analysis of
:mod:`argyle_nb.analysis` takes a dataset where it takes frames:
``analysis.metadata_groups(ds, "customer group")``. This package holds the storage only:
writing and reading snapshots (and the facts an export derives from its records for the
analyses, stored with each snapshot: :attr:`Snapshot.facts`).
"""

from __future__ import annotations

from argyle_nb.dataset._read import Dataset
from argyle_nb.dataset._snapshots import Snapshot
from argyle_nb.dataset._tables import DatasetError
from argyle_nb.dataset._write import BATCH_PAGES, DatasetWriter, ServedPage

__all__ = [
    "BATCH_PAGES",
    "Dataset",
    "DatasetError",
    "DatasetWriter",
    "ServedPage",
    "Snapshot",
]
