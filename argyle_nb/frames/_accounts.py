"""The account builders: :func:`accounts_frame`, :func:`availability_frame` and
:func:`accounts_and_availability`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import orjson
import pandas as pd
import pyarrow as pa

from argyle_nb.frames._errors import FrameError
from argyle_nb.frames._pandas import _accounts_pandas, _availability_pandas
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


def _read_pages(
    pages: Sequence[bytes], account: pa.StructType, rejected: list[RejectedRecord] | None = None
) -> pa.StructArray:
    """Read account pages into one Arrow struct array of accounts (fields of ``account``).

    With ``rejected`` (a list), records that fail are appended to it and left out;
    without, the first failure raises :class:`FrameError`.
    """
    if not pages:
        return pa.array([], type=account)
    bodies = [_as_envelope(p, i) for i, p in enumerate(pages)]
    try:
        return _read_bodies(bodies, account)
    except _Invalid as exc:
        if rejected is None:
            raise FrameError(str(exc)) from None
    return _read_screened(bodies, account, rejected)


def _accounts_arrow(
    source: Source,
    account: pa.StructType,
    rejected: list[RejectedRecord] | None,
    builder: str,
) -> pa.StructArray:
    """Every account of a source, read with the fields of ``account``.

    Each frame reads (and so judges) only the fields it shows: an account whose
    ``availability`` is broken still has its row in :func:`accounts_frame`, and one whose
    ``connection`` is broken still has its rows in :func:`availability_frame`. User
    records raise :class:`FrameError` (``builder`` names the function in the message).
    """
    kind, items = _iter_pages(source)
    if kind == "pages":
        _refuse_other_kind(_first_records(items), "account", builder)
        return _read_pages(items, account, rejected)
    _refuse_other_kind(items, "account", builder)
    for position, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise FrameError(f"object {position} is a {type(item).__name__}, not an account")
    return _read_pages([orjson.dumps(items)] if items else [], account, rejected)


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

    Example:
        >>> page = b'{"count": 0, "next": null, "previous": null, "results": []}'
        >>> accounts_frame(page).shape
        (0, 17)
    """
    return _accounts_pandas(_accounts_arrow(source, _ACCOUNT_ONLY, rejected, "accounts_frame"))


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

    Example:
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
    return _availability_pandas(
        _accounts_arrow(source, _AVAILABILITY_ONLY, rejected, "availability_frame")
    )


def accounts_and_availability(
    source: Source, *, rejected: list[RejectedRecord] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both :func:`accounts_frame` and :func:`availability_frame` from one read of the source.

    ``rejected`` works as in :func:`accounts_frame`; an account is left out when either
    table could not show it.

    Example:
        >>> accounts, availability = accounts_and_availability(b"[]")
        >>> len(accounts), len(availability)
        (0, 0)
    """
    accounts = _accounts_arrow(source, _ACCOUNT, rejected, "accounts_and_availability")
    return _accounts_pandas(accounts), _availability_pandas(accounts)
