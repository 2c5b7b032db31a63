"""Open a dataset that :meth:`~argyle_nb.client.ArgyleClient.export` wrote, in DuckDB."""

from __future__ import annotations

import os
import weakref
from collections.abc import Collection
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from argyle_nb._sql import quote
from argyle_nb.dataset._lock import Lock
from argyle_nb.dataset._manifest import COLUMNS, MANIFEST, REEXPORT, TABLES, DatasetError, Manifest
from argyle_nb.dataset._open import (
    _VIEWS,
    _connect,
    _drop_views,
    _empty,
    _pinned,
    _scannable,
    _shared,
)
from argyle_nb.provenance import ATTRS_KEY, Provenance

__all__ = ["Dataset"]


class Dataset:
    """A portfolio on disk: its tables as DuckDB relations, read where they lie.

    Opening pins the version current at that moment: refreshes running meanwhile do not
    change what this object reads. The version stays on disk while it is open (exports
    leave it, and remove it at the first export after :meth:`close`, or after the object
    is garbage collected). Opening checks the manifest against each part file's Parquet
    footer (table, list, rows, columns): a damaged dataset, or a version removed by
    other means while open, raises :class:`DatasetError` saying which file and what to do.

    Args:
        path: what ``client.export(path)`` wrote.
        memory_limit: the most memory DuckDB takes (``"500MB"``; default: DuckDB's, 80%
            of the machine's); past it, it spills to a temporary folder.
        threads: DuckDB's threads (default: one per core).

    Attributes:
        folder: the version read; manifest: its :class:`Manifest`.

    Examples:
        >>> ds = Dataset("portfolio")                                   # doctest: +SKIP
        >>> ds.sql("select count(*) from accounts").fetchall()           # doctest: +SKIP
    """

    #: Where the dataset was exported to (``None`` over frames: :meth:`from_frames`).
    path: Path | None
    #: The version folder read (``None`` over frames).
    folder: Path | None
    manifest: Manifest
    #: The DuckDB connection (a cursor of the first, for a selection).
    db: Any
    #: The selections (:meth:`restricted`): table -> its conditions and their values.
    where: dict[str, list[tuple[str, dict[str, Any]]]]
    #: The metadata keys the users frame has columns of (over frames; none for an export).
    meta_keys: tuple[str, ...] = ()
    #: What the analyses keep of this dataset: the temporary tables or views they made in its
    #: cursor (what every user did, each key's labels) and facts about the data.
    scratch: dict[str, Any]
    _pin: Lock | None
    _frames: dict[str, pa.Table]
    #: The views :meth:`view` made (dropped with the dataset).
    _views: list[str]
    #: Each table's columns, once asked (shared with the selections of this dataset).
    _described: dict[str, list[str]]
    #: The views of each table's files, by table (seen by every cursor of the database).
    _sources: dict[str, str]

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        memory_limit: str | None = None,
        threads: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.folder, self._pin = _pinned(self.path)
        try:
            self.manifest = Manifest.read(self.folder)
        except DatasetError:
            if self._pin is not None:
                self._pin.release()
            raise
        self.db = _connect(memory_limit, threads)
        self.where = {}
        self.scratch = {}
        self._frames = {}
        self._described = {}
        self._attach()

    @classmethod
    def _being_written(cls, folder: Path, manifest: Manifest, memory_limit: str) -> Dataset:
        """The version a writer is writing in ``folder`` (not yet current, not pinned),
        its manifest ``manifest`` (which :meth:`Manifest.read` would check)."""
        out = object.__new__(cls)
        out.path = out.folder = folder
        out._pin = None
        out.manifest = manifest
        out.db = _connect(memory_limit, None)
        out.where, out.scratch, out._frames = {}, {}, {}
        out._described = {}
        out._attach()
        return out

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
        from datetime import UTC, datetime

        from argyle_nb.frames import require_columns

        given = {"users": users, "accounts": accounts, "availability": availability}
        for table, frame in given.items():
            if frame is not None:
                require_columns(frame, COLUMNS[table], by=by, made_by=f"{table}_frame")
        lists: dict[str, dict[str, Any]] = {}
        # Availability was listed from /v1/accounts too: its frame says so without accounts.
        listed = (("/v1/users", users), ("/v1/accounts", accounts), ("/v1/accounts", availability))
        for endpoint, frame in listed:
            said = None if frame is None else frame.attrs.get(ATTRS_KEY)
            if isinstance(said, dict):
                lists.setdefault(endpoint, said)
        out = object.__new__(cls)
        out.path = None
        out.folder = None
        out._pin = None
        out.manifest = Manifest(
            version="frames", written_at=datetime.now(UTC), lists=lists, parts=[]
        )
        out.db = _shared().cursor()
        out.where = {}
        out.scratch = {}
        out._frames = {}
        out._described = {}
        if users is not None:
            from argyle_nb.frames import metadata_keys

            out.meta_keys = tuple(metadata_keys(users))
            base = [c for c in users.columns if not str(c).startswith("meta")]
            out._frames["users"] = _scannable(users[base])
        if accounts is not None:
            out._frames["accounts"] = _scannable(accounts)
        if availability is not None:
            out._frames["availability"] = _scannable(availability)
        out._attach()
        return out

    def _attach(self, sources: dict[str, str] | None = None, but: Collection[str] = ()) -> None:
        """Each table as the view ``<table>`` of this cursor, over its Parquet files (the
        view :meth:`_base` names, made once per database), its frame, or an empty frame of
        its columns (registered in this cursor alone as ``all_<table>``, so they are let go
        with it). ``sources``: the views of the files the dataset this is a selection of
        made, read again, not made anew; ``but``: the tables a selection views itself."""
        self._sources: dict[str, str] = dict(sources or {})
        for table in TABLES:
            files = self.files(table)
            if files and table not in self._sources:
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
            elif not files:
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

    def stored(self, name: str) -> str | None:
        """The view of the fact ``name`` this version stores (:class:`~argyle_nb.dataset.
        Fact`: a table derived from its records when it was written), ``None`` if it stores
        none by that name, or if this dataset is a selection (the fact is of all rows)."""
        if self.where:
            return None
        fact = next((f for f in self.manifest.facts if f.name == name), None)
        if fact is None or self.folder is None:
            return None
        view: str | None = self.scratch.get(f"stored {name}")
        if view is None:
            import duckdb

            try:
                view = self._name(self.db.read_parquet(str(self.folder / fact.file)), "fact")
            except duckdb.Error as exc:  # the file went after the dataset was opened
                raise DatasetError(self._damage(str(exc)) or str(exc)) from None
            self.scratch[f"stored {name}"] = view
        return view

    @property
    def in_memory(self) -> bool:
        """Whether this dataset is over frames in memory (:meth:`from_frames`)."""
        return self.path is None

    @property
    def has_availability(self) -> bool:
        """Whether the availability of the accounts is known (an export always has it)."""
        return not self.in_memory or "availability" in self._frames

    def files(self, table: str) -> list[str]:
        """The Parquet files of ``table``, in the order they were written (none for a
        dataset over frames)."""
        if self.folder is None:
            return []
        return [str(self.folder / p.file) for p in self.manifest.parts if p.table == table]

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
        out.path, out.folder, out.manifest = self.path, self.folder, self.manifest
        out._pin = self._pin  # the version stays while a selection of it lives
        out._frames, out.meta_keys = self._frames, self.meta_keys
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
            DatasetError: a file of this version is gone or damaged (which, and what to do).
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
        """What is wrong with this version's files, if DuckDB's ``error`` came from them."""
        if self.folder is None:
            return None
        if not (self.folder / MANIFEST).is_file():
            return (
                f"this dataset's version {self.manifest.version} ({self.folder}) was removed "
                f"after it was opened: open the dataset again (Dataset({str(self.path)!r}))"
            )
        files = [p.file for p in self.manifest.parts] + [f.file for f in self.manifest.facts]
        for name in files:
            file = self.folder / name
            if not file.is_file():
                return f"{file} was removed after the dataset was opened; {REEXPORT}"
            if str(file) in error:
                return f"{file} cannot be read ({error.splitlines()[0]}); {REEXPORT}"
        return None

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
        """Rows of ``table``: from the manifest, or counted (a restricted table, frames)."""
        if table in self.where or self.in_memory:
            return int(self.sql(f"select count(*) from {table}").fetchall()[0][0])
        return sum(p.rows for p in self.manifest.parts if p.table == table)

    def provenance(self, endpoint: str) -> Provenance:
        """Where and when the list ``endpoint`` (``/v1/users``, ``/v1/accounts``) came from."""
        try:
            return Provenance.from_attrs(self.manifest.lists[endpoint])
        except (KeyError, ValueError):
            have = ", ".join(self.manifest.lists) or "none"
            raise DatasetError(f"{self.folder}: no provenance of {endpoint} (has {have})") from None

    def close(self) -> None:
        """Close the database; the version may then be removed by the next export."""
        self.db.close()
        if self._pin is not None:
            self._pin.release()

    def __enter__(self) -> Dataset:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        counts = ", ".join(f"{self.rows(t):,} {t}" for t in TABLES)
        where = "".join(f"; {t} selected" for t in self.where)
        if self.in_memory:
            return f"<Dataset of frames{where}: {counts}>"
        return f"<Dataset {self.path} (version {self.manifest.version}{where}): {counts}>"
