"""The analyses the toolkit exists for: metadata cohorts, connection health, availability windows.

Each analysis takes frames from :mod:`argyle_nb.frames`, or a
:class:`~argyle_nb.dataset.Dataset` in their place (an export, or
``Dataset.from_frames(users, accounts, availability)``), and returns a DataFrame ready to
plot: ``metadata_groups(users, accounts, "customer group")`` and
``metadata_groups(ds, "customer group")`` count alike, in one engine (DuckDB). Its
``plot_*`` companion draws that frame as the Altair chart the explorers show (interactive
offline with tooltips; PNG, SVG or PDF offline via vl-convert).
Nothing here fetches data or keeps state. Every share comes with its 95% Wilson
interval and says its unit (users, or accounts); cohorts are compared with
:func:`compare_cohorts`, which says in words which differ and which do not.

One module per family: ``_engine`` (the one engine that counts: DuckDB over frames or a
dataset, cohorts and their tallies), ``_tables`` (what every analysis of a dataset starts
from, made once per dataset or stored by its export: :func:`facts`), ``_labels`` (cohort labels, in
SQL), ``_outcomes`` (metrics, outcomes and cohorts), :mod:`~argyle_nb.analysis.stats`
(public: intervals, tests, Kaplan–Meier, on counts), ``_cohorts`` (key hygiene and
cohort tables), ``_compare``, ``_funnel``, ``_survival`` (time to connect), ``_matrix``
(two keys), ``_connection`` (status by group or period), ``_history``, ``_transitions``
and ``_spells`` (what changed between snapshots), ``_availability``, ``_source``
(an accounts or availability frame, or a dataset, and selections of it); the charts in
``_chart_status``, ``_chart_cohorts`` and ``_chart_base``.

Examples:
    >>> from argyle_nb import frames, analysis
    >>> accounts = frames.accounts_frame(b"[]")
    >>> analysis.connection_status_distribution(accounts, by="link_item").shape
    (0, 13)
"""

from __future__ import annotations

from argyle_nb.analysis import stats
from argyle_nb.analysis._availability import (
    availability_timeline,
    availability_windows,
    plot_availability_timeline,
    plot_availability_windows,
    scan_counts,
    select_availability,
)
from argyle_nb.analysis._cohorts import (
    metadata_groups,
    metadata_key_summary,
    plot_metadata_groups,
    users_in_group,
)
from argyle_nb.analysis._common import CONFIDENCE, MIN_USERS, MISSING, OTHER, REST
from argyle_nb.analysis._compare import CohortComparison, compare_cohorts, compare_proportions
from argyle_nb.analysis._connection import (
    connection_status_distribution,
    plot_connection_status_distribution,
    select_accounts,
    top_error_codes,
)
from argyle_nb.analysis._funnel import FUNNEL_STEPS, cohort_funnel, plot_cohort_funnel
from argyle_nb.analysis._history import (
    plot_removal_bias,
    plot_status_over_time,
    removal_bias,
    status_over_time,
)
from argyle_nb.analysis._matrix import cohort_matrix, plot_cohort_matrix
from argyle_nb.analysis._outcomes import (
    METRICS,
    cohort_counts,
    cohort_labels,
    user_outcomes,
)
from argyle_nb.analysis._spells import (
    connection_lifetime,
    plot_connection_lifetime,
    plot_reconnection,
    reconnection,
)
from argyle_nb.analysis._survival import (
    plot_time_to_connect,
    time_to_connect,
    time_to_connect_curves,
)
from argyle_nb.analysis._tables import facts
from argyle_nb.analysis._transitions import plot_transitions, transition_accounts, transitions
from argyle_nb.analysis.stats import Independence
from argyle_nb.frames import metadata_keys

__all__ = [
    "CONFIDENCE",
    "FUNNEL_STEPS",
    "METRICS",
    "MIN_USERS",
    "MISSING",
    "OTHER",
    "REST",
    "CohortComparison",
    "Independence",
    "availability_timeline",
    "availability_windows",
    "cohort_counts",
    "cohort_funnel",
    "cohort_labels",
    "cohort_matrix",
    "compare_cohorts",
    "compare_proportions",
    "connection_lifetime",
    "connection_status_distribution",
    "facts",
    "metadata_groups",
    "metadata_key_summary",
    "metadata_keys",
    "plot_availability_timeline",
    "plot_availability_windows",
    "plot_cohort_funnel",
    "plot_cohort_matrix",
    "plot_connection_lifetime",
    "plot_connection_status_distribution",
    "plot_metadata_groups",
    "plot_reconnection",
    "plot_removal_bias",
    "plot_status_over_time",
    "plot_time_to_connect",
    "plot_transitions",
    "reconnection",
    "removal_bias",
    "scan_counts",
    "select_accounts",
    "select_availability",
    "stats",
    "status_over_time",
    "time_to_connect",
    "time_to_connect_curves",
    "top_error_codes",
    "transition_accounts",
    "transitions",
    "user_outcomes",
    "users_in_group",
]
