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
read, and :meth:`SnapshotStore.vacuum` removes them. Bases are never rewritten, so exports
committing at once each read right; their numbers follow the time they were taken
(then their ids).

Delta Lake is an open format: DuckDB reads these tables through Arrow datasets, polars
with ``scan_delta``, Spark and Databricks natively (``_export`` names each row's export,
and the catalogue says which base and changes make each snapshot).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import orjson
import pyarrow as pa

from argyle_nb._sql import quote
from argyle_nb.dataset._tables import REEXPORT, DatasetError

__all__ = ["KEYS", "MAX_CHANGED_SHARE", "Snapshot", "SnapshotStore"]

#: Each table's key: the columns naming one record (none: the table is written full).
KEYS: Final[dict[str, tuple[str, ...]]] = {
    "users": ("id",),
    "accounts": ("id",),
    "availability": ("account", "resource"),
    "rejected": (),
}
#: Changes are written while they are at most this share of an export's rows.
MAX_CHANGED_SHARE: Final = 0.5
_CATALOGUE: Final = "snapshots"
#: The folder of the facts' tables (one per fact).
_FACTS: Final = "facts"
#: The columns the store adds to every row of a table.
_EXPORT, _REMOVED, _SEEN = "_export", "_removed", "_seen"


@dataclass(frozen=True)
class Snapshot:
    """One committed export.

    Attributes:
        number: its place among the store's snapshots, from 0, by the time it was taken.
        export: its id (the ``_export`` of its rows).
        taken_at: when it was taken (UTC).
        users, accounts: its rows of each.
        changed: users and accounts new, changed or gone since the snapshot before it
            (all of them for the first).
        bases: per table, the export whose full rows its changes apply to (``None``: its
            own rows are full).
        provenance: what the export recorded of each list, as it gave it.
        rows: the rows of each table.
        facts: the facts stored with it (tables derived from its records as it was
            taken, :func:`~argyle_nb.analysis.facts`), by name: their rows.
    """

    number: int
    export: str
    taken_at: datetime
    users: int
    accounts: int
    changed: int
    bases: dict[str, str | None]
    provenance: dict[str, Any]
    rows: dict[str, int]
    facts: dict[str, int]


def _export_id(taken_at: datetime) -> str:
    """A new export's id: when, then which process, then chance (sortable by time)."""
    return f"{taken_at.astimezone(UTC):%Y%m%dT%H%M%S%fZ}-{os.getpid()}-{secrets.token_hex(4)}"


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
        rows = sorted(
            catalogue.to_pyarrow_table().to_pylist(), key=lambda r: (r["taken_at"], r["export"])
        )
        out = []
        for number, row in enumerate(rows):
            try:
                bases = orjson.loads(row["bases"])
                provenance = orjson.loads(row["provenance"])
                rows_of = orjson.loads(row["rows"])
                facts = orjson.loads(row["facts"])
                if not all(isinstance(x, dict) for x in (bases, provenance, rows_of, facts)):
                    raise TypeError
            except (orjson.JSONDecodeError, TypeError, KeyError):
                raise DatasetError(
                    f"{self._table(_CATALOGUE)}: the row of export {row.get('export')!r} is"
                    " damaged (its bases or provenance are not JSON)"
                ) from None
            out.append(
                Snapshot(
                    number=number,
                    export=row["export"],
                    taken_at=row["taken_at"].astimezone(UTC),
                    users=int(row["users"]),
                    accounts=int(row["accounts"]),
                    changed=int(row["changed"]),
                    bases=bases,
                    provenance=provenance,
                    rows=rows_of,
                    facts=facts,
                )
            )
        return out

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
        if table not in KEYS:
            raise DatasetError(f"a snapshot has no table {table!r} (it has {', '.join(KEYS)})")
        rows = self._rows(db, table, [snapshot.export, snapshot.bases.get(table)])  # noqa: F841
        mine, base = snapshot.export, snapshot.bases.get(table)
        if base is None:
            return db.sql(
                f"select * exclude ({_EXPORT}, {_REMOVED}) from rows where {_EXPORT} = $mine",
                params={"mine": mine},
            )
        key = ", ".join(quote(c) for c in KEYS[table])
        return db.sql(
            f"with changes as (select * from rows where {_EXPORT} = $mine),"
            f" kept as (select * from (select * from rows where {_EXPORT} = $base)"
            f" anti join changes using ({key}))"
            f" select * exclude ({_EXPORT}, {_REMOVED}) from kept union all by name"
            f" select * exclude ({_EXPORT}, {_REMOVED}) from changes where not {_REMOVED}",
            params={"mine": mine, "base": base},
        )

    def _rows(self, db: Any, name: str, exports: list[str | None]) -> Any:
        """The rows ``exports`` wrote to the table ``name``, as a DuckDB relation: its
        Parquet files read by DuckDB itself in a folder (footers cached), through an Arrow
        dataset on object storage (which DuckDB cannot reach by itself here)."""
        delta = self._delta(name)
        if delta is None:
            raise DatasetError(f"{self._table(name)}: missing; {REEXPORT}")
        wanted = [e for e in exports if e is not None]
        if "://" in self.uri:
            import pyarrow.dataset as pads

            source = delta.to_pyarrow_dataset()
            picked = source.filter(pads.field(_EXPORT).isin(wanted))
            return db.from_arrow(picked)
        files = [
            f.removeprefix("file://")
            for export in wanted
            for f in delta.file_uris(file_pruning_predicate=[(_EXPORT, "=", export)])
        ]
        missing = [f for f in files if not os.path.isfile(f)]
        if missing:
            raise DatasetError(f"{missing[0]} is missing: {REEXPORT}")
        if not files:
            return db.from_arrow(pa.schema(delta.schema().to_arrow()).empty_table())
        import duckdb

        try:
            read = db.read_parquet(files, union_by_name=True, hive_partitioning=True)  # noqa: F841
            return db.sql("select * from read")
        except duckdb.Error as exc:  # a damaged file: its footer is read here
            raise DatasetError(
                f"{self._table(name)} cannot be read ({str(exc).splitlines()[0]}); {REEXPORT}"
            ) from None

    def fact(self, db: Any, name: str, snapshot: Snapshot) -> Any:
        """The fact ``name`` stored with ``snapshot``, as a DuckDB relation of ``db``."""
        if name not in snapshot.facts:
            raise DatasetError(f"snapshot {snapshot.number} stores no fact {name!r}")
        rows = self._rows(db, f"{_FACTS}/{name}", [snapshot.export])  # noqa: F841
        return db.sql(f"select * exclude ({_EXPORT}) from rows")

    # -- writing -----------------------------------------------------------------------

    def add(
        self,
        staged: Mapping[str, list[str]],
        *,
        taken_at: datetime,
        provenance: Mapping[str, Any] | None = None,
        facts: Mapping[str, str] | None = None,
    ) -> Snapshot:
        """Add the export whose rows are in the Parquet files ``staged`` (table -> files,
        in the order the walk wrote them) as the newest snapshot, taken at ``taken_at``,
        with the facts in the Parquet files ``facts`` (name -> file); returns it. Only
        what changed since the latest base is written (or a new base)."""
        import duckdb

        if taken_at.tzinfo is None:
            raise DatasetError(f"taken_at={taken_at!r} has no time zone: give one (UTC)")
        missing = set(KEYS) - set(staged)
        if missing:
            raise DatasetError(f"an export's tables are missing: {', '.join(sorted(missing))}")
        export = _export_id(taken_at)
        before = self.snapshots()
        db = duckdb.connect()
        try:
            bases: dict[str, str | None] = {}
            counts: dict[str, int] = {}
            changed = 0
            for table in KEYS:
                new = _staged(db, table, staged[table])
                counts[table] = int(new.aggregate("count(*)").fetchall()[0][0])
                latest = before[-1] if before else None
                base = None if latest is None else (latest.bases.get(table) or latest.export)
                bases[table] = self._write(db, table, new, export, base, counts[table])
                if table in ("users", "accounts"):
                    changed += (
                        counts[table]
                        if latest is None
                        else _differences(db, table, new, self.relation(db, table, latest))
                    )
            row = pa.table(
                {
                    "export": [export],
                    "taken_at": pa.array([taken_at.astimezone(UTC)], pa.timestamp("us", "UTC")),
                    "users": [counts["users"]],
                    "accounts": [counts["accounts"]],
                    "changed": [changed],
                    "bases": [orjson.dumps(bases).decode()],
                    "provenance": [orjson.dumps(dict(provenance or {})).decode()],
                }
            )
            stored = {}
            for name, file in (facts or {}).items():
                fact = db.sql(
                    f"select *, $export as {_EXPORT} from read_parquet($file)",
                    params={"export": export, "file": file},
                )
                stored[name] = int(fact.aggregate("count(*)").fetchall()[0][0])
                self._append(f"{_FACTS}/{name}", fact.to_arrow_reader(), partitioned=True)
            row = row.append_column("rows", pa.array([orjson.dumps(counts).decode()]))
            row = row.append_column("facts", pa.array([orjson.dumps(stored).decode()]))
            self._append(_CATALOGUE, row, partitioned=False)
        finally:
            db.close()
        return next(s for s in self.snapshots() if s.export == export)

    def _write(
        self, db: Any, table: str, new: Any, export: str, base: str | None, rows: int
    ) -> str | None:
        """Append ``new``'s rows of ``table`` as ``export``'s: its changes against the
        full rows of ``base`` when they are few enough (and it has no column ``base``
        lacks), else all of them; returns the base used (``None``: written full)."""
        params = {"export": export}
        if base is not None and KEYS[table]:
            old = self.relation(db, table, _base_snapshot(base))
            # (a key seen twice by a walk, here or in the base, has no one row to compare)
            if set(new.columns) <= set(old.columns) and _unique(db, table, new, old):
                changes = _compared(db, table, new, old, export)
                count = int(changes.aggregate("count(*)").fetchall()[0][0])
                if count <= MAX_CHANGED_SHARE * max(rows, 1):
                    self._append(table, changes.to_arrow_reader(), partitioned=True)
                    return base
        full = db.sql(
            f"select *, $export as {_EXPORT}, false as {_REMOVED} from new", params=params
        )
        self._append(table, full.to_arrow_reader(), partitioned=True)
        return None

    def _append(self, name: str, data: Any, *, partitioned: bool) -> None:
        from deltalake import write_deltalake

        try:
            write_deltalake(
                self._table(name),
                data,
                mode="append",
                partition_by=[_EXPORT] if partitioned else None,
                schema_mode="merge",
                storage_options=self._options or None,
            )
        except Exception as exc:  # deltalake raises its own, Arrow and OS errors
            raise DatasetError(f"{self._table(name)}: could not write ({exc})") from None


def _base_snapshot(export: str) -> Snapshot:
    """A snapshot made of ``export``'s full rows alone (to read a base by)."""
    return Snapshot(0, export, datetime.min.replace(tzinfo=UTC), 0, 0, 0, {}, {}, {}, {})


def _staged(db: Any, table: str, files: list[str]) -> Any:
    """The rows of ``table`` in ``files``, with ``_seen``: their order (file, then row)."""
    if not files:  # no rows: the table's columns, as the frames make them
        from argyle_nb.dataset._open import _empty

        empty = _empty(table)
        return db.from_arrow(empty) if isinstance(empty, pa.Table) else db.from_df(empty)
    read = db.read_parquet(  # noqa: F841 (read by name in the SQL below)
        files, union_by_name=True, filename=True, file_row_number=True
    )
    return db.sql(
        "select * exclude (filename, file_row_number), list_position($files, filename)"
        f" * 4294967296 + file_row_number as {_SEEN} from read",
        params={"files": files},
    )


def _unique(db: Any, table: str, *relations: Any) -> bool:
    """Whether no key of ``table`` is on two rows of any of ``relations``."""
    key = ", ".join(quote(c) for c in KEYS[table])
    for rel in relations:  # noqa: B007 (read by name in the SQL below)
        twice = db.sql(f"select count(*) - count(distinct struct_pack({key})) from rel")
        if twice.fetchall()[0][0]:
            return False
    return True


def _compared(db: Any, table: str, new: Any, old: Any, export: str | None) -> Any:
    """The records of ``table`` that differ between ``old`` and ``new`` (by key, every
    column but ``_seen`` compared, a missing value equal to a missing value): ``new``'s
    rows of keys new or changed, and a tombstone (the key, ``_removed``) per key gone;
    with ``_export`` = ``export``."""
    names = [c for c in new.columns if c != _SEEN]
    key = ", ".join(quote(c) for c in KEYS[table])
    values = ", ".join(quote(c) for c in names)
    return db.sql(
        f"with n as (select *, struct_pack({values}) as _v from new),"
        f" o as (select {key}, struct_pack({values}) as _v from old)"
        f" select n.* exclude (_v), $export as {_EXPORT}, false as {_REMOVED} from n"
        f" left join o using ({key}) where o._v is distinct from n._v"
        f" union all by name select {key}, $export as {_EXPORT}, true as {_REMOVED}"
        f" from o anti join n using ({key})",
        params={"export": export},
    )


def _differences(db: Any, table: str, new: Any, old: Any) -> int:
    """Records of ``table`` new, changed or gone between ``old`` and ``new``."""
    shared = [c for c in new.columns if c in old.columns]
    keep = ", ".join(quote(c) for c in shared)
    ours = db.sql(f"select {keep} from new")  # noqa: F841 (read by name below)
    theirs = db.sql(f"select {keep} from old")  # noqa: F841 (read by name below)
    changes = _compared(
        db, table, db.sql("select * from ours"), db.sql("select * from theirs"), None
    )
    return int(changes.aggregate("count(*)").fetchall()[0][0])
