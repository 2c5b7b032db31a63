"""What the handlers read from a request, read as Django REST framework reads it.

Query parameters (``limit``, ``offset``, ``ordering``, a UUID filter) and bodies. Every
refusal is an :class:`ApiError` carrying a DRF-style body: ``{"detail": "..."}`` or
field errors ``{"field": ["..."]}``.

Bodies, as DRF's default parsers read them:

* ``application/json``, and for backward compatibility a body without any
  ``Content-Type`` (the sandbox has always read those as JSON): a JSON value; a value
  the parser refuses, however deep, answers 400 ``{"detail": "JSON parse error - ..."}``.
* ``application/x-www-form-urlencoded``: a :class:`Form` of text values (the last one
  wins for a repeated name, as ``QueryDict.get``).
* an empty body is ``{}`` whatever its type, as in DRF;
* any other type (``multipart/form-data`` included: the sandbox has no multipart
  parser) answers 415 ``{"detail": "Unsupported media type \\"text/plain\\" in request."}``.
* larger than :data:`MAX_BODY` answers 413; not received within the request timeout, 408.

``external_metadata`` (:func:`read_metadata`) is any JSON value nested at most
:data:`~argyle_nb.models.MAX_METADATA_DEPTH` levels; from a form it is JSON *text*, as a
DRF ``JSONField`` reads form input (``external_metadata={"a": 1}``), and text that is not
JSON answers ``{"external_metadata": ["Value must be valid JSON."]}``.

Examples:
    >>> parse_count("5000", name="limit", default=10, minimum=1, maximum=200)
    200
    >>> decode_body(b"user=0994b847-cc69-4d98-bc99-c5e65e762add", FORM_TYPE)
    {'user': '0994b847-cc69-4d98-bc99-c5e65e762add'}
    >>> read_metadata(Form(external_metadata='{"a": [1]}'))
    {'a': [1]}
    >>> parse_ordering("foo,-created_at"), parse_ordering("created_at"), parse_ordering(None)
    (False, True, False)
"""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any, Final
from urllib.parse import parse_qsl

from pydantic import ValidationError
from starlette.requests import ClientDisconnect, Request

from argyle_nb.envelope import loads_json
from argyle_nb.models import MAX_METADATA_DEPTH, UserWrite, metadata_depth

__all__ = [
    "FORM_TYPE",
    "JSON_TYPE",
    "MAX_BODY",
    "MAX_FORM_FIELDS",
    "ApiError",
    "Form",
    "decode_body",
    "expect_object",
    "parse_count",
    "parse_filter_uuid",
    "parse_ordering",
    "parse_uuid",
    "read_body",
    "read_metadata",
]

#: Larger request bodies answer 413.
MAX_BODY: Final = 1 << 20
#: A form with more fields answers 400 (Django's ``DATA_UPLOAD_MAX_NUMBER_FIELDS``).
MAX_FORM_FIELDS: Final = 1000
JSON_TYPE: Final = "application/json"
FORM_TYPE: Final = "application/x-www-form-urlencoded"

_DIGITS = re.compile(r"[0-9]+")
_TOO_LARGE = {"detail": "Request body too large."}
_TOO_DEEP = (
    f"Nested more than {MAX_METADATA_DEPTH} levels (objects and arrays); "
    f"at most {MAX_METADATA_DEPTH} are allowed."
)


class ApiError(Exception):
    """An error answer: status and a JSON-able body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


class Form(dict[str, str]):
    """A form-encoded body: its fields are text, and a JSON field is JSON text."""


def parse_uuid(text: str) -> str | None:
    """The canonical form of a UUID string, or None when ``text`` is not one.

    Examples:
        >>> parse_uuid("0994B847-CC69-4D98-BC99-C5E65E762ADD")
        '0994b847-cc69-4d98-bc99-c5e65e762add'
    """
    if len(text) > 64:
        return None
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None


def parse_count(text: str | None, *, name: str, default: int, minimum: int, maximum: int) -> int:
    """A non-negative integer query parameter; clamped to ``maximum``; 400 when malformed."""
    if text is None:
        return default
    text = text.strip()
    if not _DIGITS.fullmatch(text):
        raise ApiError(400, {name: ["A valid integer is required."]})
    value = maximum if len(text) > 19 else min(int(text), maximum)
    if value < minimum:
        raise ApiError(400, {name: [f"Ensure this value is greater than or equal to {minimum}."]})
    return value


def parse_filter_uuid(text: str | None, *, name: str) -> str | None:
    """A UUID filter parameter; absent or empty: None (no filter, as a DRF filter); 400 else."""
    if text is None or not text.strip():
        return None
    found = parse_uuid(text.strip())
    if found is None:
        raise ApiError(400, {name: ["Must be a valid UUID."]})
    return found


def parse_ordering(text: str | None) -> bool:
    """Whether ``ordering`` asks for oldest first, as DRF's ``OrderingFilter`` reads it.

    Comma-separated terms; only ``created_at`` (oldest first) and ``-created_at``
    (newest first) are known, unknown terms are ignored and the first known one decides;
    none: the default, newest first.
    """
    for term in (text or "").split(","):
        term = term.strip()
        if term in ("created_at", "-created_at"):
            return term == "created_at"
    return False


async def read_body(request: Request, *, timeout: float) -> bytes:
    """The raw body: 413 when larger than :data:`MAX_BODY`, 408 when not all there in time.

    ``timeout`` bounds the whole body, not the pause between two chunks, so a client
    that dribbles a byte at a time cannot hold a handler (and its connection) for long.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise ApiError(413, _TOO_LARGE)

    async def receive() -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                raise ApiError(413, _TOO_LARGE)
            chunks.append(chunk)
        return b"".join(chunks)

    try:
        return await asyncio.wait_for(receive(), timeout)
    except TimeoutError:
        message = f"Request body not received within {timeout:g} seconds."
        raise ApiError(408, {"detail": message}) from None
    except ClientDisconnect:  # nobody reads the answer; it must not be a logged crash
        raise ApiError(400, {"detail": "Client disconnected before sending the body."}) from None


def decode_body(raw: bytes, content_type: str | None) -> Any:
    """The parsed body: a JSON value or a :class:`Form` (see the module docs); 400/415."""
    if not raw.strip():
        return {}
    media = (content_type or "").partition(";")[0].strip().lower()
    if media in ("", JSON_TYPE):
        return _json(raw, "JSON parse error")
    if media == FORM_TYPE:
        return _form(raw)
    raise ApiError(415, {"detail": f'Unsupported media type "{content_type}" in request.'})


def _json(raw: bytes | str, what: str) -> Any:
    try:  # numbers exact, as the API keeps them (an integer beyond 64 bits is no float)
        return loads_json(raw)
    except (ValueError, RecursionError) as exc:  # orjson.JSONDecodeError is a ValueError
        raise ApiError(400, {"detail": f"{what} - {exc}"}) from None


def _form(raw: bytes) -> Form:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:  # misbehaving user agents: read as Latin-1, as Django does
        text = raw.decode("latin-1")
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError as exc:
        raise ApiError(400, {"detail": f"Form parse error - {exc}"}) from None
    return Form(pairs)


def expect_object(body: Any) -> dict[str, Any]:
    """``body`` when it is an object (JSON or form), else DRF's ``non_field_errors``."""
    if not isinstance(body, dict):
        kind = {list: "list", str: "str", int: "int", float: "float", bool: "bool"}
        name = kind.get(type(body), type(body).__name__)
        raise ApiError(
            400, {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {name}."]}
        )
    return body


def read_metadata(body: dict[str, Any]) -> Any:
    """The body's ``external_metadata`` (None when absent), validated; 400 field errors.

    The depth is checked first and without recursion, so no depth can reach pydantic's
    or orjson's recursion limits (nor the 254 levels orjson can store).
    """
    value = body.get("external_metadata")
    if isinstance(body, Form) and "external_metadata" in body:
        try:
            value = loads_json(body["external_metadata"])
        except (ValueError, RecursionError):
            raise ApiError(400, {"external_metadata": ["Value must be valid JSON."]}) from None
    if metadata_depth(value) > MAX_METADATA_DEPTH:
        raise ApiError(400, {"external_metadata": [_TOO_DEEP]})
    try:
        UserWrite.model_validate({"external_metadata": value})
    except ValidationError as exc:
        raise ApiError(400, _field_errors(exc)) from None
    return value  # as read: a number kept as its text (ExactNumber) stays a number


def _field_errors(exc: ValidationError) -> dict[str, list[str]]:
    """A pydantic error as DRF field errors: ``{"field": ["message", ...]}``."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        field = str(error["loc"][0]) if error["loc"] else "non_field_errors"
        errors.setdefault(field, []).append(str(error["msg"]).removeprefix("Value error, "))
    return errors
