"""Typed pandas DataFrames of Argyle users, accounts and account availability.

Every builder takes the same kinds of *source*:

* ``bytes``: one list page exactly as the API sends it, the envelope
  ``{"count", "next", "previous", "results"}`` or a bare JSON array;
* an iterable of such pages (what the client passes: the raw page bytes it received);
* an iterable of models (:class:`~argyle_nb.models.User`, :class:`~argyle_nb.models.Account`);
* an iterable of plain dicts (decoded JSON objects).

Account pages are read by Arrow's JSON reader with an explicit schema: it parses,
type-checks and builds the columns in one pass, several times faster than decoding
the bytes into Python dicts. A page that is not what the API promises raises
:class:`FrameError`, naming the page and what was wrong.

One module per concern: ``_schema`` (what a valid record is: the Arrow schema, the
columns, the rules every reader checks), ``_sources`` (what a builder accepts, and the
kind of its records), ``_read`` (the fast Arrow read), ``_screen`` (the slow path that
sets bad records aside), ``_pandas`` (Arrow to pandas), ``_accounts`` and ``_users`` (the
builders, a batch of pages at a time), ``_builder`` (:class:`FrameBuilder`: a frame built
from pages as they arrive), ``_metadata`` (users' metadata on other frames), ``_parquet``
(export) and ``_errors``.

Examples:
    >>> import argyle_nb.frames as af
    >>> page = (b'[{"id": "ac81e2bc-2157-4535-8ca4-fb1f068df1fc",'
    ...         b' "user": "53fe928d-9c6a-460b-b5ac-19d67304d106",'
    ...         b' "created_at": "2019-11-27T15:55:56.771322Z",'
    ...         b' "connection": {"status": "connected"}}]')
    >>> af.accounts_frame(page)[["connection_status", "created_at"]]
      connection_status                       created_at
    0         connected 2019-11-27 15:55:56.771322+00:00
"""

from __future__ import annotations

from argyle_nb.frames._accounts import (
    BATCH_PAGES,
    accounts_and_availability,
    accounts_frame,
    availability_frame,
)
from argyle_nb.frames._builder import FrameBuilder, Table, merge_passes
from argyle_nb.frames._errors import FrameError, MissingColumnsError, require_columns
from argyle_nb.frames._metadata import attach_metadata, metadata_keys
from argyle_nb.frames._parquet import read_parquet, to_parquet
from argyle_nb.frames._schema import (
    ACCOUNT_COLUMNS,
    AVAILABILITY_COLUMNS,
    MAX_META_COLUMNS,
    META_LEFT_OUT,
    META_PREFIX,
)
from argyle_nb.frames._sources import Source
from argyle_nb.frames._users import users_frame

__all__ = [
    "ACCOUNT_COLUMNS",
    "AVAILABILITY_COLUMNS",
    "BATCH_PAGES",
    "MAX_META_COLUMNS",
    "META_LEFT_OUT",
    "META_PREFIX",
    "FrameBuilder",
    "FrameError",
    "MissingColumnsError",
    "Source",
    "Table",
    "accounts_and_availability",
    "accounts_frame",
    "attach_metadata",
    "availability_frame",
    "merge_passes",
    "metadata_keys",
    "read_parquet",
    "require_columns",
    "to_parquet",
    "users_frame",
]
