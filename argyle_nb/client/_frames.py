"""The client's frames: each page of a list handed to a :class:`~argyle_nb.frames.
FrameBuilder` as it is fetched, and let go.

Memory holds the frame's columns so far and one batch of pages, never the whole list. A
list that changed while it was read is read again (:meth:`Paginator.stream`): each
earlier read's frame is kept until the last read ends, and when no read held still the
frames are merged (:func:`~argyle_nb.frames.merge_passes`), the last read's records first.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson
import pandas as pd

from argyle_nb.client._passes import Page, Walk
from argyle_nb.client._transport import where
from argyle_nb.frames import FrameBuilder, Table, merge_passes
from argyle_nb.frames._builder import KEYS
from argyle_nb.quarantine import RejectedRecord

__all__ = ["FrameSink"]

#: Pages a streamed list reads into Arrow at once. The batch's parsed records are the
#: walk's largest transient: 10 pages instead of the one-shot builders' 50 keep a peak
#: about 35 MB lower at 100,000 accounts (bench_memory: 379 MB against 412 MB; 888 MB
#: against 929 MB at 383,104), in the same time, since pages come one by one anyway.
STREAM_BATCH_PAGES = 10


class _Read:
    """One pass's builder, the records it set aside and where its pages were read."""

    def __init__(self, table: Table, *, note_ids: bool) -> None:
        self.rejected: list[RejectedRecord] = []
        self.builder = FrameBuilder(table, rejected=self.rejected, batch_pages=STREAM_BATCH_PAGES)
        self.urls: list[str] = []
        #: The ids the pass served (a pass after the first: a merge may need them).
        self.ids: list[str] | None = [] if note_ids else None

    def located(self) -> list[RejectedRecord]:
        urls = self.urls
        return [replace(r, url=urls[r.page] if r.page < len(urls) else "") for r in self.rejected]


class FrameSink:
    """A :class:`~argyle_nb.client._passes.PassSink` that builds the frame of ``table``.

    Examples:
        >>> sink = FrameSink("users")
        >>> sink.begin(0)
        >>> frame, rejected, kept = sink.result(Walk())
        >>> frame.shape, rejected, kept
        ((0, 5), [], 0)
    """

    def __init__(self, table: Table) -> None:
        self.table = table
        self._read: _Read | None = None
        self._earlier: list[tuple[pd.DataFrame, list[RejectedRecord]]] = []

    def begin(self, number: int) -> None:
        if self._read is not None:  # an earlier pass: its frame waits for the last one
            self._earlier.append((self._read.builder.frame(), self._read.located()))
        self._read = _Read(self.table, note_ids=number > 0)

    def page(self, page: Page) -> None:
        read = self._read
        assert read is not None, "begin() comes first"
        read.builder.add(page.raw)
        read.urls.append(where(page.answer.url))
        if read.ids is not None:
            read.ids.extend(i for i in page.info.ids if i is not None)

    def result(self, walk: Walk) -> tuple[pd.DataFrame, list[RejectedRecord], int]:
        """The frame, the records set aside (with their page URL) and how many records the
        frame holds, after the walk: the last pass, merged with the earlier ones when
        none read the list consistently."""
        read = self._read
        assert read is not None, "begin() comes first"
        frame, rejected, kept = read.builder.frame(), read.located(), read.builder.records
        self._read = None
        earlier, self._earlier = self._earlier, []
        if walk.consistent or not earlier:
            return frame, rejected, kept
        held = read.ids or []
        frame, added = merge_passes([f for f, _ in earlier] + [frame], self.table, held=held)
        seen = set(held) | set(frame[KEYS[self.table]].astype("str"))
        for _, set_aside in reversed(earlier):  # as merge_passes: each id once, newest first
            for record in set_aside:
                record_id = _id_of(record.raw)
                if record_id is not None and record_id not in seen:
                    seen.add(record_id)
                    rejected.append(record)
        return frame, rejected, kept + added


def _id_of(raw: str) -> str | None:
    """The ``id`` of a rejected record's JSON, when it has a string one."""
    try:
        record: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    value = record.get("id") if isinstance(record, dict) else None
    return value if isinstance(value, str) else None
