"""The catalogue of a store's snapshots: one row per committed export (when it was taken,
its counts, the base of each table, each list's provenance, its facts), read as
:class:`Snapshot` objects numbered by the time they were taken."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import orjson
import pandas as pd
import pyarrow as pa

from argyle_nb.dataset._tables import REEXPORT, DatasetError

__all__ = [
    "EXPORT_ID",
    "Snapshot",
    "base_snapshot",
    "catalogue_row",
    "export_id",
    "lone_snapshot",
    "read_catalogue",
    "snapshots_frame",
]


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


#: What an export's id looks like (:func:`export_id`).
EXPORT_ID: Final = re.compile(r"[0-9]{8}T[0-9]{12}Z-[0-9]+-[0-9a-f]{8}")


def export_id(taken_at: datetime) -> str:
    """A new export's id: when, then which process, then chance (sortable by time)."""
    return f"{taken_at.astimezone(UTC):%Y%m%dT%H%M%S%fZ}-{os.getpid()}-{secrets.token_hex(4)}"


def base_snapshot(export: str) -> Snapshot:
    """A snapshot made of ``export``'s full rows alone (to read a base by)."""
    return Snapshot(0, export, datetime.min.replace(tzinfo=UTC), 0, 0, 0, {}, {}, {}, {})


def lone_snapshot(lists: dict[str, Any], rows: dict[str, int], *, export: str) -> Snapshot:
    """The one snapshot of a dataset that is no export's (over frames, or an export being
    staged): number 0, taken now, with the provenance ``lists`` and the ``rows``."""
    return Snapshot(
        number=0,
        export=export,
        taken_at=datetime.now(UTC),
        users=rows.get("users", 0),
        accounts=rows.get("accounts", 0),
        changed=0,
        bases={},
        provenance=lists,
        rows=rows,
        facts={},
    )


def catalogue_row(
    export: str,
    taken_at: datetime,
    *,
    rows: dict[str, int],
    changed: int,
    bases: dict[str, str | None],
    provenance: dict[str, Any],
    facts: dict[str, int],
) -> pa.Table:
    """The catalogue's row of a snapshot."""
    return pa.table(
        {
            "export": [export],
            "taken_at": pa.array([taken_at.astimezone(UTC)], pa.timestamp("us", "UTC")),
            "users": [rows["users"]],
            "accounts": [rows["accounts"]],
            "changed": [changed],
            "bases": [orjson.dumps(bases).decode()],
            "provenance": [orjson.dumps(provenance).decode()],
            "rows": [orjson.dumps(rows).decode()],
            "facts": [orjson.dumps(facts).decode()],
        }
    )


def read_catalogue(rows: list[dict[str, Any]], where: str) -> list[Snapshot]:
    """The snapshots of the catalogue ``rows`` (of the table at ``where``), oldest first
    (by the time taken, then the export's id)."""
    out = []
    for row in rows:
        try:
            export = row["export"]
            if not isinstance(export, str) or not EXPORT_ID.fullmatch(export):
                raise TypeError
            parts = [orjson.loads(row[c]) for c in ("bases", "provenance", "rows", "facts")]
            if not all(isinstance(x, dict) for x in parts):
                raise TypeError
            bases, provenance, rows_of, facts = parts
            snapshot = Snapshot(
                number=0,
                export=export,
                taken_at=row["taken_at"].astimezone(UTC),
                users=int(row["users"]),
                accounts=int(row["accounts"]),
                changed=int(row["changed"]),
                bases=bases,
                provenance=provenance,
                rows=rows_of,
                facts=facts,
            )
        except (orjson.JSONDecodeError, TypeError, KeyError, ValueError, AttributeError):
            raise DatasetError(
                f"{where}: the row of export {row.get('export')!r} is damaged; {REEXPORT}"
            ) from None
        out.append(snapshot)
    out.sort(key=lambda s: (s.taken_at, s.export))
    return [
        Snapshot(n, *(getattr(s, f) for f in Snapshot.__dataclass_fields__ if f != "number"))
        for n, s in enumerate(out)
    ]


def snapshots_frame(found: list[Snapshot]) -> pd.DataFrame:
    """``found`` as a table: ``taken_at`` (UTC), ``users``, ``accounts``, ``changed``,
    indexed by ``snapshot`` (the number)."""
    return pd.DataFrame(
        {
            "taken_at": pd.to_datetime([s.taken_at for s in found], utc=True),
            "users": pd.array([s.users for s in found], dtype="int64"),
            "accounts": pd.array([s.accounts for s in found], dtype="int64"),
            "changed": pd.array([s.changed for s in found], dtype="int64"),
        },
        index=pd.Index([s.number for s in found], dtype="int64", name="snapshot"),
    )
