"""Snapshots of a portfolio in Delta Lake: every export one more snapshot, the store
growing with what changed.

At ``uri`` (a folder, or an ``s3://`` prefix with deltalake's storage options) each table
(:data:`KEYS`) is a Delta table partitioned by ``_export``, the id of the export that
wrote the rows, and ``snapshots`` is the catalogue: one row per committed snapshot.

What an export writes of a table is either **full** (every row: a *base*) or its
**changes** against the latest base: the rows whose key the base lacks or holds with other
values, and a *tombstone* (the key, ``_removed`` true) for each key of the base the export
no longer has. Changes are written while they are at most :data:`MAX_CHANGED_SHARE` of the
export's rows, a new base otherwise. A snapshot reads as its base's rows whose key its
changes do not list, plus its changed rows that are not tombstones: at most one base and
one set of changes, however many snapshots came before. A table without a key (the
rejected records) is written full.

An export's rows are appended first, its catalogue row last: a snapshot exists once its
catalogue row does, so the rows of an export that never committed (a crash) are never
read, and :meth:`SnapshotStore.keep` removes them. Bases are never rewritten, so exports
committing at once each read right; their numbers follow the time they were taken
(then their ids).

In a folder, DuckDB writes each export's rows of a table as one Parquet file of its
partition, which one Delta commit adds (memory bounded by DuckDB's limit), and reads a
snapshot's files directly; on object storage delta-rs writes and DuckDB reads through an
Arrow dataset. Delta Lake is an open format: polars reads these tables with
``scan_delta``, Spark and Databricks natively (``_export`` names each row's export, and
the catalogue says which base and changes make each snapshot).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq

from argyle_nb._sql import quote
from argyle_nb.dataset._append import append, append_row
from argyle_nb.dataset._catalogue import (
    Snapshot,
    base_snapshot,
    catalogue_row,
    export_id,
    read_catalogue,
)
from argyle_nb.dataset._changes import (
    EXPORT,
    KEYS,
    REMOVED,
    compared,
    differences,
    sampled_share,
    staged,
    unique,
)
from argyle_nb.dataset._tables import REEXPORT, DatasetError

__all__ = ["KEYS", "MAX_CHANGED_SHARE", "Snapshot", "SnapshotStore"]

#: The most memory DuckDB takes to compare and write an export (past it, it spills to
#: disk): a million accounts are added under 1 GB.
MEMORY: Final = "256MB"
#: Changes are written while they are at most this share of an export's rows.
MAX_CHANGED_SHARE: Final = 0.5
#: How far past :data:`MAX_CHANGED_SHARE` a sample's share must be to write a table full
#: unseen (a sample of 1,000 rows or more errs by a few points at most).
_MARGIN: Final = 0.1
_CATALOGUE: Final = "snapshots"
#: The folder of the facts' tables (one per fact).
_FACTS: Final = "facts"


class SnapshotStore:
    """The snapshots at ``uri`` (a folder or an ``s3://bucket/prefix``).

    Args:
        uri: where the store is (made at the first :meth:`add`).
        storage_options: deltalake's storage options (for object storage: endpoint,
            credentials, region); never written anywhere, nor shown.

    Examples:
        >>> store = SnapshotStore("portfolio")                            # doctest: +SKIP
        >>> [s.number for s in store.snapshots()]                         # doctest: +SKIP
        [0, 1, 2]
    """

    def __init__(
        self, uri: str | os.PathLike[str], storage_options: Mapping[str, str] | None = None
    ):
        self.uri = os.fspath(uri).rstrip("/")
        self._options = dict(storage_options or {})

    def __repr__(self) -> str:
        return f"SnapshotStore({self.uri!r})"  # (the storage options hold secrets)

    def _table(self, name: str) -> str:
        return f"{self.uri}/{name}"

    def exists(self) -> bool:
        """Whether there is a store at :attr:`uri` (its catalogue)."""
        return self._delta(_CATALOGUE) is not None

    def _delta(self, name: str) -> Any:
        """The Delta table ``name``, or ``None`` if the store has none (yet)."""
        from deltalake import DeltaTable

        try:
            if not DeltaTable.is_deltatable(self._table(name), self._options or None):
                return None
            return DeltaTable(self._table(name), storage_options=self._options or None)
        except Exception as exc:  # deltalake raises its own and OS errors
            raise DatasetError(f"{self._table(name)}: not a readable Delta table ({exc})") from None

    # -- the catalogue -----------------------------------------------------------------

    def snapshots(self) -> list[Snapshot]:
        """Every committed snapshot, oldest first."""
        catalogue = self._delta(_CATALOGUE)
        if catalogue is None:
            return []
        return read_catalogue(catalogue.to_pyarrow_table().to_pylist(), self._table(_CATALOGUE))

    def snapshot(self, number: int | None = None, *, as_of: datetime | None = None) -> Snapshot:
        """The snapshot ``number`` (negative: from the latest, as a list index), the one
        current at ``as_of`` (the latest taken at or before it), or the latest."""
        found = self.snapshots()
        if not found:
            raise DatasetError(f"{self.uri}: no snapshots (export to it first)")
        if number is not None and as_of is not None:
            raise DatasetError("give a snapshot number or as_of, not both")
        if as_of is not None:
            if as_of.tzinfo is None:
                raise DatasetError(f"as_of={as_of!r} has no time zone: give one (UTC)")
            before = [s for s in found if s.taken_at <= as_of]
            if not before:
                raise DatasetError(
                    f"no snapshot was taken by {as_of.isoformat()}: the first was taken"
                    f" {found[0].taken_at.isoformat()}"
                )
            return before[-1]
        if number is None:
            return found[-1]
        if (
            isinstance(number, bool)
            or not isinstance(number, int)
            or not -len(found) <= number < len(found)
        ):
            raise DatasetError(
                f"snapshot {number!r} does not exist: the store has {len(found)}"
                f" (0 to {len(found) - 1})"
            )
        return found[number]

    # -- reading -----------------------------------------------------------------------

    def relation(self, db: Any, table: str, snapshot: Snapshot) -> Any:
        """``table`` as ``snapshot`` saw it: a DuckDB relation of ``db`` (its columns, then
        ``_seen``: the order the export's walk saw the rows in). Nothing is read until the
        relation is."""
        return self.relations(db, table, [snapshot])[0]

    def relations(self, db: Any, table: str, snapshots: Sequence[Snapshot]) -> list[Any]:
        """``table`` as each of ``snapshots`` saw it (:meth:`relation`): the table opened,
        and its files listed, once for them all; each snapshot reads its own files."""
        if table not in KEYS:
            raise DatasetError(f"a snapshot has no table {table!r} (it has {', '.join(KEYS)})")
        if not snapshots:
            return []
        wanted = [e for s in snapshots for e in (s.export, s.bases.get(table)) if e is not None]
        reader = self._reader(db, table, wanted)
        key = ", ".join(quote(c) for c in KEYS[table])
        out = []
        for snapshot in snapshots:
            mine, base = snapshot.export, snapshot.bases.get(table)
            rows = reader([mine] if base is None else [mine, base])  # noqa: F841 (by name)
            if base is None:
                sql = f"select * exclude ({EXPORT}, {REMOVED}) from rows where {EXPORT} = $mine"
                out.append(db.sql(sql, params={"mine": mine}))
                continue
            out.append(
                db.sql(
                    f"with changes as (select * from rows where {EXPORT} = $mine),"
                    f" kept as (select * from (select * from rows where {EXPORT} = $base)"
                    f" anti join changes using ({key}))"
                    f" select * exclude ({EXPORT}, {REMOVED}) from kept union all by name"
                    f" select * exclude ({EXPORT}, {REMOVED}) from changes where not {REMOVED}",
                    params={"mine": mine, "base": base},
                )
            )
        return out

    def _reader(self, db: Any, name: str, exports: list[str]) -> Callable[[list[str]], Any]:
        """``rows(some)``: the rows the exports ``some`` (of ``exports``) wrote to the table
        ``name``, as a DuckDB relation: their Parquet files read by DuckDB itself in a
        folder (footers cached), through an Arrow dataset on object storage (which DuckDB
        cannot reach by itself here). The table is opened, and its files of ``exports``
        listed, once, here."""
        delta = self._delta(name)
        if delta is None:
            raise DatasetError(f"{self._table(name)}: missing; {REEXPORT}")
        wanted = list(dict.fromkeys(exports))
        if "://" in self.uri:
            import pyarrow.dataset as pads

            source = delta.to_pyarrow_dataset()
            return lambda some: db.from_arrow(source.filter(pads.field(EXPORT).isin(some)))
        by_export: dict[str, list[str]] = {}
        for uri in delta.file_uris(file_pruning_predicate=[(EXPORT, "in", wanted)]):
            file = uri.removeprefix("file://")
            by_export.setdefault(_export_of(file), []).append(file)
        empty = pa.schema(delta.schema().to_arrow()).empty_table()

        def rows(some: list[str]) -> Any:
            import duckdb

            files = [f for export in some for f in by_export.get(export, [])]
            missing = [f for f in files if not os.path.isfile(f)]
            if missing:
                raise DatasetError(f"{missing[0]} is missing: {REEXPORT}")
            if not files:
                return db.from_arrow(empty)
            try:
                read = db.read_parquet(files, union_by_name=True, hive_partitioning=True)  # noqa: F841
                return db.sql("select * from read")
            except duckdb.Error as exc:  # a damaged file: its footer is read here
                raise DatasetError(
                    f"{self._table(name)} cannot be read ({str(exc).splitlines()[0]}); {REEXPORT}"
                ) from None

        return rows

    def fact(self, db: Any, name: str, snapshot: Snapshot) -> Any:
        """The fact ``name`` stored with ``snapshot``, as a DuckDB relation of ``db``."""
        if name not in snapshot.facts:
            raise DatasetError(f"snapshot {snapshot.number} stores no fact {name!r}")
        table = f"{_FACTS}/{name}"
        rows = self._reader(db, table, [snapshot.export])([snapshot.export])  # noqa: F841
        return db.sql(f"select * exclude ({EXPORT}) from rows")

    def keep(self, newest: int) -> list[Snapshot]:
        """Forget every snapshot but the ``newest`` ones and remove the files only they
        needed (see :func:`~argyle_nb.dataset._retention.keep`); returns those forgotten."""
        from argyle_nb.dataset._retention import keep

        return keep(self, newest)

    # -- writing -----------------------------------------------------------------------

    def add(
        self,
        files: Mapping[str, list[str]],
        *,
        taken_at: datetime,
        provenance: Mapping[str, Any] | None = None,
        facts: Mapping[str, str] | None = None,
    ) -> Snapshot:
        """Add the export whose rows are in the Parquet files ``files`` (table -> files,
        in the order the walk wrote them) as the newest snapshot, taken at ``taken_at``,
        with the facts in the Parquet files ``facts`` (name -> file); returns it. Only
        what changed since the latest base is written (or a new base)."""
        import duckdb

        if taken_at.tzinfo is None:
            raise DatasetError(f"taken_at={taken_at!r} has no time zone: give one (UTC)")
        missing = set(KEYS) - set(files)
        if missing:
            raise DatasetError(f"an export's tables are missing: {', '.join(sorted(missing))}")
        export = export_id(taken_at)
        before = self.snapshots()
        db = duckdb.connect(
            config={"memory_limit": MEMORY, "temp_directory": tempfile.gettempdir()}
        )
        try:
            bases: dict[str, str | None] = {}
            counts: dict[str, int] = {}
            changed = 0
            for table in KEYS:
                new = staged(db, table, files[table])
                counts[table] = _rows_in(files[table])
                latest = before[-1] if before else None
                base = None if latest is None else (latest.bases.get(table) or latest.export)
                bases[table], against = self._write(db, table, new, export, base, counts[table])
                if table not in ("users", "accounts"):
                    continue
                if latest is None:
                    changed += counts[table]
                elif against is not None and latest.bases.get(table) is None:
                    changed += against  # the latest snapshot is the base just compared
                else:
                    changed += differences(db, table, new, self.relation(db, table, latest))
            stored = {}
            for name, file in (facts or {}).items():
                fact = db.sql("select * from read_parquet($file)", params={"file": file})
                stored[name] = _rows_in([file])
                append(self._table(f"{_FACTS}/{name}"), db, fact, export, self._options)
            row = catalogue_row(
                export,
                taken_at,
                rows=counts,
                changed=changed,
                bases=bases,
                provenance=dict(provenance or {}),
                facts=stored,
            )
            append_row(self._table(_CATALOGUE), row, self._options)
        finally:
            db.close()
        return next(s for s in self.snapshots() if s.export == export)

    def _write(
        self, db: Any, table: str, new: Any, export: str, base: str | None, rows: int
    ) -> tuple[str | None, int | None]:
        """Append ``new``'s rows of ``table`` as ``export``'s: its changes against the
        full rows of ``base`` when they are few enough (and it has no column ``base``
        lacks), else all of them. Returns the base used (``None``: written full) and the
        records that differ from ``base`` (``None``: not compared)."""
        count = None
        if base is not None and KEYS[table]:
            old = self.relation(db, table, base_snapshot(base))
            # (a key seen twice by a walk, here or in the base, has no one row to compare)
            if (
                set(new.columns) <= set(old.columns)
                and not self._plainly_new(db, table, new, old)
                and unique(db, table, new, old)
            ):
                changes = compared(db, table, new, old)
                count = int(changes.aggregate("count(*)").fetchall()[0][0])
                if count <= MAX_CHANGED_SHARE * max(rows, 1):
                    append(self._table(table), db, changes, export, self._options)
                    return base, count
        full = db.sql(f"select *, false as {REMOVED} from new")
        append(self._table(table), db, full, export, self._options)
        return None, count

    @staticmethod
    def _plainly_new(db: Any, table: str, new: Any, old: Any) -> bool:
        """Whether a sample says plainly that most of ``table``'s rows changed (well past
        :data:`MAX_CHANGED_SHARE`), so it is written full without comparing every row.
        Users and accounts are always compared whole: the catalogue counts their changes."""
        if table in ("users", "accounts"):
            return False
        share = sampled_share(db, table, new, old)
        return share is not None and share > MAX_CHANGED_SHARE + _MARGIN


def _export_of(file: str) -> str:
    """The export whose partition holds ``file`` (``.../_export=<id>/part-...``)."""
    folder = os.path.basename(os.path.dirname(file))
    return folder.removeprefix(f"{EXPORT}=")


def _rows_in(files: list[str]) -> int:
    """The rows of the Parquet ``files``, as their footers say (no query)."""
    return sum(pq.read_metadata(file).num_rows for file in files)
