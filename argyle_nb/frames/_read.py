"""The fast path: pages read whole by Arrow's JSON reader with an explicit schema."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from argyle_nb.envelope import NOT_UTF8
from argyle_nb.frames._schema import _UUID_RE, ACCOUNT_RULES


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
    bodies: Sequence[bytes], account: pa.StructType, *, locate: bool = True, first: int = 0
) -> pa.StructArray:
    """Read single-line envelopes into accounts; raises :class:`_Invalid` at the first fault.

    ``locate``: on a reader error, re-read page by page to name the page (not needed
    when there is one page, or when the caller only wants to know that it failed).
    ``first``: the position of ``bodies[0]`` among the source's pages (messages name it).
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
            raise _locate_error(bodies, account, first) from None
        raise _Invalid(f"page {first}", f"does not hold Argyle accounts: {_clean(exc)}") from None
    if table.num_rows != len(bodies):
        raise _Invalid(
            f"expected {len(bodies)} pages, read {table.num_rows} JSON values:",
            "a page holds more than one JSON value",
        )
    results = table.column("results")
    if results.null_count:
        missing = pc.index(pc.is_null(results), True).as_py()
        raise _Invalid(f"page {first + missing}", "has no 'results' array (or it is null)")
    combined = results.combine_chunks() if results.num_chunks != 1 else results.chunk(0)
    accounts: pa.StructArray = combined.flatten()
    if isinstance(accounts, pa.ChunkedArray):  # pragma: no cover - older pyarrow
        accounts = accounts.combine_chunks()
    try:  # Arrow's JSON reader takes bytes that are not UTF-8 into its strings: refuse them
        accounts.validate(full=True)
    except pa.ArrowInvalid:
        raise _Invalid("a page", NOT_UTF8) from None
    _check_accounts(accounts, combined, first)
    return accounts


def _locate_error(bodies: Sequence[bytes], account: pa.StructType, first: int) -> _Invalid:
    """Re-read pages one at a time to name the first one that fails."""
    for position, body in enumerate(bodies):
        try:
            pj.read_json(
                io.BytesIO(body),
                read_options=pj.ReadOptions(block_size=max(1 << 20, len(body) + 64)),
                parse_options=_parse_options(account),
            )
        except pa.ArrowInvalid as exc:
            return _Invalid(
                f"page {first + position}", f"does not hold Argyle accounts: {_clean(exc)}"
            )
    return _Invalid("the pages", "could not be read as Argyle account pages")


def _clean(exc: Exception) -> str:
    """Arrow's reader message in the frames' words (``field(account/connection) ...``)."""
    message = str(exc).replace("/results/[]", "account").replace("Column(", "field(")
    return message.replace("JSON parse error: ", "")


def _check_accounts(accounts: pa.StructArray, lists: pa.Array, first: int) -> None:
    """Raise :class:`_Invalid` at the first account :func:`_bad_rows` flags."""
    bad = _bad_rows(accounts)
    if bad:
        row = min(bad)
        raise _Invalid(_where(lists, row, first), bad[row])


def _where(lists: pa.Array, row: int, first: int) -> str:
    offsets = np.asarray(lists.offsets)
    page = int(np.searchsorted(offsets, row, side="right")) - 1
    return f"account {row - int(offsets[page])} of page {first + page}"


def _bad_rows(accounts: pa.StructArray) -> dict[int, str]:
    """Every account that is null, lacks a field :data:`ACCOUNT_RULES` requires, or has one
    that must be a UUID and is not: row -> reason (the Arrow schema judged the types)."""
    bad: dict[int, str] = {}
    if not len(accounts):
        return bad
    for row in np.flatnonzero(pc.is_null(accounts).to_numpy(zero_copy_only=False)):
        bad.setdefault(int(row), "is null instead of an account object")
    for name in ACCOUNT_RULES.required:
        missing = pc.is_null(accounts.field(name)).to_numpy(zero_copy_only=False)
        for row in np.flatnonzero(missing):
            bad.setdefault(int(row), f"has no {name!r}")
    for name in ACCOUNT_RULES.uuids:
        column = accounts.field(name)
        wrong = pc.invert(pc.match_substring_regex(column, _UUID_RE)).fill_null(False)
        for row in np.flatnonzero(wrong.to_numpy(zero_copy_only=False)):
            bad.setdefault(int(row), f"has {name}={column[int(row)].as_py()!r}, not a UUID")
    return bad
