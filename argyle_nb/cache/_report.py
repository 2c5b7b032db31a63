"""What the cache holds for one client, and what an offline session would miss."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final

from argyle_nb._html import escape
from argyle_nb.envelope import EnvelopeError, parse_list_page
from argyle_nb.provenance import format_age

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CacheInfo", "CacheReport", "CacheReportRow"]


@dataclass(frozen=True)
class CacheInfo:
    """What :meth:`ArgyleCache.info` reports."""

    backend: str
    path: Path | None
    responses: int
    size_bytes: int | None
    offline: bool
    list_expiry: timedelta
    object_expiry: timedelta

    def __str__(self) -> str:
        where = f" at {self.path}" if self.path else ""
        size = f", {self.size_bytes / 1e6:.1f} MB" if self.size_bytes is not None else ""
        mode = ", offline" if self.offline else ""
        return (
            f"{self.backend} cache{where}: {self.responses} responses{size}{mode}; "
            f"lists expire after {self.list_expiry}, objects after {self.object_expiry}"
        )


@dataclass(frozen=True)
class CacheReportRow:
    """What the cache holds for one endpoint (a list, a family of lists, or objects).

    Attributes:
        endpoint: ``GET /v1/users``, ``GET /v1/accounts?user={id}``, ``GET /v1/users/{id}``.
        kind: ``"list"`` (pages of one list), ``"lists"`` (pages of many per-user lists)
            or ``"objects"``.
        cached: entries held (pages, or objects).
        expected: entries the endpoint has, where the cache can tell (a list's first page
            gives its count), else None.
        oldest: when the oldest entry was served (UTC).
        newest: when the newest entry was served (UTC).
        expires: the earliest expiry among them; ``expired``: how many have expired
            (an offline session still reads expired entries).
        offline: what an offline session would miss here, or ``"complete"``.
    """

    endpoint: str
    kind: str
    cached: int
    expected: int | None
    oldest: datetime | None
    newest: datetime | None
    expires: datetime | None
    expired: int
    offline: str

    @property
    def complete(self) -> bool:
        """Whether an offline session would miss nothing of this endpoint."""
        return self.offline == "complete"


@dataclass(frozen=True)
class CacheReport:
    """Per endpoint, what the cache holds for one client and what offline work would miss.

    Shown as a table in a notebook; :meth:`to_frame` gives a DataFrame.
    """

    rows: list[CacheReportRow]
    now: datetime
    base_url: str
    missing: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Whether every list the notebooks read is cached in full."""
        return not self.missing

    def to_frame(self) -> pd.DataFrame:
        """The rows as a DataFrame (one row per endpoint)."""
        import pandas as pd

        columns = [
            "endpoint",
            "kind",
            "cached",
            "expected",
            "oldest",
            "newest",
            "expires",
            "expired",
            "offline",
        ]
        data = [[getattr(row, c) for c in columns] for row in self.rows]
        frame = pd.DataFrame(data, columns=columns)
        frame["expected"] = frame["expected"].astype("Int64")
        for name in ("oldest", "newest", "expires"):
            frame[name] = pd.to_datetime(frame[name], utc=True)
        return frame

    def _cells(self, row: CacheReportRow) -> list[str]:
        total = f" of {row.expected}" if row.expected is not None else ""
        age = format_age(self.now - row.oldest) if row.oldest else "-"
        if row.expires is None:
            expiry = "-"
        elif row.expires <= self.now:
            expiry = f"expired {format_age(self.now - row.expires)} ago"
        else:
            expiry = f"in {format_age(row.expires - self.now)}"
        return [row.endpoint, f"{row.cached}{total} {_unit(row)}", age, expiry, row.offline]

    def __str__(self) -> str:
        head = ["endpoint", "cached", "oldest", "first expiry", "offline"]
        lines = [head, *(self._cells(row) for row in self.rows)]
        widths = [max(len(line[i]) for line in lines) for i in range(len(head) - 1)]
        text = [
            "  ".join(cell.ljust(w) for cell, w in zip(line[:-1], widths, strict=False))
            + "  "
            + line[-1]
            for line in lines
        ]
        verdict = (
            "offline: every list the notebooks read is cached"
            if self.complete
            else "offline would miss: " + "; ".join(self.missing)
        )
        return "\n".join([f"cache of {self.base_url}", *text, verdict])

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        head = "".join(
            f"<th>{escape(h)}</th>"
            for h in ("endpoint", "cached", "oldest", "first expiry", "offline")
        )
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in self._cells(row)) + "</tr>"
            for row in self.rows
        )
        verdict = (
            "offline: every list the notebooks read is cached"
            if self.complete
            else "offline would miss: " + "; ".join(self.missing)
        )
        return (
            f"<div><b>cache of {escape(self.base_url)}</b><table>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            f"<p>{escape(verdict)}</p></div>"
        )


def _unit(row: CacheReportRow) -> str:
    return "objects" if row.kind == "objects" else "pages"


@dataclass
class _Entry:
    key: str
    url: str
    path: str
    params: dict[str, str]
    created_at: datetime | None
    expires: datetime | None
    body: bytes


#: At most this many pages of one list are expected, whatever its first page's ``count``
#: says (the client's walk has the same bound): a lying count costs nothing here.
MAX_EXPECTED_PAGES: Final = 100_000


def _offline(kind: str, entries: list[_Entry]) -> tuple[int | None, str]:
    """``(entries expected, what offline would miss)`` of one endpoint's entries."""
    if kind == "objects":
        return None, f"only these {len(entries)} objects" if entries else "no objects cached"
    lists: dict[tuple[tuple[str, str], ...], dict[int, _Entry]] = {}
    for entry in entries:
        others = tuple(sorted((k, v) for k, v in entry.params.items() if k not in _PAGING))
        lists.setdefault(others, {})[_whole(entry.params.get("offset"))] = entry
    if not lists:
        return None, "not cached: every page would be missing"
    expected_total = 0
    gaps: list[str] = []
    for pages in lists.values():
        first = pages.get(0)
        count = _count(first.body) if first is not None else None
        if first is None or count is None:
            gaps.append("the first page")
            continue
        limit = _whole(first.params.get("limit"))
        expected = min(-(-count // limit), MAX_EXPECTED_PAGES) if limit > 0 else 1
        expected_total += max(1, expected)
        held = sum(1 for o in pages if limit > 0 and o % limit == 0 and o // limit < expected)
        if held < expected:
            absent = (o for o in range(0, expected * limit, limit) if o not in pages)
            shown = ", ".join(str(o) for o, _ in zip(absent, range(5), strict=False))
            gaps.append(f"{expected - held} pages (offsets {shown}...)")
    if kind == "lists":
        detail = f"{len(lists)} lists cached; other users' lists would be missing"
        return expected_total or None, detail if not gaps else detail + "; " + gaps[0]
    if gaps:
        return (expected_total or None), "misses " + "; ".join(gaps)
    return expected_total, "complete"


_PAGING: Final = ("limit", "offset")


def _whole(text: str | None) -> int:
    """A query parameter as a whole number >= 0 (0 when it is not one)."""
    return int(text) if text is not None and text.isdigit() and len(text) < 19 else 0


def _count(body: bytes) -> int | None:
    try:
        return parse_list_page(body).count
    except EnvelopeError:
        return None
