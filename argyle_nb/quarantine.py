"""Records that failed validation: kept aside, counted and shown, never silently dropped.

A list page can hold a record that is not what the API promises (a field of the wrong
type, an object of an unknown shape). Such a record neither aborts the fetch nor
disappears: the builders of :mod:`argyle_nb.frames` and the client's ``list()`` set it
aside as a :class:`RejectedRecord` and go on with the rest; the client gathers them in
``client.rejected`` (a DataFrame, :func:`rejected_frame`) and warns with
:class:`RejectedRecordsWarning`.

Examples:
    >>> record = RejectedRecord(page=0, index=3, raw='{"id": 42}', error="id: not a UUID")
    >>> record.id is None, record.where
    (True, 'record 3 of page 0')
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from argyle_nb.envelope import dumps_json

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "REJECTED_COLUMNS",
    "RejectedRecord",
    "RejectedRecordsWarning",
    "rejected_frame",
]

#: Columns of :func:`rejected_frame` (and so of ``client.rejected``), in order.
REJECTED_COLUMNS: tuple[str, ...] = (
    "endpoint",
    "read_by",
    "url",
    "page",
    "index",
    "id",
    "error",
    "raw",
    "rejected_at",
)


class RejectedRecordsWarning(UserWarning):
    """Some records of a list failed validation and were set aside (see ``client.rejected``)."""


@dataclass(frozen=True)
class RejectedRecord:
    """One record set aside: where it was, what it was and why it failed.

    Attributes:
        page: position of its page in the list (0 is the first page).
        index: position of the record in its page.
        raw: the record as compact JSON text.
        error: what was wrong, naming the field where known.
        url: the page's URL path and query (the client fills it in).
        endpoint: the list's path, such as ``/v1/accounts`` (the client fills it in).
        read_by: what judged it, such as ``accounts_frame()`` (the client fills it in).
        rejected_at: when the client set it aside (UTC).
    """

    page: int
    index: int
    raw: str
    error: str
    url: str | None = None
    endpoint: str | None = None
    read_by: str | None = None
    rejected_at: datetime | None = None

    @classmethod
    def of(cls, page: int, index: int, record: Any, error: str) -> RejectedRecord:
        """A rejected record from the decoded JSON value ``record``."""
        try:
            raw = dumps_json(record).decode()
        except TypeError:  # text that was not UTF-8, or nested past orjson's limit
            try:
                raw = json.dumps(record)  # escapes lone surrogates as \udcxx
            except (TypeError, ValueError, RecursionError):
                raw = f"<not representable as JSON: {type(record).__name__}>"
        return cls(page=page, index=index, raw=raw, error=error)

    @property
    def id(self) -> str | None:
        """The record's ``id`` when it has a string one, else None."""
        try:
            value = orjson.loads(self.raw)
        except orjson.JSONDecodeError:
            return None
        found = value.get("id") if isinstance(value, dict) else None
        return found if isinstance(found, str) else None

    @property
    def where(self) -> str:
        """``record <index> of page <page>``."""
        return f"record {self.index} of page {self.page}"

    def located(
        self,
        *,
        url: str,
        endpoint: str,
        read_by: str | None = None,
        rejected_at: datetime | None = None,
    ) -> RejectedRecord:
        """The same record with its page URL, endpoint, reader and time filled in."""
        return replace(self, url=url, endpoint=endpoint, read_by=read_by, rejected_at=rejected_at)


def rejected_frame(records: Iterable[RejectedRecord]) -> pd.DataFrame:
    """The rejected records as a DataFrame with :data:`REJECTED_COLUMNS`.

    Examples:
        >>> rejected_frame([]).columns.tolist()[:3]
        ['endpoint', 'read_by', 'url']
    """
    import pandas as pd

    rows = list(records)
    columns: dict[str, Any] = {
        "endpoint": pd.Series([r.endpoint for r in rows], dtype="str"),
        "read_by": pd.Series([r.read_by for r in rows], dtype="str"),
        "url": pd.Series([r.url for r in rows], dtype="str"),
        "page": pd.Series([r.page for r in rows], dtype="int64"),
        "index": pd.Series([r.index for r in rows], dtype="int64"),
        "id": pd.Series([r.id for r in rows], dtype="str"),
        "error": pd.Series([r.error for r in rows], dtype="str"),
        "raw": pd.Series([r.raw for r in rows], dtype="str"),
        "rejected_at": pd.to_datetime(
            pd.Series([r.rejected_at for r in rows], dtype=object), utc=True
        ).astype("datetime64[us, UTC]"),
    }
    return pd.DataFrame(columns, columns=list(REJECTED_COLUMNS))
