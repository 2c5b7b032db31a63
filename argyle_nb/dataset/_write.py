"""Write a portfolio as a Parquet dataset, page batch by page batch, refreshed atomically.

A dataset at ``path`` is a symbolic link to one complete version in the folder beside it,
``.<name>.versions/<stamp>-<pid>-<thread>-<random>/``. An export writes a new version
there (with the suffix ``.partial`` while it runs), then swaps the link in one ``rename``:
a reader opens either the old version or the new one, never half of one. An interrupted
export leaves the previous version current and its ``.partial`` folder, removed by the
next export.

Any number of exports may run on one path at once, from threads or processes (the last
to commit is current); file locks (:mod:`argyle_nb.dataset._lock`) keep each from
removing what another needs: a writer holds its ``.partial`` folder's manifest while it
writes, commits (rename, link swap, removal of old versions) holding the versions
folder's ``.lock``, and removes only versions that are neither current, nor the one just
replaced, nor open in a :class:`~argyle_nb.dataset.Dataset` (which holds its version's
manifest shared; such a version is removed by the first export after it is closed).

A version holds one folder per table (``users/``, ``accounts/``, ``availability/``,
``rejected/``) of ``part-NNNNN.parquet`` files, Arrow-typed as :func:`~argyle_nb.frames.
to_parquet` writes them, and ``_dataset.json``: each list's provenance, the files and
their rows. The writer keeps one batch of pages at a time (:data:`BATCH_PAGES`).
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import orjson
import pandas as pd
import pyarrow.parquet as pq

from argyle_nb.dataset._facts import Derive, write_facts
from argyle_nb.dataset._lock import Lock, held_here, lock
from argyle_nb.dataset._manifest import MANIFEST, DatasetError, Manifest, Part
from argyle_nb.frames import BATCH_PAGES as FRAMES_BATCH_PAGES
from argyle_nb.frames._parquet import _arrow_table
from argyle_nb.provenance import Provenance, ServedPages
from argyle_nb.quarantine import RejectedRecord, rejected_frame

__all__ = ["BATCH_PAGES", "DatasetWriter", "ListWriter", "ServedPage"]

#: Pages read into one part file (10,000 records at the API's 200 a page).
BATCH_PAGES: Final = FRAMES_BATCH_PAGES
_PARTIAL: Final = ".partial"

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


def _running(partial: Path) -> bool:
    """Whether the export writing ``partial``, a folder that holds no lock file (left by an
    argyle_nb that did not lock), still runs: its name is ``<stamp>-<pid>[-...].partial``."""
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


def versions_of(path: Path) -> Path:
    """The folder of a dataset's versions: ``.<name>.versions`` beside it."""
    return path.parent / f".{path.name}.versions"


#: The lock file of a versions folder (held while a writer commits or clears).
_LOCK: Final = ".lock"


class DatasetWriter:
    """A new version of the dataset at ``path``; :meth:`commit` makes it current.

    Args:
        path: the dataset (a link the writer owns; an existing folder or file there that
            is not a dataset is refused, never replaced).
        now: the clock (names the version, stamps the rejected records).
        batch_pages: pages per part file.
        step: for tests: called with the name of each step of the writer as it reaches
            it (``"begun"``, ``"written"``, ``"locked"``, ``"renamed"``, ``"linked"``,
            ``"removing"``, ``"committed"``), so a test can pause there or look at the
            dataset between two steps.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        now: Callable[[], datetime],
        batch_pages: int,
        step: Callable[[str], object] | None = None,
    ) -> None:
        self.path = Path(path).absolute()
        self.now = now
        self.batch_pages = max(1, int(batch_pages))
        self.versions = versions_of(self.path)
        self._step = step or (lambda name: None)
        there = self.path.exists() or self.path.is_symlink()
        if there and not (self.path.is_symlink() and self._owned(self.path)):
            raise DatasetError(
                f"{self.path} exists and is not an argyle_nb dataset (a link into "
                f"{self.versions.name}/): not replaced; export to a new path"
            )
        self.versions.mkdir(parents=True, exist_ok=True)
        # Unique to this writer: exports from threads of one process never share a folder.
        stamp = now().strftime("%Y%m%dT%H%M%S%fZ")
        unique = f"{os.getpid()}-{threading.get_native_id()}-{secrets.token_hex(4)}"
        self._unique = unique
        with self._locked():
            self._clear_interrupted()
            self.folder = self.versions / f"{stamp}-{unique}{_PARTIAL}"
            self.folder.mkdir()
            # Held until the commit: the folder is a version being written, not left over.
            self._writing: Lock | None = lock(self.folder / MANIFEST, create=True)
        self._committed = False
        self.lists: dict[str, ListWriter] = {}
        self._step("begun")

    def _owned(self, link: Path) -> bool:
        target = Path(os.readlink(link))
        target = target if target.is_absolute() else link.parent / target
        return target.parent.resolve() == self.versions.resolve()

    def _locked(self) -> Lock:
        held = lock(self.versions / _LOCK, create=True)
        assert held is not None  # a waiting lock is always taken
        return held

    def _clear_interrupted(self) -> None:
        """Remove the ``.partial`` folders of exports that stopped, and the new links they
        had not swapped in yet (with the lock held: no writer is between the two)."""
        for link in self.path.parent.glob(f".{glob.escape(self.path.name)}.link-*"):
            if link.is_symlink():
                link.unlink(missing_ok=True)
        for stale in self.versions.glob(f"*{_PARTIAL}"):
            if held_here(stale / MANIFEST):  # written by a thread of this process
                continue
            try:
                free = lock(stale / MANIFEST, wait=False)
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

    def commit(self, provenance: dict[str, Provenance], facts: Derive | None = None) -> Path:
        """Make this version current (one atomic rename); returns its folder.

        ``facts`` derives the tables stored with the version (see
        :mod:`argyle_nb.dataset._facts`), before it is made current. The versions that are
        neither the new one, nor the one it replaced, nor open in a
        :class:`~argyle_nb.dataset.Dataset` are removed.
        """
        parts = [part for writer in self.lists.values() for part in writer.parts]
        manifest = Manifest(
            version=self.folder.name.removesuffix(_PARTIAL),
            written_at=self.now(),
            lists={endpoint: p.to_attrs() for endpoint, p in provenance.items()},
            parts=parts,
        )
        if facts is not None:
            derived = write_facts(self.folder, manifest, facts)
            manifest = manifest.model_copy(update={"facts": derived})
        (self.folder / MANIFEST).write_bytes(orjson.dumps(manifest.model_dump(mode="json")))
        self._step("written")
        with self._locked():
            # No other writer renames, links or removes until this block ends: what the
            # link points at now stays current until this writer replaces it.
            self._step("locked")
            final = self.folder.with_name(manifest.version)
            self.folder.rename(final)
            self.folder = final
            if self._writing is not None:
                self._writing.release()
                self._writing = None
            self._step("renamed")
            previous = self._current()
            link = self.path.with_name(f".{self.path.name}.link-{self._unique}")
            link.unlink(missing_ok=True)
            link.symlink_to(os.path.relpath(final, self.path.parent))
            os.replace(link, self.path)  # the one step a reader can see
            self._committed = True
            self._step("linked")
            # The version just replaced stays one round for readers that opened it.
            self._remove_old(keep={final.name, previous})
        self._step("committed")
        return final

    def _remove_old(self, keep: set[str | None]) -> None:
        """Remove the complete versions not in ``keep`` that no open dataset reads."""
        for old in self.versions.iterdir():
            if old.name in keep or old.name.endswith(_PARTIAL) or not old.is_dir():
                continue
            if held_here(old / MANIFEST):  # open in a Dataset of this process
                continue
            try:
                free = lock(old / MANIFEST, wait=False)
            except FileNotFoundError:  # no manifest: not a version anybody can read
                shutil.rmtree(old, ignore_errors=True)
                continue
            except OSError:
                continue
            if free is None:  # open in a Dataset: a later export removes it
                continue
            with free:
                self._step("removing")
                shutil.rmtree(old, ignore_errors=True)

    def _current(self) -> str | None:
        """The name of the version the link points at (read with the lock held)."""
        if not self.path.is_symlink():
            return None
        return Path(os.readlink(self.path)).name

    def abort(self) -> None:
        """Drop this version; the current one is left as it was."""
        if self._committed:  # the link points at it: it is the dataset now
            return
        shutil.rmtree(self.folder, ignore_errors=True)
        if self._writing is not None:
            self._writing.release()
            self._writing = None


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
        arrow = _arrow_table(frame)
        meta = {**(arrow.schema.metadata or {}), b"argyle_nb": _part_meta(self, table)}
        pq.write_table(arrow.replace_schema_metadata(meta), target)
        self.parts.append(Part(file=name, table=table, endpoint=self.endpoint, rows=len(frame)))

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


def _part_meta(writer: ListWriter, table: str) -> bytes:
    """What a part file says of itself: its list, table and the pages it holds."""
    return orjson.dumps(
        {
            "endpoint": writer.endpoint,
            "table": table,
            "read_by": writer.read_by,
            "first_page": writer._first_page,
            "version": writer.dataset.folder.name.removesuffix(_PARTIAL),
        }
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
