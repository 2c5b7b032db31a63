"""The public names of the package are pinned: adding or removing one is a deliberate change."""

from __future__ import annotations

import ast
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
    "HistoryExplorer",
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
    "availability_timeline",
    "availability_windows",
    "cohort_counts",
    "cohort_funnel",
    "cohort_labels",
    "cohort_matrix",
    "compare_cohorts",
    "compare_proportions",
    "connection_status_distribution",
    "facts",
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
    "scan_counts",
    "select_accounts",
    "select_availability",
    "stats",
    "time_to_connect",
    "time_to_connect_curves",
    "top_error_codes",
    "plot_connection_lifetime",
    "plot_reconnection",
    "plot_removal_bias",
    "connection_lifetime",
    "reconnection",
    "removal_bias",
    "plot_status_over_time",
    "plot_transitions",
    "transition_accounts",
    "transitions",
    "status_over_time",
    "user_outcomes",
    "users_in_group",
}

STATS = {
    "MIN_EXPECTED",
    "Independence",
    "KaplanMeier",
    "add_share",
    "format_p",
    "format_share",
    "holm",
    "independence",
    "kaplan_meier",
    "two_group_tests",
    "wilson",
}


def test_stats_all_is_pinned() -> None:
    from argyle_nb.analysis import stats

    assert set(stats.__all__) == STATS


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
    "ServedPage",
    "Snapshot",
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


#: What must not load before an analysis runs: ~1 s of scipy and statsmodels, the charts.
HEAVY = ("scipy", "statsmodels", "altair", "matplotlib")


def _loaded(code: str, modules: tuple[str, ...]) -> list[str]:
    """The ``modules`` a fresh interpreter has loaded after running ``code``."""
    probe = f"{code}\nimport sys\nprint(sorted(m for m in {modules!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return list(ast.literal_eval(out.stdout.strip().splitlines()[-1]))


def test_import_is_light() -> None:
    """Importing the package does not pull in pandas, matplotlib, the widgets, Altair,
    DuckDB, scipy or statsmodels."""
    heavy = ("pandas", "ipywidgets", "duckdb", *HEAVY)
    assert _loaded("import argyle_nb", heavy) == []


def test_the_dataset_and_analysis_packages_load_no_statistics_nor_charts() -> None:
    """scipy and statsmodels load when a statistic is computed, the charts when drawn."""
    assert _loaded("from argyle_nb.dataset import Dataset", HEAVY) == []
    assert _loaded("import argyle_nb.analysis, argyle_nb.dataset", HEAVY) == []
    # Exporting and opening a dataset (of frames too) is storage: no statistics, no charts.
    opened = (
        "import argyle_nb.client._export\nfrom argyle_nb.dataset import Dataset\n"
        "from argyle_nb.frames import accounts_frame, users_frame\n"
        "Dataset.from_frames(users_frame(b'[]'), accounts_frame(b'[]')).rows('users')"
    )
    assert _loaded(opened, HEAVY) == []
    # ...and do load when one is (the probe can see them).
    computed = "from argyle_nb.analysis.stats import wilson\nwilson([1], [2])"
    assert "statsmodels" in _loaded(computed, HEAVY)


def test_every_lazy_name_is_typed() -> None:
    """IDEs and mypy see each lazily loaded top-level name as what it is (not ``Any``):
    the package imports it under ``TYPE_CHECKING`` from the module that loads it."""
    tree = ast.parse(Path(argyle_nb.__file__).read_text(encoding="utf-8"))
    typed: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom) and stmt.module, ast.unparse(stmt)
                typed.update({alias.name: stmt.module for alias in stmt.names})
    assert typed == argyle_nb._LAZY


ERRORS = {
    "APIConnectionError",
    "ArgyleError",
    "ArgyleKeyError",
    "ArgyleRuntimeError",
    "ArgyleTypeError",
    "ArgyleValueError",
    "AuthenticationError",
    "BadRequestError",
    "CacheFileError",
    "InvalidRecordsError",
    "NotCachedError",
    "NotFoundError",
    "RateLimitError",
    "ResponseFormatError",
    "ServerError",
    "error_for_status",
}


def test_errors_all_is_pinned() -> None:
    from argyle_nb import errors

    assert set(errors.__all__) == ERRORS
    for name in errors.__all__:
        assert getattr(errors, name) is not None, name


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
