"""The analyses the toolkit exists for: metadata cohorts, connection health, availability windows.

Each analysis takes frames from :mod:`argyle_nb.frames` and returns a DataFrame ready to
plot; its ``plot_*`` companion draws that frame with matplotlib and returns the Axes.
Nothing here fetches data or keeps state.

Example:
    >>> from argyle_nb import frames, analysis
    >>> accounts = frames.accounts_frame(b"[]")
    >>> analysis.connection_status_distribution(accounts, by="link_item").shape
    (0, 7)
"""

from __future__ import annotations

from argyle_nb.analysis._availability import (
    availability_timeline,
    availability_windows,
    plot_availability_timeline,
    plot_availability_windows,
)
from argyle_nb.analysis._cohorts import (
    metadata_groups,
    metadata_key_summary,
    plot_metadata_groups,
    users_in_group,
)
from argyle_nb.analysis._common import MISSING
from argyle_nb.analysis._connection import (
    connection_status_distribution,
    plot_connection_status_distribution,
    select_accounts,
    top_error_codes,
)
from argyle_nb.frames import metadata_keys

__all__ = [
    "MISSING",
    "availability_timeline",
    "availability_windows",
    "connection_status_distribution",
    "metadata_groups",
    "metadata_key_summary",
    "metadata_keys",
    "plot_availability_timeline",
    "plot_availability_windows",
    "plot_connection_status_distribution",
    "plot_metadata_groups",
    "select_accounts",
    "top_error_codes",
    "users_in_group",
]
