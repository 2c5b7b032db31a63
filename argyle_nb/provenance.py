"""Where a table came from, and how old it is: :class:`Provenance`.

Every frame the client builds carries its provenance in ``df.attrs["provenance"]`` (plain
JSON values, so it survives pandas operations that keep ``attrs``, pickling and
:func:`argyle_nb.frames.to_parquet`): the base URL and the environment (the embedded
sandbox, Argyle's sandbox or production), when the fetch ran, how many pages came from
the cache, when the oldest page was served, when the first one expires, and how many
records were rejected (:mod:`argyle_nb.quarantine`). :func:`provenance_of` reads it back.

Examples:
    >>> from datetime import UTC, datetime, timedelta
    >>> t = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    >>> p = Provenance(endpoint="/v1/users", base_url="https://api-sandbox.argyle.com/v1",
    ...                environment=environment_of("https://api-sandbox.argyle.com/v1"),
    ...                fetch_started=t, fetch_finished=t, pages=5, pages_from_cache=5,
    ...                served_from=t - timedelta(minutes=3), served_to=t,
    ...                expires_at=t + timedelta(minutes=2), records=1000, rejected=0)
    >>> p.environment
    'Argyle sandbox'
    >>> p.age(now=t)
    datetime.timedelta(seconds=180)
    >>> Provenance.from_attrs(p.to_attrs()) == p
    True
"""

from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from argyle_nb._html import escape
from argyle_nb.errors import ArgyleValueError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ATTRS_KEY",
    "SANDBOX_HEADER",
    "SANDBOX_URL_VARIABLE",
    "ListChangedWarning",
    "Provenance",
    "ServedPages",
    "environment_of",
    "format_age",
    "provenance_of",
    "utc_or_none",
]

#: The key of ``DataFrame.attrs`` that holds a frame's provenance.
ATTRS_KEY: Final = "provenance"
#: The header every answer of the embedded sandbox carries.
SANDBOX_HEADER: Final = "X-Argyle-NB-Sandbox"


class ListChangedWarning(UserWarning):
    """A list changed while it was read, and reading it again did not give one consistent
    read: the table may miss or hold records created or deleted meanwhile (its provenance
    says so, ``consistent=False``)."""


#: The environment variable naming the base URL of the embedded sandbox that
#: ``argyle-nb lab`` started for its kernels (beside ``ARGYLE_BASE_URL``).
SANDBOX_URL_VARIABLE: Final = "ARGYLE_NB_SANDBOX_URL"

_HOSTS: Final = {
    "api-sandbox.argyle.com": "Argyle sandbox",
    "api.argyle.com": "Argyle production",
}


def environment_of(base_url: str, *, embedded: bool = False) -> str:
    """Name the environment of a base URL: ``"embedded sandbox"`` when its answers carry
    :data:`SANDBOX_HEADER` (``embedded=True``), Argyle's sandbox or production by host,
    else ``"custom (<host>)"``.

    Examples:
        >>> environment_of("https://api.argyle.com/v1")
        'Argyle production'
        >>> environment_of("http://127.0.0.1:8765/v1", embedded=True)
        'embedded sandbox'
        >>> environment_of("https://proxy.example.com/v1")
        'custom (proxy.example.com)'
    """
    if embedded:
        return "embedded sandbox"
    host = (urlsplit(base_url).hostname or "").lower()
    return _HOSTS.get(host, f"custom ({host or base_url})")


def utc_or_none(value: Any) -> datetime | None:
    """``value`` as an aware UTC datetime (a naive one is read as UTC), or None if not one.

    Examples:
        >>> utc_or_none(datetime(2026, 1, 1)), utc_or_none("2026-01-01")
        (datetime.datetime(2026, 1, 1, 0, 0, tzinfo=datetime.timezone.utc), None)
    """
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_age(age: timedelta) -> str:
    """A short, rounded age: ``"42 s"``, ``"3 min"``, ``"2 h"``, ``"5 days"``.

    Examples:
        >>> format_age(timedelta(seconds=200)), format_age(timedelta(days=2, hours=3))
        ('3 min', '2 days')
    """
    seconds = max(0.0, age.total_seconds())
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


def _stamp(value: datetime | None) -> str:
    return "-" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass
class ServedPages:
    """What a list's provenance and its rejected records need of its pages, gathered page
    by page (their bytes are not kept): where each was read, how many came from the cache,
    when the oldest and the newest were served, and when the first expires.

    Examples:
        >>> from datetime import UTC, datetime
        >>> pages = ServedPages()
        >>> pages.add("/v1/users?limit=200&offset=0", from_cache=True,
        ...           served_at=datetime(2026, 11, 23, tzinfo=UTC), expires=None)
        >>> len(pages), pages.from_cache, pages.served_from.day
        (1, 1, 23)
    """

    urls: list[str] = field(default_factory=list)
    from_cache: int = 0
    served_from: datetime | None = None
    served_to: datetime | None = None
    expires_at: datetime | None = None

    def add(
        self, url: str, *, from_cache: bool, served_at: datetime | None, expires: datetime | None
    ) -> None:
        """One more page: where it was read, and when it was served and expires."""
        self.urls.append(url)
        self.from_cache += from_cache
        if served_at is not None:
            self.served_from = min(self.served_from or served_at, served_at)
            self.served_to = max(self.served_to or served_at, served_at)
        if expires is not None:
            self.expires_at = min(self.expires_at or expires, expires)

    def clear(self) -> None:
        """Forget every page (a new read of the list begins)."""
        self.urls = []
        self.from_cache = 0
        self.served_from = self.served_to = self.expires_at = None

    def __len__(self) -> int:
        return len(self.urls)


@dataclass(frozen=True)
class Provenance:
    """Where and when a table's records came from.

    Attributes:
        endpoint: the list fetched, such as ``/v1/accounts`` or ``/v1/accounts?user=...``.
        base_url: the API's base URL.
        environment: ``"embedded sandbox"``, ``"Argyle sandbox"``, ``"Argyle production"``
            or ``"custom (<host>)"`` (:func:`environment_of`).
        fetch_started: when the client began the fetch (UTC).
        fetch_finished: when the client ended the fetch (UTC).
        pages: pages read; ``pages_from_cache`` of them were answered by the cache.
        served_from: when the oldest page was served by the API (a cached page was
            served when it was first fetched).
        served_to: when the newest page was served by the API.
        expires_at: when the first of these pages expires in the cache (None: none does).
        records: records in the table; ``rejected``: records set aside as invalid.
        passes: how many times the list was read (more than one when it changed while
            it was read); ``consistent``: whether one read saw it unchanged, so every
            record that existed throughout is in the table exactly once; ``note``: why
            the client could not vouch for it, when it could not; ``rereads``: pages
            fetched again for that; ``duplicates``: records met twice while reading.
    """

    endpoint: str
    base_url: str
    environment: str
    fetch_started: datetime
    fetch_finished: datetime
    pages: int
    pages_from_cache: int
    served_from: datetime | None
    served_to: datetime | None
    expires_at: datetime | None
    records: int
    rejected: int
    passes: int = 1
    consistent: bool = True
    note: str | None = None
    rereads: int = 0
    duplicates: int = 0

    def age(self, now: datetime | None = None) -> timedelta:
        """How old the oldest record is at ``now`` (default: the current time)."""
        now = datetime.now(UTC) if now is None else now
        oldest = self.served_from or self.fetch_finished
        return max(timedelta(0), now - oldest)

    def describe(self, now: datetime | None = None) -> str:
        """One line for people: how many records, from where, how old, what was left out.

        Examples:
            >>> p = Provenance.from_attrs(_EXAMPLE)
            >>> print(p.describe(now=p.fetch_finished))
            1000 records from the Argyle sandbox (https://api-sandbox.argyle.com/v1/users), \
oldest 3 min old; 5 of 5 pages from the cache, first expiry 2026-11-23 12:02:00 UTC
        """
        parts = [
            f"{self.records} records from the {self.environment} "
            f"({self.base_url}{self.endpoint.removeprefix(_path(self.base_url))}), "
            f"oldest {format_age(self.age(now))} old",
            f"{self.pages_from_cache} of {self.pages} pages from the cache"
            + (f", first expiry {_stamp(self.expires_at)}" if self.expires_at else ""),
        ]
        if self.rejected:
            parts.append(f"{self.rejected} rejected records left out (see client.rejected)")
        if not self.consistent:
            parts.append(f"NOT vouched for: {self.note}")
        elif self.passes > 1:
            parts.append(f"read {self.passes} times (the list changed while it was read)")
        return "; ".join(parts)

    def __str__(self) -> str:
        return self.describe()

    def _repr_html_(self) -> str:
        rows = [
            ("source", f"{self.environment}: {self.base_url}"),
            ("endpoint", self.endpoint),
            ("fetched", f"{_stamp(self.fetch_started)} to {_stamp(self.fetch_finished)}"),
            ("served", f"{_stamp(self.served_from)} to {_stamp(self.served_to)}"),
            ("age", format_age(self.age())),
            ("pages", f"{self.pages} ({self.pages_from_cache} from the cache)"),
            ("expires", _stamp(self.expires_at)),
            ("records", f"{self.records} ({self.rejected} rejected)"),
            (
                "consistent",
                f"yes, in {self.passes} read(s)" if self.consistent else f"no: {self.note}",
            ),
        ]
        body = "".join(
            f"<tr><th style='text-align:left'>{escape(k)}</th><td>{escape(v)}</td></tr>"
            for k, v in rows
        )
        return f"<table class='argyle-provenance'>{body}</table>"

    def to_attrs(self) -> dict[str, Any]:
        """Plain JSON values for ``DataFrame.attrs`` (timestamps as ISO 8601 text)."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            out[key] = value.isoformat() if isinstance(value, datetime) else value
        return out

    @classmethod
    def from_attrs(cls, attrs: dict[str, Any]) -> Provenance:
        """The provenance that :meth:`to_attrs` wrote (``ValueError`` if it is not one)."""
        try:
            values: dict[str, Any] = {}
            for member in fields(cls):
                if member.name not in attrs and member.default is not MISSING:
                    continue  # written before the field existed: its default
                value = attrs[member.name]
                if "datetime" in str(member.type) and value is not None:
                    value = datetime.fromisoformat(value)
                values[member.name] = value
            return cls(**values)
        except (KeyError, TypeError, ValueError) as exc:
            raise ArgyleValueError(f"not a provenance record: {exc}") from None


def provenance_of(frame: pd.DataFrame) -> Provenance | None:
    """The provenance of a frame the client built, or None when it carries none.

    Examples:
        >>> import pandas as pd
        >>> provenance_of(pd.DataFrame()) is None
        True
    """
    attrs = frame.attrs.get(ATTRS_KEY)
    return Provenance.from_attrs(attrs) if isinstance(attrs, dict) else None


def _path(base_url: str) -> str:
    return urlsplit(base_url).path.rstrip("/")


_EXAMPLE: Final = {
    "endpoint": "/v1/users",
    "base_url": "https://api-sandbox.argyle.com/v1",
    "environment": "Argyle sandbox",
    "fetch_started": "2026-11-23T12:00:00+00:00",
    "fetch_finished": "2026-11-23T12:00:00+00:00",
    "pages": 5,
    "pages_from_cache": 5,
    "served_from": "2026-11-23T11:57:00+00:00",
    "served_to": "2026-11-23T12:00:00+00:00",
    "expires_at": "2026-11-23T12:02:00+00:00",
    "records": 1000,
    "rejected": 0,
}
