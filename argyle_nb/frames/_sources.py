"""Sources of the builders (page bytes, pages, models, dicts) and the kind of their records."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeAlias

from pydantic import BaseModel

from argyle_nb.envelope import EnvelopeError, parse_list_page
from argyle_nb.frames._errors import FrameError
from argyle_nb.frames._schema import KIND_LOOKS, RULES

#: What the frame builders accept: page bytes, pages, models or dicts.
Source: TypeAlias = bytes | bytearray | memoryview | str | Iterable[Any]

# ---------------------------------------------------------------------------
# Sources -> page bytes
# ---------------------------------------------------------------------------


def _iter_pages(source: Source) -> tuple[str, list[Any]]:
    """Classify a source: ("pages", [bytes...]) or ("objects", [dict...])."""
    if isinstance(source, bytes | bytearray | memoryview):
        return "pages", [bytes(source)]
    if isinstance(source, str):
        return "pages", [source.encode()]
    if isinstance(source, Mapping):
        raise FrameError(
            "a single object is not a source: pass a list of objects, models or page bytes"
        )
    items = list(source)
    kind = None
    for position, item in enumerate(items):
        if isinstance(item, bytes | bytearray | memoryview | str):
            this = "pages"
        elif isinstance(item, Mapping | BaseModel):
            this = "objects"
        else:
            raise FrameError(
                f"item {position} of the source is a {type(item).__name__}: expected page "
                "bytes, a model or a dict"
            )
        if kind is None:
            kind = this
        elif kind != this:
            raise FrameError("the source mixes page bytes with objects: pass one kind")
    if kind == "pages":
        return "pages", [it.encode() if isinstance(it, str) else bytes(it) for it in items]
    objects = [it.model_dump(mode="json") if isinstance(it, BaseModel) else it for it in items]
    return "objects", objects


def _as_envelope(page: bytes, position: int) -> bytes:
    """One page as a single-line JSON object with ``results`` (one row for Arrow's reader)."""
    stripped = page.strip()
    if b"\n" in stripped or b"\r" in stripped:
        # Valid JSON has line breaks only between tokens (inside strings they are escaped),
        # so a pretty-printed page becomes one line without changing its meaning.
        stripped = stripped.replace(b"\r", b" ").replace(b"\n", b" ")
    if stripped[:1] == b"[":
        return b'{"results":' + stripped + b"}"
    if stripped[:1] == b"{":
        return stripped
    raise FrameError(
        f"page {position} is not a list page: expected a JSON object with 'results' or a "
        f"JSON array, got {page[:40]!r}"
    )


def _refuse_other_kind(records: Iterable[Any], expected: str, builder: str) -> None:
    """Raise :class:`FrameError` when the records are of the other kind than ``expected``.

    The first record (of at most ``KIND_LOOKS``) whose keys belong to one kind only
    (:data:`~argyle_nb.frames._schema.RULES`) decides; records that tell nothing (not
    objects, damaged, both kinds' keys) are left to the builder's own checks. Empty
    sources are valid.
    """
    for record in itertools.islice(records, KIND_LOOKS):
        if not isinstance(record, Mapping):
            continue
        found = {kind: [k for k in r.distinct if k in record] for kind, r in RULES.items()}
        kinds = [kind for kind, keys in found.items() if keys]
        if len(kinds) != 1:
            continue
        if kinds[0] == expected:
            return
        have = ", ".join(repr(k) for k in found[kinds[0]][:2])
        raise FrameError(
            f"{builder} got {kinds[0]} records, not {expected} records: these look like "
            f"{kinds[0]} records (have {have}); use {RULES[kinds[0]].builder}"
        )


def _first_records(pages: Sequence[bytes]) -> list[Any]:
    """The records of the first page that has any (decoded), or ``[]``: what
    :func:`_refuse_other_kind` looks at. Pages that do not decode are skipped here; the
    reader reports them."""
    for page in pages:
        try:
            records = parse_list_page(page).results
        except EnvelopeError:
            continue
        if records:
            return records
    return []
