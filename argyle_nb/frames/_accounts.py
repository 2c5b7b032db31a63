"""The account builders: :func:`accounts_frame`, :func:`availability_frame` and
:func:`accounts_and_availability`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import orjson
import pandas as pd

from argyle_nb.frames._errors import FrameError
from argyle_nb.frames._pandas import (
    ACCOUNT_KINDS,
    AVAILABILITY_KINDS,
    Columns,
    account_columns,
    availability_columns,
)
from argyle_nb.frames._read import _Invalid, _read_bodies
from argyle_nb.frames._schema import _ACCOUNT, _ACCOUNT_ONLY, _AVAILABILITY_ONLY
from argyle_nb.frames._screen import _read_screened
from argyle_nb.frames._sources import (
    Source,
    _as_envelope,
    _first_records,
    _iter_pages,
    _refuse_other_kind,
)
from argyle_nb.quarantine import RejectedRecord

#: Pages read into a frame's columns at once (10,000 records at the API's 200 a page): what
#: a builder holds besides the columns it made.
BATCH_PAGES: Final = 50

_TABLES = {
    "accounts": (ACCOUNT_KINDS, account_columns),
    "availability": (AVAILABILITY_KINDS, availability_columns),
}
_FIELDS = {
    ("accounts",): _ACCOUNT_ONLY,
    ("availability",): _AVAILABILITY_ONLY,
    ("accounts", "availability"): _ACCOUNT,
}


class AccountBatches:
    """Account pages read into the columns of ``tables`` a batch of pages at a time.

    Each frame reads (and so judges) only the fields it shows: an account whose
    ``availability`` is broken still has its row in :func:`accounts_frame`, and one whose
    ``connection`` is broken still has its rows in :func:`availability_frame`. User
    records raise :class:`FrameError` (``builder`` names the function in the message).
    With ``rejected`` (a list), records that fail are appended to it (``page`` counts
    every page added) and left out; without, the first failure raises :class:`FrameError`.
    """

    def __init__(
        self,
        tables: Sequence[str],
        *,
        rejected: list[RejectedRecord] | None,
        builder: str,
        batch_pages: int = BATCH_PAGES,
    ) -> None:
        self._fields = _FIELDS[tuple(tables)]
        self._columns = {table: Columns(_TABLES[table][0]) for table in tables}
        self._rejected = rejected
        self._builder = builder
        self._batch_pages = max(1, batch_pages)
        self._pending: list[bytes] = []
        self._checked = False
        self._read_so_far = 0
        #: Pages added so far.
        self.pages = 0
        #: Accounts kept so far (not rows: an account has several availability rows).
        self.records = 0

    def add(self, page: bytes) -> None:
        """One more page (its bytes as served); a full batch is read at once."""
        self._pending.append(page)
        self.pages += 1
        if len(self._pending) >= self._batch_pages:
            self._read()

    def frames(self) -> dict[str, pd.DataFrame]:
        """The frame of each table over every page added."""
        self._read()
        return {table: columns.frame() for table, columns in self._columns.items()}

    def _read(self) -> None:
        pages, self._pending = self._pending, []
        if not pages:
            return
        if not self._checked:
            records = _first_records(pages)
            if records:
                _refuse_other_kind(records, "account", self._builder)
                self._checked = True
        first = self._read_so_far
        self._read_so_far += len(pages)
        bodies = [_as_envelope(p, first + i) for i, p in enumerate(pages)]
        del pages
        try:
            accounts = _read_bodies(bodies, self._fields, first=first)
        except _Invalid as exc:
            if self._rejected is None:
                raise FrameError(str(exc)) from None
            accounts = _read_screened(bodies, self._fields, self._rejected, first)
        del bodies
        self.records += len(accounts)
        for table, columns in self._columns.items():
            columns.add(_TABLES[table][1](accounts))


def _account_frames(
    source: Source, tables: Sequence[str], rejected: list[RejectedRecord] | None, builder: str
) -> dict[str, pd.DataFrame]:
    """The frames of ``tables`` of every account of a source."""
    batches = AccountBatches(tables, rejected=rejected, builder=builder)
    kind, items = _iter_pages(source)
    if kind == "objects":
        _refuse_other_kind(items, "account", builder)
        for position, item in enumerate(items):
            if not isinstance(item, Mapping):
                raise FrameError(f"object {position} is a {type(item).__name__}, not an account")
        items = [orjson.dumps(items)] if items else []
    for page in items:
        batches.add(page)
    return batches.frames()


# ---------------------------------------------------------------------------
# Public builders
# ---------------------------------------------------------------------------


def accounts_frame(source: Source, *, rejected: list[RejectedRecord] | None = None) -> pd.DataFrame:
    """One row per account, typed.

    Columns: ``id``, ``user`` (strings), ``link_item``, ``item``, ``source``
    (Categoricals), ``employers`` (Arrow list of strings), ``created_at``,
    ``updated_at`` (UTC), ``was_connected`` (bool), ``connection_status``,
    ``connection_error_code``, ``connection_error_message``,
    ``connection_updated_at``, and the same four ``pay_distribution_*`` columns.
    Statuses and error codes are Categoricals over the documented values
    (:data:`~argyle_nb.models.CONNECTION_STATUSES` etc.), then any value the
    service sent beyond them. The pay-distribution error is read from
    ``error_code`` or, as in the reference examples, ``error``.

    With ``rejected`` (a list), an account that cannot be read into these columns (a
    field of the wrong type, no ``id``, not an object) is appended to it as a
    :class:`~argyle_nb.quarantine.RejectedRecord` and left out, and the rest are read;
    without it, the first such account raises :class:`FrameError`. Only the fields shown
    are judged: a broken ``availability`` does not cost an account its row here. User
    records (``users.pages()`` handed here by mistake) raise :class:`FrameError`, even with
    ``rejected``: "these look like user records ...; use users_frame".

    Examples:
        >>> page = b'{"count": 0, "next": null, "previous": null, "results": []}'
        >>> accounts_frame(page).shape
        (0, 17)
    """
    return _account_frames(source, ["accounts"], rejected, "accounts_frame")["accounts"]


def availability_frame(
    source: Source, *, rejected: list[RejectedRecord] | None = None
) -> pd.DataFrame:
    """A tidy long table: one row per account and availability resource present.

    Columns: ``account``, ``user``, ``resource`` (Categorical over
    :data:`~argyle_nb.models.RESOURCES`), ``status`` (Categorical over
    :data:`~argyle_nb.models.AVAILABILITY_STATUSES`), ``updated_at``,
    ``available_count`` (Int64), ``available_from``, ``available_to``,
    ``window_days`` (``available_to - available_from`` in days; negative when the
    service sends the ends swapped), ``files_count``, ``in_progress_count``.
    Resources that are null are left out; rows follow the accounts' order, then the
    resources' documented order. ``rejected`` works as in :func:`accounts_frame`, judging
    ``id``, ``user``, ``created_at`` and ``availability``.

    Examples:
        >>> page = (b'[{"id": "ac81e2bc-2157-4535-8ca4-fb1f068df1fc",'
        ...         b' "user": "53fe928d-9c6a-460b-b5ac-19d67304d106",'
        ...         b' "created_at": "2019-11-27T15:55:56Z",'
        ...         b' "availability": {"payouts": {"status": "synced", "available_count": 3,'
        ...         b' "available_from": "2019-10-01T00:00:00Z",'
        ...         b' "available_to": "2019-10-31T00:00:00Z"}, "forms": null}}]')
        >>> availability_frame(page)[["resource", "status", "available_count", "window_days"]]
          resource  status  available_count  window_days
        0  payouts  synced                3         30.0
    """
    frames = _account_frames(source, ["availability"], rejected, "availability_frame")
    return frames["availability"]


def accounts_and_availability(
    source: Source, *, rejected: list[RejectedRecord] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both :func:`accounts_frame` and :func:`availability_frame` from one read of the source.

    ``rejected`` works as in :func:`accounts_frame`; an account is left out when either
    table could not show it.

    Examples:
        >>> accounts, availability = accounts_and_availability(b"[]")
        >>> len(accounts), len(availability)
        (0, 0)
    """
    tables = ["accounts", "availability"]
    frames = _account_frames(source, tables, rejected, "accounts_and_availability")
    return frames["accounts"], frames["availability"]
