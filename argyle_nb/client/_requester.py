"""The one narrow request interface the resources speak to (``Requester``), and the page
plumbing under it: URLs, one list page fetched and decoded, a list walked into a
:class:`~argyle_nb.client._listing.Listing`. :class:`~argyle_nb.client.ArgyleClient` is
one; it holds the parts these use (transport, cache, paginator, quarantine).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, TypeVar
from urllib.parse import urlencode

import orjson
from pydantic import BaseModel, ValidationError

from argyle_nb.cache import ArgyleCache
from argyle_nb.client import _invalidation
from argyle_nb.client._listing import Listing, Quarantine
from argyle_nb.client._pagination import Page, PageInfo, Paginator
from argyle_nb.client._passes import PassSink
from argyle_nb.client._progress import Progress
from argyle_nb.client._transport import Transport, where
from argyle_nb.envelope import EnvelopeError, dumps_json, loads_json, parse_list_page
from argyle_nb.errors import NotCachedError, ResponseFormatError
from argyle_nb.provenance import SANDBOX_HEADER, ServedPages, environment_of

if TYPE_CHECKING:
    from argyle_nb.sandbox import Sandbox

__all__ = ["PAGE_SIZE", "Requester"]

#: Objects per list request (the API's maximum).
PAGE_SIZE: Final = 200

M = TypeVar("M", bound=BaseModel)


class Requester:
    """What the resources ask of a client (``client.users``, ``client.accounts``, ...)."""

    base_url: str
    progress: bool
    transport: Transport
    cache: ArgyleCache
    paginator: Paginator
    _quarantine: Quarantine
    _embedded: bool
    _now: Callable[[], datetime]
    #: The embedded sandbox the client runs on (set by :func:`connect`), else None.
    sandbox: Sandbox | None

    @property
    def environment(self) -> str:
        """``"embedded sandbox"``, ``"Argyle sandbox"``, ``"Argyle production"`` or
        ``"custom (<host>)"``, known without a request: the embedded sandbox when
        :func:`connect` started it or ``argyle-nb lab`` names its URL
        (:data:`~argyle_nb.provenance.SANDBOX_URL_VARIABLE`), Argyle's by host; a custom
        URL becomes ``"embedded sandbox"`` when its first answer carries the sandbox's mark.

        Examples:
            >>> from argyle_nb.client import ArgyleClient
            >>> ArgyleClient("k", "s", base_url="https://api.argyle.com/v1",
            ...              cache="memory").environment
            'Argyle production'
        """
        return environment_of(self.base_url, embedded=self._embedded or self.sandbox is not None)

    # -- the Requester of the resources --------------------------------------------

    def get_object(self, path: str, model: type[M]) -> M:
        url = self._url(path, {})
        answer = self.transport.request("GET", url)
        self._note_answer(answer.headers)
        try:  # decoded as list pages are (orjson: no NaN, no text that is not UTF-8), and
            # validated from JSON as they are (an integer beyond 64 bits an int, no float)
            data = loads_json(answer.content)
            try:
                body = dumps_json(data)
            except TypeError:  # nested too deep to write again: the model says what is wrong
                return model.model_validate(data)
            return model.model_validate_json(body)
        except orjson.JSONDecodeError as exc:
            self.cache.forget([url])  # never serve a broken answer again
            raise ResponseFormatError(
                f"the answer is not JSON: {exc}", status=200, method="GET", path=where(url)
            ) from None
        except ValidationError as exc:
            self.cache.forget([url])
            raise _invalid(model, exc, "GET", url) from None

    def list_bodies(
        self, path: str, params: Mapping[str, str], progress: bool | None
    ) -> builtins.list[bytes]:
        return self._listing(path, params, progress).bodies

    def list_models(
        self, path: str, params: Mapping[str, str], model: type[M], progress: bool | None
    ) -> Iterator[M]:
        listing = self._listing(path, params, progress)
        return self._quarantine.models(listing, path.strip("/"), model)

    def list_ids(self, path: str, params: Mapping[str, str]) -> builtins.list[str]:
        walk = self.paginator.walk(self._first_page(path, params), fresh=True)
        return [i for page in walk.pages for i in page.info.ids if i is not None]

    def cached_field(self, path: str, name: str) -> str | None:
        url = self._url(path, {})
        raw = self.cache.content(url)
        if raw is None:
            raw = self.transport.request("GET", url, fresh=True).content
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
        value = data.get(name) if isinstance(data, dict) else None
        return value if isinstance(value, str) else None

    def write(
        self, method: str, path: str, body: Any = None, *, model: type[M], repeatable: bool = True
    ) -> M:
        url = self._url(path, {})
        self._refuse_offline(method, url)
        raw = self.transport.request(method, url, body=body, repeatable=repeatable).content
        try:
            return model.model_validate_json(raw)
        except ValidationError as exc:
            raise _invalid(model, exc, method, url) from None

    def delete(self, path: str) -> None:
        url = self._url(path, {})
        self._refuse_offline("DELETE", url)
        self.transport.request("DELETE", url)

    def invalidate(self, what: _invalidation.Stale) -> None:
        self.cache.forget([self._url(p, {}) for p in what.objects])
        for path, params in what.lists:
            self.cache.forget_list(self._page_urls(path, dict(params)), PAGE_SIZE)

    def _page_urls(self, path: str, params: dict[str, str]) -> Callable[[int], str]:
        """``offset -> URL`` of the pages of one list, as this client asks for them."""

        def url(offset: int) -> str:
            return self._url(path, {**params, "limit": PAGE_SIZE, "offset": offset})

        return url

    # -- pages -------------------------------------------------------------------

    def _url(self, path: str, params: Mapping[str, str | int]) -> str:
        query = urlencode(sorted(params.items()))
        return f"{self.base_url}{path}" + (f"?{query}" if query else "")

    def _first_page(self, path: str, params: Mapping[str, str]) -> str:
        return self._url(path, {**params, "limit": PAGE_SIZE, "offset": 0})

    def _page(self, url: str, fresh: bool, *, store: bool = True) -> Page:
        """One list page, fetched and decoded; a page that is not one is never cached
        (``store=False``: the page is not cached at all, see :meth:`Transport.request`)."""
        answer = self.transport.request("GET", url, fresh=fresh, store=store)
        self._note_answer(answer.headers)
        try:
            # (the walk keeps the envelope and the ids: no number of a record is read)
            parsed = parse_list_page(answer.content, exact=False)
        except EnvelopeError as exc:
            self.cache.forget([url])
            raise ResponseFormatError(str(exc), status=200, method="GET", path=where(url)) from None
        return Page(answer=answer, info=PageInfo.of(parsed))

    def _listing(
        self,
        path: str,
        params: Mapping[str, str],
        progress: bool | None,
        *,
        bar: Any = None,
        sink: PassSink | None = None,
    ) -> Listing:
        """A list walked and checked for change, with when the fetch ran: every page kept,
        or each handed to ``sink`` as it comes (:meth:`Paginator.stream`) and let go."""
        first = self._first_page(path, params)
        started = self._now()
        own = bar is None
        if own:
            bar = Progress(f"GET {path}", show=self.progress if progress is None else progress)
        served = ServedPages()
        try:
            if sink is None:
                walk = self.paginator.walk(first, bar=bar)
                for page in walk.pages:
                    _note(served, page)
            else:
                walk = self.paginator.stream(first, _Served(sink, served), bar=bar)
        finally:
            if own:
                bar.close()
        return Listing(
            endpoint=where(self._url(path, params)),
            base_url=self.base_url,
            environment=self.environment,
            started=started,
            finished=self._now(),
            walk=walk,
            served=served,
        )

    def _note_answer(self, headers: Any) -> None:
        if SANDBOX_HEADER in headers:
            self._embedded = True

    def _refuse_offline(self, method: str, url: str) -> None:
        if self.cache.offline:
            raise NotCachedError(
                "offline: writes need the service (set client.cache.offline = False)",
                method=method,
                path=where(url),
            )


def _invalid(model: type[BaseModel], exc: ValidationError, method: str, url: str) -> Exception:
    return ResponseFormatError(
        f"the answer is not a valid {model.__name__}: {exc.error_count()} errors, "
        f"first: {exc.errors()[0]['msg']}",
        status=200,
        method=method,
        path=where(url),
    )


class _Served:
    """A sink that notes what each page of the last pass says of itself, then hands it on."""

    def __init__(self, sink: PassSink, served: ServedPages) -> None:
        self.sink = sink
        self.served = served

    def begin(self, number: int) -> None:
        self.served.clear()
        self.sink.begin(number)

    def page(self, page: Page) -> None:
        _note(self.served, page)
        self.sink.page(page)


def _note(served: ServedPages, page: Page) -> None:
    """What ``page`` says of itself, noted in ``served``."""
    answer = page.answer
    served.add(
        where(answer.url),
        from_cache=answer.from_cache,
        served_at=answer.created_at,
        expires=answer.expires,
    )
