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

Example:
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

import io
import itertools
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from os import PathLike
from typing import Any, TypeAlias

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj
import pyarrow.parquet as pq
from pydantic import BaseModel

from argyle_nb.envelope import EnvelopeError, parse_list_page, unrepresentable
from argyle_nb.models import (
    AVAILABILITY_STATUSES,
    CONNECTION_ERROR_CODES,
    CONNECTION_STATUSES,
    MAX_METADATA_DEPTH,
    PAY_DISTRIBUTION_STATUSES,
    RESOURCES,
    metadata_depth,
)
from argyle_nb.quarantine import RejectedRecord

__all__ = [
    "ACCOUNT_COLUMNS",
    "AVAILABILITY_COLUMNS",
    "MAX_META_COLUMNS",
    "META_LEFT_OUT",
    "META_PREFIX",
    "FrameError",
    "MissingColumnsError",
    "Source",
    "accounts_and_availability",
    "accounts_frame",
    "attach_metadata",
    "availability_frame",
    "metadata_keys",
    "read_parquet",
    "require_columns",
    "to_parquet",
    "users_frame",
]

#: What the frame builders accept: page bytes, pages, models or dicts.
Source: TypeAlias = bytes | bytearray | memoryview | str | Iterable[Any]

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

_USER_COLUMNS: tuple[str, ...] = (
    "id",
    "created_at",
    "employers_connected",
    "data_providers_connected",
    "external_metadata",
)


class FrameError(ValueError):
    """Input that is not what the Argyle API promises (the message says what and where)."""


class MissingColumnsError(FrameError, KeyError):
    """A frame lacks columns a function needs; the message names them and what makes them.

    Also a ``KeyError``, as pandas raises for a missing column.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def require_columns(frame: object, columns: Iterable[str], *, by: str, made_by: str) -> None:
    """Raise :class:`MissingColumnsError` unless ``frame`` is a DataFrame with ``columns``.

    Example:
        >>> require_columns(pd.DataFrame({"a": [1]}), ["a", "b"], by="f", made_by="g")
        Traceback (most recent call last):
        ...
        argyle_nb.frames.MissingColumnsError: f needs column 'b' (made by g)
    """
    if not isinstance(frame, pd.DataFrame):
        raise FrameError(f"{by} needs a DataFrame (made by {made_by}), not {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        names = ", ".join(repr(c) for c in missing)
        raise MissingColumnsError(
            f"{by} needs column{'s' if len(missing) > 1 else ''} {names} (made by {made_by})"
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
#: Why a record holding bytes that are not UTF-8 is set aside.
_NOT_UTF8 = "holds text that is not valid UTF-8"
_UUID_RE = r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"


# ---------------------------------------------------------------------------
# Sources -> page bytes
# ---------------------------------------------------------------------------


def _iter_pages(source: Source) -> tuple[str, list[Any]]:
    """Classify a source: ("pages", [bytes...]) or ("objects", [dict...])."""
    if isinstance(source, bytes | bytearray | memoryview):
        return "pages", [bytes(source)]
    if isinstance(source, str):
        return "pages", [source.encode()]
    if isinstance(source, Mapping):
        raise FrameError(
            "a single object is not a source: pass a list of objects, models or page bytes"
        )
    items = list(source)
    kind = None
    for position, item in enumerate(items):
        if isinstance(item, bytes | bytearray | memoryview | str):
            this = "pages"
        elif isinstance(item, Mapping | BaseModel):
            this = "objects"
        else:
            raise FrameError(
                f"item {position} of the source is a {type(item).__name__}: expected page "
                "bytes, a model or a dict"
            )
        if kind is None:
            kind = this
        elif kind != this:
            raise FrameError("the source mixes page bytes with objects: pass one kind")
    if kind == "pages":
        return "pages", [it.encode() if isinstance(it, str) else bytes(it) for it in items]
    objects = [it.model_dump(mode="json") if isinstance(it, BaseModel) else it for it in items]
    return "objects", objects


def _as_envelope(page: bytes, position: int) -> bytes:
    """One page as a single-line JSON object with ``results`` (one row for Arrow's reader)."""
    stripped = page.strip()
    if b"\n" in stripped or b"\r" in stripped:
        # Valid JSON has line breaks only between tokens (inside strings they are escaped),
        # so a pretty-printed page becomes one line without changing its meaning.
        stripped = stripped.replace(b"\r", b" ").replace(b"\n", b" ")
    if stripped[:1] == b"[":
        return b'{"results":' + stripped + b"}"
    if stripped[:1] == b"{":
        return stripped
    raise FrameError(
        f"page {position} is not a list page: expected a JSON object with 'results' or a "
        f"JSON array, got {page[:40]!r}"
    )


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


class _Invalid(Exception):
    """A read that failed: ``str()`` says where, ``reason`` says what."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where} {reason}")
        self.reason = reason


_SCHEMAS: dict[pa.StructType, pa.Schema] = {}


def _parse_options(account: pa.StructType) -> pj.ParseOptions:
    schema = _SCHEMAS.get(account)
    if schema is None:
        schema = _SCHEMAS.setdefault(account, pa.schema([("results", pa.list_(account))]))
    return pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")


def _read_bodies(
    bodies: Sequence[bytes], account: pa.StructType, *, locate: bool = True
) -> pa.StructArray:
    """Read single-line envelopes into accounts; raises :class:`_Invalid` at the first fault.

    ``locate``: on a reader error, re-read page by page to name the page (not needed
    when there is one page, or when the caller only wants to know that it failed).
    """
    data = b"\n".join(bodies)
    longest = max(len(b) for b in bodies)
    block = max(1 << 20, longest + 64)
    try:
        table = pj.read_json(
            io.BytesIO(data),
            read_options=pj.ReadOptions(block_size=block),
            parse_options=_parse_options(account),
        )
    except pa.ArrowInvalid as exc:
        if locate and len(bodies) > 1:
            raise _locate_error(bodies, account) from None
        raise _Invalid("page 0", f"does not hold Argyle accounts: {_clean(exc)}") from None
    if table.num_rows != len(bodies):
        raise _Invalid(
            f"expected {len(bodies)} pages, read {table.num_rows} JSON values:",
            "a page holds more than one JSON value",
        )
    results = table.column("results")
    if results.null_count:
        missing = pc.index(pc.is_null(results), True).as_py()
        raise _Invalid(f"page {missing}", "has no 'results' array (or it is null)")
    combined = results.combine_chunks() if results.num_chunks != 1 else results.chunk(0)
    accounts: pa.StructArray = combined.flatten()
    if isinstance(accounts, pa.ChunkedArray):  # pragma: no cover - older pyarrow
        accounts = accounts.combine_chunks()
    try:  # Arrow's JSON reader takes bytes that are not UTF-8 into its strings: refuse them
        accounts.validate(full=True)
    except pa.ArrowInvalid:
        raise _Invalid("a page", _NOT_UTF8) from None
    _check_accounts(accounts, combined)
    return accounts


def _locate_error(bodies: Sequence[bytes], account: pa.StructType) -> _Invalid:
    """Re-read pages one at a time to name the first one that fails."""
    for position, body in enumerate(bodies):
        try:
            pj.read_json(
                io.BytesIO(body),
                read_options=pj.ReadOptions(block_size=max(1 << 20, len(body) + 64)),
                parse_options=_parse_options(account),
            )
        except pa.ArrowInvalid as exc:
            return _Invalid(f"page {position}", f"does not hold Argyle accounts: {_clean(exc)}")
    return _Invalid("the pages", "could not be read as Argyle account pages")


def _clean(exc: Exception) -> str:
    """Arrow's reader message in the frames' words (``field(account/connection) ...``)."""
    message = str(exc).replace("/results/[]", "account").replace("Column(", "field(")
    return message.replace("JSON parse error: ", "")


def _check_accounts(accounts: pa.StructArray, lists: pa.Array) -> None:
    """Raise :class:`_Invalid` at the first account :func:`_bad_rows` flags."""
    bad = _bad_rows(accounts)
    if bad:
        row = min(bad)
        raise _Invalid(_where(lists, row), bad[row])


def _where(lists: pa.Array, row: int) -> str:
    offsets = np.asarray(lists.offsets)
    page = int(np.searchsorted(offsets, row, side="right")) - 1
    return f"account {row - int(offsets[page])} of page {page}"


def _read_screened(
    bodies: Sequence[bytes], account: pa.StructType, rejected: list[RejectedRecord]
) -> pa.StructArray:
    """The slow path: pages that read whole are kept; the others are screened record by record.

    Only pages that fail are decoded; their records are read as NDJSON, skipping past
    each record the reader names (:func:`_screen_records`). Pages are screened on a few
    threads (Arrow's reader releases the GIL). Rejected records go to ``rejected`` with
    the reader's reason, in page order.
    """
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        results = list(
            pool.map(lambda i, b: _screen_page(i, b, account), range(len(bodies)), bodies)
        )
    parts: list[pa.StructArray] = []
    for accounts, found in results:
        if len(accounts):
            parts.append(accounts)
        rejected.extend(found)
    if not parts:
        return pa.array([], type=account)
    return pa.concat_arrays(parts) if len(parts) > 1 else parts[0]


def _screen_page(
    position: int, body: bytes, account: pa.StructType
) -> tuple[pa.StructArray, list[RejectedRecord]]:
    """One page's good accounts and its rejected records (in record order)."""
    try:
        return _read_bodies([body], account, locate=False), []
    except _Invalid:
        pass
    try:
        page = parse_list_page(body)
    except EnvelopeError as exc:
        raise FrameError(f"page {position}: {exc}") from None
    records: list[tuple[int, bytes]] = []
    found: list[RejectedRecord] = []
    for index, item in enumerate(page.results):
        reason = unrepresentable(item) if page.lenient else None
        if reason is not None:
            found.append(RejectedRecord.of(position, index, item, reason))
        elif isinstance(item, dict):
            records.append((index, orjson.dumps(item)))
        else:
            reason = f"is a JSON {_json_kind(item)}, not an account object"
            found.append(RejectedRecord.of(position, index, item, reason))
    accounts = _screen_records(position, records, account, found)
    return accounts, sorted(found, key=lambda r: r.index)


_ROW = re.compile(r" in row (\d+)$")
_UNPARSED = re.compile(r"couldn't parse:(.*)$")


def _read_records(raws: Sequence[bytes], account: pa.StructType) -> pa.StructArray:
    """Records (one JSON object each) as NDJSON; :class:`_Invalid` names the row that fails."""
    if not raws:
        return pa.array([], type=account)
    data = b"\n".join(raws)
    schema = pa.schema(list(account))
    try:
        table = pj.read_json(
            io.BytesIO(data),
            read_options=pj.ReadOptions(block_size=max(1 << 20, len(data) + 64)),
            parse_options=pj.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="ignore"
            ),
        )
    except pa.ArrowInvalid as exc:
        message = str(exc).replace("JSON parse error: ", "").replace("Column(", "field(")
        raise _Invalid("a record", message) from None
    accounts: pa.StructArray = table.to_struct_array().combine_chunks()
    return accounts


def _screen_records(
    position: int,
    records: list[tuple[int, bytes]],
    account: pa.StructType,
    found: list[RejectedRecord],
) -> pa.StructArray:
    """Read a failing page's records, setting aside each one the reader cannot type.

    The reader names the row of a wrong type (``... in row N``): that record goes, and
    reading resumes after it. A value it cannot convert (a timestamp that is not one)
    comes without a row: the records holding that value are tried alone. What is left
    is halved until each failing part is one record (:func:`_bisect`). Then the checks
    of :func:`_check_accounts` (ids, UUIDs) drop what they flag.
    """

    def reject(index: int, raw: bytes, reason: str) -> None:
        found.append(RejectedRecord(page=position, index=index, raw=raw.decode(), error=reason))

    alive = list(records)
    start = 0
    while start < len(alive):
        try:
            _read_records([raw for _, raw in alive[start:]], account)
            break
        except _Invalid as exc:
            row = _ROW.search(exc.reason)
            if row is None:
                break  # a conversion error: handled on the whole set below
            at = start + int(row.group(1))
            reject(*alive[at], _ROW.sub("", exc.reason))
            del alive[at]
            start = at
    for _ in range(len(alive)):
        try:
            accounts = _read_records([raw for _, raw in alive], account)
            break
        except _Invalid as exc:
            value = _UNPARSED.search(exc.reason)
            needle = orjson.dumps(value.group(1)) if value else None
            suspects = [r for r in alive if needle is not None and needle in r[1]]
            culprits = [r for r in suspects if _fails_alone(r[1], account)]
            if not culprits:
                parts = _bisect(position, alive, account, found)
                accounts = pa.concat_arrays(parts) if parts else pa.array([], type=account)
                alive = []
                break
            for culprit in culprits:
                reject(*culprit, exc.reason)
            alive = [r for r in alive if r not in culprits]
    else:
        accounts = pa.array([], type=account)
    if alive or len(accounts):
        bad = _bad_rows(accounts)
        if bad:
            # alive holds exactly the rows of accounts (the bisect path leaves it empty and
            # checks its own parts).
            for flagged, reason in sorted(bad.items()):
                index, raw = alive[flagged]
                reject(index, raw, reason)
            keep = np.ones(len(accounts), dtype=bool)
            keep[list(bad)] = False
            accounts = accounts.filter(pa.array(keep))
    return accounts


def _fails_alone(raw: bytes, account: pa.StructType) -> bool:
    try:
        _read_records([raw], account)
    except _Invalid:
        return True
    return False


def _bad_rows(accounts: pa.StructArray) -> dict[int, str]:
    """Every account that is null, lacks an id, user or created_at, or whose id or user is
    not a UUID: row -> reason."""
    bad: dict[int, str] = {}
    if not len(accounts):
        return bad
    for row in np.flatnonzero(pc.is_null(accounts).to_numpy(zero_copy_only=False)):
        bad.setdefault(int(row), "is null instead of an account object")
    for name in ("id", "user", "created_at"):
        missing = pc.is_null(accounts.field(name)).to_numpy(zero_copy_only=False)
        for row in np.flatnonzero(missing):
            bad.setdefault(int(row), f"has no {name!r}")
    for name in ("id", "user"):
        column = accounts.field(name)
        wrong = pc.invert(pc.match_substring_regex(column, _UUID_RE)).fill_null(False)
        for row in np.flatnonzero(wrong.to_numpy(zero_copy_only=False)):
            bad.setdefault(int(row), f"has {name}={column[int(row)].as_py()!r}, not a UUID")
    return bad


def _bisect(
    position: int,
    records: list[tuple[int, bytes]],
    account: pa.StructType,
    rejected: list[RejectedRecord],
) -> list[pa.StructArray]:
    """Halve ``records`` until each part that fails is one record, which is rejected."""
    if not records:
        return []
    try:
        accounts = _read_records([raw for _, raw in records], account)
        bad = _bad_rows(accounts)
        if not bad:
            return [accounts]
        if len(records) == 1:
            raise _Invalid("a record", bad[0])
    except _Invalid as exc:
        if len(records) == 1:
            index, raw = records[0]
            reason = _ROW.sub("", exc.reason)
            rejected.append(
                RejectedRecord(page=position, index=index, raw=raw.decode(), error=reason)
            )
            return []
    middle = len(records) // 2
    return [
        *_bisect(position, records[:middle], account, rejected),
        *_bisect(position, records[middle:], account, rejected),
    ]


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return type(value).__name__


#: Keys that only one kind of record has: how a builder tells it was handed the other kind.
_KIND_KEYS: Mapping[str, tuple[str, ...]] = {
    "account": ("user", "connection", "link_item", "availability", "pay_distribution"),
    "user": ("external_metadata", "employers_connected", "data_providers_connected"),
}
_BUILDERS: Mapping[str, str] = {"account": "accounts_frame", "user": "users_frame"}
#: How many records :func:`_refuse_other_kind` looks at before giving up on telling.
_KIND_LOOKS = 20


def _refuse_other_kind(records: Iterable[Any], expected: str, builder: str) -> None:
    """Raise :class:`FrameError` when the records are of the other kind than ``expected``.

    The first record (of at most :data:`_KIND_LOOKS`) that has keys of one kind only
    decides; records that tell nothing (not objects, damaged, both kinds' keys) are left
    to the builder's own checks. Empty sources are valid.
    """
    for record in itertools.islice(records, _KIND_LOOKS):
        if not isinstance(record, Mapping):
            continue
        found = {kind: [k for k in keys if k in record] for kind, keys in _KIND_KEYS.items()}
        kinds = [kind for kind, keys in found.items() if keys]
        if len(kinds) != 1:
            continue
        if kinds[0] == expected:
            return
        have = ", ".join(repr(k) for k in found[kinds[0]][:2])
        raise FrameError(
            f"{builder} got {kinds[0]} records, not {expected} records: these look like "
            f"{kinds[0]} records (have {have}); use {_BUILDERS[kinds[0]]}"
        )


def _first_records(pages: Sequence[bytes]) -> list[Any]:
    """The records of the first page that has any (decoded), or ``[]``: what
    :func:`_refuse_other_kind` looks at. Pages that do not decode are skipped here; the
    reader reports them."""
    for page in pages:
        try:
            records = parse_list_page(page).results
        except EnvelopeError:
            continue
        if records:
            return records
    return []


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
# Arrow -> pandas columns
# ---------------------------------------------------------------------------


def _categorical(array: pa.Array, known: Sequence[str] = ()) -> pd.Categorical:
    """Arrow strings -> Categorical over ``known`` then the unseen values, sorted."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    seen = [v for v in pc.unique(array).to_pylist() if v is not None]
    known_set = set(known)
    categories = [*known, *sorted(v for v in seen if v not in known_set)]
    codes = pc.index_in(array, value_set=pa.array(categories, type=_STR))
    np_codes = codes.fill_null(-1).to_numpy(zero_copy_only=False)
    code_type = (
        np.int8 if len(categories) < 127 else np.int16 if len(categories) < 32767 else np.int32
    )
    return pd.Categorical.from_codes(
        np_codes.astype(code_type, copy=False),
        categories=pd.Index(categories, dtype="str"),
    )


def _strings(array: pa.Array) -> pd.Series[str]:
    return pd.Series(array.to_pandas(), dtype="str")


def _times(array: pa.Array) -> pd.Series[pd.Timestamp]:
    return pd.Series(array.to_pandas())


def _ints(array: pa.Array) -> pd.Series[int]:
    values = pd.Int64Dtype().__from_arrow__(array)  # type: ignore[attr-defined]
    return pd.Series(values, dtype="Int64")


def _floats(array: pa.Array) -> pd.Series[float]:
    values = pd.Float64Dtype().__from_arrow__(array)  # type: ignore[attr-defined]
    return pd.Series(values, dtype="Float64")


def _lists(array: pa.Array) -> pd.Series[Any]:
    return pd.Series(pd.arrays.ArrowExtensionArray(array))


def _accounts_pandas(accounts: pa.StructArray) -> pd.DataFrame:
    connection = accounts.field("connection")
    pay = accounts.field("pay_distribution")
    pay_error = pc.coalesce(pay.field("error_code"), pay.field("error"))
    columns: dict[str, Any] = {
        "id": _strings(accounts.field("id")),
        "user": _strings(accounts.field("user")),
        "link_item": _categorical(accounts.field("link_item")),
        "item": _categorical(accounts.field("item")),
        "source": _categorical(accounts.field("source")),
        "employers": _lists(accounts.field("employers")),
        "created_at": _times(accounts.field("created_at")),
        "updated_at": _times(accounts.field("updated_at")),
        "was_connected": accounts.field("was_connected")
        .fill_null(False)
        .to_numpy(zero_copy_only=False),
        "connection_status": _categorical(connection.field("status"), CONNECTION_STATUSES),
        "connection_error_code": _categorical(
            connection.field("error_code"), CONNECTION_ERROR_CODES
        ),
        "connection_error_message": _categorical(connection.field("error_message")),
        "connection_updated_at": _times(connection.field("updated_at")),
        "pay_distribution_status": _categorical(pay.field("status"), PAY_DISTRIBUTION_STATUSES),
        "pay_distribution_error_code": _categorical(pay_error),
        "pay_distribution_error_message": _categorical(pay.field("error_message")),
        "pay_distribution_updated_at": _times(pay.field("updated_at")),
    }
    return pd.DataFrame(columns, columns=list(ACCOUNT_COLUMNS))


def _availability_pandas(accounts: pa.StructArray) -> pd.DataFrame:
    availability = accounts.field("availability")
    n = len(accounts)
    rows: list[np.ndarray[Any, Any]] = []
    parts: list[pa.Array] = []
    codes: list[np.ndarray[Any, Any]] = []
    for code, resource in enumerate(RESOURCES):
        child = availability.field(resource)
        # A resource is present when the availability object and its entry are both non-null.
        valid = pc.and_(child.is_valid(), availability.is_valid()) if n else child.is_valid()
        index = np.flatnonzero(valid.to_numpy(zero_copy_only=False))
        if not len(index):
            continue
        rows.append(index)
        parts.append(child.take(pa.array(index)))
        codes.append(np.full(len(index), code, dtype=np.int8))
    if rows:
        row = np.concatenate(rows)
        order = np.lexsort((np.concatenate(codes), row))
        row = row[order]
        stacked = pa.concat_arrays(parts).take(pa.array(order))
        resource_codes = np.concatenate(codes)[order]
    else:
        row = np.empty(0, dtype=np.int64)
        stacked = pa.array([], type=_RESOURCE)
        resource_codes = np.empty(0, dtype=np.int8)
    taken = pa.array(row, type=pa.int64())
    available_from = stacked.field("available_from")
    available_to = stacked.field("available_to")
    window = pc.divide(
        pc.cast(pc.subtract(available_to, available_from), pa.int64()).cast(pa.float64()),
        86_400_000_000.0,
    )
    columns: dict[str, Any] = {
        "account": _strings(accounts.field("id").take(taken)),
        "user": _strings(accounts.field("user").take(taken)),
        "resource": pd.Categorical.from_codes(
            resource_codes, categories=pd.Index(list(RESOURCES), dtype="str")
        ),
        "status": _categorical(stacked.field("status"), AVAILABILITY_STATUSES),
        "updated_at": _times(stacked.field("updated_at")),
        "available_count": _ints(stacked.field("available_count")),
        "available_from": _times(available_from),
        "available_to": _times(available_to),
        "window_days": _floats(window),
        "files_count": _ints(stacked.field("files_count")),
        "in_progress_count": _ints(stacked.field("in_progress_count")),
    }
    return pd.DataFrame(columns, columns=list(AVAILABILITY_COLUMNS))


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


# ---------------------------------------------------------------------------
# Users
# ---------------------------------------------------------------------------


def _user_objects(source: Source) -> list[tuple[int, int, Any, bool]]:
    """``(page, index, object, suspect)`` of every user of a source (objects count as page
    0); ``suspect``: its page held text that is not UTF-8."""
    kind, items = _iter_pages(source)
    if kind == "objects":
        return [(0, index, item, False) for index, item in enumerate(items)]
    users: list[tuple[int, int, Any, bool]] = []
    for position, raw in enumerate(items):
        try:
            page = parse_list_page(raw)
        except EnvelopeError as exc:
            raise FrameError(f"page {position}: {exc}") from None
        suspect = page.lenient
        users.extend((position, index, user, suspect) for index, user in enumerate(page.results))
    return users


_UUID_PATTERN = re.compile(_UUID_RE)


def _user_problem(user: Any) -> str | None:
    """What makes ``user`` unfit for :func:`users_frame`, or None."""
    if not isinstance(user, Mapping):
        return f"is a JSON {_json_kind(user)}, not a user object"
    for name in ("id", "created_at"):
        if user.get(name) is None:
            return f"has no {name!r}"
    if not isinstance(user["id"], str) or not _UUID_PATTERN.match(user["id"]):
        return f"has id={user['id']!r}, not a UUID"
    created = user["created_at"]
    try:
        if not isinstance(created, str):
            raise ValueError
        stamp = datetime.fromisoformat(created)
    except ValueError:
        return f"has created_at={created!r}, not an ISO 8601 timestamp"
    if stamp.tzinfo is not None:
        try:
            stamp.astimezone(UTC)
        except OverflowError:
            return f"has created_at={created!r}, outside the years 1 to 9999 in UTC"
    if metadata_depth(user.get("external_metadata")) > MAX_METADATA_DEPTH:
        return f"has external_metadata nested more than {MAX_METADATA_DEPTH} levels deep"
    for name in ("employers_connected", "data_providers_connected"):
        value = user.get(name)
        if value is not None and (
            not isinstance(value, list) or not all(isinstance(v, str) for v in value)
        ):
            return f"has {name}={value!r}, not a list of strings"
    return None


def _flatten(value: Mapping[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key, item in value.items():
        if type(item) is dict and item:  # decoded JSON: plain dicts (no ABC check per value)
            _flatten(item, f"{prefix}.{key}", out)
        else:
            out[f"{prefix}.{key}"] = item


def _meta_column(values: list[Any]) -> pd.Series[Any]:
    present = [v for v in values if v is not None]
    kinds = {type(v) for v in present}
    if kinds == {str}:
        return pd.Series(values, dtype="str")
    if kinds == {bool}:
        return pd.Series(values, dtype="boolean")
    if kinds and kinds <= {int}:
        return pd.Series(values, dtype="Int64")
    if kinds and kinds <= {int, float}:
        return pd.Series(values, dtype="Float64")
    return pd.Series(values, dtype=object)


def users_frame(source: Source, *, rejected: list[RejectedRecord] | None = None) -> pd.DataFrame:
    """One row per user, with ``external_metadata`` flattened into ``meta.*`` columns.

    Columns: ``id``, ``created_at`` (UTC), ``employers_connected``,
    ``data_providers_connected`` (Arrow lists of strings), ``external_metadata`` (the
    raw metadata as compact JSON text, ``"null"`` when absent), then one column per
    metadata key: ``meta.<key>``, nested objects dotted (``meta.address.state``). A
    metadata value that is not an object (a string, number or list) goes in the
    single column ``meta``. Metadata columns are typed when their values agree
    (``str``, ``Int64``, ``Float64``, ``boolean``) and ``object`` otherwise. At most
    :data:`MAX_META_COLUMNS` keys get a column, those most users carry (ties by name); the
    others live on in ``external_metadata``, and ``users.attrs["meta_keys_left_out"]``
    says how many there were. So the cost grows with the metadata values, not users x keys.

    With ``rejected`` (a list), a user that is not an object, has no ``id`` or
    ``created_at``, an id that is not a UUID, a ``created_at`` that is not ISO 8601 or
    connected lists that are not lists of strings, a ``created_at`` UTC cannot hold,
    metadata nested deeper than :data:`~argyle_nb.models.MAX_METADATA_DEPTH` levels or text
    that is not UTF-8 is appended to it as a
    :class:`~argyle_nb.quarantine.RejectedRecord` and left out; without it, the first
    such user raises :class:`FrameError`. Account records raise :class:`FrameError`
    whatever ``rejected`` is ("these look like account records (have 'user',
    'connection'); use accounts_frame"); an empty page is an empty frame.

    Example:
        >>> users = users_frame([{"id": "0994b847-cc69-4d98-bc99-c5e65e762add",
        ...     "created_at": "2019-11-27T15:56:50.583233",
        ...     "external_metadata": {"address": {"state": "NY"}, "group_id": "A5"}}])
        >>> users[["meta.address.state", "meta.group_id"]]
          meta.address.state meta.group_id
        0                 NY            A5
    """
    ids: list[Any] = []
    created: list[Any] = []
    employers: list[Any] = []
    providers: list[Any] = []
    raw: list[str] = []
    flat: list[dict[str, Any]] = []
    users = _user_objects(source)
    _refuse_other_kind((user for _, _, user, _ in users), "user", "users_frame")
    for position, (page, index, user, suspect) in enumerate(users):
        problem = _user_problem(user)
        if problem is None and suspect:
            problem = unrepresentable(user)
        if problem is not None:
            if rejected is None:
                raise FrameError(f"user {position} {problem}")
            rejected.append(RejectedRecord.of(page, index, user, problem))
            continue
        ids.append(str(user["id"]))
        created.append(user["created_at"])
        employers.append(user.get("employers_connected") or [])
        providers.append(user.get("data_providers_connected") or [])
        metadata = user.get("external_metadata")
        raw.append(orjson.dumps(metadata).decode())
        row: dict[str, Any] = {}
        if isinstance(metadata, Mapping):
            _flatten(metadata, META_PREFIX, row)
        elif metadata is not None:
            row[META_PREFIX] = metadata
        flat.append(row)
    try:
        created_at = pd.to_datetime(pd.Series(created, dtype=object), utc=True, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise FrameError(f"a user's created_at is not an ISO 8601 timestamp: {exc}") from exc
    list_type = pa.list_(_STR)
    try:
        employer_array = pa.array(employers, type=list_type)
        provider_array = pa.array(providers, type=list_type)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise FrameError(f"a user's connected lists are not lists of strings: {exc}") from exc
    columns: dict[str, Any] = {
        "id": pd.Series(ids, dtype="str"),
        "created_at": created_at.astype("datetime64[us, UTC]"),
        "employers_connected": _lists(employer_array),
        "data_providers_connected": _lists(provider_array),
        "external_metadata": pd.Series(raw, dtype="str"),
    }
    carried: Counter[str] = Counter()
    for row in flat:
        carried.update(row.keys())
    # The keys most users carry become columns, at most MAX_META_COLUMNS of them: the cost
    # is the values' count, never users x keys; the rest stay in external_metadata.
    chosen = sorted(carried, key=lambda k: (-carried[k], k))[:MAX_META_COLUMNS]
    for key in sorted(chosen, key=lambda k: (k != META_PREFIX, k)):
        columns[key] = _meta_column([row.get(key) for row in flat])
    frame = pd.DataFrame(columns, columns=list(columns))
    frame.attrs[META_LEFT_OUT] = len(carried) - len(chosen)
    return frame


def attach_metadata(
    frame: pd.DataFrame,
    users: pd.DataFrame,
    key: str | None = None,
    *,
    on: str = "user",
    name: str | None = None,
) -> pd.DataFrame:
    """Add users' metadata to rows that name a user (accounts or availability rows).

    With ``key=None`` every ``meta.*`` column of ``users`` is added. With a key
    (``"group_id"``, ``"address.state"``, ``"meta"`` for non-object metadata, or the
    full column name ``"meta.group_id"``) one column is added, named ``name`` or the
    key, so a cohort is one call away. Rows whose user is unknown, or has no such key,
    get a missing value. The frame's index and row order are kept.

    Example:
        >>> users = users_frame([{"id": "0994b847-cc69-4d98-bc99-c5e65e762add",
        ...     "created_at": "2019-11-27T15:56:50Z", "external_metadata": {"group": "A"}}])
        >>> rows = pd.DataFrame({"user": ["0994b847-cc69-4d98-bc99-c5e65e762add", "x"]})
        >>> attach_metadata(rows, users, "group")["group"].tolist()
        ['A', nan]
    """
    require_columns(
        frame, [on], by="attach_metadata", made_by="accounts_frame or availability_frame"
    )
    require_columns(users, ["id"], by="attach_metadata", made_by="users_frame")
    if key is None:
        wanted = [c for c in users.columns if _is_meta(c)]
        names = wanted
    else:
        column = _meta_name(key)
        if column not in users.columns:
            known = ", ".join(metadata_keys(users)) or "none"
            raise MissingColumnsError(f"no metadata key {key!r} among the users (keys: {known})")
        wanted = [column]
        names = [name or key]
    lookup = users.drop_duplicates("id").set_index("id")[wanted]
    positions = lookup.index.get_indexer(pd.Index(frame[on].astype("str")))
    out = frame.copy()
    for source_name, target in zip(wanted, names, strict=True):
        values = lookup[source_name]
        taken = (
            values.iloc[np.where(positions >= 0, positions, 0)].to_numpy()
            if len(values)
            else np.full(len(frame), None, dtype=object)
        )
        series = pd.Series(taken, index=frame.index, dtype=values.dtype)
        series[positions < 0] = None
        out[target] = series
    return out


def _is_meta(column: object) -> bool:
    return isinstance(column, str) and (
        column == META_PREFIX or column.startswith(META_PREFIX + ".")
    )


def _meta_name(key: str) -> str:
    return key if _is_meta(key) else f"{META_PREFIX}.{key}"


def metadata_keys(users: pd.DataFrame) -> list[str]:
    """The metadata keys present in a :func:`users_frame`, dotted, without the prefix.

    Example:
        >>> metadata_keys(users_frame([{"id": "0994b847-cc69-4d98-bc99-c5e65e762add",
        ...     "created_at": "2019-11-27T15:56:50Z", "external_metadata": {"a": {"b": 1}}}]))
        ['a.b']
    """
    prefix = META_PREFIX + "."
    return [c if c == META_PREFIX else c[len(prefix) :] for c in users.columns if _is_meta(c)]


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------


def _arrow_table(frame: pd.DataFrame) -> pa.Table:
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype == object:
            # Metadata of several JSON shapes cannot be one Arrow type: store it as JSON text.
            frame[column] = pd.Series(
                [None if _is_missing(v) else orjson.dumps(v).decode() for v in frame[column]],
                index=frame.index,
                dtype="str",
            )
    table = pa.Table.from_pandas(frame, preserve_index=False)
    # pandas cannot name nested Arrow dtypes in its Parquet metadata
    # ("list<item: string>[pyarrow]"): record them as object so every reader opens the
    # file, and let read_parquet() map the Arrow lists back to ArrowDtype.
    meta = orjson.loads(table.schema.metadata[b"pandas"])
    for entry in meta["columns"]:
        if str(entry.get("numpy_type", "")).startswith(("list<", "large_list<", "struct<")):
            entry["numpy_type"] = "object"
    extra = {b"pandas": orjson.dumps(meta)}
    if frame.attrs:
        # pandas' own key: pandas.read_parquet and read_parquet() restore df.attrs (the
        # provenance of a fetched table) from it. Values that are not JSON are left out.
        extra[b"PANDAS_ATTRS"] = orjson.dumps(frame.attrs, default=lambda value: None)
    return table.replace_schema_metadata({**table.schema.metadata, **extra})


def _is_missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def to_parquet(
    frames: Mapping[str, pd.DataFrame] | pd.DataFrame,
    path: str | PathLike[str],
) -> list[str]:
    """Write frames as Arrow-typed Parquet that pandas, DuckDB, polars and dask read back.

    One frame goes to ``path`` itself; a mapping of frames goes to ``path/<name>.parquet``
    (the directory is created). Timestamps stay UTC microseconds, Categoricals become
    Parquet dictionary columns, lists stay lists; the pandas metadata in the file
    restores the dtypes when pandas reads it back. Metadata columns of ``object`` dtype (values of
    mixed JSON shapes) are written as JSON text. ``df.attrs`` (a fetched table's
    provenance) is stored too, and comes back with the frame. Returns the files written.

    Example:
        >>> import tempfile, pathlib
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     written = to_parquet({"accounts": accounts_frame(b"[]")}, tmp)
        ...     [pathlib.Path(p).name for p in written]
        ['accounts.parquet']
    """
    from pathlib import Path

    target = Path(path)
    if isinstance(frames, pd.DataFrame):
        target.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(_arrow_table(frames), target)
        return [str(target)]
    target.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    for name, frame in frames.items():
        file = target / f"{name}.parquet"
        pq.write_table(_arrow_table(frame), file)
        written.append(str(file))
    return written


def _nested_as_arrow(data_type: pa.DataType) -> pd.ArrowDtype | None:
    nested = pa.types.is_list(data_type) or pa.types.is_large_list(data_type)
    return pd.ArrowDtype(data_type) if nested else None


def read_parquet(path: str | PathLike[str]) -> pd.DataFrame | dict[str, pd.DataFrame]:
    """Read what :func:`to_parquet` wrote back into the same frames, dtypes included.

    ``pandas.read_parquet`` reads the files too (list columns then come back as object
    columns of arrays); this also restores them as Arrow lists. A directory gives a
    dict of frames by file stem.

    Example:
        >>> import tempfile, pathlib
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = to_parquet(accounts_frame(b"[]"), pathlib.Path(tmp) / "a.parquet")
        ...     read_parquet(pathlib.Path(tmp) / "a.parquet").shape
        (0, 17)
    """
    from pathlib import Path

    if not isinstance(path, str | PathLike):
        raise FrameError(f"read_parquet needs a path, not {type(path).__name__}")
    target = Path(path)
    if not target.exists():
        raise FrameError(f"read_parquet: there is no {target}")
    if target.is_dir():
        return {file.stem: _read_one(file) for file in sorted(target.glob("*.parquet"))}
    return _read_one(target)


def _read_one(file: PathLike[str]) -> pd.DataFrame:
    try:
        table = pq.read_table(file)
        frame: pd.DataFrame = table.to_pandas(types_mapper=_nested_as_arrow)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise FrameError(f"{os.fspath(file)} is not a Parquet file of frames: {exc}") from None
    attrs = (table.schema.metadata or {}).get(b"PANDAS_ATTRS")
    if attrs:
        try:
            frame.attrs = orjson.loads(attrs)
        except orjson.JSONDecodeError:
            frame.attrs = {}  # damaged provenance: the rows themselves are still good
    for column in frame.columns:
        dtype = frame[column].dtype
        # An empty dictionary comes back with object categories: the frames use str.
        if (
            isinstance(dtype, pd.CategoricalDtype)
            and dtype.categories.dtype == object
            and all(isinstance(c, str) for c in dtype.categories)
        ):
            frame[column] = frame[column].cat.set_categories(
                pd.Index(list(dtype.categories), dtype="str")
            )
    return frame
