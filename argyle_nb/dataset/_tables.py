"""The tables of a dataset, the columns each always has, and the error a dataset raises."""

from __future__ import annotations

from typing import Final

from argyle_nb.errors import ArgyleValueError

__all__ = ["COLUMNS", "REEXPORT", "TABLES", "DatasetError"]

#: The tables of a dataset.
TABLES: Final = ("users", "accounts", "availability", "rejected")
#: The columns every table has (what the analyses read).
COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "users": ("id", "created_at", "external_metadata"),
    "accounts": ("id", "user", "link_item", "connection_status", "connection_error_code"),
    "availability": ("account", "resource", "status"),
    "rejected": ("endpoint", "error", "raw"),
}
#: What to do about a damaged dataset.
REEXPORT: Final = "the dataset is damaged: export to a new path (client.export or argyle-nb export)"


class DatasetError(ArgyleValueError):
    """A dataset that cannot be written or read (the message says which and why).

    An :class:`~argyle_nb.errors.ArgyleError` and a ``ValueError``.
    """
