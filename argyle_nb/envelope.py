"""The one parser of a list page as the API sends it: the client, the cache and the frames
all read pages through :func:`parse_list_page`.

Argyle v1 answers lists with a Django-REST-style envelope
``{"count": N, "next": URL | null, "previous": URL | null, "results": [...]}``; the
reference pages also show a bare JSON array, which is read as a page with no count and no
next page. Nothing in a page is trusted beyond its shape: ``count`` must be a whole number
``>= 0`` (or absent), ``next``/``previous`` strings (or null), ``results`` an array. The
records themselves are judged later, one by one, by whoever reads them.

Examples:
    >>> page = parse_list_page(b'{"count": 3, "next": "https://h/v1/users?limit=2&offset=2",'
    ...                        b' "previous": null, "results": [{"id": "a"}, {"id": "b"}]}')
    >>> page.count, page.next, page.ids()
    (3, 'https://h/v1/users?limit=2&offset=2', ['a', 'b'])
    >>> parse_list_page(b'[]').count is None
    True
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import orjson

from argyle_nb.errors import ArgyleValueError

__all__ = [
    "NOT_UTF8",
    "EnvelopeError",
    "ExactNumber",
    "ListPage",
    "dumps_json",
    "loads_json",
    "parse_list_page",
    "unrepresentable",
]


#: Why a record holding bytes that are not UTF-8 is set aside (every reader says it so).
NOT_UTF8 = "holds text that is not valid UTF-8"


class ExactNumber(str):
    """A JSON number that neither a 64-bit integer nor a double holds exactly, kept as the
    text it was served as (``"123456789012345678901234567890"``, ``"0.12345678901234567890"``,
    ``"1e400"``).

    The one rule for such numbers: they are never rounded. :func:`loads_json` (so
    :func:`parse_list_page`, every reader of pages) decodes an integer outside
    ``-2**63 .. 2**63 - 1`` and a decimal whose double is another number (more digits than
    a double keeps, or beyond its range) as an ``ExactNumber`` instead of the float a JSON
    parser would round it to. It is text (a ``str``): a frame's ``meta.*`` column holds it
    as text, and :func:`dumps_json` writes it back as the very number it was, so
    ``external_metadata`` (in frames, exports and datasets) keeps the exact value.

    Examples:
        >>> loads_json(b'{"n": 123456789012345678901234567890, "x": 0.5}')
        {'n': ExactNumber('123456789012345678901234567890'), 'x': 0.5}
        >>> dumps_json(loads_json(b'[123456789012345678901234567890]'))
        b'[123456789012345678901234567890]'
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"ExactNumber({str.__repr__(self)})"


_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
#: Where a number a double or an int64 may not keep can be: a run of 16 digits (a dot
#: among them), or a 3-digit exponent. Pages without one are read by orjson alone. Found
#: with ``bytes.find`` on the page with every digit and dot folded to ``0``, ``E`` to
#: ``e`` and ``+`` to ``-`` (three needles, not seven: each is a scan of the page): a
#: regular expression tried at every digit took 1.7 s on a 15 MB page of metadata numbers.
_FOLD: Final = bytes.maketrans(b"123456789.E+", b"0000000000e-")
_SUSPECTS: Final = (b"0" * 16, b"0e000", b"0e-000")


def _exact_int(text: str) -> int | ExactNumber:
    digits = len(text) - text.startswith("-")
    if digits > 19:  # beyond int64, and maybe past the digits int() reads (4,300)
        return ExactNumber(text)
    value = int(text)
    return value if _INT64_MIN <= value <= _INT64_MAX else ExactNumber(text)


def _exact_float(text: str) -> float | ExactNumber:
    value = float(text)
    if len(text) < 16 and "e" not in text and "E" not in text:  # 15 digits: a double keeps
        return value
    try:
        if Decimal(repr(value)) == Decimal(text):
            return value
    except ArithmeticError:  # inf or nan: beyond a double's range
        pass
    return ExactNumber(text)


def _decode(text: str) -> Any:
    return json.loads(
        text, parse_int=_exact_int, parse_float=_exact_float, parse_constant=_not_json
    )


def loads_json(raw: bytes | bytearray | memoryview | str) -> Any:
    """JSON decoded with its numbers exact: orjson's speed, and :class:`ExactNumber` for
    a number that an int64 or a double would change (orjson makes a float of an integer
    beyond 64 bits). Raises :class:`orjson.JSONDecodeError` (a ``ValueError``) when
    ``raw`` is not JSON; ``NaN`` and ``Infinity`` are not JSON.

    Examples:
        >>> loads_json(b'[9223372036854775807, 9223372036854775808, 1e400]')
        [9223372036854775807, ExactNumber('9223372036854775808'), ExactNumber('1e400')]
    """
    try:
        return _loads(raw)
    except orjson.JSONDecodeError:
        data = raw.encode() if isinstance(raw, str) else bytes(raw)
        if not _rounded(data):
            raise
        try:  # a number beyond a double's range (orjson refuses it)
            return _decode(data.decode("utf-8"))
        except (ValueError, RecursionError):
            pass
        raise


def _loads(raw: bytes | bytearray | memoryview | str) -> Any:
    """orjson, then the exact decoding when the text may hold a number it rounded."""
    data = orjson.loads(raw)
    text = raw.encode() if isinstance(raw, str) else bytes(raw)
    return _decode(text.decode("utf-8")) if _rounded(text) else data


#: The bytes a JSON number is written with.
_NUMBER_BYTES: Final = frozenset(b"0123456789.+-eE")
#: What stands before and after a number in JSON (digits inside a string, a UUID's
#: ``3e36119d``, stand between other letters or quotes).
_BEFORE_NUMBER: Final = frozenset(b":,[ \t\r\n")
_AFTER_NUMBER: Final = frozenset(b",]} \t\r\n")
_NUMBER: Final = re.compile(r"-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?")


def _suspects(text: bytes) -> Iterator[int]:
    """Positions of ``text`` inside a run of digits that may be a long number (above)."""
    folded = text.translate(_FOLD)
    for needle in _SUSPECTS:
        at = folded.find(needle)
        while at >= 0:
            yield at
            at = folded.find(needle, at + len(needle))


def _rounded(text: bytes) -> bool:
    """Whether ``text`` may hold a number that orjson read as another (most pages: no
    16-digit run at all; a page of doubles written in full: each checked, none rounded).
    Digits inside strings may be looked at too: at worst the page is decoded exactly."""
    checked: set[int] = set()
    for at in _suspects(text):
        start = end = at
        while start > 0 and text[start - 1] in _NUMBER_BYTES:
            start -= 1
        if start in checked:
            continue
        checked.add(start)
        while end < len(text) and text[end] in _NUMBER_BYTES:
            end += 1
        if (start and text[start - 1] not in _BEFORE_NUMBER) or (
            end < len(text) and text[end] not in _AFTER_NUMBER
        ):
            continue  # inside a string
        token = text[start:end].decode("ascii")
        found = _NUMBER.fullmatch(token)
        if found is None:
            continue
        whole = found.group(1) is None and found.group(2) is None
        if type(_exact_int(token) if whole else _exact_float(token)) is ExactNumber:
            return True
    return False


def _passthrough(value: Any) -> Any:
    if type(value) is ExactNumber:
        return orjson.Fragment(str.__str__(value))
    if isinstance(value, str):  # other subclasses: as their base type
        return str.__str__(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def dumps_json(value: Any) -> bytes:
    """``value`` as compact JSON (orjson), an :class:`ExactNumber` written as the number
    it is (raises ``TypeError`` for what JSON cannot hold).

    Examples:
        >>> dumps_json({"n": ExactNumber("1e400"), "s": "1e400"})
        b'{"n":1e400,"s":"1e400"}'
    """
    return orjson.dumps(value, default=_passthrough, option=orjson.OPT_PASSTHROUGH_SUBCLASS)


class EnvelopeError(ArgyleValueError):
    """Bytes that are not a list page; the message says what is wrong with them.

    An :class:`~argyle_nb.errors.ArgyleError` and a ``ValueError``.
    """


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


def parse_list_page(raw: bytes | bytearray | memoryview | str, *, exact: bool = True) -> ListPage:
    """Decode one list page (envelope or bare array); :class:`EnvelopeError` if it is not one.

    ``exact=False``: the records' numbers as orjson reads them, a long one maybe rounded
    (the page is not searched for such numbers), for a reader that keeps only the envelope
    and the records' ids (a walk); the envelope is judged the same either way.

    Examples:
        >>> parse_list_page(b'{"count": -1, "results": []}')  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        argyle_nb.envelope.EnvelopeError: the page's 'count' is -1, not a whole number from 0 to...
    """
    lenient = False
    try:
        data = _loads(raw) if exact else orjson.loads(raw)
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
    if count is not None and (
        not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= _INT64_MAX
    ):
        if not exact:  # the count as served, in the words of an exact reading
            return parse_list_page(raw)
        shown = str.__str__(count) if isinstance(count, ExactNumber) else repr(count)
        raise EnvelopeError(f"the page's 'count' is {shown}, not a whole number from 0 to 2**63-1")
    return ListPage(
        results=results,
        count=count,
        next=_link(data, "next"),
        previous=_link(data, "previous"),
        lenient=lenient,
    )


def _lenient(raw: bytes | bytearray | memoryview | str) -> Any:
    """A page orjson refuses whole although it is JSON: bytes that are not UTF-8 (kept as
    lone surrogates), nesting past orjson's limit, a number beyond a double's range.
    Decoded by the standard library instead (numbers exact, as :func:`loads_json`), so
    only the records that hold such values are lost (:func:`unrepresentable` names them).
    None when it is not JSON even so (``NaN`` and ``Infinity`` are not JSON).
    """
    text = raw if isinstance(raw, str) else bytes(raw).decode("utf-8", "surrogateescape")
    try:
        return _decode(text)
    except (ValueError, RecursionError):
        return None


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def unrepresentable(record: Any) -> str | None:
    """Why a record of a leniently decoded page (:attr:`ListPage.lenient`) cannot be
    represented, or None when it can.

    Examples:
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
