"""What the cohort statistics cost on top of the shares: each analysis beside the plain
pandas groupby that computes only the shares.

About 100,000 accounts of about 75,000 users, from the sandbox's generator (demo seed),
as frames. Best of 3, interleaved:

* ``plain groupby``: the share of each ``customer group``'s users with an account
  connected now, by hand (a merge and two groupbys, no intervals, no tests);
* ``cohort_counts``: the counts every analysis starts from (users, trials, successes
  per cohort: labels, one row per user, duplicates and strays set aside), no statistics;
* ``metadata_groups``: users, accounts, the users' and the accounts' shares with their
  Wilson intervals, the top error code;
* ``compare_cohorts``: the same share, each cohort against the largest, with Newcombe
  intervals, score or exact tests, Holm and the overall chi-square;
* ``cohort_funnel``: five steps with intervals (needs the availability frame);
* ``time_to_connect``: Kaplan–Meier per cohort, medians and three horizons;
* ``cohort_matrix``: ``customer group`` x ``region``.

Each analysis is measured on the frames (counted from scratch at each call: the frames
registered in DuckDB, what every user did, the key's labels) and on one
``Dataset.from_frames`` of them built once (what an explorer or a notebook comparing keys
does: what every user did is counted once, each key's labels once).

Target (issue 26): each of ``metadata_groups``, ``compare_cohorts``, ``cohort_funnel``,
``time_to_connect`` and ``cohort_matrix`` at most 2x the plain groupby. Measured
2026-12-02 on 2 cores, in pandas: plain groupby 0.046-0.068 s; 3.1x, 2.4x, 7.7x, 3.4x,
3.1x. Measured 2026-12-07, in DuckDB: plain groupby 0.054 s; on the frames, counted from
scratch at each call, 3.0x, 2.6x, 3.4x, 3.2x, 4.0x (registering the frames, what every
user did and the key's labels cost about 0.1 s of it); on one dataset of them (what every
user did and the key's labels kept, the analysis counted: ``_forget``) 0.8x, 0.5x, 0.6x,
1.4x, 0.8x. Then, with the frames registered as Arrow tables in batches (scanned on both
cores), the dataset an analysis makes of its frames counted once (views, the key labelled
where the outcomes are read, no temporary tables copied) and the Kaplan–Meier cohorts
fetched in one query: plain groupby 0.041 s; on the frames 2.3x, 1.8x, 2.4x, 2.1x, 2.5x
(0.094, 0.075, 0.099, 0.087, 0.101 s); on one dataset 0.8x, 0.6x, 0.6x, 1.6x, 0.9x. Then,
a key's JSON types asked once and a key of text labelled by the text rule alone, flat
metadata read off its keys for the key summary: plain groupby 0.044 s; on the frames
2.1x, 1.7x, 2.5x, 2.0x, 2.0x (0.092, 0.077, 0.109, 0.086, 0.089 s); on one dataset 0.7x,
0.6x, 0.5x, 1.4x, 0.9x; metadata_key_summary 4.6x -> 2.5x (0.110 s). With labels keyed
by the user's row: plain groupby 0.054 s; on the frames 2.0x, 1.5x, 1.8x, 1.6x, 2.0x
(0.109, 0.080, 0.098, 0.086, 0.106 s); on one dataset 0.6x, 0.4x, 0.3x, 1.0x, 0.6x. (The
plain groupby itself ranges 0.041-0.056 s from run to run on this machine.) With time
to connect's days counted from microseconds apart and error codes keyed by the user's row
(2026-12-07): plain groupby 0.041 s; on the frames 2.2x, 1.7x, 2.4x, 1.8x, 2.1x (0.090,
0.071, 0.099, 0.073, 0.087 s); on one dataset 0.6x, 0.5x, 0.4x, 0.6x, 0.6x. What an
analysis of frames pays before it counts: registering the frames 11 ms, asking whether
users are unique 7 ms. Then, with a cohort's top error code counted in its tally's query
and whether users are unique asked with the key's JSON types in one scan (same day):
plain groupby 0.047 s; on the frames 1.9x, 1.5x, 2.2x, 1.6x, 2.1x (0.088, 0.073, 0.103,
0.077, 0.100 s); on one dataset 0.5x, 0.4x, 0.4x, 0.6x, 0.5x.

The funnel also against its own shares by hand (``plain funnel``: the merge and
groupbys that give each step's share, which needs each account's scans; no intervals):
plain groupby 0.052 s, plain funnel 0.212 s; cohort_funnel on the frames 0.112 s, 0.5x
the plain funnel (2.2x the connected share's groupby). At the session's end (2026-12-07,
evening; charts, snapshots and the history analyses merged): plain groupby 0.059 s; on
the frames 1.5x, 1.2x, 1.9x, 1.5x, 1.7x (0.091, 0.071, 0.113, 0.088, 0.099 s); on one
dataset 0.4x, 0.4x, 0.3x, 0.5x, 0.4x; plain funnel 0.183 s, cohort_funnel 0.6x of it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import pandas as pd

from argyle_nb import analysis, frames
from benchmarks.bench_frames import _interleaved

USERS = 75_500  # about 100,000 accounts
KEY = "customer group"


def demo_frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    from argyle_nb.sandbox.synth import generate

    pairs = list(generate(USERS, 42, datetime(2026, 12, 1, tzinfo=UTC)))
    users = frames.users_frame(orjson.dumps([u for u, _ in pairs]))
    accounts, availability = frames.accounts_and_availability(
        orjson.dumps([a for _, accounts in pairs for a in accounts])
    )
    return users, accounts, availability


def plain_groupby(users: pd.DataFrame, accounts: pd.DataFrame) -> pd.Series[Any]:
    """What one writes by hand: the share of users with a connected account, per cohort."""
    connected = accounts["connection_status"].eq("connected").groupby(accounts["user"]).any()
    cohort = users[["id", f"meta.{KEY}"]].merge(
        connected.rename("connected"), left_on="id", right_index=True, how="left"
    )
    cohort["connected"] = cohort["connected"].fillna(False).astype(bool)
    return cohort.groupby(f"meta.{KEY}", dropna=False)["connected"].mean()


def plain_funnel(
    users: pd.DataFrame, accounts: pd.DataFrame, availability: pd.DataFrame
) -> pd.DataFrame:
    """The funnel's shares by hand: per cohort, the share of users reaching each step (an
    account; one ever connected; one connected now; one connected with every present
    resource synced), each step requiring the one before it. No intervals."""
    synced = availability["status"].eq("synced").groupby(availability["account"]).all()
    acc = accounts[["id", "user", "was_connected", "connection_status"]].copy()
    acc["connected"] = acc["connection_status"].eq("connected")
    acc["fully_synced"] = acc["connected"] & acc["id"].map(synced).eq(True)
    acc["with_account"] = True
    per_user = acc.groupby("user")[
        ["with_account", "was_connected", "connected", "fully_synced"]
    ].any()
    cohort = users[["id", f"meta.{KEY}"]].merge(
        per_user, left_on="id", right_index=True, how="left"
    )
    steps = ["with_account", "was_connected", "connected", "fully_synced"]
    reached = cohort[steps].fillna(False).astype(bool).cummin(axis=1)
    return reached.groupby(cohort[f"meta.{KEY}"], dropna=False).mean()


def _forget(ds: Any) -> Any:
    """``ds`` without the results its analyses keep (a key's tally, its fits): what every
    user did and each key's labels stay, as in an explorer; the analysis is counted."""
    for kept in [k for k in ds.scratch if k.startswith(("tally of", "fits of"))]:
        del ds.scratch[kept]
    return ds


def main() -> None:
    from argyle_nb.dataset import Dataset

    users, accounts, availability = demo_frames()
    print(f"{len(users):,} users, {len(accounts):,} accounts, {len(availability):,} windows")
    calls: dict[str, Callable[[Any], Any]] = {
        "cohort_counts": lambda d: analysis.cohort_counts(*d, KEY),
        "metadata_groups": lambda d: analysis.metadata_groups(*d, KEY),
        "compare_cohorts": lambda d: analysis.compare_cohorts(*d, KEY),
        "cohort_funnel": lambda d: analysis.cohort_funnel(*d, KEY),
        "time_to_connect": lambda d: analysis.time_to_connect(*d, KEY),
        "cohort_matrix": lambda d: analysis.cohort_matrix(*d, KEY, "region"),
        "metadata_key_summary": lambda d: analysis.metadata_key_summary(d[0]),
    }
    # On frames, each call counts from scratch; on one dataset of the frames (what an
    # explorer or a notebook comparing keys builds once), what every user did is counted
    # at the first call and each key's labels at its first (warmed by one call first).
    on_frames = {name: (users, accounts) for name in calls}
    on_frames["cohort_funnel"] = (users, accounts, availability)
    on_frames["metadata_key_summary"] = (users,)
    ds = Dataset.from_frames(users, accounts, availability)
    for call in calls.values():
        call((ds,))
    contenders: dict[str, Callable[[], Any]] = {
        "plain groupby": lambda: plain_groupby(users, accounts),
        "plain funnel": lambda: plain_funnel(users, accounts, availability),
    }
    for name, call in calls.items():
        contenders[name] = lambda call=call, name=name: call(on_frames[name])  # type: ignore[misc]
        contenders[f"{name} (dataset)"] = lambda call=call: call((_forget(ds),))  # type: ignore[misc]
    best = _interleaved(contenders, rounds=3)
    base = best["plain groupby"]
    print(f"{'':>22}  {'frames':>8} {'ratio':>6}   {'dataset':>8} {'ratio':>6}")
    print(f"{'plain groupby':>22}: {base:7.3f} s {1.0:5.1f}x")
    for name in calls:
        cold, warm = best[name], best[f"{name} (dataset)"]
        print(f"{name:>22}: {cold:7.3f} s {cold / base:5.1f}x   {warm:7.3f} s {warm / base:5.1f}x")
    own = best["plain funnel"]
    funnel = best["cohort_funnel"]
    print(
        f"{'plain funnel':>22}: {own:7.3f} s {own / base:5.1f}x"
        f"   (cohort_funnel on the frames: {funnel / own:.1f}x the plain funnel)"
    )
