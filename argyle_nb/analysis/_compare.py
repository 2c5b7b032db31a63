"""Comparisons of cohorts: which differ from a baseline, by how much, and how sure we are."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from argyle_nb._html import escape, styled
from argyle_nb.analysis._common import CONFIDENCE, MIN_USERS, MISSING, OTHER, REST
from argyle_nb.analysis._engine import check_metric, counts_of, keyed, tally
from argyle_nb.analysis._outcomes import Unit, cohort_order, describe
from argyle_nb.analysis.stats import (
    Independence,
    add_share,
    format_p,
    format_share,
    holm,
    independence,
    two_group_tests,
    wilson,
)
from argyle_nb.dataset import Dataset
from argyle_nb.errors import ArgyleKeyError, ArgyleValueError

_TABLE_COLUMNS = (
    "users",
    "trials",
    "successes",
    "share",
    "low",
    "high",
    "baseline_trials",
    "baseline_share",
    "difference",
    "difference_low",
    "difference_high",
    "test",
    "p_value",
    "p_adjusted",
    "differs",
    "small",
    "note",
)


@dataclass(frozen=True)
class CohortComparison:
    """Each cohort against a baseline: the result of :func:`compare_cohorts`.

    Attributes:
        table: one row per compared cohort: ``users``, ``trials`` (users or accounts,
            per ``unit``), ``successes``, ``share`` with its interval ``low``/``high``,
            the baseline's ``baseline_trials`` and ``baseline_share``, the
            ``difference`` (cohort minus baseline) with ``difference_low``/``_high``,
            the ``test`` used, ``p_value``, ``p_adjusted`` (Holm, over every row),
            ``differs`` (``p_adjusted < alpha``), ``small`` and a ``note``.
        overall: the test of independence across all cohorts.
        description: what the share is a share of, in words.
    """

    key: str
    metric: str
    unit: str
    baseline: str
    alpha: float
    table: pd.DataFrame = field(repr=False)
    overall: Independence
    description: str
    min_users: int = MIN_USERS
    left_out: tuple[str, ...] = ()
    baseline_counts: tuple[int, int] | None = None  # (successes, trials) of a named baseline

    def differing(self) -> list[str]:
        """The cohorts that differ from the baseline (after Holm's adjustment)."""
        return [str(g) for g in self.table.index[self.table["differs"].to_numpy(bool)]]

    def _against(self) -> str:
        return "the rest" if self.baseline == REST else repr(self.baseline)

    def summary(self) -> str:
        """The comparison in words: which cohorts differ, which do not, which cannot tell."""
        t = self.table
        lines = [
            f"{self.description} by {self.key!r}: each cohort against {self._against()} "
            f"({CONFIDENCE:.0%} intervals; p-values Holm-adjusted over {int(t['p_value'].notna().sum())} "  # noqa: E501
            "comparisons)."
        ]
        if self.baseline_counts is not None:
            k, n = self.baseline_counts
            if n:
                lo, hi = wilson([k], [n])
                lines.append(
                    f"  Baseline {self.baseline}: {format_share(k / n)} "
                    f"({format_share(lo[0])} to {format_share(hi[0])}) of {n:,} {self.unit}."
                )
            else:
                lines.append(f"  Baseline {self.baseline}: no {self.unit}.")
        if t.empty:
            lines.append("  No other cohort to compare with.")
        for group, row in t[t["differs"].to_numpy(bool)].iterrows():
            points = 100 * float(row["difference"])
            lines.append(
                f"  Differs: {group} {format_share(row['share'])} "
                f"({format_share(row['low'])} to {format_share(row['high'])}) against "
                f"{format_share(row['baseline_share'])}, {points:+.1f} points "
                f"({100 * row['difference_low']:+.1f} to {100 * row['difference_high']:+.1f}), "
                f"adjusted {format_p(float(row['p_adjusted']))}."
            )
        tested = t["p_adjusted"].notna().to_numpy()
        same = t[tested & ~t["differs"].to_numpy(bool)]
        for label, part in (
            (f"No evidence of a difference (adjusted p >= {self.alpha:g})", same[~same["small"]]),
            (f"Too few users to tell (under {self.min_users})", same[same["small"]]),
            ("Not compared", t[~tested]),
        ):
            if len(part):
                names = ", ".join(str(g) for g in part.index)
                reasons = (
                    sorted({str(n) for n in part["note"] if n}) if label == "Not compared" else []
                )
                suffix = f" ({'; '.join(reasons)})" if reasons else ""
                lines.append(f"  {label}: {names}{suffix}.")
        if self.left_out:
            lines.append(
                f"  Left out: {', '.join(self.left_out)} (users without the key; "
                "include_missing=True compares them too)."
            )
        lines.append("  " + self.overall.sentence())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return (
            f"CohortComparison(key={self.key!r}, metric={self.metric!r}, unit={self.unit!r}, "
            f"against={self._against()}, cohorts={len(self.table)}, "
            f"differing={self.differing()!r})"
        )

    def _repr_html_(self) -> str:
        lines = self.summary().split("\n")
        items = "".join(f"<li>{escape(line.strip())}</li>" for line in lines[1:])
        shown = self.table.copy()
        percent = ["share", "low", "high", "baseline_share"]
        points = ["difference", "difference_low", "difference_high"]
        styler = styled(
            shown,
            {
                **dict.fromkeys(percent, "{:.1%}"),
                **dict.fromkeys(points, "{:+.1%}"),
                "p_value": "{:.3g}",
                "p_adjusted": "{:.3g}",
                "users": "{:,}",
                "trials": "{:,}",
                "successes": "{:,}",
                "baseline_trials": "{:,}",
            },
            na_rep="—",
        )
        return (
            f"<p>{escape(lines[0])}</p><ul>{items}</ul>" + styler.to_html()  # type: ignore[no-untyped-call,unused-ignore]
        )


def _baseline_of(counts: pd.DataFrame, baseline: str | None, key: str) -> str:
    """The named baseline, :data:`REST`, or (``None``) the largest cohort."""
    if baseline == REST:
        return REST
    if baseline is None:
        sizes = counts["users"] if "users" in counts.columns else counts["trials"]
        plain = [g for g in cohort_order(sizes) if g not in (MISSING, OTHER)]
        if not plain and len(sizes):
            plain = cohort_order(sizes)
        if not plain:
            raise ArgyleValueError(f"no cohorts of {key!r} to compare")
        return str(plain[0])
    if baseline not in counts.index:
        sizes = counts["users"] if "users" in counts.columns else counts["trials"]
        known = ", ".join(map(repr, cohort_order(sizes)[:20])) or "none"  # largest first
        raise ArgyleKeyError(f"baseline {baseline!r} is not a cohort of {key!r} (cohorts: {known})")
    return baseline


def _compare(
    counts: pd.DataFrame,
    *,
    key: str,
    metric: str,
    unit: str,
    description: str,
    baseline: str | None,
    include_missing: bool,
    alpha: float,
    min_users: int,
) -> CohortComparison:
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise ArgyleValueError(f"alpha must be a number between 0 and 1, not {alpha!r}")
    counts = counts.copy()
    counts.index = pd.Index([str(g) for g in counts.index], dtype="str", name=key)
    left_out: tuple[str, ...] = ()
    if not include_missing and MISSING in counts.index and len(counts) > 1:
        counts = counts.drop(index=MISSING)
        left_out = (MISSING,)
    against = _baseline_of(counts, baseline, key)
    k = counts["successes"].to_numpy("float64")
    n = counts["trials"].to_numpy("float64")
    k_base = n_base = 0.0
    if against == REST:
        k2, n2 = k.sum() - k, n.sum() - n
        rows = counts
    else:
        keep = np.asarray(counts.index != against, dtype=bool)
        base = int(np.flatnonzero(~keep)[0])
        k_base, n_base = float(k[base]), float(n[base])
        k2 = np.full(keep.sum(), k_base)
        n2 = np.full(keep.sum(), n_base)
        rows = counts.loc[keep]
        k, n = k[keep], n[keep]
    table = rows.copy()
    add_share(table, "x", "successes", "trials")
    table = table.rename(columns={"x_share": "share", "x_low": "low", "x_high": "high"})
    table["baseline_trials"] = n2.astype("int64")
    with np.errstate(invalid="ignore", divide="ignore"):
        table["baseline_share"] = pd.array(np.where(n2 > 0, k2 / np.maximum(n2, 1), np.nan))
    tests = two_group_tests(k, n, k2, n2)
    tests.index = table.index
    for column in tests.columns:
        table[column] = tests[column]
    table["p_adjusted"] = holm(table["p_value"])
    table["differs"] = (table["p_adjusted"] < alpha).fillna(False).to_numpy(bool)
    if "small" not in table.columns:
        table["small"] = False
    notes = []
    for trials, base, small in zip(n, n2, table["small"], strict=True):
        if trials == 0:
            notes.append(f"no {unit} in the cohort")
        elif base == 0:
            notes.append(f"no {unit} in the baseline")
        elif small:
            notes.append(f"under {min_users} users: a wide interval")
        else:
            notes.append("")
    table["note"] = pd.array(notes, dtype="str")
    if "users" not in table.columns:
        table["users"] = table["trials"]
    table = table[list(_TABLE_COLUMNS)]
    order = cohort_order(table["users"])
    overall = independence(counts["successes"].to_numpy(), counts["trials"].to_numpy())
    return CohortComparison(
        key=key,
        metric=metric,
        unit=unit,
        baseline=against,
        alpha=alpha,
        table=table.loc[order],
        overall=overall,
        description=description,
        min_users=min_users,
        left_out=left_out,
        baseline_counts=None if against == REST else (int(k_base), int(n_base)),
    )


def compare_cohorts(
    users: pd.DataFrame | Dataset,
    accounts: pd.DataFrame | str,
    key: str | None = None,
    *,
    metric: str = "connected",
    unit: Unit = "users",
    baseline: str | None = None,
    include_missing: bool = False,
    availability: pd.DataFrame | None = None,
    min_users: int = MIN_USERS,
    pool_small: bool = False,
    alpha: float = 0.05,
) -> CohortComparison:
    """Each cohort of a metadata key against a baseline: the difference and how sure it is.

    The share is of users (``unit="users"``, the default and the headline: users who
    ``metric``; free of the clustering of several accounts per user) or of accounts
    (``unit="accounts"``: accounts of one user are not independent, so read those
    p-values as optimistic). ``metric`` is one of :data:`METRICS`; ``fully_synced`` needs
    ``availability``. The baseline is the largest cohort (``baseline=None``: a
    reference that one deviant cohort cannot drag, as it drags "the rest"), a named
    cohort, or :data:`REST` (each cohort against all the others). Users without the key
    (:data:`MISSING`) are usually another population, not a cohort of the key: they
    are left out unless ``include_missing``. Per cohort: the share and its Wilson
    interval, the difference with Newcombe's interval, a p-value (score test;
    Fisher's exact test for small counts), Holm's adjustment over all cohorts
    compared, and ``differs``. ``overall`` is a
    chi-square test of independence across every cohort. Cohorts under ``min_users``
    users are flagged ``small`` (or pooled into :data:`OTHER` with ``pool_small``);
    users without the key are the cohort :data:`MISSING`. Takes ``(users, accounts,
    key)`` or ``(dataset, key)``: ``compare_cohorts(ds, key, metric="error",
    unit="accounts")``.

    Examples:
        >>> from argyle_nb import connect                                 # doctest: +SKIP
        >>> client = connect()                                            # doctest: +SKIP
        >>> users, accounts = client.users_frame(), client.accounts_frame()  # doctest: +SKIP
        >>> result = compare_cohorts(users, accounts, "customer group")   # doctest: +SKIP
        >>> result.differing()                                            # doctest: +SKIP
        ['background_check']
        >>> print(result)                                                 # doctest: +SKIP
    """
    ds, key = keyed(users, accounts, key, availability, by="compare_cohorts")
    check_metric(metric, unit, ds)
    counts = counts_of(
        tally(
            ds,
            key,
            min_users=min_users,
            pool_small=pool_small,
            with_synced=metric == "fully_synced",
        ),
        metric,
        unit,
    )
    what = describe(metric, unit)
    what = what[:1].upper() + what[1:]
    return _compare(
        counts,
        key=key,
        metric=metric,
        unit=unit,
        description=what,
        baseline=baseline,
        include_missing=include_missing,
        alpha=alpha,
        min_users=min_users,
    )


def compare_proportions(
    counts: pd.DataFrame,
    *,
    successes: str = "successes",
    trials: str = "trials",
    baseline: str | None = None,
    include_missing: bool = False,
    alpha: float = 0.05,
    description: str | None = None,
) -> CohortComparison:
    """The comparison of :func:`compare_cohorts` over any table of counts, one row per group.

    For shares that are not of users by metadata: link items from
    :func:`connection_status_distribution` (``successes="error", trials="total"``), or
    counts of your own. ``description`` names the share in the summary's first line.

    Examples:
        >>> import pandas as pd
        >>> counts = pd.DataFrame({"k": [30, 10, 45], "n": [100, 100, 150]},
        ...                       index=pd.Index(["a", "b", "c"], name="group"))
        >>> result = compare_proportions(counts, successes="k", trials="n")
        >>> result.baseline, result.differing()
        ('c', ['b'])
    """
    for column in (successes, trials):
        if column not in counts.columns:
            raise ArgyleKeyError(
                f"counts have no column {column!r} (columns: {list(counts.columns)})"
            )
    repeated = counts.index[counts.index.duplicated()]
    if len(repeated):
        raise ArgyleValueError(
            f"group labels must be unique: {repeated[0]!r} is there more than once"
        )
    k = pd.to_numeric(counts[successes], errors="coerce").astype("float64")
    n = pd.to_numeric(counts[trials], errors="coerce").astype("float64")
    finite = np.isfinite(k.to_numpy()) & np.isfinite(n.to_numpy())
    bad = ~finite | ((k < 0) | (n < k) | (k != np.floor(k)) | (n != np.floor(n))).to_numpy()
    if bad.any():
        first = counts.index[bad][0]
        raise ArgyleValueError(
            f"counts must be whole numbers with 0 <= {successes} <= {trials}; "
            f"group {first!r} has {counts.loc[first, successes]!r} of {counts.loc[first, trials]!r}"
        )
    table = pd.DataFrame(
        {"successes": k.astype("int64").to_numpy(), "trials": n.astype("int64").to_numpy()},
        index=counts.index,
    )
    key = str(counts.index.name or "group")
    return _compare(
        table,
        key=key,
        metric=successes,
        unit=trials,
        description=description or f"Share {successes!r} of {trials!r}",
        baseline=baseline,
        include_missing=include_missing,
        alpha=alpha,
        min_users=0,
    )
