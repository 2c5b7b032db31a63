"""How fast the explorers react at 100,000 accounts: one selection changed, until the
charts, tables and words are redrawn.

About 100,000 accounts of about 75,000 users (the demo generator, as in
``bench_cohorts``). Best of 3 per reaction:

* ``MetadataExplorer``: the key changed (cohort table, comparison in words, chart);
* ``ConnectionExplorer``: the grouping changed; the period changed;
* ``AvailabilityExplorer``: the resource changed;
* the explorers' first drawing, for reference.

Target: every reaction under 0.5 s. Measured 2026-12-03 on 2 cores, with the charts drawn
in the browser (Altair specs, issue 16): key changed 0.42 s, grouping changed 0.14 s,
period changed 0.13 s, resource changed 0.10 s (2026-12-02, with matplotlib PNGs: 0.49,
0.45, 0.91, 0.83 s). The first explorer of a kernel pays once for importing Altair and
bundling its offline JavaScript (about 4.5 s).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from benchmarks.bench_cohorts import demo_frames


def best(fn: Callable[[], object], rounds: int = 3) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    from argyle_nb.widgets import AvailabilityExplorer, ConnectionExplorer, MetadataExplorer

    users, accounts, availability = demo_frames()
    print(f"{len(users):,} users, {len(accounts):,} accounts, {len(availability):,} windows")
    start = time.perf_counter()
    meta = MetadataExplorer(users, accounts)
    print(f"{'MetadataExplorer, first drawing':>44}: {time.perf_counter() - start:6.3f} s")
    start = time.perf_counter()
    conn = ConnectionExplorer(accounts)
    print(f"{'ConnectionExplorer, first drawing':>44}: {time.perf_counter() - start:6.3f} s")
    start = time.perf_counter()
    avail = AvailabilityExplorer(availability)
    print(f"{'AvailabilityExplorer, first drawing':>44}: {time.perf_counter() - start:6.3f} s")

    keys = iter(["region", "customer group"] * 3)
    periods = iter(["week", "month"] * 3)
    groupings = iter(["source", "link_item"] * 3)
    resources = iter(["activities", "payouts"] * 3)

    def set_value(widget: object, values: object) -> Callable[[], None]:
        def change() -> None:
            widget.value = next(values)  # type: ignore[attr-defined,call-overload]

        return change

    reactions = {
        "MetadataExplorer: key changed": set_value(meta.key, keys),
        "ConnectionExplorer: grouping changed": set_value(conn.by, groupings),
        "ConnectionExplorer: period changed": set_value(conn.freq, periods),
        "AvailabilityExplorer: resource changed": set_value(avail.resource, resources),
    }
    for name, change in reactions.items():
        seconds = best(change)
        verdict = "ok" if seconds < 0.5 else "OVER the 0.5 s target"
        print(f"{name:>44}: {seconds:6.3f} s  ({verdict})")
