"""The JSON documents the sandbox serves: timestamps and the user object.

Both the synthetic-data generator and the store build users here, so a user's
``employers_connected`` and ``data_providers_connected`` follow its accounts by one rule:

* ``data_providers_connected``: the link items of all its accounts (filled at once);
* ``employers_connected``: the employers of its accounts that were ever connected;

each without repeats, oldest account first.

Examples:
    >>> from datetime import UTC, datetime
    >>> iso(datetime(2022, 4, 22, 14, 12, 56, 723775, tzinfo=UTC))
    '2022-04-22T14:12:56.723775Z'
    >>> connected_lists([("uber", ["uber"], True), ("myadp", ["acme", "globex"], False)])
    (['uber'], ['uber', 'myadp'])
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

__all__ = ["connected_lists", "iso", "micros", "parse_iso", "user_document"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso(moment: datetime) -> str:
    """``moment`` in UTC as ISO 8601 with microseconds and a ``Z``, like the API."""
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds") + "Z"


def parse_iso(text: str) -> datetime:
    """Read a timestamp written by :func:`iso` (or any ISO 8601; naive means UTC)."""
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def micros(moment: datetime) -> int:
    """Microseconds since the epoch: the sort key of users and accounts."""
    delta = moment.astimezone(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def connected_lists(
    accounts: Iterable[tuple[str | None, list[str], bool]],
) -> tuple[list[str], list[str]]:
    """``(employers_connected, data_providers_connected)`` from the accounts of a user.

    ``accounts`` yields ``(link_item, employers, was_connected)``, oldest first.
    """
    employers: dict[str, None] = {}
    providers: dict[str, None] = {}
    for link_item, names, was_connected in accounts:
        if link_item:
            providers[link_item] = None
        if was_connected:
            employers.update(dict.fromkeys(names))
    return list(employers), list(providers)


def user_document(
    user_id: str,
    created_at: str,
    employers: list[str],
    providers: list[str],
    metadata: Any,
) -> dict[str, Any]:
    """The user object, keys in the order of the reference page."""
    return {
        "id": user_id,
        "created_at": created_at,
        "employers_connected": employers,
        "data_providers_connected": providers,
        "external_metadata": metadata,
    }
