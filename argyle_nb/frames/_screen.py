"""The slow path: pages that failed the fast read, screened record by record."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.json as pj

from argyle_nb.envelope import EnvelopeError, parse_list_page, unrepresentable
from argyle_nb.frames._errors import FrameError
from argyle_nb.frames._read import _bad_rows, _Invalid, _read_bodies
from argyle_nb.quarantine import RejectedRecord


def _read_screened(
    bodies: Sequence[bytes],
    account: pa.StructType,
    rejected: list[RejectedRecord],
    first: int = 0,
) -> pa.StructArray:
    """The slow path: pages that read whole are kept; the others are screened record by record.

    Only pages that fail are decoded; their records are read as NDJSON, skipping past
    each record the reader names (:func:`_screen_records`). Pages are screened on a few
    threads (Arrow's reader releases the GIL). Rejected records go to ``rejected`` with
    the reader's reason, in page order (``first``: the position of ``bodies[0]`` among the
    source's pages, as they name it).
    """
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        results = list(
            pool.map(
                lambda i, b: _screen_page(first + i, b, account),
                range(len(bodies)),
                bodies,
            )
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
