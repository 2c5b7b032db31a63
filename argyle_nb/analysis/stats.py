"""The statistics behind every share: Wilson intervals, two-group comparisons with their
tests and Holm's adjustment, an overall test of independence, Kaplan–Meier curves.

Engine-neutral: every function here takes counts (numbers or arrays) or durations, never
frames or a dataset; the analyses count in DuckDB and hand their counts here. Use them
on counts of your own too.

References: Wilson (1927), "Probable inference, the law of succession, and statistical
inference", JASA 22; Newcombe (1998), "Interval estimation for the difference between
independent proportions", Statistics in Medicine 17 (method 10, the hybrid score
interval); the score test of two proportions (Miettinen and Nurminen 1985, without the
small-sample correction); Fisher's exact test; Holm (1979), "A simple sequentially
rejective multiple test procedure", Scand. J. Statist. 6; Pearson's chi-square test of
independence; Kaplan and Meier (1958), with Greenwood's variance and the log-log
interval, and the Brookmeyer–Crowley (1982) interval of the median.

Thin, vectorised wrappers over statsmodels and scipy: nothing here re-derives what
they compute, but the log-log transform of a Kaplan–Meier curve's pointwise interval
(statsmodels gives the Greenwood standard error, not the interval) and Holm's
adjustment (see :func:`holm`).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from argyle_nb.analysis._common import CONFIDENCE

if TYPE_CHECKING:
    from statsmodels.duration.survfunc import SurvfuncRight

__all__ = [
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
]

# scipy and statsmodels (about a second to import) load when a statistic is computed,
# not when the package, an export or a dataset is opened.

#: Below this expected count in a cell of the 2x2 table, Fisher's exact test is used.
MIN_EXPECTED = 5.0


def _z(confidence: float) -> float:
    from scipy import stats

    return float(stats.norm.ppf(0.5 + confidence / 2))


def wilson(
    successes: Any, trials: Any, confidence: float = CONFIDENCE
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Wilson score interval of ``successes / trials`` (arrays); NaN where ``trials`` is 0.

    Examples:
        >>> low, high = wilson([12], [40])
        >>> round(float(low[0]), 4), round(float(high[0]), 4)
        (0.1807, 0.4543)
    """
    k = np.asarray(successes, dtype="float64")
    n = np.asarray(trials, dtype="float64")
    low = np.full(np.shape(n), np.nan)
    high = np.full(np.shape(n), np.nan)
    some = n > 0
    if np.any(some):
        from statsmodels.stats.proportion import proportion_confint

        lo, hi = proportion_confint(k[some], n[some], alpha=1 - confidence, method="wilson")
        low[some], high[some] = np.clip(lo, 0, 1), np.clip(hi, 0, 1)
        # At 0 (or all) successes the bound is exactly 0 (or 1): no rounding past the estimate.
        low[some & (k == 0)] = 0.0
        high[some & (k == n)] = 1.0
    return low, high


def add_share(
    frame: pd.DataFrame, name: str, successes: str, trials: str, confidence: float = CONFIDENCE
) -> None:
    """Add ``<name>_share``, ``<name>_low`` and ``<name>_high`` (Wilson) to ``frame``.

    Where ``trials`` is 0 the three are missing (``pd.NA``): there is nothing to share.

    Examples:
        >>> frame = pd.DataFrame({"k": [12, 0], "n": [40, 0]})
        >>> add_share(frame, "connected", "k", "n")
        >>> frame["connected_share"].tolist()
        [0.3, <NA>]
    """
    k = frame[successes].to_numpy("float64")
    n = frame[trials].to_numpy("float64")
    low, high = wilson(k, n, confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n > 0, k / np.where(n > 0, n, 1), np.nan)
    for suffix, values in (("share", share), ("low", low), ("high", high)):
        none = (n == 0) | np.isnan(values)
        frame[f"{name}_{suffix}"] = pd.arrays.FloatingArray(np.where(none, 0.0, values), none)


# ---------------------------------------------------------------------------
# Two groups, many groups
# ---------------------------------------------------------------------------


def _fisher(k1: float, n1: float, k2: float, n2: float) -> float:
    table = [[int(k1), int(n1 - k1)], [int(k2), int(n2 - k2)]]
    from scipy import stats

    return float(stats.fisher_exact(table).pvalue)


def two_group_tests(
    k1: np.ndarray[Any, Any],
    n1: np.ndarray[Any, Any],
    k2: np.ndarray[Any, Any],
    n2: np.ndarray[Any, Any],
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:
    """Group 1 against group 2, row by row: difference of shares, its interval, a p-value.

    The interval is Newcombe's hybrid score interval (from the two Wilson intervals); the
    test is the score test, or Fisher's exact test where a cell of the 2x2 table expects
    fewer than :data:`MIN_EXPECTED`. Rows where either group is empty have no result
    (``test`` says why).

    Examples:
        >>> out = two_group_tests([30], [100], [45], [100])
        >>> round(float(out.loc[0, "difference"]), 2), out.loc[0, "test"]
        (-0.15, 'score')
    """
    k1, n1, k2, n2 = (np.asarray(a, dtype="float64") for a in (k1, n1, k2, n2))
    size = len(n1)
    out = pd.DataFrame(
        {
            "difference": np.full(size, np.nan),
            "difference_low": np.full(size, np.nan),
            "difference_high": np.full(size, np.nan),
            "p_value": np.full(size, np.nan),
            "test": pd.array([None] * size, dtype="str"),
        }
    )
    some = (n1 > 0) & (n2 > 0)
    out.loc[~some, "test"] = "none: an empty group"
    if not np.any(some):
        return out
    a, b, c, d = k1[some], n1[some], k2[some], n2[some]
    out.loc[some, "difference"] = a / b - c / d
    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

    lo, hi = confint_proportions_2indep(a, b, c, d, method="newcomb", alpha=1 - confidence)
    out.loc[some, "difference_low"] = np.clip(lo, -1, 1)
    out.loc[some, "difference_high"] = np.clip(hi, -1, 1)
    total = b + d
    pooled_k = a + c
    expected = np.minimum.reduce(
        [
            b * pooled_k / total,
            b * (total - pooled_k) / total,
            d * pooled_k / total,
            d * (total - pooled_k) / total,
        ]
    )
    exact = expected < MIN_EXPECTED
    p = np.full(len(a), np.nan)
    if np.any(~exact):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            result = test_proportions_2indep(
                a[~exact], b[~exact], c[~exact], d[~exact], method="score"
            )
        p[~exact] = np.asarray(result.pvalue, dtype="float64")
    for i in np.flatnonzero(exact):
        p[i] = _fisher(a[i], b[i], c[i], d[i])
    out.loc[some, "p_value"] = np.clip(p, 0, 1)
    out.loc[some, "test"] = np.where(exact, "Fisher exact", "score")
    return out


def holm(p_values: pd.Series[Any]) -> pd.Series[Any]:
    """Holm's step-down adjustment of the p-values present (missing ones stay missing).

    The same numbers as ``statsmodels.stats.multitest.multipletests(p, method="holm")``
    (a test holds them equal), written out because that function runs a full garbage
    collection on every call: 0.1 s here, more in a notebook holding large frames.

    Examples:
        >>> holm(pd.Series([0.01, 0.04, 0.03])).round(2).tolist()
        [0.03, 0.06, 0.06]
    """
    out = pd.Series(np.nan, index=p_values.index, dtype="float64")
    present = p_values.notna().to_numpy()
    p = p_values[present].to_numpy(float)
    if len(p):
        order = np.argsort(p, kind="stable")
        steps = p[order] * np.arange(len(p), 0, -1)
        adjusted = np.empty_like(p)
        adjusted[order] = np.minimum(np.maximum.accumulate(steps), 1.0)
        out[present] = adjusted
    return out


@dataclass(frozen=True)
class Independence:
    """The overall test: does the share differ across the groups at all?

    ``statistic`` and ``p_value`` are Pearson's chi-square test of independence of
    group and outcome (``dof`` degrees of freedom); ``note`` says when the test could
    not be run or is only a rough approximation.
    """

    statistic: float | None
    dof: int
    p_value: float | None
    groups: int
    note: str = ""

    def sentence(self) -> str:
        """The result in words."""
        if self.p_value is None or self.statistic is None:
            return f"Overall: no test ({self.note})."
        verdict = (
            "the share differs across the groups"
            if self.p_value < 0.05
            else "no evidence that the share differs across the groups"
        )
        text = (
            f"Overall: chi-square({self.dof}) = {self.statistic:,.1f}, "
            f"{format_p(self.p_value)}: {verdict}"
        )
        return text + (f" ({self.note})." if self.note else ".")


def independence(successes: np.ndarray[Any, Any], trials: np.ndarray[Any, Any]) -> Independence:
    """Chi-square test of independence over the groups with at least one trial.

    Examples:
        >>> independence([30, 45, 40], [100, 100, 100]).dof
        2
    """
    k = np.asarray(successes, dtype="float64")
    n = np.asarray(trials, dtype="float64")
    keep = n > 0
    k, n = k[keep], n[keep]
    groups = len(n)
    if groups < 2:
        return Independence(None, 0, None, groups, "fewer than two groups with data")
    table = np.column_stack([k, n - k])
    if (table.sum(axis=0) == 0).any():
        return Independence(0.0, groups - 1, 1.0, groups, "every group has the same outcome")
    from scipy import stats

    result = stats.chi2_contingency(table, correction=False)
    expected = np.asarray(result.expected_freq)
    note = ""
    if (expected < MIN_EXPECTED).mean() > 0.2:
        note = "many expected counts under 5: the chi-square is a rough approximation"
    return Independence(
        float(result.statistic), int(result.dof), float(result.pvalue), groups, note
    )


def format_p(p: float) -> str:
    """``p = 0.031``, ``p < 0.001``."""
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}"


def format_share(share: float) -> str:
    """``30.0%``."""
    return f"{share:.1%}"


# ---------------------------------------------------------------------------
# Time to an event: Kaplan–Meier
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class KaplanMeier:
    """A Kaplan–Meier estimate of the share who had the event by each time.

    ``times`` are the distinct event times; ``share`` is 1 - S(t) there, ``low`` and
    ``high`` its pointwise interval (log-log transform of Greenwood's variance, the
    default of R's ``survival`` and of lifelines); ``at_risk`` the users still waiting
    just before. ``followed`` is the longest time observed.
    """

    times: np.ndarray[Any, Any]
    share: np.ndarray[Any, Any]
    low: np.ndarray[Any, Any]
    high: np.ndarray[Any, Any]
    at_risk: np.ndarray[Any, Any]
    followed: float
    fit: SurvfuncRight | None
    #: What the event is, in words (the notes say it: "no one connected within 1 days").
    event: str = "connected"

    def at(self, t: float) -> tuple[float, float, float, str]:
        """``(share, low, high, note)`` by time ``t``; NaN with a note when not estimable."""
        if t > self.followed and not (len(self.share) and self.share[-1] >= 1):
            return math.nan, math.nan, math.nan, f"followed for less than {t:g} days"
        i = int(np.searchsorted(self.times, t, side="right")) - 1
        if i < 0:
            return 0.0, math.nan, math.nan, f"no one {self.event} within {t:g} days"
        return float(self.share[i]), float(self.low[i]), float(self.high[i]), ""

    def median(self, confidence: float = CONFIDENCE) -> tuple[float, float, float, str]:
        """``(median, low, high, note)``: the time by which half had the event."""
        if self.fit is None or not len(self.times) or self.share[-1] < 0.5:
            return math.nan, math.nan, math.nan, f"fewer than half {self.event}"
        median = float(self.fit.quantile(0.5))
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            low, high = self.fit.quantile_ci(0.5, alpha=1 - confidence)
        if not np.isfinite(low) and not np.isfinite(high):
            # Brookmeyer–Crowley needs the curve to cross 0.5 over several distinct waits.
            return median, math.nan, math.nan, "no interval for the median: too few distinct waits"
        note = "" if np.isfinite(high) else "the upper bound is not reached"
        low_value = float(low) if np.isfinite(low) else math.nan
        if not np.isfinite(low):
            note = "the lower bound cannot be estimated"
        return median, low_value, float(high) if np.isfinite(high) else math.nan, note


def kaplan_meier(
    durations: np.ndarray[Any, Any],
    events: np.ndarray[Any, Any],
    confidence: float = CONFIDENCE,
    *,
    event: str = "connected",
) -> KaplanMeier:
    """Fit :class:`KaplanMeier` to right-censored ``durations`` (``events`` true: observed;
    ``event`` says what it is, in the notes).

    Examples:
        >>> fit = kaplan_meier([1.0, 2.0, 2.0, 4.0], [True, True, False, True])
        >>> [round(float(s), 3) for s in fit.share]
        [0.25, 0.5, 1.0]
    """
    durations = np.asarray(durations, dtype="float64")
    events = np.asarray(events, dtype=bool)
    empty = np.array([], dtype="float64")
    if not len(durations):
        return KaplanMeier(empty, empty, empty, empty, empty, 0.0, None, event)
    followed = float(durations.max())
    if not events.any():
        return KaplanMeier(empty, empty, empty, empty, empty, followed, None, event)
    from statsmodels.duration.survfunc import SurvfuncRight

    fit = SurvfuncRight(durations, events.astype(float))
    surv = np.asarray(fit.surv_prob, dtype="float64")
    se = np.asarray(fit.surv_prob_se, dtype="float64")
    z = _z(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_s = np.log(surv)
        spread = z * se / np.abs(surv * log_s)
        s_low = surv ** np.exp(spread)  # lower bound of S: upper bound of the share
        s_high = surv ** np.exp(-spread)
    # Where S is 1 or 0 the transform is undefined: the interval collapses on the estimate.
    degenerate = ~np.isfinite(spread)
    s_low = np.where(degenerate, surv, s_low)
    s_high = np.where(degenerate, surv, s_high)
    return KaplanMeier(
        times=np.asarray(fit.surv_times, dtype="float64"),
        share=1 - surv,
        low=1 - s_high,
        high=1 - s_low,
        at_risk=np.asarray(fit.n_risk, dtype="float64"),
        followed=followed,
        fit=fit,
        event=event,
    )
