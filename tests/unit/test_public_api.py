"""The public names of the package are pinned: adding or removing one is a deliberate change."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import argyle_nb

PUBLIC = {
    "Account",
    "NewUser",
    "Page",
    "User",
    "UserToken",
    "__version__",
    "AvailabilityExplorer",
    "ConnectionExplorer",
    "MetadataExplorer",
    "UserInspector",
    "APIConnectionError",
    "ArgyleClient",
    "ArgyleError",
    "AuthenticationError",
    "BadRequestError",
    "FrameError",
    "CacheReport",
    "InvalidRecordsError",
    "Provenance",
    "RejectedRecord",
    "RejectedRecordsWarning",
    "provenance_of",
    "ListChangedWarning",
    "CacheFileError",
    "NotCachedError",
    "NotFoundError",
    "RateLimitError",
    "ResponseFormatError",
    "RetryPolicy",
    "ServerError",
    "accounts_and_availability",
    "accounts_frame",
    "attach_metadata",
    "availability_frame",
    "availability_timeline",
    "availability_windows",
    "connect",
    "connection_status_distribution",
    "metadata_groups",
    "metadata_key_summary",
    "metadata_keys",
    "plot_availability_timeline",
    "plot_availability_windows",
    "plot_connection_status_distribution",
    "plot_metadata_groups",
    "read_parquet",
    "select_accounts",
    "to_parquet",
    "top_error_codes",
    "users_frame",
    "users_in_group",
    "compare_cohorts",
    "compare_proportions",
    "cohort_funnel",
    "cohort_matrix",
    "time_to_connect",
    "time_to_connect_curves",
    "user_outcomes",
    "plot_cohort_funnel",
    "plot_cohort_matrix",
    "plot_time_to_connect",
    "CohortComparison",
}

#: The names of argyle_nb.analysis.
ANALYSIS = {
    "CONFIDENCE",
    "FUNNEL_STEPS",
    "METRICS",
    "MIN_USERS",
    "MISSING",
    "OTHER",
    "REST",
    "CohortComparison",
    "Independence",
    "Outcomes",
    "account_outcomes",
    "availability_timeline",
    "availability_windows",
    "cohort_counts",
    "cohort_funnel",
    "cohort_labels",
    "cohort_matrix",
    "compare_cohorts",
    "compare_proportions",
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
    "select_accounts",
    "time_to_connect",
    "time_to_connect_curves",
    "top_error_codes",
    "user_outcomes",
    "users_in_group",
}


def test_all_is_pinned() -> None:
    assert set(argyle_nb.__all__) == PUBLIC
    assert len(argyle_nb.__all__) == len(set(argyle_nb.__all__))


def test_analysis_all_is_pinned() -> None:
    from argyle_nb import analysis

    assert set(analysis.__all__) == ANALYSIS
    for name in analysis.__all__:
        assert getattr(analysis, name) is not None, name


DATASET = {
    "BATCH_PAGES",
    "Dataset",
    "DatasetError",
    "DatasetWriter",
    "Manifest",
    "Part",
    "ServedPage",
    "availability_timeline",
    "availability_windows",
    "compare_cohorts",
    "connection_status_distribution",
    "metadata_groups",
    "metadata_key_summary",
    "scan_counts",
    "select_accounts",
    "select_availability",
    "top_error_codes",
    "users_in_group",
}


def test_dataset_all_is_pinned() -> None:
    from argyle_nb import dataset

    assert set(dataset.__all__) == DATASET
    for name in dataset.__all__:
        assert getattr(dataset, name) is not None, name


def test_every_public_name_resolves() -> None:
    import argyle_nb.client  # loads every submodule, which a package attribute could shadow

    for name in argyle_nb.__all__:
        value = getattr(argyle_nb, name)
        assert value is not None, name
        assert not isinstance(value, types.ModuleType), f"{name} is shadowed by a submodule"


def test_version_and_py_typed() -> None:
    assert argyle_nb.__version__.count(".") == 2
    assert (Path(argyle_nb.__file__).parent / "py.typed").is_file()


def test_import_is_light() -> None:
    """Importing the package does not pull in pandas, matplotlib, the widgets, Altair or
    DuckDB."""
    heavy = "('pandas', 'matplotlib', 'ipywidgets', 'altair', 'duckdb')"
    code = f"import sys, argyle_nb; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


FRAMES = {
    "ACCOUNT_COLUMNS",
    "AVAILABILITY_COLUMNS",
    "BATCH_PAGES",
    "MAX_META_COLUMNS",
    "META_LEFT_OUT",
    "META_PREFIX",
    "FrameBuilder",
    "FrameError",
    "MissingColumnsError",
    "Source",
    "Table",
    "accounts_and_availability",
    "accounts_frame",
    "attach_metadata",
    "availability_frame",
    "merge_passes",
    "metadata_keys",
    "read_parquet",
    "require_columns",
    "to_parquet",
    "users_frame",
}


def test_frames_all_is_pinned() -> None:
    from argyle_nb import frames

    assert set(frames.__all__) == FRAMES
    for name in frames.__all__:
        assert getattr(frames, name) is not None, name
