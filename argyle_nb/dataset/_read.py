"""Open a dataset that :meth:`~argyle_nb.client.ArgyleClient.export` wrote, in DuckDB."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from argyle_nb.dataset._lock import Lock, lock
from argyle_nb.dataset._manifest import MANIFEST, REEXPORT, TABLES, DatasetError, Manifest
from argyle_nb.dataset._sql import sql_name, sql_text
from argyle_nb.provenance import Provenance

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

    Example:
        >>> ds = Dataset("portfolio")                                   # doctest: +SKIP
        >>> ds.sql("select count(*) from accounts").fetchall()           # doctest: +SKIP
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        memory_limit: str | None = None,
        threads: int | None = None,
    ) -> None:
        import tempfile

        import duckdb

        self.path = Path(path)
        self.folder, self._pin = _pinned(self.path)
        try:
            self.manifest = Manifest.read(self.folder)
        except DatasetError:
            if self._pin is not None:
                self._pin.release()
            raise
        config: dict[str, Any] = {"temp_directory": tempfile.gettempdir()}
        if memory_limit is not None:
            config["memory_limit"] = memory_limit
        if threads is not None:
            config["threads"] = int(threads)
        self.db: Any = duckdb.connect(config=config)
        #: The restrictions of a selection (:meth:`restricted`): table -> SQL condition.
        self.where: dict[str, str] = {}
        # The files are views in the schema "parts"; each table is a view over its files, in
        # "main", which a selection shadows with a temporary view of its own.
        self.db.execute("create schema parts")
        for table in TABLES:
            files = self.files(table)
            if files:
                # union_by_name: a later part may know a status or resource an earlier did not.
                listed = ", ".join(sql_text(f) for f in files)
                source = f"read_parquet([{listed}], union_by_name = true)"
            else:
                source = f"({_EMPTY[table]})"
            self.db.execute(f"create view parts.{table} as select * from {source}")
            self.db.execute(f"create view main.{table} as select * from parts.{table}")

    def files(self, table: str) -> list[str]:
        """The Parquet files of ``table``, in the order they were written."""
        return [str(self.folder / p.file) for p in self.manifest.parts if p.table == table]

    def restricted(self, table: str, condition: str) -> Dataset:
        """The same dataset with only the rows of ``table`` where the SQL ``condition``
        holds (on top of this one's restrictions); the other tables are unchanged.

        The selection shares this dataset's DuckDB database (a cursor of it) and reads the
        same files: it costs nothing until queried. Used by
        :func:`~argyle_nb.dataset.select_accounts` and the explorers.
        """
        if table not in TABLES:
            raise DatasetError(f"a dataset has no table {table!r} (it has {', '.join(TABLES)})")
        out = object.__new__(Dataset)
        out.path, out.folder, out.manifest = self.path, self.folder, self.manifest
        out._pin = self._pin  # the version stays while a selection of it lives
        out.db = self.db.cursor()
        out.where = dict(self.where)
        before = out.where.get(table)
        out.where[table] = condition if before is None else f"({before}) and ({condition})"
        for name, where in out.where.items():
            out.db.execute(f"create temp view {name} as select * from parts.{name} where {where}")
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
        if not (self.folder / MANIFEST).is_file():
            return (
                f"this dataset's version {self.manifest.version} ({self.folder}) was removed "
                f"after it was opened: open the dataset again (Dataset({str(self.path)!r}))"
            )
        for part in self.manifest.parts:
            file = self.folder / part.file
            if not file.is_file():
                return f"{file} was removed after the dataset was opened; {REEXPORT}"
            if str(file) in error:
                return f"{file} cannot be read ({error.splitlines()[0]}); {REEXPORT}"
        return None

    def columns(self, table: str) -> list[str]:
        """The columns of ``table``."""
        return [str(row[0]) for row in self.sql(f"describe {table}").fetchall()]

    def distinct(self, table: str, column: str) -> list[str]:
        """The values of ``column`` in ``table``, as text, sorted, missing left out (what
        an explorer's filter offers)."""
        if column not in self.columns(table):
            raise DatasetError(f"{table} have no column {column!r}")
        quoted = sql_name(column)
        rows = self.sql(
            f"select distinct cast({quoted} as varchar) from {table}"
            f" where {quoted} is not null order by 1"
        ).fetchall()
        return [str(r[0]) for r in rows]

    def rows(self, table: str) -> int:
        """Rows of ``table``: from the manifest, or counted for a restricted table."""
        if table in self.where:
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
        where = "".join(f"; {t} where {c}" for t, c in self.where.items())
        return f"<Dataset {self.path} (version {self.manifest.version}{where}): {counts}>"


def _pinned(path: Path) -> tuple[Path, Lock | None]:
    """The version folder ``path`` leads to, and its manifest held shared (no export
    removes it while held); ``None`` on a file system without locks, or if the folder has
    no manifest (which :meth:`Manifest.read` then reports)."""
    for _ in range(20):
        if not path.exists():
            if path.is_symlink():
                raise DatasetError(
                    f"{path} leads to {os.readlink(path)}, which is gone: export the dataset "
                    "again (client.export or argyle-nb export)"
                )
            raise DatasetError(f"there is no dataset at {path}: run client.export() first")
        folder = path.resolve()
        try:
            pin = lock(folder / MANIFEST, shared=True)
        except DatasetError:
            return folder, None
        except OSError:
            if path.resolve() != folder:
                continue  # an export replaced the version meanwhile
            return folder, None
        assert pin is not None
        if not pin.removed():
            return folder, pin
        pin.release()  # an export removed that version as it was opened: the next one
    raise DatasetError(f"{path} changed 20 times while it was opened: open it again")


#: An empty table of each kind: a list with no records still has its columns.
_EMPTY: dict[str, str] = {
    "users": "select null::varchar as id, null::timestamptz as created_at,"
    " null::varchar as external_metadata limit 0",
    "accounts": "select null::varchar as id, null::varchar as user, null::varchar as link_item,"
    " null::varchar as connection_status, null::varchar as connection_error_code,"
    " null::timestamptz as created_at limit 0",
    "availability": "select null::varchar as account, null::varchar as resource,"
    " null::varchar as status limit 0",
    "rejected": "select null::varchar as endpoint, null::varchar as error, null::varchar as raw"
    " limit 0",
}
