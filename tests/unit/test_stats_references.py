"""The statistics against published results (not the same library call repeated).

References:
- Newcombe RG (1998a). Two-sided confidence intervals for the single proportion:
  comparison of seven methods. Statistics in Medicine 17:857-872, Table I (Wilson).
- Newcombe RG (1998b). Interval estimation for the difference between independent
  proportions. Statistics in Medicine 17:873-890, Table II, method 10 (hybrid score).
- Fisher RA (1935), The Design of Experiments: the lady tasting tea, p = 0.4857.
- Agresti A (2002), Categorical Data Analysis, 2nd ed., Table 2.3 (Physicians' Health
  Study, aspirin and myocardial infarction): Pearson X² = 25.01.
- Holm S (1979). A simple sequentially rejective multiple test procedure: the step-down
  adjustment worked by hand below.
- Freireich et al. (1963), the 6-MP arm of the leukaemia trial, as tabulated by Klein &
  Moeschberger (2003), Survival Analysis, Table 4.1A (Kaplan–Meier and Greenwood
  standard errors) and R's ``survfit(..., conf.type="log-log")`` (pointwise interval).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from argyle_nb import analysis, frames
from argyle_nb.analysis.stats import holm


def test_wilson_intervals_of_newcombe_table_1() -> None:
    counts = pd.DataFrame(
        {"k": [81, 15, 0, 1], "n": [263, 148, 20, 29]},
        index=pd.Index(["81/263", "15/148", "0/20", "1/29"], name="case"),
    )
    table = analysis.compare_proportions(
        counts, successes="k", trials="n", baseline=analysis.REST
    ).table
    published = {
        "81/263": (0.2553, 0.3662),
        "15/148": (0.0624, 0.1605),
        "0/20": (0.0000, 0.1611),
        "1/29": (0.0061, 0.1718),
    }
    for case, (low, high) in published.items():
        assert table.loc[case, "low"] == pytest.approx(low, abs=5e-5)
        assert table.loc[case, "high"] == pytest.approx(high, abs=5e-5)


@pytest.mark.parametrize(
    ("a", "b", "published"),
    [
        ((56, 70), (48, 80), (0.0524, 0.3339)),
        ((9, 10), (3, 10), (0.1705, 0.8090)),
        ((5, 56), (0, 29), (-0.0381, 0.1926)),
    ],
)
def test_difference_intervals_of_newcombe_method_10(
    a: tuple[int, int], b: tuple[int, int], published: tuple[float, float]
) -> None:
    counts = pd.DataFrame(
        {"k": [a[0], b[0]], "n": [a[1], b[1]]}, index=pd.Index(["a", "b"], name="group")
    )
    row = analysis.compare_proportions(counts, successes="k", trials="n", baseline="b").table
    assert row.loc["a", "difference"] == pytest.approx(a[0] / a[1] - b[0] / b[1])
    assert row.loc["a", "difference_low"] == pytest.approx(published[0], abs=5e-5)
    assert row.loc["a", "difference_high"] == pytest.approx(published[1], abs=5e-5)


def test_small_counts_use_fishers_exact_test_the_lady_tasting_tea() -> None:
    counts = pd.DataFrame({"milk_first": [3, 1], "cups": [4, 4]}, index=["said milk", "said tea"])
    result = analysis.compare_proportions(
        counts, successes="milk_first", trials="cups", baseline="said tea"
    )
    row = result.table.loc["said milk"]
    assert row["test"] == "Fisher exact"
    assert row["p_value"] == pytest.approx(0.4857, abs=5e-5)
    assert not row["differs"]


def test_overall_chi_square_of_the_physicians_health_study() -> None:
    counts = pd.DataFrame(
        {"infarction": [189, 104], "patients": [11034, 11037]},
        index=pd.Index(["placebo", "aspirin"], name="arm"),
    )
    result = analysis.compare_proportions(counts, successes="infarction", trials="patients")
    assert result.overall.statistic == pytest.approx(25.01, abs=0.01)
    assert result.overall.dof == 1
    # Large counts: the score test, whose square is Pearson's X² for a 2x2 table (up to
    # the n/(n-1) variance correction of Miettinen and Nurminen).
    row = result.table.iloc[0]
    assert row["test"] == "score"
    assert result.overall.p_value == pytest.approx(row["p_value"], rel=1e-3)
    assert result.baseline == "aspirin"  # the largest group, by default
    assert result.differing() == ["placebo"]


def test_holm_step_down_by_hand() -> None:
    # Sorted: 0.005, 0.01, 0.03, 0.04 -> x4, x3, x2, x1 = 0.02, 0.03, 0.06, 0.04,
    # then made monotone: 0.02, 0.03, 0.06, 0.06.
    p = pd.Series([0.01, 0.04, 0.03, 0.005, np.nan], index=list("abcde"))
    adjusted = holm(p)
    assert adjusted[list("abcd")].tolist() == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert np.isnan(adjusted["e"])


def test_holm_is_statsmodels_holm() -> None:
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(3)
    for size in (1, 2, 7, 50):
        p = rng.uniform(0, 0.2, size) ** 2
        p[: size // 3] = p[0]  # ties
        ours = holm(pd.Series(p)).to_numpy()
        assert ours == pytest.approx(multipletests(p, method="holm")[1], abs=1e-15)


#: The 6-MP arm: weeks in remission, and whether the relapse was observed.
SIX_MP_TIMES = [6, 6, 6, 7, 10, 13, 16, 22, 23, 6, 9, 10, 11, 17, 19, 20, 25, 32, 32, 34, 35]
SIX_MP_EVENTS = [True] * 9 + [False] * 12
#: Klein & Moeschberger, Table 4.1A: time, S(t), Greenwood SE; R log-log limits.
KM_TABLE = [
    (6, 0.857, 0.076, 0.620, 0.952),
    (7, 0.807, 0.087, 0.563, 0.923),
    (10, 0.753, 0.096, 0.503, 0.889),
    (13, 0.690, 0.107, 0.432, 0.849),
    (16, 0.627, 0.114, 0.368, 0.805),
    (22, 0.538, 0.128, 0.268, 0.747),
    (23, 0.448, 0.135, 0.188, 0.680),
]


def _six_mp_as_users() -> tuple[pd.DataFrame, pd.DataFrame, datetime]:
    """The trial as users waiting to connect: relapse = first connected account."""
    as_of = datetime(2026, 6, 1, tzinfo=UTC)
    users, accounts = [], []
    for i, (t, event) in enumerate(zip(SIX_MP_TIMES, SIX_MP_EVENTS, strict=True)):
        user_id = f"00000000-0000-4000-8000-{i:012d}"
        # Censored users were created exactly t days before the data's time.
        created = as_of - timedelta(days=t if not event else 40)
        users.append(
            {"id": user_id, "created_at": created.isoformat(), "external_metadata": {"arm": "6-MP"}}
        )
        if event:
            accounts.append(
                {
                    "id": f"10000000-0000-4000-8000-{i:012d}",
                    "user": user_id,
                    "created_at": (created + timedelta(days=t)).isoformat(),
                    "was_connected": True,
                    "connection": {"status": "connected"},
                }
            )
    return frames.users_frame(users), frames.accounts_frame(accounts), as_of


def test_kaplan_meier_of_the_six_mp_arm() -> None:
    users, accounts, as_of = _six_mp_as_users()
    curves = analysis.time_to_connect_curves(users, accounts, "arm", as_of=as_of)
    events = curves[curves["at_risk"].notna()].set_index("days")
    for t, surv, _se, low, high in KM_TABLE:
        row = events.loc[float(t)]
        assert row["connected_share"] == pytest.approx(1 - surv, abs=5e-4)
        # The share's interval is 1 minus the survival interval, ends swapped.
        assert row["connected_low"] == pytest.approx(1 - high, abs=2e-3)
        assert row["connected_high"] == pytest.approx(1 - low, abs=2e-3)
    assert events["at_risk"].tolist()[:2] == [21, 17]

    summary = analysis.time_to_connect(users, accounts, "arm", days=(7, 40), as_of=as_of)
    row = summary.loc["6-MP"]
    assert row["users"] == 21
    assert row["connected"] == 9
    assert row["median_days"] == 23
    # The median's interval from the log-log limits: from the first time the lower limit
    # of S falls to 0.5 (13 weeks); the upper limit never does, so the bound is open.
    assert row["median_low"] == 13
    assert pd.isna(row["median_high"])
    assert "upper bound is not reached" in row["note"]
    assert row["within_7d"] == pytest.approx(1 - 0.807, abs=5e-4)
    # Nobody was followed for 40 weeks: not estimable, and said so.
    assert pd.isna(row["within_40d"])
    assert "followed for less than 40 days" in row["note"]
