"""Write a portfolio as one more snapshot of a store: pages staged batch by batch as
Parquet, then added to the store (:mod:`argyle_nb.dataset._snapshots`) in one commit.

An export stages its tables in a folder of its own, ``_staging/<stamp>-<pid>-<thread>-
<random>.partial/`` in the store's folder (in a temporary folder for a store on object
storage), one folder per table (``users/``, ``accounts/``, ``availability/``,
``rejected/``) of ``part-NNNNN.parquet`` files, Arrow-typed as :func:`~argyle_nb.frames.
to_parquet` writes them, keeping one batch of pages at a time (:data:`BATCH_PAGES`). Its
commit derives the facts the analyses start from, adds the snapshot (only what changed is
written; the catalogue row last: the snapshot exists whole or not at all) and removes the
staging folder. An interrupted export leaves the store as it was and its ``.partial``
folder, removed by the next export.

Any number of exports may run on one store at once, from threads or processes: each
stages apart, and each commit is Delta Lake's own. A writer holds a lock on its staging
folder's ``_writing`` file (:mod:`argyle_nb.dataset._lock`) while it writes, so another
export clears only folders nobody writes.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import pandas as pd
import pyarrow.parquet as pq

from argyle_nb.dataset._facts import Derive, write_facts
from argyle_nb.dataset._lock import Lock, held_here, lock
from argyle_nb.dataset._snapshots import Snapshot, SnapshotStore
from argyle_nb.dataset._tables import TABLES, DatasetError
from argyle_nb.frames import BATCH_PAGES as FRAMES_BATCH_PAGES
from argyle_nb.frames._parquet import _arrow_table
from argyle_nb.provenance import Provenance, ServedPages
from argyle_nb.quarantine import RejectedRecord, rejected_frame

__all__ = ["BATCH_PAGES", "DatasetWriter", "ListWriter", "ServedPage"]

#: Pages read into one part file (10,000 records at the API's 200 a page).
BATCH_PAGES: Final = FRAMES_BATCH_PAGES
_PARTIAL: Final = ".partial"
#: The folder of a store's exports being staged, and the file its writer holds locked.
STAGING: Final = "_staging"
_WRITING: Final = "_writing"
#: What a store's folder holds: its tables, its catalogue, its facts and its staging.
OURS: Final = frozenset({*TABLES, "snapshots", "facts", STAGING})
#: The lock file of the staging folder (held while an export clears interrupted ones).
_LOCK: Final = ".lock"

#: ``build(bodies, rejected)`` -> the frames of one batch of pages, by table name.
Build = Callable[[list[bytes], list[RejectedRecord]], dict[str, pd.DataFrame]]


@dataclass(frozen=True)
class ServedPage:
    """One page as the writer needs it: its bytes and where and when it was served."""

    raw: bytes
    url: str
    records: int
    from_cache: bool = False
    served_at: datetime | None = None
    expires: datetime | None = None


@dataclass(frozen=True)
class Part:
    """One staged Parquet file: its path in the staging folder, table and rows."""

    file: str
    table: str
    rows: int


def _running(partial: Path) -> bool:
    """Whether the export staging in ``partial``, a folder that holds no lock file (left by
    an argyle_nb that did not lock), still runs: its name is ``<stamp>-<pid>[-...].partial``."""
    pid = partial.name.removesuffix(_PARTIAL).split("-")[1:2]
    if not pid or not pid[0].isdigit() or int(pid[0]) == os.getpid():
        return False
    try:
        os.kill(int(pid[0]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def _refused(path: Path) -> str | None:
    """Why a local ``path`` cannot take snapshots (``None``: it can): something that is
    neither nothing, an empty folder, nor a store (never replaced)."""
    if not (path.exists() or path.is_symlink()):
        return None
    if path.is_symlink() or not path.is_dir():
        what = "a link" if path.is_symlink() else "a file"
        return (
            f"{path} is not an argyle_nb dataset (it is {what}): not replaced; export to a new path"
        )
    if {p.name for p in path.iterdir()} <= OURS:  # a store, or one its first export makes
        return None
    return (
        f"{path} is not an argyle_nb dataset (a folder without snapshots/): not replaced;"
        " export to a new path"
    )


class DatasetWriter:
    """A new snapshot of the store at ``path``; :meth:`commit` adds it.

    Args:
        path: the store (a folder, made if missing, or an ``s3://`` URL; a file, a link or
            a folder that is not a store is refused, never replaced).
        now: the clock (names the export, stamps the snapshot and the rejected records).
        batch_pages: pages per part file.
        storage_options: deltalake's storage options (object storage).
        step: for tests: called with the name of each step of the writer as it reaches
            it (``"begun"``, ``"written"``, ``"committed"``), so a test can pause there or
            look at the store between two steps.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        now: Callable[[], datetime],
        batch_pages: int,
        storage_options: Mapping[str, str] | None = None,
        step: Callable[[str], object] | None = None,
    ) -> None:
        self.now = now
        self.batch_pages = max(1, int(batch_pages))
        self._step = step or (lambda name: None)
        remote = "://" in os.fspath(path)
        self.path: str | Path = os.fspath(path) if remote else Path(path).absolute()
        if isinstance(self.path, Path):
            refused = _refused(self.path)
            if refused:
                raise DatasetError(refused)
            self.staging = self.path / STAGING
        else:
            self.staging = Path(tempfile.mkdtemp(prefix="argyle-export-"))
        self.store = SnapshotStore(self.path, storage_options)
        self.staging.mkdir(parents=True, exist_ok=True)
        # Unique to this writer: exports from threads of one process never share a folder.
        stamp = now().strftime("%Y%m%dT%H%M%S%fZ")
        unique = f"{os.getpid()}-{threading.get_native_id()}-{secrets.token_hex(4)}"
        with self._locked():
            self._clear_interrupted()
            self.folder = self.staging / f"{stamp}-{unique}{_PARTIAL}"
            self.folder.mkdir()
            # Held until the end: the folder is an export being staged, not left over.
            self._writing: Lock | None = lock(self.folder / _WRITING, create=True)
        self.lists: dict[str, ListWriter] = {}
        self._step("begun")

    def _locked(self) -> Lock:
        held = lock(self.staging / _LOCK, create=True)
        assert held is not None  # a waiting lock is always taken
        return held

    def _clear_interrupted(self) -> None:
        """Remove the ``.partial`` folders of exports that stopped (with the lock held)."""
        for stale in self.staging.glob(f"*{glob.escape(_PARTIAL)}"):
            if held_here(stale / _WRITING):  # staged by a thread of this process
                continue
            try:
                free = lock(stale / _WRITING, wait=False)
            except FileNotFoundError:  # no lock file: the writer's process tells
                if not _running(stale):
                    shutil.rmtree(stale, ignore_errors=True)
                continue
            except OSError:  # not a folder of ours
                continue
            if free is not None:  # nobody writes it: an export that was interrupted
                with free:
                    shutil.rmtree(stale, ignore_errors=True)

    def list(self, endpoint: str, read_by: str, build: Build) -> ListWriter:
        """The writer of one list's pages (a :class:`ListWriter`)."""
        writer = ListWriter(self, endpoint, read_by, build)
        self.lists[endpoint] = writer
        return writer

    def commit(self, provenance: dict[str, Provenance], facts: Derive | None = None) -> Snapshot:
        """Add the staged export to the store as its newest snapshot; returns it.

        ``facts`` derives the tables stored with the snapshot (see
        :mod:`argyle_nb.dataset._facts`) from the staged records, before it is added.
        """
        staged = {
            table: [
                str(self.folder / p.file)
                for w in self.lists.values()
                for p in w.parts
                if p.table == table
            ]
            for table in TABLES
        }
        derived = {} if facts is None else write_facts(self.folder, staged, facts)
        self._step("written")
        snapshot = self.store.add(
            staged,
            taken_at=self.now(),
            provenance={endpoint: p.to_attrs() for endpoint, p in provenance.items()},
            facts=derived,
        )
        self._step("committed")
        self.abort()  # the staged files: added, no longer needed
        return snapshot

    def abort(self) -> None:
        """Drop what this export staged; the store is left as it was."""
        shutil.rmtree(self.folder, ignore_errors=True)
        if self._writing is not None:
            self._writing.release()
            self._writing = None
        if not isinstance(self.path, Path):  # a temporary folder of its own
            shutil.rmtree(self.staging, ignore_errors=True)


@dataclass
class ListWriter:
    """Receives one list's pages, a pass at a time; writes a part per batch of pages."""

    dataset: DatasetWriter
    endpoint: str
    read_by: str
    build: Build
    parts: list[Part] = field(default_factory=list)
    rejected: int = 0
    records: int = 0
    served: ServedPages = field(default_factory=ServedPages)
    _batch: list[ServedPage] = field(default_factory=list)
    _first_page: int = 0
    _batches: int = 0

    def begin(self, number: int) -> None:
        """A pass begins: what an earlier pass wrote is removed."""
        for part in self.parts:
            (self.dataset.folder / part.file).unlink(missing_ok=True)
        self.parts.clear()
        self._batch.clear()
        self.rejected = self.records = 0
        self.served.clear()
        self._first_page = self._batches = 0

    def page(self, page: ServedPage) -> None:
        self._batch.append(page)
        self.served.add(
            page.url, from_cache=page.from_cache, served_at=page.served_at, expires=page.expires
        )
        if len(self._batch) >= self.dataset.batch_pages:
            self.flush()

    def flush(self) -> None:
        """Write the pages received since the last flush as one part of each table."""
        if not self._batch:
            return
        batch, self._batch = self._batch, []
        bad: list[RejectedRecord] = []
        frames = self.build([p.raw for p in batch], bad)
        number = self._batches
        self._batches += 1
        for table, frame in frames.items():
            self._write(table, frame, number)
        when = self.dataset.now()
        located = [
            RejectedRecord(
                page=self._first_page + r.page,
                index=r.index,
                raw=r.raw,
                error=r.error,
                url=batch[r.page].url if r.page < len(batch) else "",
                endpoint=self.endpoint,
                read_by=self.read_by,
                rejected_at=when,
            )
            for r in bad
        ]
        if located:
            self._write("rejected", rejected_frame(located), number)
        self.rejected += len(located)
        self.records += sum(p.records for p in batch)
        self._first_page += len(batch)

    def _write(self, table: str, frame: pd.DataFrame, number: int) -> None:
        stem = self.endpoint.strip("/").replace("/", "-")
        name = f"{table}/{stem}-part-{number:05d}.parquet"
        target = self.dataset.folder / name
        target.parent.mkdir(exist_ok=True)
        pq.write_table(_arrow_table(frame), target)
        self.parts.append(Part(file=name, table=table, rows=len(frame)))

    def provenance(self, *, base_url: str, environment: str, **walk: Any) -> Provenance:
        """This list's provenance, from the pages it received and how the walk went."""
        return Provenance(
            endpoint=self.endpoint,
            base_url=base_url,
            environment=environment,
            pages=len(self.served),
            pages_from_cache=self.served.from_cache,
            served_from=self.served.served_from,
            served_to=self.served.served_to,
            expires_at=self.served.expires_at,
            records=self.records - self.rejected,
            rejected=self.rejected,
            **walk,
        )


def users_batch(bodies: list[bytes], rejected: list[RejectedRecord]) -> dict[str, pd.DataFrame]:
    """The users of a batch of pages. Their ``meta.*`` columns differ from batch to batch
    (the keys present): the dataset keeps ``external_metadata`` as JSON text instead."""
    from argyle_nb.frames import users_frame

    frame = users_frame(bodies, rejected=rejected, meta=False)
    frame.attrs = {}
    return {"users": frame}


def accounts_batch(bodies: list[bytes], rejected: list[RejectedRecord]) -> dict[str, pd.DataFrame]:
    """The accounts and their availability windows of a batch of pages (one read)."""
    from argyle_nb.frames import accounts_and_availability

    accounts, availability = accounts_and_availability(bodies, rejected=rejected)
    return {"accounts": accounts, "availability": availability}
