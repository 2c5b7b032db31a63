"""What changed between two exports of a table: the rows new, changed or gone by key (the
changes a snapshot is written as), and the rows an export staged."""

from __future__ import annotations

from typing import Any, Final

import pyarrow as pa

from argyle_nb._sql import quote

__all__ = ["KEYS", "SAMPLE", "compared", "differences", "sampled_share", "staged", "unique"]

#: Each table's key: the columns naming one record (none: the table is written full).
KEYS: Final[dict[str, tuple[str, ...]]] = {
    "users": ("id",),
    "accounts": ("id",),
    "availability": ("account", "resource"),
    "rejected": (),
}
#: One key in this many (by a hash of the key) makes the sample of :func:`sampled_share`.
SAMPLE: Final = 32
#: The fewest sampled rows :func:`sampled_share` gives a share of.
_SAMPLED_ROWS: Final = 1_000
#: The columns the store adds to every row of a table.
EXPORT, REMOVED, SEEN = "_export", "_removed", "_seen"


def staged(db: Any, table: str, files: list[str]) -> Any:
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
        f" * 4294967296 + file_row_number as {SEEN} from read",
        params={"files": files},
    )


def unique(db: Any, table: str, *relations: Any) -> bool:
    """Whether no key of ``table`` is on two rows of any of ``relations``."""
    key = ", ".join(quote(c) for c in KEYS[table])
    for rel in relations:  # noqa: B007 (read by name in the SQL below)
        twice = db.sql(f"select count(*) - count(distinct struct_pack({key})) from rel")
        if twice.fetchall()[0][0]:
            return False
    return True


def compared(db: Any, table: str, new: Any, old: Any) -> Any:
    """The records of ``table`` that differ between ``old`` and ``new`` (by key, every
    column but ``_seen`` compared, a missing value equal to a missing value): ``new``'s
    rows of keys new or changed, and a tombstone (the key, ``_removed``) per key gone."""
    names = [c for c in new.columns if c != SEEN]
    key = ", ".join(quote(c) for c in KEYS[table])
    values = ", ".join(quote(c) for c in names)
    return db.sql(
        f"with n as (select *, struct_pack({values}) as _v from new),"
        f" o as (select {key}, struct_pack({values}) as _v from old)"
        f" select n.* exclude (_v), false as {REMOVED} from n"
        f" left join o using ({key}) where o._v is distinct from n._v"
        f" union all by name select {key}, true as {REMOVED}"
        f" from o anti join n using ({key})"
    )


def differences(db: Any, table: str, new: Any, old: Any) -> int:
    """Records of ``table`` new, changed or gone between ``old`` and ``new``."""
    shared = [c for c in new.columns if c in old.columns]
    keep = ", ".join(quote(c) for c in shared)
    changes = compared(
        db, table, db.sql(f"select {keep} from new"), db.sql(f"select {keep} from old")
    )
    return int(changes.aggregate("count(*)").fetchall()[0][0])


def sampled_share(db: Any, table: str, new: Any, old: Any) -> float | None:
    """The share of changes (:func:`compared`'s rows against ``new``'s) among the keys of
    one in :data:`SAMPLE` (by a hash of the key), or None when the sample holds fewer than
    a thousand rows. It decides cheaply whether a table whose rows mostly changed (the
    windows of every account scanned in a day) is written full, without comparing every
    row (5.9 million windows: 10 s)."""
    key = ", ".join(quote(c) for c in KEYS[table])
    pick = f"hash({key}) % {SAMPLE} = 0"
    some_new = db.sql(f"select * from new where {pick}")
    rows = int(some_new.aggregate("count(*)").fetchall()[0][0])
    if rows < _SAMPLED_ROWS:
        return None
    changes = compared(db, table, some_new, db.sql(f"select * from old where {pick}"))
    return int(changes.aggregate("count(*)").fetchall()[0][0]) / rows
