"""The users builder: :func:`users_frame` and its metadata columns."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from argyle_nb.envelope import (
    EnvelopeError,
    dumps_json,
    parse_list_page,
    unrepresentable,
)
from argyle_nb.frames._accounts import BATCH_PAGES
from argyle_nb.frames._errors import FrameError
from argyle_nb.frames._meta_columns import _ARROW_FROM, _flatten, _meta_parts_column, _MetaPart
from argyle_nb.frames._pandas import Column, Columns
from argyle_nb.frames._schema import (
    _STR,
    _TS,
    _UUID_RE,
    MAX_META_COLUMNS,
    META_LEFT_OUT,
    META_PREFIX,
    USER_RULES,
)
from argyle_nb.frames._screen import _json_kind
from argyle_nb.frames._sources import Source, _iter_pages, _refuse_other_kind
from argyle_nb.models import (
    MAX_METADATA_DEPTH,
    metadata_depth,
)
from argyle_nb.quarantine import RejectedRecord

# ---------------------------------------------------------------------------
# Users
# ---------------------------------------------------------------------------


_UUID_PATTERN = re.compile(_UUID_RE)


def _user_problem(user: Any) -> str | None:
    """What makes ``user`` unfit for :func:`users_frame` (by :data:`USER_RULES`), or None."""
    rules = USER_RULES
    if not isinstance(user, Mapping):
        return f"is a JSON {_json_kind(user)}, not a user object"
    for name in rules.required:
        if user.get(name) is None:
            return f"has no {name!r}"
    for name in rules.uuids:
        value = user.get(name)
        if value is not None and (not isinstance(value, str) or not _UUID_PATTERN.match(value)):
            return f"has {name}={value!r}, not a UUID"
    for name in rules.timestamps:
        problem = _timestamp_problem(name, user.get(name))
        if problem is not None:
            return problem
    if metadata_depth(user.get("external_metadata")) > MAX_METADATA_DEPTH:
        return f"has external_metadata nested more than {MAX_METADATA_DEPTH} levels deep"
    for name in rules.string_lists:
        value = user.get(name)
        if value is not None and (
            not isinstance(value, list) or not all(isinstance(v, str) for v in value)
        ):
            return f"has {name}={value!r}, not a list of strings"
    return None


def _timestamp_problem(name: str, value: Any) -> str | None:
    """Why ``value`` is not an ISO 8601 timestamp UTC can hold, or None (absent is fine)."""
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        stamp = datetime.fromisoformat(value)
    except ValueError:
        return f"has {name}={value!r}, not an ISO 8601 timestamp"
    if stamp.tzinfo is not None:
        try:
            stamp.astimezone(UTC)
        except OverflowError:
            return f"has {name}={value!r}, outside the years 1 to 9999 in UTC"
    return None


def users_frame(
    source: Source, *, rejected: list[RejectedRecord] | None = None, meta: bool = True
) -> pd.DataFrame:
    """One row per user, with ``external_metadata`` flattened into ``meta.*`` columns
    (``meta=False``: none, the metadata in ``external_metadata`` alone, as an export keeps
    it).

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

    Numbers are never rounded: a metadata number that an int64 or a double would change
    (an integer outside ``-2**63 .. 2**63 - 1``, a decimal with more digits than a double
    keeps, ``1e400``) is its exact text in its ``meta.*`` column (so the column is ``str``,
    or ``object`` beside other numbers) and the number as written in
    ``external_metadata`` (see :class:`~argyle_nb.envelope.ExactNumber`); integers beyond
    2**53 beside floats make an ``object`` column, not a rounded ``Float64``. A Python
    object (not JSON) holding an integer beyond 64 bits is set aside like a bad user.

    With ``rejected`` (a list), a user that is not an object, has no ``id`` or
    ``created_at``, an id that is not a UUID, a ``created_at`` that is not ISO 8601 or
    connected lists that are not lists of strings, a ``created_at`` UTC cannot hold,
    metadata nested deeper than :data:`~argyle_nb.models.MAX_METADATA_DEPTH` levels, text
    that is not UTF-8 or (objects only) an integer beyond 64 bits is appended to it as a
    :class:`~argyle_nb.quarantine.RejectedRecord` and left out; without it, the first
    such user raises :class:`FrameError`. Account records raise :class:`FrameError`
    whatever ``rejected`` is ("these look like account records (have 'user',
    'connection'); use accounts_frame"); an empty page is an empty frame.

    Examples:
        >>> users = users_frame([{"id": "0994b847-cc69-4d98-bc99-c5e65e762add",
        ...     "created_at": "2019-11-27T15:56:50.583233",
        ...     "external_metadata": {"address": {"state": "NY"}, "group_id": "A5"}}])
        >>> users[["meta.address.state", "meta.group_id"]]
          meta.address.state meta.group_id
        0                 NY            A5
    """
    batches = UserBatches(rejected=rejected, meta=meta)
    kind, items = _iter_pages(source)
    if kind == "objects":
        _refuse_other_kind(items, "user", "users_frame")
        # Objects were not read from JSON: each may hold what JSON cannot (2**70, surrogates).
        batches.add_users([(0, index, item, True) for index, item in enumerate(items)])
    else:
        for page in items:
            batches.add(page)
    return batches.frame()


_BASE = {
    "id": Column("str"),
    "created_at": Column("time"),
    "employers_connected": Column("list"),
    "data_providers_connected": Column("list"),
    "external_metadata": Column("str"),
}


class UserBatches:
    """User pages read into :func:`users_frame`'s columns a batch of pages at a time.

    A batch's users are decoded, judged (:data:`~argyle_nb.frames._schema.USER_RULES`) and
    kept as Arrow columns; of their metadata only the flattened values are kept, by key,
    until :meth:`frame` picks the keys that get a column (``meta=False``: none is kept).
    ``rejected`` works as in :func:`users_frame` (``page`` counts every page added).
    """

    def __init__(
        self,
        *,
        rejected: list[RejectedRecord] | None,
        batch_pages: int = BATCH_PAGES,
        meta: bool = True,
    ) -> None:
        self._flatten = meta
        self._rejected = rejected
        self._batch_pages = max(1, batch_pages)
        self._columns = Columns(_BASE)
        self._meta: dict[str, list[_MetaPart]] = {}
        self._rare_rows: list[tuple[int, dict[str, Any]]] = []
        self._carried: Counter[str] = Counter()
        self._pending: list[tuple[int, int, Any, bool]] = []
        self._pending_pages = 0
        self._checked = False
        self._seen = 0
        #: Pages added so far.
        self.pages = 0
        #: Users kept so far.
        self.records = 0

    def add(self, page: bytes) -> None:
        """One more page (its bytes as served); a full batch is read at once."""
        position = self.pages
        self.pages += 1
        try:
            decoded = parse_list_page(page)
        except EnvelopeError as exc:
            raise FrameError(f"page {position}: {exc}") from None
        suspect = decoded.lenient
        self._pending.extend(
            (position, index, user, suspect) for index, user in enumerate(decoded.results)
        )
        self._pending_pages += 1
        if self._pending_pages >= self._batch_pages:
            self._read()

    def add_users(self, users: list[tuple[int, int, Any, bool]]) -> None:
        """Decoded users, ``(page, index, user, suspect)`` each: read as one batch."""
        self._read()
        self._pending = users
        self._read()

    def frame(self) -> pd.DataFrame:
        """The frame of every user added."""
        self._read()
        frame = self._columns.frame()
        meta, self._meta = self._meta, {}
        rare_rows, self._rare_rows = self._rare_rows, []
        carried, self._carried = self._carried, Counter()
        rows = len(frame)
        # The keys most users carry become columns, at most MAX_META_COLUMNS of them: the
        # cost is the values' count, never users x keys; the rest stay in external_metadata.
        chosen = sorted(carried, key=lambda k: (-carried[k], k))[:MAX_META_COLUMNS]
        wanted = set(chosen)
        rare: dict[str, tuple[list[int], list[Any]]] = {}
        for row, flat in rare_rows:
            for key in flat.keys() & wanted:
                found = rare.get(key)
                if found is None:
                    found = rare[key] = ([], [])
                found[0].append(row)
                found[1].append(flat[key])
        del rare_rows
        columns: dict[str, Any] = {name: frame[name] for name in frame.columns}
        for key in sorted(chosen, key=lambda k: (k != META_PREFIX, k)):
            parts = meta.pop(key, [])
            if key in rare:
                parts.append(_MetaPart.of(*rare.pop(key)))
            columns[key] = _meta_parts_column(parts, rows)
        frame = pd.DataFrame(columns, columns=list(columns), copy=False)
        frame.attrs[META_LEFT_OUT] = len(carried) - len(chosen)
        return frame

    def _keep_meta(self, flats: list[dict[str, Any]], first: int) -> None:
        """Keep one batch's flattened metadata (``flats``, rows from ``first``): a key many
        of its users carry as one Arrow part over the batch; the rows that carry a rare key
        as they are, until :meth:`frame` knows which keys get a column."""
        carried: Counter[str] = Counter()
        for flat in flats:
            carried.update(flat.keys())
        self._carried.update(carried)
        every = np.arange(first, first + len(flats), dtype=np.int64)
        rare: set[str] = set()
        for key, count in carried.items():
            if count >= _ARROW_FROM:
                part = _MetaPart.of(every, [flat.get(key) for flat in flats], count)
                self._meta.setdefault(key, []).append(part)
            else:
                rare.add(key)
        if rare:
            self._rare_rows.extend(
                (first + r, flat) for r, flat in enumerate(flats) if not rare.isdisjoint(flat)
            )

    def _read(self) -> None:
        users, self._pending = self._pending, []
        self._pending_pages = 0
        if not users:
            return
        if not self._checked:
            _refuse_other_kind((user for _, _, user, _ in users), "user", "users_frame")
            self._checked = any(isinstance(user, Mapping) for _, _, user, _ in users)
        ids: list[Any] = []
        created: list[Any] = []
        employers: list[Any] = []
        providers: list[Any] = []
        raw: list[str] = []
        flats: list[dict[str, Any]] = []
        for page, index, user, suspect in users:
            position = self._seen
            self._seen += 1
            problem = _user_problem(user)
            if problem is None and suspect:
                problem = unrepresentable(user)
            if problem is not None:
                if self._rejected is None:
                    raise FrameError(f"user {position} {problem}")
                self._rejected.append(RejectedRecord.of(page, index, user, problem))
                continue
            ids.append(str(user["id"]))
            created.append(user["created_at"])
            employers.append(user.get("employers_connected") or [])
            providers.append(user.get("data_providers_connected") or [])
            metadata = user.get("external_metadata")
            raw.append(dumps_json(metadata).decode())
            if not self._flatten:
                continue
            flat: dict[str, Any] = {}
            if isinstance(metadata, Mapping):
                _flatten(metadata, META_PREFIX, flat)
            elif metadata is not None:
                flat[META_PREFIX] = metadata
            flats.append(flat)
        del users
        if self._flatten:
            self._keep_meta(flats, self.records)
        del flats
        try:
            created_at = pd.to_datetime(
                pd.Series(created, dtype=object), utc=True, format="ISO8601"
            ).astype("datetime64[us, UTC]")
        except (ValueError, TypeError) as exc:
            raise FrameError(f"a user's created_at is not an ISO 8601 timestamp: {exc}") from exc
        list_type = pa.list_(_STR)
        try:
            employer_array = pa.array(employers, type=list_type)
            provider_array = pa.array(providers, type=list_type)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise FrameError(f"a user's connected lists are not lists of strings: {exc}") from exc
        self._columns.add(
            {
                "id": pa.array(ids, type=_STR),
                "created_at": pa.array(created_at, type=_TS),
                "employers_connected": employer_array,
                "data_providers_connected": provider_array,
                "external_metadata": pa.array(raw, type=_STR),
            }
        )
        self.records += len(ids)
