"""``client.export(path)``: every list walked page by page into a Parquet dataset.

The client fetches; :mod:`argyle_nb.dataset` stages each batch of pages as part files and
adds them to the dataset as one more snapshot in one commit. Memory holds one batch of
pages and the ids of the list being read (the walk's check that no record came twice),
whatever the size of the portfolio.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from argyle_nb.client._pagination import Page, Paginator
from argyle_nb.client._progress import Progress
from argyle_nb.client._transport import where
from argyle_nb.errors import ArgyleValueError
from argyle_nb.provenance import ListChangedWarning, Provenance
from argyle_nb.quarantine import RejectedRecordsWarning

if TYPE_CHECKING:
    from argyle_nb.dataset import Dataset
    from argyle_nb.dataset._write import ListWriter

__all__ = ["export"]


class _Sink:
    """Hands the walk's pages to a :class:`~argyle_nb.dataset._write.ListWriter`."""

    def __init__(self, writer: ListWriter) -> None:
        self.writer = writer

    def begin(self, number: int) -> None:
        self.writer.begin(number)

    def page(self, page: Page) -> None:
        from argyle_nb.dataset import ServedPage

        answer = page.answer
        self.writer.page(
            ServedPage(
                raw=answer.content,
                url=where(answer.url),
                records=page.size,
                from_cache=answer.from_cache,
                served_at=answer.created_at,
                expires=answer.expires,
            )
        )


def export(
    path: str | os.PathLike[str],
    *,
    paginator: Paginator,
    first_page: Callable[[str], str],
    endpoint: Callable[[str], str],
    base_url: str,
    environment: Callable[[], str],
    now: Callable[[], datetime],
    progress: bool,
    batch_pages: int,
    storage_options: dict[str, str] | None = None,
    keep: int | None = None,
) -> Dataset:
    """Walk users and accounts into a new snapshot of the dataset at ``path``; add it
    when both are staged. On any failure the dataset is left as it was, and the error
    says so. With ``keep``, all but the newest ``keep`` snapshots are then forgotten."""
    from argyle_nb import analysis
    from argyle_nb.dataset import Dataset, DatasetWriter
    from argyle_nb.dataset._write import accounts_batch, users_batch

    if keep is not None and (isinstance(keep, bool) or not isinstance(keep, int) or keep < 1):
        raise ArgyleValueError(f"keep must be a whole number of snapshots >= 1, not {keep!r}")
    writer = DatasetWriter(path, now=now, batch_pages=batch_pages, storage_options=storage_options)
    provenance: dict[str, Provenance] = {}
    try:
        for noun, build in (("users", users_batch), ("accounts", accounts_batch)):
            lists = writer.list(endpoint(f"/{noun}"), "export()", build)
            started = now()
            bar = Progress(f"export {noun}", show=progress)
            try:
                walk = paginator.stream(first_page(f"/{noun}"), _Sink(lists), bar=bar)
                lists.flush()
            finally:
                bar.close()
            found = lists.provenance(
                base_url=base_url,
                environment=environment(),
                fetch_started=started,
                fetch_finished=now(),
                passes=walk.passes,
                consistent=walk.consistent,
                note=walk.problem,
                rereads=walk.rereads,
                duplicates=walk.duplicates,
            )
            provenance[lists.endpoint] = found
            _warn(found, noun)
        # What the analyses start from, derived once and stored with the snapshot.
        snapshot = writer.commit(provenance, facts=analysis.facts)
    except BaseException as exc:
        writer.abort()
        exc.add_note(
            f"The export to {writer.path} stopped: the dataset there is unchanged (no"
            f" snapshot was added). Run client.export({os.fspath(path)!r}) again to restart it."
        )
        raise
    if keep is not None:
        writer.store.keep(keep)
        # Numbered again: this export's snapshot is found by its id (the latest, if an
        # export taken later made it one of those forgotten).
        now_known = writer.store.snapshots()
        snapshot = next((s for s in now_known if s.export == snapshot.export), now_known[-1])
    return Dataset(writer.path, snapshot=snapshot.number, storage_options=storage_options)


def _warn(found: Provenance, noun: str) -> None:
    if not found.consistent:
        warnings.warn(
            f"GET {found.endpoint}: {found.note}; the dataset's provenance says consistent=False",
            ListChangedWarning,
            stacklevel=3,
        )
    if found.rejected:
        warnings.warn(
            f"{found.rejected} {noun} from GET {found.endpoint} failed validation in export() "
            "and were left out: the dataset's rejected table lists them",
            RejectedRecordsWarning,
            stacklevel=3,
        )
