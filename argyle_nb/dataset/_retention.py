"""Retention: forgetting all but the newest snapshots of a store, and removing the files
only they needed (:meth:`~argyle_nb.dataset._snapshots.SnapshotStore.keep`)."""

from __future__ import annotations

from argyle_nb.dataset._catalogue import EXPORT_ID, Snapshot, export_id
from argyle_nb.dataset._changes import EXPORT, KEYS
from argyle_nb.dataset._snapshots import _CATALOGUE, _FACTS, SnapshotStore
from argyle_nb.dataset._tables import DatasetError

__all__ = ["keep"]


def keep(store: SnapshotStore, newest: int) -> list[Snapshot]:
    """Forget every snapshot but the ``newest`` ones, and remove the files only they
    needed (the rows of their exports that no kept snapshot reads, the rows of
    exports that never committed and began before the newest snapshot forgotten was
    taken, and what Delta Lake kept for time travel); returns those forgotten. The
    kept snapshots are numbered again from 0. A dataset open on a forgotten snapshot
    cannot read it any more; an export still running keeps its rows."""
    if isinstance(newest, bool) or not isinstance(newest, int) or newest < 1:
        raise DatasetError(f"keep must be a whole number of snapshots >= 1, not {newest!r}")
    found = store.snapshots()
    if len(found) <= newest:
        return []
    kept, forgotten = found[-newest:], found[:-newest]
    needed = {s.export for s in kept} | {
        base for s in kept for base in s.bases.values() if base is not None
    }
    catalogued = {s.export for s in found}
    cutoff = export_id(forgotten[-1].taken_at)  # ids sort by the time they begin

    def gone(export: str) -> bool:
        if export in needed or not EXPORT_ID.fullmatch(export):
            return False
        return export in catalogued or export < cutoff  # forgotten, or left by a crash

    # The catalogue first: no reader is offered a snapshot whose rows are going.
    _delete(store, _CATALOGUE, "export", {s.export for s in forgotten})
    names = [*KEYS, *(f"{_FACTS}/{name}" for s in found for name in s.facts)]
    for name in dict.fromkeys(names):
        delta = store._delta(name)
        if delta is not None:
            present = {p.get(EXPORT, "") for p in delta.partitions()}
            _delete(store, name, EXPORT, {e for e in present if gone(e)})
    return forgotten


def _delete(store: SnapshotStore, name: str, column: str, exports: set[str]) -> None:
    """Delete the rows of ``name`` whose ``column`` is one of ``exports`` (ids this
    store made, checked), then the files no version of the table needs any more."""
    delta = store._delta(name)
    if delta is None or not exports:
        return
    for export in exports:  # nothing but an export's id goes into the predicate
        if not EXPORT_ID.fullmatch(export):
            raise DatasetError(f"{store._table(name)}: {export!r} is not an export's id")
    values = ", ".join(f"'{e}'" for e in sorted(exports))
    try:
        delta.delete(f"{column} in ({values})")
        delta.vacuum(retention_hours=0, dry_run=False, enforce_retention_duration=False)
    except Exception as exc:  # deltalake raises its own and OS errors
        raise DatasetError(f"{store._table(name)}: could not remove ({exc})") from None
