"""What the analyses share: the missing-group label, scan order, needed columns, words."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from argyle_nb.models import AVAILABILITY_STATUSES

#: Scan statuses in reading order: done, running, failed.
_SCAN_ORDER: tuple[str, ...] = (
    "synced",
    "in_progress",
    "sync_failed",
    *(s for s in AVAILABILITY_STATUSES if s not in ("synced", "in_progress", "sync_failed")),
)

#: Label of the group of users without the metadata key (and of missing values). A real
#: value that reads as this label (or OTHER, REST) is quoted once more: :func:`text_labels`.
MISSING = "(missing)"
#: Label of the cohorts pooled because they are small (``pool_small=True``).
OTHER = "(other)"
#: ``baseline=REST``: compare each cohort with all the others together.
REST = "(rest)"
#: A text that reads as one of the labels above, quotes around it or not (a regular
#: expression both Python and DuckDB read).
RESERVED_LABEL = '"*(?:' + "|".join(re.escape(label) for label in (MISSING, OTHER, REST)) + ')"*'


def text_labels(labels: pd.Series[Any]) -> pd.Series[str]:
    """Text values as group labels: as they are, but a value that reads as :data:`MISSING`,
    :data:`OTHER` or :data:`REST` (quotes around it or not) is put in quotes once more, so
    a real ``"(missing)"`` is the cohort ``'"(missing)"'`` and never merges with the users
    that lack the key (one more pair of quotes: no two values share a label).

    Examples:
        >>> text_labels(pd.Series(["(missing)", '"(other)"', "A"])).tolist()
        ['"(missing)"', '""(other)""', 'A']
    """
    text = labels.astype("str")
    clash = text.str.fullmatch(RESERVED_LABEL).fillna(False).to_numpy(bool)
    if not clash.any():
        return text
    values = text.to_numpy(object)
    values[clash] = ['"' + v + '"' for v in values[clash]]
    return pd.Series(values, index=labels.index, dtype="str")


#: Cohorts of fewer users than this are flagged ``small`` (their intervals are wide).
MIN_USERS = 30
#: The confidence of every interval.
CONFIDENCE = 0.95

#: Columns of the frames each analysis reads (checked first: a missing one is named).
_ACCOUNT_NEEDS: tuple[str, ...] = ("user", "connection_status", "connection_error_code")
_WINDOW_NEEDS: tuple[str, ...] = (
    "resource",
    "status",
    "window_days",
    "available_count",
    "updated_at",
)
_TIMELINE_NEEDS: tuple[str, ...] = (
    "account",
    "resource",
    "status",
    "available_from",
    "available_to",
    "available_count",
    "updated_at",
)


def _utc(value: object) -> pd.Timestamp:
    """A time as a UTC Timestamp; a naive time is taken to be UTC."""
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


#: Column names as a reader says them, for chart titles and axes.
_WORDS = {
    "link_item": "link item",
    "connection_error_code": "error code",
    "source": "source",
    "resource": "resource",
    "day": "day of creation",
    "week": "week of creation (from Monday)",
    "month": "month of creation",
}


def _in_words(name: object) -> str:
    """A column name in words: ``link_item`` -> ``link item`` (meta. prefix dropped)."""
    text = str(name)
    return _WORDS.get(text, text.removeprefix("meta.").replace("_", " "))
