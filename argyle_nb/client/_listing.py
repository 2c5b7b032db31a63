"""What the client makes of a walked list: frames with provenance, models, and the records
set aside as invalid (:class:`Quarantine`), with a warning for what could not be vouched for.
"""

from __future__ import annotations

import builtins
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from argyle_nb.client._pagination import Walk
from argyle_nb.envelope import dumps_json, parse_list_page, unrepresentable
from argyle_nb.errors import InvalidRecordsError
from argyle_nb.models import Page as PageModel
from argyle_nb.provenance import ATTRS_KEY, ListChangedWarning, Provenance, ServedPages
from argyle_nb.quarantine import RejectedRecord, RejectedRecordsWarning, rejected_frame

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Listing", "Quarantine"]

M = TypeVar("M", bound=BaseModel)

_TOO_DEEP = "nests too deep to read"


@dataclass(frozen=True)
class Listing:
    """One list as read: how the walk went, what was served and when the fetch ran (and
    every page, unless the walk streamed them to a sink)."""

    endpoint: str
    base_url: str
    environment: str
    started: datetime
    finished: datetime
    walk: Walk
    served: ServedPages

    @property
    def bodies(self) -> builtins.list[bytes]:
        return [page.raw for page in self.walk.pages]

    @property
    def records(self) -> int:
        return self.walk.records

    def provenance(self, records: int, rejected: int) -> Provenance:
        served = self.served
        return Provenance(
            endpoint=self.endpoint,
            base_url=self.base_url,
            environment=self.environment,
            fetch_started=self.started,
            fetch_finished=self.finished,
            pages=len(served),
            pages_from_cache=served.from_cache,
            served_from=served.served_from,
            served_to=served.served_to,
            expires_at=served.expires_at,
            records=records,
            rejected=rejected,
            passes=self.walk.passes,
            consistent=self.walk.consistent,
            note=self.walk.problem,
            rereads=self.walk.rereads,
            duplicates=self.walk.duplicates,
        )


class Quarantine:
    """The records each reader set aside, per list and reader; warns or raises."""

    def __init__(self, *, strict: Callable[[], bool], now: Callable[[], datetime]) -> None:
        self._strict = strict
        self._now = now
        self._rejected: dict[tuple[str, str], builtins.list[RejectedRecord]] = {}

    def frame_of_rejected(self) -> pd.DataFrame:
        return rejected_frame(r for records in self._rejected.values() for r in records)

    def frame(
        self,
        listing: Listing,
        noun: str,
        read_by: str,
        frame: pd.DataFrame,
        rejected: builtins.list[RejectedRecord],
        kept: int,
    ) -> pd.DataFrame:
        """``frame`` (of ``kept`` records) with its provenance; ``rejected`` set aside."""
        _vouch(listing, noun, len(frame))
        self._set_aside(listing, rejected, noun, read_by, kept)
        frame.attrs[ATTRS_KEY] = listing.provenance(kept, len(rejected)).to_attrs()
        return frame

    def models(self, listing: Listing, noun: str, model: type[M]) -> Iterator[M]:
        """Every record of the list as ``model``; records that fail validation set aside."""
        _vouch(listing, noun)
        read_by = f"{noun}.list()"
        adapter = _adapter(model)
        rejected: builtins.list[RejectedRecord] = []
        for position, page in enumerate(listing.walk.pages):
            if not page.info.lenient:  # the fast path: a page orjson reads whole
                try:
                    yield from adapter.validate_json(page.raw).results
                    continue
                except ValidationError:
                    pass
            good: builtins.list[M] = []
            bad: builtins.list[RejectedRecord] = []
            decoded = parse_list_page(page.raw)
            for index, item in enumerate(decoded.results):
                unfit = unrepresentable(item) if decoded.lenient else None
                if unfit is not None:
                    bad.append(RejectedRecord.of(position, index, item, unfit))
                    continue
                try:
                    good.append(_validated(model, item))
                except (ValidationError, RecursionError) as exc:
                    reason = _reason(exc) if isinstance(exc, ValidationError) else _TOO_DEEP
                    bad.append(RejectedRecord.of(position, index, item, reason))
            if bad and self._strict():
                kept = listing.records - len(rejected) - len(bad)
                self._set_aside(listing, [*rejected, *bad], noun, read_by, kept)
            rejected.extend(bad)
            yield from good
        self._set_aside(listing, rejected, noun, read_by, listing.records - len(rejected))

    def _set_aside(
        self,
        listing: Listing,
        rejected: builtins.list[RejectedRecord],
        noun: str,
        read_by: str,
        kept: int,
    ) -> None:
        """Keep what ``read_by`` rejected of a list; warn, or raise when strict."""
        when = self._now()
        urls = listing.served.urls
        located = [
            r.located(
                url=r.url or (urls[r.page] if r.page < len(urls) else ""),
                endpoint=listing.endpoint,
                read_by=read_by,
                rejected_at=when,
            )
            for r in rejected
        ]
        self._rejected[listing.endpoint, read_by] = located
        if not located:
            return
        first = located[0]
        message = (
            f"{len(located)} of {kept + len(located)} {noun} from GET {listing.endpoint} "
            f"failed validation in {read_by} (first: {first.where}: {first.error})"
        )
        if self._strict():
            raise InvalidRecordsError(
                message + "; client.rejected lists them (strict=False sets them aside)",
                rejected=located,
                status=200,
                method="GET",
                path=listing.endpoint,
            )
        warnings.warn(
            message + " and were left out: client.rejected lists them",
            RejectedRecordsWarning,
            stacklevel=_outside_stacklevel(),
        )


def _validated(model: type[M], record: Any) -> M:
    """``record`` as ``model``, read from JSON as the fast path reads a page (an integer
    beyond 64 bits an int, not the text parse_list_page keeps of it for the frames)."""
    try:
        body = dumps_json(record)
    except TypeError:  # nested too deep to write again: the model says what is wrong
        return model.model_validate(record)
    return model.model_validate_json(body)


_ADAPTERS: dict[type[BaseModel], TypeAdapter[Any]] = {}


def _adapter(model: type[BaseModel]) -> TypeAdapter[Any]:
    """The page validator of ``model`` (built once: building one costs milliseconds)."""
    if model not in _ADAPTERS:
        _ADAPTERS[model] = TypeAdapter(PageModel[model])  # type: ignore[valid-type]
    return _ADAPTERS[model]


def _vouch(listing: Listing, noun: str, kept: int | None = None) -> None:
    """Warn when the walk could not read the list consistently; ``kept``: the records the
    frame holds (default: those the walk kept, each id once)."""
    walk = listing.walk
    if walk.consistent:
        return
    held = walk.records if kept is None else kept
    warnings.warn(
        f"GET {listing.endpoint}: {walk.problem}. The {held} {noun} kept (each id "
        f"once) may miss or hold {noun} created or deleted meanwhile; the provenance says "
        "consistent=False",
        ListChangedWarning,
        stacklevel=_outside_stacklevel(),
    )


def _reason(exc: ValidationError) -> str:
    """The first problem pydantic found, with the field's path (and how many more)."""
    errors = exc.errors()
    first = errors[0]
    at = ".".join(str(part) for part in first["loc"])
    text = f"{at}: {first['msg']}" if at else first["msg"]
    return text + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")


def _outside_stacklevel() -> int:
    """The ``stacklevel`` of a warning that names the first caller outside argyle_nb."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith("argyle_nb"):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level
