"""Open a dataset that :meth:`~argyle_nb.client.ArgyleClient.export` wrote, in DuckDB."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from argyle_nb.dataset._manifest import TABLES, DatasetError, Manifest
from argyle_nb.dataset._sql import sql_name, sql_text
from argyle_nb.provenance import Provenance

__all__ = ["Dataset"]


class Dataset:
    """A portfolio on disk: its tables as DuckDB relations, read where they lie.

    Opening pins the version current at that moment: a refresh running meanwhile does not
    change what this object reads (the version it replaced stays until the next one).

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
        if not self.path.exists():
            raise DatasetError(f"there is no dataset at {self.path}: run client.export() first")
        self.folder = self.path.resolve()
        self.manifest = Manifest.read(self.folder)
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
        out.db = self.db.cursor()
        out.where = dict(self.where)
        before = out.where.get(table)
        out.where[table] = condition if before is None else f"({before}) and ({condition})"
        for name, where in out.where.items():
            out.db.execute(f"create temp view {name} as select * from parts.{name} where {where}")
        return out

    def sql(self, query: str, params: Any = None) -> Any:
        """A DuckDB relation of ``query`` over the views ``users``, ``accounts``,
        ``availability`` and ``rejected``."""
        return self.db.sql(query, params=params)

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
            return int(self.db.sql(f"select count(*) from {table}").fetchall()[0][0])
        return sum(p.rows for p in self.manifest.parts if p.table == table)

    def provenance(self, endpoint: str) -> Provenance:
        """Where and when the list ``endpoint`` (``/v1/users``, ``/v1/accounts``) came from."""
        try:
            return Provenance.from_attrs(self.manifest.lists[endpoint])
        except (KeyError, ValueError):
            have = ", ".join(self.manifest.lists) or "none"
            raise DatasetError(f"{self.folder}: no provenance of {endpoint} (has {have})") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Dataset:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        counts = ", ".join(f"{self.rows(t):,} {t}" for t in TABLES)
        where = "".join(f"; {t} where {c}" for t, c in self.where.items())
        return f"<Dataset {self.path} (version {self.manifest.version}{where}): {counts}>"


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
