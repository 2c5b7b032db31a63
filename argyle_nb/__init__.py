"""argyle_nb: explore Argyle payroll-connectivity data from JupyterLab.

Examples:
    >>> import argyle_nb
    >>> client = argyle_nb.connect()          # doctest: +SKIP
    >>> accounts = client.accounts_frame()    # doctest: +SKIP

Heavy parts (pandas, the HTTP stack, widgets) load on first use, so
``import argyle_nb`` stays quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from argyle_nb.models import Account, NewUser, Page, User, UserToken

if TYPE_CHECKING:  # what the lazy names are, for IDEs and mypy (no import at run time)
    from argyle_nb.analysis import (
        CohortComparison,
        availability_timeline,
        availability_windows,
        cohort_funnel,
        cohort_matrix,
        compare_cohorts,
        compare_proportions,
        connection_status_distribution,
        metadata_groups,
        metadata_key_summary,
        plot_availability_timeline,
        plot_availability_windows,
        plot_cohort_funnel,
        plot_cohort_matrix,
        plot_connection_status_distribution,
        plot_metadata_groups,
        plot_time_to_connect,
        select_accounts,
        time_to_connect,
        time_to_connect_curves,
        top_error_codes,
        user_outcomes,
        users_in_group,
    )
    from argyle_nb.cache import (
        CacheReport,
    )
    from argyle_nb.client import (
        ArgyleClient,
        RetryPolicy,
        connect,
    )
    from argyle_nb.errors import (
        APIConnectionError,
        ArgyleError,
        AuthenticationError,
        BadRequestError,
        CacheFileError,
        InvalidRecordsError,
        NotCachedError,
        NotFoundError,
        RateLimitError,
        ResponseFormatError,
        ServerError,
    )
    from argyle_nb.frames import (
        FrameError,
        accounts_and_availability,
        accounts_frame,
        attach_metadata,
        availability_frame,
        metadata_keys,
        read_parquet,
        to_parquet,
        users_frame,
    )
    from argyle_nb.provenance import (
        ListChangedWarning,
        Provenance,
        provenance_of,
    )
    from argyle_nb.quarantine import (
        RejectedRecord,
        RejectedRecordsWarning,
    )
    from argyle_nb.widgets import (
        AvailabilityExplorer,
        ConnectionExplorer,
        HistoryExplorer,
        MetadataExplorer,
        UserInspector,
    )

__version__ = "0.1.0"

#: Public name -> the module that defines it (imported on first access).
_LAZY: dict[str, str] = {
    "ArgyleClient": "argyle_nb.client",
    "connect": "argyle_nb.client",
    "RetryPolicy": "argyle_nb.client",
    "ArgyleError": "argyle_nb.errors",
    "AuthenticationError": "argyle_nb.errors",
    "BadRequestError": "argyle_nb.errors",
    "NotFoundError": "argyle_nb.errors",
    "RateLimitError": "argyle_nb.errors",
    "ServerError": "argyle_nb.errors",
    "ResponseFormatError": "argyle_nb.errors",
    "APIConnectionError": "argyle_nb.errors",
    "NotCachedError": "argyle_nb.errors",
    "CacheFileError": "argyle_nb.errors",
    "InvalidRecordsError": "argyle_nb.errors",
    "Provenance": "argyle_nb.provenance",
    "provenance_of": "argyle_nb.provenance",
    "ListChangedWarning": "argyle_nb.provenance",
    "RejectedRecord": "argyle_nb.quarantine",
    "RejectedRecordsWarning": "argyle_nb.quarantine",
    "CacheReport": "argyle_nb.cache",
    "users_frame": "argyle_nb.frames",
    "accounts_frame": "argyle_nb.frames",
    "availability_frame": "argyle_nb.frames",
    "accounts_and_availability": "argyle_nb.frames",
    "attach_metadata": "argyle_nb.frames",
    "metadata_keys": "argyle_nb.frames",
    "to_parquet": "argyle_nb.frames",
    "read_parquet": "argyle_nb.frames",
    "FrameError": "argyle_nb.frames",
    "metadata_groups": "argyle_nb.analysis",
    "metadata_key_summary": "argyle_nb.analysis",
    "users_in_group": "argyle_nb.analysis",
    "connection_status_distribution": "argyle_nb.analysis",
    "top_error_codes": "argyle_nb.analysis",
    "select_accounts": "argyle_nb.analysis",
    "availability_windows": "argyle_nb.analysis",
    "availability_timeline": "argyle_nb.analysis",
    "plot_metadata_groups": "argyle_nb.analysis",
    "plot_connection_status_distribution": "argyle_nb.analysis",
    "plot_availability_windows": "argyle_nb.analysis",
    "plot_availability_timeline": "argyle_nb.analysis",
    "compare_cohorts": "argyle_nb.analysis",
    "compare_proportions": "argyle_nb.analysis",
    "cohort_funnel": "argyle_nb.analysis",
    "cohort_matrix": "argyle_nb.analysis",
    "time_to_connect": "argyle_nb.analysis",
    "time_to_connect_curves": "argyle_nb.analysis",
    "user_outcomes": "argyle_nb.analysis",
    "plot_cohort_funnel": "argyle_nb.analysis",
    "plot_cohort_matrix": "argyle_nb.analysis",
    "plot_time_to_connect": "argyle_nb.analysis",
    "CohortComparison": "argyle_nb.analysis",
    "MetadataExplorer": "argyle_nb.widgets",
    "ConnectionExplorer": "argyle_nb.widgets",
    "HistoryExplorer": "argyle_nb.widgets",
    "AvailabilityExplorer": "argyle_nb.widgets",
    "UserInspector": "argyle_nb.widgets",
}

__all__ = [
    "APIConnectionError",
    "Account",
    "ArgyleClient",
    "ArgyleError",
    "AuthenticationError",
    "AvailabilityExplorer",
    "BadRequestError",
    "CacheFileError",
    "CacheReport",
    "CohortComparison",
    "ConnectionExplorer",
    "FrameError",
    "HistoryExplorer",
    "InvalidRecordsError",
    "ListChangedWarning",
    "MetadataExplorer",
    "NewUser",
    "NotCachedError",
    "NotFoundError",
    "Page",
    "Provenance",
    "RateLimitError",
    "RejectedRecord",
    "RejectedRecordsWarning",
    "ResponseFormatError",
    "RetryPolicy",
    "ServerError",
    "User",
    "UserInspector",
    "UserToken",
    "__version__",
    "accounts_and_availability",
    "accounts_frame",
    "attach_metadata",
    "availability_frame",
    "availability_timeline",
    "availability_windows",
    "cohort_funnel",
    "cohort_matrix",
    "compare_cohorts",
    "compare_proportions",
    "connect",
    "connection_status_distribution",
    "metadata_groups",
    "metadata_key_summary",
    "metadata_keys",
    "plot_availability_timeline",
    "plot_availability_windows",
    "plot_cohort_funnel",
    "plot_cohort_matrix",
    "plot_connection_status_distribution",
    "plot_metadata_groups",
    "plot_time_to_connect",
    "provenance_of",
    "read_parquet",
    "select_accounts",
    "time_to_connect",
    "time_to_connect_curves",
    "to_parquet",
    "top_error_codes",
    "user_outcomes",
    "users_frame",
    "users_in_group",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'argyle_nb' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
