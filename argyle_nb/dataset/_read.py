"""Open a snapshot of a dataset that :meth:`~argyle_nb.client.ArgyleClient.export` wrote,
in DuckDB."""

from __future__ import annotations

import os
import weakref
from collections.abc import Collection, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from argyle_nb._sql import quote
from argyle_nb.dataset._catalogue import Snapshot, lone_snapshot, snapshots_frame
from argyle_nb.dataset._open import _VIEWS, _connect, _drop_views, _empty, _frames_of, _shared
from argyle_nb.dataset._snapshots import SnapshotStore
from argyle_nb.dataset._tables import REEXPORT, TABLES, DatasetError
from argyle_nb.provenance import Provenance

__all__ = ["Dataset"]


class Dataset:
    """A snapshot of a portfolio on disk: its tables as DuckDB relations, read where they
    lie.

    Every export adds a snapshot to the dataset at its path (see
    :mod:`argyle_nb.dataset._snapshots`); this opens the latest, or the one asked for.
    A snapshot never changes: exports running meanwhile add others. A damaged or missing
    file raises :class:`DatasetError` saying which and what to do.

    Args:
        path: what ``client.export(path)`` wrote: a folder, or an ``s3://`` URL.
        snapshot: which snapshot, by number (0: the first export; negative: from the
            latest, as a list index); default the latest.
        as_of: the snapshot current at that time (the latest taken at or before it).
        storage_options: deltalake's storage options, for object storage (never shown).
        memory_limit: the most memory DuckDB takes (``"500MB"``; default: DuckDB's, 80%
            of the machine's); past it, it spills to a temporary folder.
        threads: DuckDB's threads (default: one per core).

    Examples:
        >>> ds = Dataset("portfolio")                                   # doctest: +SKIP
        >>> ds.sql("select count(*) from accounts").fetchall()           # doctest: +SKIP
        >>> Dataset("portfolio", snapshot=0).snapshots                   # doctest: +SKIP
    """

    #: Where the dataset was exported to (``None`` over frames: :meth:`from_frames`).
    path: str | Path | None
    #: The snapshot read (over frames: one of its own, number 0).
    snapshot: Snapshot
    #: The store of the snapshots (``None`` over frames).
    store: SnapshotStore | None
    #: The DuckDB connection (a cursor of the first, for a selection).
    db: Any
    #: The selections (:meth:`restricted`): table -> its conditions and their values.
    where: dict[str, list[tuple[str, dict[str, Any]]]]
    #: The metadata keys the users frame has columns of (over frames; none for an export).
    meta_keys: tuple[str, ...] = ()
    #: What the analyses keep of this dataset: the temporary tables or views they made in its
    #: cursor (what every user did, each key's labels) and facts about the data.
    scratch: dict[str, Any]
    _frames: dict[str, pa.Table]
    #: Staged Parquet files by table (an export's, as its facts are derived).
    _staged_files: dict[str, list[str]]
    #: The views :meth:`view` made (dropped with the dataset).
    _views: list[str]
    #: Each table's columns, once asked (shared with the selections of this dataset).
    _described: dict[str, list[str]]
    #: The views of each table's rows, by table (seen by every cursor of the database).
    _sources: dict[str, str]

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        snapshot: int | None = None,
        as_of: datetime | None = None,
        storage_options: dict[str, str] | None = None,
        memory_limit: str | None = None,
        threads: int | None = None,
    ) -> None:
        remote = "://" in os.fspath(path)
        self.path = os.fspath(path) if remote else Path(path)
        if isinstance(self.path, Path) and not self.path.exists():
            raise DatasetError(f"there is no dataset at {self.path}: run client.export() first")
        self.store = SnapshotStore(self.path, storage_options)
        if not self.store.exists():
            raise DatasetError(
                f"{self.path} holds no snapshot yet (is it an argyle_nb dataset, its first"
                " export running?): export to it with client.export() or argyle-nb export"
            )
        self.snapshot = self.store.snapshot(snapshot, as_of=as_of)
        self.db = _connect(memory_limit, threads)
        self.where, self.scratch, self._frames = {}, {}, {}
        self._staged_files = {}
        self._described = {}
        self._attach()

    @classmethod
    def _staged(cls, files: dict[str, list[str]], memory_limit: str) -> Dataset:
        """The export staged in ``files`` (table -> its Parquet files, as written), not yet
        a snapshot: to derive its facts."""
        out = object.__new__(cls)
        out.path, out.store = None, None
        out.snapshot = lone_snapshot({}, {t: 0 for t in TABLES}, export="staged")
        out.db = _connect(memory_limit, None)
        out.where, out.scratch, out._frames = {}, {}, {}
        out._staged_files = dict(files)
        out._described = {}
        out._attach()
        return out

    @property
    def snapshots(self) -> pd.DataFrame:
        """Every snapshot of this dataset, oldest first: ``taken_at`` (UTC), ``users``,
        ``accounts``, ``changed`` (users and accounts new, changed or gone since the one
        before), indexed by ``snapshot`` (its number)."""
        return snapshots_frame([self.snapshot] if self.store is None else self.store.snapshots())

    @classmethod
    def from_frames(
        cls,
        users: pd.DataFrame | None,
        accounts: pd.DataFrame | None,
        availability: pd.DataFrame | None = None,
        *,
        by: str = "Dataset.from_frames",
    ) -> Dataset:
        """A dataset over frames in memory: the same object as an exported dataset, its
        tables DuckDB relations over the frames (scanned in place, not copied).

        Every analysis takes a dataset where it takes frames; build one to run many
        analyses (or an explorer) on the same frames without preparing them each time.
        A frame given as ``None`` is an empty table; ``availability`` missing: what needs
        it (``fully_synced``) says so. A frame without the columns its ``*_frame`` makes
        raises :class:`~argyle_nb.frames.MissingColumnsError` naming them and ``by`` (the
        analysis that was given the frames).

        Examples:
            >>> from argyle_nb.frames import users_frame, accounts_frame
            >>> users = users_frame([{"id": "0994b847-cc69-4d98-bc99-c5e65e762add",
            ...     "created_at": "2020-01-01", "external_metadata": {"group": "A"}}])
            >>> ds = Dataset.from_frames(users, accounts_frame(b"[]"))
            >>> ds
            <Dataset of frames: 1 users, 0 accounts, 0 availability, 0 rejected>
        """
        frames, meta_keys, lists = _frames_of(users, accounts, availability, by=by)
        out = object.__new__(cls)
        out.path, out.store = None, None
        sizes = {t: 0 if f is None else len(f) for t, f in (("users", users),
                 ("accounts", accounts), ("availability", availability))}  # fmt: skip
        out.snapshot = lone_snapshot(lists, {**sizes, "rejected": 0}, export="frames")
        out._staged_files = {}
        out.db = _shared().cursor()
        out.where, out.scratch, out._frames, out._described = {}, {}, frames, {}
        out.meta_keys = meta_keys
        out._attach()
        return out

    def _attach(self, sources: dict[str, str] | None = None, but: Collection[str] = ()) -> None:
        """Each table as the view ``<table>`` of this cursor, over its snapshot's rows or
        its staged files (the view :meth:`_base` names, made once per database), its frame,
        or an empty frame of its columns (registered in this cursor alone as
        ``all_<table>``, so they are let go with it). ``sources``: the views the dataset
        this is a selection of made, read again, not made anew; ``but``: the tables a
        selection views itself."""
        self._sources: dict[str, str] = dict(sources or {})
        for table in TABLES:
            if table in self._sources:
                pass
            elif self.store is not None:
                rel = self.store.relation(self.db, table, self.snapshot)
                source = self._sources[table] = f"_all_{table}_{next(_VIEWS)}"
                rel.create_view(source)
            elif self._staged_files.get(table):
                files = self._staged_files[table]
                # union_by_name: a later part may know a status or resource an earlier did
                # not; _seen: the order the walk saw the rows in (file, then row).
                read = self.db.read_parquet(  # noqa: F841 (read by name in the SQL below)
                    files, union_by_name=True, filename=True, file_row_number=True
                )
                rel = self.db.sql(
                    "select * exclude (filename, file_row_number), list_position($files,"
                    " filename) * 4294967296 + file_row_number as _seen from read",
                    params={"files": files},
                )
                source = self._sources[table] = f"_all_{table}_{next(_VIEWS)}"
                rel.create_view(source)
            else:
                frame = self._frames.get(table)
                self.db.register(f"all_{table}", _empty(table) if frame is None else frame)
            if table not in but:
                self.db.execute(
                    f"create or replace temp view {table} as select * from {self._base(table)}"
                )

    def _base(self, table: str) -> str:
        """The view or frame of all of ``table``'s rows, before any selection."""
        return self._sources.get(table, f"all_{table}")

    def view(self, query: str, params: dict[str, Any] | None = None) -> str:
        """The rows of ``query`` (its values as ``$name`` placeholders of ``params``) as a
        view under a name of its own, which this returns: nothing is read until a query
        reads it, each time it does. The view goes when this dataset is let go."""
        unique = f"_view_{next(_VIEWS)}"
        self.sql(query, params=params or None).create_view(unique)
        views: list[str] | None = getattr(self, "_views", None)
        if views is None:  # the first view: dropped with the dataset
            views = self._views = []
            weakref.finalize(self, _drop_views, self.db, views)
        views.append(unique)
        return unique

    def _name(self, rel: Any, name: str) -> str:
        """The relation ``rel`` as the view ``name`` of this cursor only (a relation's own
        view is seen by every cursor: it is named uniquely, and a temporary view of this
        cursor names it); the unique name."""
        unique = f"_{name}_{next(_VIEWS)}"
        rel.create_view(unique)
        self.db.execute(f"create or replace temp view {name} as select * from {unique}")
        return unique

    def across(self, table: str, numbers: Sequence[int]) -> str:
        """The rows of ``table`` in each of the snapshots ``numbers`` of this dataset,
        with their ``snapshot`` number (and ``_seen``, the order the walk saw each row of
        its snapshot): the name of a view of this cursor (what the history analyses
        count). Over frames, there is one snapshot: 0.
        """
        if table not in TABLES:
            raise DatasetError(f"a dataset has no table {table!r} (it has {', '.join(TABLES)})")
        found = [self.snapshot] if self.store is None else self.store.snapshots()
        picked = []
        for number in numbers:
            if isinstance(number, bool) or not isinstance(number, int):
                raise DatasetError(f"snapshot {number!r} is not a snapshot's number")
            if not -len(found) <= number < len(found):
                raise DatasetError(
                    f"snapshot {number} does not exist: the dataset has {len(found)}"
                    f" (0 to {len(found) - 1})"
                )
            picked.append(found[number])
        if not picked:
            raise DatasetError("no snapshots given")
        rels = (  # one read of the table for them all
            [self.db.sql(f"select * from {self._base(table)}") for _ in picked]
            if self.store is None
            else self.store.relations(self.db, table, picked)
        )
        parts = []
        for snapshot, rel in zip(picked, rels, strict=True):  # noqa: B007 (read by name)
            parts.append(
                self._name(
                    self.db.sql(f"select {snapshot.number} as snapshot, * from rel"),
                    "snapshot",
                )
            )
        union = " union all by name ".join(f"select * from {p}" for p in parts)
        return self.view(union)

    def stored(self, name: str) -> str | None:
        """The view of the fact ``name`` this snapshot stores (:attr:`~argyle_nb.dataset.
        Snapshot.facts`: a table derived from its records when it was taken), ``None`` if it
        stores none by that name, or if this dataset is a selection (the fact is of all
        rows)."""
        if self.where or self.store is None or name not in self.snapshot.facts:
            return None
        view: str | None = self.scratch.get(f"stored {name}")
        if view is None:
            view = self._name(self.store.fact(self.db, name, self.snapshot), "fact")
            self.scratch[f"stored {name}"] = view
        return view

    @property
    def in_memory(self) -> bool:
        """Whether this dataset is over frames in memory (:meth:`from_frames`)."""
        return self.path is None and not self._staged_files

    @property
    def has_availability(self) -> bool:
        """Whether the availability of the accounts is known (an export always has it)."""
        return not self.in_memory or "availability" in self._frames

    def restricted(
        self, table: str, condition: str, params: dict[str, Any] | None = None
    ) -> Dataset:
        """The same dataset with only the rows of ``table`` where the SQL ``condition``
        holds (its values as ``$name`` placeholders of ``params``, see
        :class:`argyle_nb._sql.Params`), on top of this one's restrictions; the other
        tables are unchanged.

        The selection shares this dataset's DuckDB database (a cursor of it) and reads the
        same files or frames: it costs nothing until queried. Used by
        :func:`~argyle_nb.analysis.select_accounts` and the explorers.
        """
        if table not in TABLES:
            raise DatasetError(f"a dataset has no table {table!r} (it has {', '.join(TABLES)})")
        out = object.__new__(Dataset)
        out.path, out.store, out.snapshot = self.path, self.store, self.snapshot
        out._frames, out.meta_keys = self._frames, self.meta_keys
        out._staged_files = self._staged_files
        out._described = self._described  # a selection has its dataset's columns
        out.scratch = {}  # a cursor of its own: its own tables
        out.db = self.db.cursor()
        out.where = {name: list(conditions) for name, conditions in self.where.items()}
        out.where.setdefault(table, []).append((condition, dict(params or {})))
        out._attach(self._sources, but=out.where)
        made = []
        for name, ((first, values), *more) in out.where.items():
            rel = out.db.sql(
                f"select * from {out._base(name)} where {first}", params=values or None
            )
            for where, values in more:
                rel = out.db.sql(f"select * from rel where {where}", params=values or None)
            made.append(out._name(rel, name))
        # A relation's view belongs to the database, not the cursor: it goes with `out`.
        weakref.finalize(out, _drop_views, out.db, made)
        return out

    def sql(self, query: str, params: Any = None) -> Any:
        """A DuckDB relation of ``query`` over the views ``users``, ``accounts``,
        ``availability`` and ``rejected``.

        Raises:
            DatasetError: a file of this snapshot is gone or damaged (which, and what to do).
        """
        import duckdb

        try:
            return self.db.sql(query, params=params)
        except duckdb.Error as exc:  # a damaged file is an IO, input or plain Error
            problem = self._damage(str(exc))
            if problem is None:
                raise
            raise DatasetError(problem) from None

    def _damage(self, error: str) -> str | None:
        """What is wrong with this snapshot's files, if DuckDB's ``error`` came from them."""
        if not isinstance(self.path, Path) or str(self.path.absolute()) not in error:
            return None
        return f"{self.path} cannot be read ({error.splitlines()[0]}); {REEXPORT}"

    def columns(self, table: str) -> list[str]:
        """The columns of ``table`` (not the row order ``_seen`` the dataset keeps)."""
        found = self._described.get(table)
        if found is None:
            names = [str(row[0]) for row in self.sql(f"describe {table}").fetchall()]
            found = self._described[table] = [name for name in names if name != "_seen"]
        return list(found)

    def distinct(self, table: str, column: str) -> list[str]:
        """The values of ``column`` in ``table``, as text, sorted, missing left out (what
        an explorer's filter offers)."""
        if column not in self.columns(table):
            raise DatasetError(f"{table} have no column {column!r}")
        quoted = quote(column)
        rows = self.sql(
            f"select distinct cast({quoted} as varchar) from {table}"
            f" where {quoted} is not null order by 1"
        ).fetchall()
        return [str(r[0]) for r in rows]

    def rows(self, table: str) -> int:
        """Rows of ``table``: from the snapshot, or counted (a restricted table, frames)."""
        if table in self.where or self.store is None:
            return int(self.sql(f"select count(*) from {table}").fetchall()[0][0])
        return int(self.snapshot.rows.get(table, 0))

    def provenance(self, endpoint: str) -> Provenance:
        """Where and when the list ``endpoint`` (``/v1/users``, ``/v1/accounts``) came from."""
        try:
            return Provenance.from_attrs(self.snapshot.provenance[endpoint])
        except (KeyError, ValueError, TypeError):
            have = ", ".join(self.snapshot.provenance) or "none"
            raise DatasetError(
                f"{self.path} (snapshot {self.snapshot.number}): no provenance of {endpoint}"
                f" (has {have})"
            ) from None

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def __enter__(self) -> Dataset:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        counts = ", ".join(f"{self.rows(t):,} {t}" for t in TABLES)
        where = "".join(f"; {t} selected" for t in self.where)
        if self.in_memory:
            return f"<Dataset of frames{where}: {counts}>"
        taken = f"{self.snapshot.taken_at:%Y-%m-%d %H:%M} UTC"
        return f"<Dataset {self.path} (snapshot {self.snapshot.number}, {taken}{where}): {counts}>"
