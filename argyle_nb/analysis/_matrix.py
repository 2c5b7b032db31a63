"""Two metadata keys at once: one metric over the cells of a cohort matrix, with counts."""

from __future__ import annotations

from typing import Any, cast

import pandas as pd

from argyle_nb.analysis._common import MIN_USERS
from argyle_nb.analysis._engine import check_metric, counts_of, dataset_of, tally
from argyle_nb.analysis._outcomes import Unit, cohort_order, describe
from argyle_nb.analysis.stats import add_share
from argyle_nb.dataset import Dataset
from argyle_nb.errors import ArgyleTypeError, ArgyleValueError

#: The measures of every cell of :func:`cohort_matrix`, in order.
MATRIX_MEASURES = ("share", "low", "high", "users", "trials")


def cohort_matrix(
    users: pd.DataFrame | Dataset,
    accounts: pd.DataFrame | str,
    rows: str,
    columns: str | None = None,
    *,
    metric: str = "connected",
    unit: Unit = "users",
    availability: pd.DataFrame | None = None,
    min_users: int = MIN_USERS,
) -> pd.DataFrame:
    """One metric over the cells of two metadata keys, with the counts behind each cell.

    Rows are the values of ``rows``, and the columns a MultiIndex (measure, value of
    ``columns``) with the measures of :data:`MATRIX_MEASURES`: ``share`` of ``unit``
    with the ``metric`` and its Wilson interval ``low``/``high``, ``users`` in the cell
    and ``trials`` (users or accounts). A cell has no share exactly where there is
    nothing to share: its ``trials`` is 0 (no users in it, or, with ``unit="accounts"``,
    no accounts).
    ``matrix["share"]`` is the table to read; ``matrix["users"] < min_users`` shows
    the cells too small to trust. ``attrs["description"]`` says what the share is.
    Takes ``(users, accounts, rows, columns)`` or ``(dataset, rows, columns)``.

    Examples:
        >>> from argyle_nb.frames import users_frame, accounts_frame
        >>> users = users_frame([
        ...     {"id": "0994b847-cc69-4d98-bc99-c5e65e762add", "created_at": "2020-01-01",
        ...      "external_metadata": {"group": "A", "region": "west"}}])
        >>> matrix = cohort_matrix(users, accounts_frame(b"[]"), "group", "region")
        >>> matrix["users"]  # doctest: +NORMALIZE_WHITESPACE
        region  west
        group
        A          1
    """
    if isinstance(users, Dataset):
        if not isinstance(accounts, str) or columns is not None:
            raise ArgyleTypeError("cohort_matrix takes (dataset, rows, columns)")
        ds = dataset_of(users, availability=availability, by="cohort_matrix")
        rows, columns = accounts, rows
    else:
        if isinstance(accounts, str) or columns is None:
            raise ArgyleTypeError("cohort_matrix takes (users, accounts, rows, columns)")
        ds = dataset_of(users, accounts, availability, by="cohort_matrix")
    if rows == columns:
        raise ArgyleValueError(f"rows and columns are the same key ({rows!r}): choose two keys")
    check_metric(metric, unit, ds)
    counts = counts_of(
        tally(ds, [rows, columns], min_users=min_users, with_synced=metric == "fully_synced"),
        metric,
        unit,
    )
    if counts.empty:
        # A MultiIndex of columns cannot hold an empty level: say so rather than return
        # a frame whose matrix["share"] fails.
        raise ArgyleValueError(f"no users: nothing to put in a matrix of {rows!r} by {columns!r}")
    add_share(counts, "m", "successes", "trials")
    counts = counts.rename(columns={"m_share": "share", "m_low": "low", "m_high": "high"})
    row_order = cohort_order(counts["users"].groupby(level=0).sum())
    col_order = cohort_order(counts["users"].groupby(level=1).sum())
    parts = {}
    for measure in MATRIX_MEASURES:
        wide = counts[measure].unstack(columns)
        wide = wide.reindex(index=row_order, columns=col_order)
        if measure in ("users", "trials"):
            wide = wide.fillna(0).astype("int64")
        else:
            wide = wide.astype("Float64")
        parts[measure] = wide
    out = pd.concat(parts, axis=1, names=["measure", columns])
    out.index.name = rows
    out.attrs["description"] = describe(metric, unit)
    out.attrs["min_users"] = min_users
    return out


def plot_cohort_matrix(matrix: pd.DataFrame, *, title: str | None = None) -> Any:
    """A heatmap of the shares, each cell labelled with its share and its users.

    ``matrix`` is a :func:`cohort_matrix`: darker cells have a larger share; cells under
    its ``min_users`` users are outlined dashed, their numbers italic (too few to read), with
    each cell's 95% interval. Returns an Altair chart; a matrix without cells gives a
    chart that says so.

    Examples:
        >>> matrix = cohort_matrix(users, accounts, "region", "channel")  # doctest: +SKIP
        >>> plot_cohort_matrix(matrix).save("matrix.pdf")  # doctest: +SKIP
    """
    from argyle_nb.analysis._chart_base import empty_chart
    from argyle_nb.analysis._chart_cohorts import matrix_chart

    if not isinstance(matrix.columns, pd.MultiIndex) or "share" not in matrix.columns.levels[0]:
        raise ArgyleValueError("plot_cohort_matrix draws the result of cohort_matrix")
    share = cast(pd.DataFrame, matrix["share"])
    if share.empty or share.shape[1] == 0:
        description = matrix.attrs.get("description", "share")
        return empty_chart(title or f"Cohort matrix: {description}", "no cells to show")
    return matrix_chart(matrix, title=title)
