"""What a valid account or user record is: the Arrow schema of an account, the columns of
the frames, and the one table of rules (required fields, ids, kinds) every reader checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import pyarrow as pa

from argyle_nb.models import (
    RESOURCES,
)

#: Prefix of the flattened ``external_metadata`` columns of :func:`users_frame`.
META_PREFIX = "meta"
#: At most this many ``meta.*`` columns: the keys carried by the most users (ties by name).
MAX_META_COLUMNS = 500
#: ``users.attrs[META_LEFT_OUT]``: how many metadata keys got no column of their own.
META_LEFT_OUT = "meta_keys_left_out"

#: Columns of :func:`accounts_frame`, in order.
ACCOUNT_COLUMNS: tuple[str, ...] = (
    "id",
    "user",
    "link_item",
    "item",
    "source",
    "employers",
    "created_at",
    "updated_at",
    "was_connected",
    "connection_status",
    "connection_error_code",
    "connection_error_message",
    "connection_updated_at",
    "pay_distribution_status",
    "pay_distribution_error_code",
    "pay_distribution_error_message",
    "pay_distribution_updated_at",
)

#: Columns of :func:`availability_frame`, in order.
AVAILABILITY_COLUMNS: tuple[str, ...] = (
    "account",
    "user",
    "resource",
    "status",
    "updated_at",
    "available_count",
    "available_from",
    "available_to",
    "window_days",
    "files_count",
    "in_progress_count",
)

# ---------------------------------------------------------------------------
# Arrow schema of an account
# ---------------------------------------------------------------------------

_TS = pa.timestamp("us", tz="UTC")
_STR = pa.string()
_RESOURCE = pa.struct(
    [
        ("status", _STR),
        ("updated_at", _TS),
        ("available_count", pa.int64()),
        ("available_from", _TS),
        ("available_to", _TS),
        ("files_count", pa.int64()),
        ("in_progress_count", pa.int64()),
    ]
)
_ACCOUNT = pa.struct(
    [
        ("id", _STR),
        ("user", _STR),
        ("employers", pa.list_(_STR)),
        ("link_item", _STR),
        ("item", _STR),
        ("source", _STR),
        ("created_at", _TS),
        ("updated_at", _TS),
        ("was_connected", pa.bool_()),
        (
            "connection",
            pa.struct(
                [
                    ("status", _STR),
                    ("error_code", _STR),
                    ("error_message", _STR),
                    ("updated_at", _TS),
                ]
            ),
        ),
        (
            "pay_distribution",
            pa.struct(
                [
                    ("status", _STR),
                    ("error_code", _STR),
                    ("error", _STR),
                    ("error_message", _STR),
                    ("updated_at", _TS),
                ]
            ),
        ),
        ("availability", pa.struct([(r, _RESOURCE) for r in RESOURCES])),
    ]
)
_ACCOUNT_ONLY = pa.struct([f for f in _ACCOUNT if f.name != "availability"])
_AVAILABILITY_ONLY = pa.struct(
    [f for f in _ACCOUNT if f.name in ("id", "user", "created_at", "availability")]
)
_UUID_RE = r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"


@dataclass(frozen=True)
class RecordRules:
    """What a valid record of one kind is: the one table every reader checks.

    The Arrow schema (:data:`_ACCOUNT`) types an account's fields; these rules say which
    fields must be there, which must be UUIDs, ISO 8601 timestamps or lists of strings,
    and which keys only this kind of record has (how a builder tells it was handed the
    other kind).
    """

    kind: str
    builder: str
    required: tuple[str, ...]
    uuids: tuple[str, ...]
    timestamps: tuple[str, ...]
    string_lists: tuple[str, ...]
    distinct: tuple[str, ...]


ACCOUNT_RULES: Final = RecordRules(
    kind="account",
    builder="accounts_frame",
    required=("id", "user", "created_at"),
    uuids=("id", "user"),
    timestamps=("created_at", "updated_at"),
    string_lists=("employers",),
    distinct=("user", "connection", "link_item", "availability", "pay_distribution"),
)
USER_RULES: Final = RecordRules(
    kind="user",
    builder="users_frame",
    required=("id", "created_at"),
    uuids=("id",),
    timestamps=("created_at",),
    string_lists=("employers_connected", "data_providers_connected"),
    distinct=("external_metadata", "employers_connected", "data_providers_connected"),
)
#: Every kind of record, by name.
RULES: Final = {rules.kind: rules for rules in (ACCOUNT_RULES, USER_RULES)}
#: How many records :func:`~argyle_nb.frames._sources._refuse_other_kind` looks at.
KIND_LOOKS: Final = 20
