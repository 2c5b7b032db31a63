"""The walk over a list's pages: follow the server's ``next``, prove it ended, and notice
when the list changed under it.

* **Links**: the walk follows the ``next`` link of each page, accepted only on the API's
  own origin. When the first page's ``next`` shows ``limit``/``offset`` paging, the pages
  after it are fetched concurrently, and each page's ``next`` is checked against the page
  the walk fetched after it; at the first disagreement the walk goes on by ``next`` alone.
* **Termination**: a walk reads at most :data:`MAX_PAGES` pages (``count`` only sizes the
  progress bar and the concurrent window, capped, never an allocation), and stops with
  :class:`~argyle_nb.errors.ResponseFormatError` on a ``next`` it already followed, or on
  pages that bring nothing new.
* **Consistency**: a pass is *clean* when every page carries the same ``count``, no id
  comes twice, and the records read match that count. A pass that is not clean (records
  created or deleted meanwhile shift offset pages) is read again, fresh, up to
  :data:`MAX_PASSES` passes in all; the first clean pass is the result. If none is, the
  passes are merged, each id once, and the walk says it could not vouch for them.

Examples:
    >>> offset_template("https://h/v1/users?limit=200&offset=0",
    ...                 "https://h/v1/users?limit=200&offset=200")(400)
    'https://h/v1/users?limit=200&offset=400'
    >>> offset_template("https://h/v1/users?limit=200", "https://h/v1/users?cursor=abc") is None
    True
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from argyle_nb.client._passes import (
    MAX_IDLE_PAGES,
    Page,
    PageInfo,
    PassSink,
    Walk,
    _merged,
    _Pass,
    _walk_of,
)
from argyle_nb.client._transport import same_origin, where
from argyle_nb.errors import ResponseFormatError

__all__ = [
    "MAX_IDLE_PAGES",
    "MAX_PAGES",
    "MAX_PASSES",
    "Page",
    "PageInfo",
    "Paginator",
    "PassSink",
    "Walk",
    "offset_template",
]

#: The most pages one walk reads (20 million records at 200 a page); past it, an error.
MAX_PAGES: Final = 100_000
#: How many times a list that changed while it was read is read again, in all.
MAX_PASSES: Final = 3


def offset_template(first_url: str, next_url: str) -> Callable[[int], str] | None:
    """``offset -> URL`` of a list paged by ``limit``/``offset``, when ``next_url`` is
    ``first_url`` with only its offset advanced by its limit; else None."""
    first, following = urlsplit(first_url), urlsplit(next_url)
    if (first.scheme, first.netloc, first.path) != (
        following.scheme,
        following.netloc,
        following.path,
    ):
        return None
    a, b = dict(parse_qsl(first.query)), dict(parse_qsl(following.query))
    limit, offset = b.get("limit", ""), b.get("offset", "")
    if not (limit.isdigit() and offset.isdigit()) or int(limit) < 1:
        return None
    start = int(a.get("offset", "0") or "0") if a.get("offset", "0").isdigit() else -1
    if int(offset) != start + int(limit) or a.get("limit", limit) != limit:
        return None
    others = {k: v for k, v in b.items() if k not in ("limit", "offset")}
    if others != {k: v for k, v in a.items() if k not in ("limit", "offset")}:
        return None

    def url(at: int) -> str:
        query = urlencode({**b, "offset": str(at)})
        return urlunsplit((following.scheme, following.netloc, following.path, query, ""))

    return url


class Paginator:
    """Walks lists through ``fetch(url, fresh) -> Page``.

    Args:
        fetch: fetches and decodes one page (raising an ``ArgyleError`` when it fails).
        base_url: only links on its origin are followed.
        executor: runs concurrent page fetches (None: one page at a time).
        workers: pages in flight at once with ``executor``.
        max_pages: the most pages one pass reads.
        max_passes: the most passes the walk makes.
    """

    def __init__(
        self,
        fetch: Callable[[str, bool], Page],
        *,
        base_url: str,
        executor: Callable[[], Executor] | None = None,
        workers: int = 1,
        max_pages: int = MAX_PAGES,
        max_passes: int = MAX_PASSES,
    ) -> None:
        self._fetch = fetch
        self.base_url = base_url
        self._executor = executor
        self.workers = workers
        self.max_pages = max_pages
        self.max_passes = max_passes

    def fetching(self, fetch: Callable[[str, bool], Page]) -> Paginator:
        """The same paginator, fetching its pages with ``fetch``."""
        return Paginator(
            fetch,
            base_url=self.base_url,
            executor=self._executor,
            workers=self.workers,
            max_pages=self.max_pages,
            max_passes=self.max_passes,
        )

    def walk(self, first_url: str, *, fresh: bool = False, bar: Any = None) -> Walk:
        """Every page of the list whose first page is ``first_url`` (see the module)."""
        passes: list[_Pass] = []
        reason: str | None = None
        for number in range(self.max_passes):
            one = self._pass(first_url, fresh=fresh or number > 0, bar=bar)
            passes.append(one)
            reason = one.change()
            if reason is None:
                return _walk_of(passes, None, pages=one.pages)
        return _walk_of(passes, reason, pages=_merged(passes))

    def stream(self, first_url: str, sink: PassSink, *, bar: Any = None) -> Walk:
        """Walk the list as :meth:`walk` does, handing each page to ``sink`` as it comes
        instead of keeping it (the returned walk has no ``pages``).

        Each pass begins with ``sink.begin(number)``: a pass after the first reads the
        list again, fresh, and the sink drops what the pass before it gave. The sink gets
        each id once (a record met again is left out of its page). A list that changed in
        every pass ends with the last pass given (``consistent`` False; only :meth:`walk`
        merges passes, which needs them all in memory).
        """
        reason: str | None = None
        passes: list[_Pass] = []
        for number in range(self.max_passes):
            sink.begin(number)
            one = self._pass(first_url, fresh=number > 0, bar=bar, sink=sink.page)
            one.ids = set()  # what the next pass needs of this one: its counters
            passes.append(one)
            reason = one.change()
            if reason is None:
                break
        return _walk_of(passes, reason, streamed=passes[-1].records)

    # -- one pass ------------------------------------------------------------------

    def _pass(
        self, first_url: str, *, fresh: bool, bar: Any, sink: Callable[[Page], None] | None = None
    ) -> _Pass:
        one = _Pass(sink)
        first = self._fetch(first_url, fresh)
        one.add(first, 0)
        _tick(bar, first, 0)
        # A first page from the service: the rest fresh too, never mixed with older copies.
        fresh = fresh or not first.answer.from_cache
        link = self._link(first, 0)
        template = offset_template(first_url, link) if link is not None else None
        if link is None:
            return one
        visited = {first_url}
        if template is not None and self._executor is not None and self.workers > 1:
            link = self._concurrent(one, template, first, fresh, bar, visited)
        while link is not None:
            if one.read >= self.max_pages:
                raise ResponseFormatError(
                    f"the list has more than {self.max_pages:,} pages: stopped there",
                    status=200,
                    method="GET",
                    path=where(first_url),
                )
            if link in visited:
                raise ResponseFormatError(
                    f"page {one.read} links back to {where(link)}, read already: "
                    "the list does not end",
                    status=200,
                    method="GET",
                    path=where(first_url),
                )
            visited.add(link)
            page = self._fetch(link, fresh)
            one.add(page, one.read)
            _tick(bar, page, one.read - 1)
            link = self._link(page, one.read - 1)
        return one

    def _concurrent(
        self,
        one: _Pass,
        template: Callable[[int], str],
        first: Page,
        fresh: bool,
        bar: Any,
        visited: set[str],
    ) -> str | None:
        """Fetch offset pages a window at a time; returns the ``next`` to go on from by
        following links (None when the list ended), checking each page's ``next``."""
        limit = int(dict(parse_qsl(urlsplit(template(0)).query))["limit"])
        count = first.info.count
        planned = self.max_pages if count is None else min(-(-count // limit), self.max_pages)
        urls: Iterator[str] = (template(limit * k) for k in itertools.count(1))
        urls = itertools.islice(urls, max(planned - 1, 0))
        assert self._executor is not None
        pool = self._executor()
        window: deque[tuple[str, Future[Page]]] = deque()

        def fill() -> None:
            while len(window) < self.workers:
                url = next(urls, None)
                if url is None:
                    return
                window.append((url, pool.submit(self._fetch, url, fresh)))

        expected = self._link(first, 0)
        try:
            fill()
            while window:
                url, future = window.popleft()
                if url != expected:  # the server's next is not the page we fetched
                    return expected
                page = future.result()
                visited.add(url)
                one.add(page, one.read)
                _tick(bar, page, one.read - 1)
                expected = self._link(page, one.read - 1)
                if expected is None:
                    return None
                fill()
            return expected
        finally:
            for _, future in window:
                future.cancel()

    def _link(self, page: Page, position: int) -> str | None:
        """The page's ``next``, made absolute and checked to be on the API's origin.

        A bare array has no links: a full one is followed by the next offset (as the
        reference pages' examples would be paged), a short one ends the list.
        """
        link = page.info.next
        if page.info.bare:
            link = _next_offset(page.answer.url, page.size)
        if link is None:
            return None
        link = urljoin(page.answer.url, link)
        if not same_origin(link, self.base_url):
            raise ResponseFormatError(
                f"page {position}'s next link {link} leaves the API's origin "
                f"({self.base_url}): not followed",
                status=200,
                method="GET",
                path=where(page.answer.url),
            )
        return link


def _next_offset(url: str, size: int) -> str | None:
    """The URL after a full bare-array page ``url`` of ``size`` records, else None."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    limit, offset = query.get("limit", ""), query.get("offset", "0")
    if not (limit.isdigit() and offset.isdigit()) or size < int(limit) or size == 0:
        return None
    query["offset"] = str(int(offset) + size)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def _tick(bar: Any, page: Page, position: int) -> None:
    if bar is None:
        return
    if position == 0 and page.info.count is not None and page.size:
        limit = page.size
        bar.total = (bar.total or 0) + min(-(-page.info.count // limit), MAX_PAGES)
        bar.refresh()
    elif bar.total is not None and bar.n >= bar.total:
        bar.total = bar.n + 1
    bar.update(1)
