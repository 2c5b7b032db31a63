"""The one parser of a list page as the API sends it: the client, the cache and the frames
all read pages through :func:`parse_list_page`.

Argyle v1 answers lists with a Django-REST-style envelope
``{"count": N, "next": URL | null, "previous": URL | null, "results": [...]}``; the
reference pages also show a bare JSON array, which is read as a page with no count and no
next page. Nothing in a page is trusted beyond its shape: ``count`` must be a whole number
``>= 0`` (or absent), ``next``/``previous`` strings (or null), ``results`` an array. The
records themselves are judged later, one by one, by whoever reads them.

Example:
    >>> page = parse_list_page(b'{"count": 3, "next": "https://h/v1/users?limit=2&offset=2",'
    ...                        b' "previous": null, "results": [{"id": "a"}, {"id": "b"}]}')
    >>> page.count, page.next, page.ids()
    (3, 'https://h/v1/users?limit=2&offset=2', ['a', 'b'])
    >>> parse_list_page(b'[]').count is None
    True
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import orjson

__all__ = ["NOT_UTF8", "EnvelopeError", "ListPage", "parse_list_page", "unrepresentable"]


#: Why a record holding bytes that are not UTF-8 is set aside (every reader says it so).
NOT_UTF8 = "holds text that is not valid UTF-8"


class EnvelopeError(ValueError):
    """Bytes that are not a list page; the message says what is wrong with them."""


@dataclass(frozen=True)
class ListPage:
    """One decoded list page: its records (not yet judged) and the envelope's links."""

    results: list[Any]
    count: int | None = None
    next: str | None = None
    previous: str | None = None
    #: A bare JSON array: no count, and no links to follow.
    bare: bool = False
    #: Decoded by the lenient path (:func:`_lenient`): some records may hold values that
    #: cannot be represented; readers set those aside (:func:`unrepresentable`).
    lenient: bool = False

    def ids(self) -> list[str | None]:
        """The ``id`` of every record, None where a record has no string id."""
        return [
            r.get("id") if isinstance(r, dict) and isinstance(r.get("id"), str) else None
            for r in self.results
        ]


def _link(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None or isinstance(value, str):
        return value
    raise EnvelopeError(f"the page's {name!r} is {type(value).__name__} {value!r}, not a URL")


def parse_list_page(raw: bytes | bytearray | memoryview | str) -> ListPage:
    """Decode one list page (envelope or bare array); :class:`EnvelopeError` if it is not one.

    Example:
        >>> parse_list_page(b'{"count": -1, "results": []}')
        Traceback (most recent call last):
        ...
        argyle_nb.envelope.EnvelopeError: the page's 'count' is -1, not a whole number >= 0
    """
    lenient = False
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        data = _lenient(raw)
        if data is None:
            raise EnvelopeError(f"the page is not JSON: {exc}") from None
        lenient = True
    if isinstance(data, list):
        return ListPage(results=data, bare=True, lenient=lenient)
    if not isinstance(data, dict):
        raise EnvelopeError(
            f"the page is a JSON {type(data).__name__}, not an envelope with 'results' or an array"
        )
    results = data.get("results")
    if not isinstance(results, list):
        raise EnvelopeError("the page has no 'results' array (or it is null)")
    count = data.get("count")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 0):
        raise EnvelopeError(f"the page's 'count' is {count!r}, not a whole number >= 0")
    return ListPage(
        results=results,
        count=count,
        next=_link(data, "next"),
        previous=_link(data, "previous"),
        lenient=lenient,
    )


def _lenient(raw: bytes | bytearray | memoryview | str) -> Any:
    """A page orjson refuses whole although it is JSON: bytes that are not UTF-8 (kept as
    lone surrogates), nesting past orjson's limit. Decoded by the standard library
    instead, so only the records that hold such values are lost (:func:`unrepresentable`
    names them). None when it is not JSON even so (``NaN`` and ``Infinity`` are not JSON).
    """
    text = raw if isinstance(raw, str) else bytes(raw).decode("utf-8", "surrogateescape")
    try:
        return json.loads(text, parse_constant=_not_json)
    except (ValueError, RecursionError):
        return None


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def unrepresentable(record: Any) -> str | None:
    """Why a record of a leniently decoded page (:attr:`ListPage.lenient`) cannot be
    represented, or None when it can.

    Example:
        >>> unrepresentable({"name": "ok"}), unrepresentable({"name": chr(0xDCFF)})
        (None, 'holds text that is not valid UTF-8')
        >>> unrepresentable({"n": 2**70})
        'holds an integer beyond 64 bits'
    """
    try:
        orjson.dumps(record)
    except orjson.JSONEncodeError as exc:
        text = str(exc)
        if "surrogates" in text or "utf-8" in text.lower():
            return NOT_UTF8
        if "64-bit" in text or "Integer" in text:
            return "holds an integer beyond 64 bits"
        if "ecursion" in text:
            return "nests too deep to read"
        return f"cannot be read: {text}"
    return None
