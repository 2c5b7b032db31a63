"""Two metadata keys at once: one metric over the cells of a cohort matrix, with counts."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np
import pandas as pd

from argyle_nb.analysis._common import MIN_USERS, _empty
from argyle_nb.analysis._outcomes import Unit, cohort_counts, cohort_order, describe
from argyle_nb.analysis._stats import add_share
from argyle_nb.errors import ArgyleValueError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: The measures of every cell of :func:`cohort_matrix`, in order.
MATRIX_MEASURES = ("share", "low", "high", "users", "trials")


def cohort_matrix(
    users: pd.DataFrame,
    accounts: pd.DataFrame,
    rows: str,
    columns: str,
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

    Example:
        >>> from argyle_nb.frames import users_frame, accounts_frame
        >>> users = users_frame([
        ...     {"id": "0994b847-cc69-4d98-bc99-c5e65e762add", "created_at": "2020-01-01",
        ...      "external_metadata": {"group": "A", "region": "west"}}])
        >>> cohort_matrix(users, accounts_frame(b"[]"), "group", "region")["users"]
        region  west
        group
        A          1
    """
    if rows == columns:
        raise ArgyleValueError(f"rows and columns are the same key ({rows!r}): choose two keys")
    counts = cohort_counts(
        users,
        accounts,
        [rows, columns],
        metric=metric,
        unit=unit,
        availability=availability,
        min_users=min_users,
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


def plot_cohort_matrix(matrix: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """A heatmap of the shares, each cell labelled with its share and its users.

    Cells under ``min_users`` users are hatched and their share greyed: too few to read.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle
    from matplotlib.ticker import PercentFormatter

    if not isinstance(matrix.columns, pd.MultiIndex) or "share" not in matrix.columns.levels[0]:
        raise ArgyleValueError("plot_cohort_matrix draws the result of cohort_matrix")
    title = f"Cohort matrix: {matrix.attrs.get('description', 'share')}"
    share = cast(pd.DataFrame, matrix["share"]).astype("float64")
    n = cast(pd.DataFrame, matrix["users"]).to_numpy("int64")
    if share.empty or share.shape[1] == 0:
        return _empty(ax, title, "no cells to show")
    min_users = int(matrix.attrs.get("min_users", MIN_USERS))
    if ax is None:
        _, ax = plt.subplots(
            figsize=(1.3 * share.shape[1] + 3, 0.55 * share.shape[0] + 1.8), layout="constrained"
        )
    shares = share.to_numpy("float64")
    values = np.ma.masked_invalid(shares)
    image = ax.imshow(values, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for i in range(share.shape[0]):
        for j in range(share.shape[1]):
            users = int(n[i, j])
            value = float(shares[i, j])
            small = users < min_users
            if small:
                ax.add_patch(
                    Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///", color="0.75", lw=0)
                )
            text = "—" if np.isnan(value) else f"{value:.0%}"
            dark = not np.isnan(value) and value > 0.6 and not small
            ax.text(
                j,
                i,
                f"{text}\nn={users:,}",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if dark else ("0.45" if small else "black"),
            )
    ax.set_xticks(range(share.shape[1]), [str(c) for c in share.columns], rotation=30, ha="right")
    ax.set_yticks(range(share.shape[0]), [str(r) for r in share.index])
    ax.set_xlabel(str(share.columns.name))
    ax.set_ylabel(str(share.index.name))
    ax.set_title(title, fontsize=10)
    colorbar = ax.figure.colorbar(image, ax=ax, fraction=0.04)
    colorbar.ax.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    return ax
