"""What one read of a list is made of: its pages, the passes over it, and whether a pass
read the list while it held still (:class:`Walk`); a list that never did is merged, each
id once. :mod:`argyle_nb.client._pagination` walks; this says what the walk found.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Final, Protocol

from argyle_nb.client._transport import Answer, where
from argyle_nb.envelope import ListPage, dumps_json, parse_list_page
from argyle_nb.errors import ResponseFormatError

__all__ = ["MAX_IDLE_PAGES", "Page", "PageInfo", "PassSink", "Walk"]

#: Pages in a row that bring no record not already read before the walk gives up.
MAX_IDLE_PAGES: Final = 3


@dataclass(frozen=True)
class PageInfo:
    """What the walk needs of a decoded page: its envelope and the ids of its records (the
    records themselves are not kept: a walk holds only the bytes served)."""

    count: int | None
    next: str | None
    bare: bool
    ids: tuple[str | None, ...]
    #: Decoded leniently: some records may not be representable (see ``envelope``).
    lenient: bool = False

    @classmethod
    def of(cls, page: ListPage) -> PageInfo:
        return cls(
            count=page.count,
            next=page.next,
            bare=page.bare,
            ids=tuple(page.ids()),
            lenient=page.lenient,
        )


@dataclass(frozen=True)
class Page:
    """One page as served, and what the walk read of it."""

    answer: Answer
    info: PageInfo

    @property
    def raw(self) -> bytes:
        return self.answer.content

    @property
    def size(self) -> int:
        return len(self.info.ids)

    def records(self) -> list[Any]:
        """The page's records, decoded again (only a merge or a fallback needs them)."""
        return parse_list_page(self.raw).results


@dataclass
class Walk:
    """Every page of one list, and what the walk can say about them.

    Attributes:
        pages: the pages to read, in order (a merged walk's last page holds the records
            only earlier passes saw).
        passes: how many times the list was read.
        consistent: whether one pass read the list while it did not change.
        duplicates: ids met twice within a pass (over every pass).
        rereads: pages fetched by the passes after the first.
        problem: why the walk cannot vouch for the list, or None.
    """

    pages: list[Page] = field(default_factory=list)
    passes: int = 1
    consistent: bool = True
    duplicates: int = 0
    rereads: int = 0
    problem: str | None = None
    #: The records handed to the sink of :meth:`Paginator.stream` (its pages are not kept).
    streamed: int | None = None

    @property
    def records(self) -> int:
        if self.streamed is not None:
            return self.streamed
        return sum(page.size for page in self.pages)


class PassSink(Protocol):
    """Where :meth:`Paginator.stream` hands the pages of each pass."""

    def begin(self, number: int) -> None:
        """A pass starts (0 first): drop what an earlier pass gave."""

    def page(self, page: Page) -> None:
        """The next page of the pass."""


class _Pass:
    """One read of the list from its first page: pages, ids and what changed."""

    def __init__(self, sink: Callable[[Page], None] | None = None) -> None:
        #: The pages read (none kept when a ``sink`` takes each page as it comes).
        self.pages: list[Page] = []
        self.read = 0
        self.records = 0
        self._sink = sink
        #: The ids met in this pass, compact (:func:`_compact`).
        self.ids: set[int | str] = set()
        self.duplicates = 0
        self.counts: set[int | None] = set()
        self.idle = 0

    def add(self, page: Page, position: int) -> None:
        new = 0
        repeats: list[int] = []
        for index, record_id in enumerate(page.info.ids):
            if record_id is None:
                new += 1
                continue
            key = _compact(record_id)
            if key in self.ids:
                self.duplicates += 1
                repeats.append(index)
            else:
                self.ids.add(key)
                new += 1
        self.counts.add(page.info.count)
        self.read += 1
        self.records += page.size
        if self._sink is None:
            self.pages.append(page)
        else:
            if repeats:  # a record again (the list shifted): the sink gets each id once
                skip = set(repeats)
                page = _rebuilt(page, [r for i, r in enumerate(page.records()) if i not in skip])
            self._sink(page)
        self.idle = 0 if new else self.idle + 1
        if self.idle >= MAX_IDLE_PAGES and position > 0:
            raise ResponseFormatError(
                f"{self.idle} pages in a row (up to {where(page.answer.url)}) bring no record "
                "not read before: the list makes no progress",
                status=200,
                method="GET",
                path=where(page.answer.url),
            )

    def change(self) -> str | None:
        """Why this pass is not a consistent read of the list, or None when it is."""
        if len(self.counts) > 1:
            seen = sorted(c for c in self.counts if c is not None)
            return f"its count changed while it was read ({seen[0]} to {seen[-1]})"
        if self.duplicates:
            return f"{self.duplicates} records came twice (pages shifted while it was read)"
        (count,) = self.counts or {None}
        if count is not None and count != self.records:
            return f"it says count={count} but served {self.records} records"
        return None


def _compact(record_id: str) -> int | str:
    """An id as the pass remembers it: a UUID in its canonical text (what the API sends) as
    its 128-bit number, about 40 bytes less a record; anything else (another case, other
    hyphens) as it is, so two different ids never become one.

    Examples:
        >>> _compact("0994b847-cc69-4d98-bc99-c5e65e762add") == 0x0994B847CC694D98BC99C5E65E762ADD
        True
        >>> _compact("0994B847-CC69-4D98-BC99-C5E65E762ADD")
        '0994B847-CC69-4D98-BC99-C5E65E762ADD'
    """
    if _CANONICAL_UUID.fullmatch(record_id):  # one text per number: no two ids meet
        return int(record_id.replace("-", ""), 16)
    return record_id


_CANONICAL_UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _walk_of(
    passes: list[_Pass],
    reason: str | None,
    *,
    pages: list[Page] | None = None,
    streamed: int | None = None,
) -> Walk:
    """The walk of ``passes``: consistent when the last had no ``reason`` to doubt it."""
    return Walk(
        pages=pages or [],
        passes=len(passes),
        consistent=reason is None,
        duplicates=sum(p.duplicates for p in passes),
        rereads=sum(p.read for p in passes[1:]),
        problem=None
        if reason is None
        else f"the list changed in each of {len(passes)} reads; in the last, {reason}",
        streamed=streamed,
    )


def _merged(passes: list[_Pass]) -> list[Page]:
    """The pages of the last pass with each id once, then one page of the records (with an
    id) that only earlier passes saw."""
    seen: set[str] = set()
    pages: list[Page] = []
    for page in passes[-1].pages:
        kept = _unseen(page.records(), seen)
        pages.append(page if len(kept) == page.size else _rebuilt(page, kept))
    extra: list[Any] = []
    for earlier in reversed(passes[:-1]):  # only records with an id can be matched up
        for page in earlier.pages:
            extra.extend(_unseen([r for r in page.records() if _has_id(r)], seen))
    if extra:
        pages.append(_rebuilt(passes[-1].pages[-1], extra))
    return pages


def _has_id(record: Any) -> bool:
    return isinstance(record, dict) and isinstance(record.get("id"), str)


def _unseen(records: list[Any], seen: set[str]) -> list[Any]:
    kept = []
    for record in records:
        record_id = record.get("id") if isinstance(record, dict) else None
        if isinstance(record_id, str):
            if record_id in seen:
                continue
            seen.add(record_id)
        kept.append(record)
    return kept


def _rebuilt(page: Page, records: list[Any]) -> Page:
    lenient = False
    try:  # numbers exact (ExactNumber written as the number it is)
        results = dumps_json(records)
    except TypeError:  # records read leniently (big integers, text that was not UTF-8)
        parts = []
        for record in records:
            try:
                parts.append(dumps_json(record))
            except TypeError:
                parts.append(json.dumps(record).encode())
        results, lenient = b"[" + b",".join(parts) + b"]", True
    body = b'{"count":null,"next":null,"previous":null,"results":' + results + b"}"
    answer = replace(page.answer, content=body)
    return Page(answer=answer, info=PageInfo.of(ListPage(results=records, lenient=lenient)))
