"""History (issue 28): 30 daily snapshots of the 10,000-user demo, the store's size, and
each history analysis's time on them.

The embedded sandbox lives a day (``sandbox.advance(1)``), then ``client.export`` adds a
snapshot, 30 times (the loop of notebook 06; target: well under a minute). Then each
analysis of :mod:`argyle_nb.analysis` that reads the snapshots, once, on
``Dataset(path)``: ``status_over_time``, ``transitions`` (the last two, by link item),
``reconnection`` and ``connection_lifetime`` (by link item), ``removal_bias``.

Measured 2026-12-07 on 2 cores, one of them busy with another job (figures vary by about
10% run to run), before the changes of branch loop-speed: 98.8 s for the 30 days (2.03-4.19
s a day); 131 MB for 30 snapshots against 4.7 MB for one (users 3.9 MB in all: changes;
accounts 44 MB and availability 47 MB: the story scans every connected account daily, so
each day is a new base; facts 36 MB). The analyses on the 30 snapshots (14,000 accounts
each), the statistics' imports (0.8-1.5 s, once a process) quoted apart: status_over_time
0.97 s, transitions 0.32 s, reconnection 1.32 s, connection_lifetime 1.25 s, removal_bias
1.04 s.

After (same day, same machine): 91.0 s for the 30 days (2.14-3.68 s a day); 132 MB (the
tables' log checkpoints: 1 MB); status_over_time 0.48 s, transitions 0.35 s,
reconnection 0.83 s, connection_lifetime 0.74 s, removal_bias 0.57 s. What changed: the
store's tables checkpoint their Delta log every 10 commits (a table took 8-15 ms to open
after 30 exports, 3-4 ms now: store.add on day 30 0.8-1.1 -> 0.6-0.7 s);
``Dataset.across`` opens a table and lists its files once for all the snapshots (30
snapshots' accounts 0.82 -> 0.41 s); ``store.add`` joins a table once when the latest
snapshot is the base (the accounts, daily) and counts rows from the Parquet footers; an
export's pages are decoded once in their fetch thread, not twice.

A day, timed apart (day 1 -> day 29): ``sandbox.advance`` 0.55-0.65 s (the story lived by
every account, in Python, then written to SQLite); the walk of both lists 1.0-1.4 s, of
which staging the batches as Parquet 0.45-0.6 s; the facts 0.23-0.3 s; ``store.add``
0.45 -> 0.6-0.7 s. The pages alone (no staging) take 0.55-0.65 s a day whether the sandbox
serves them from a thread of this process or from a process of its own (``python -m
argyle_nb.sandbox`` on the same database): serving them is not what the export waits on,
so the sandbox stays in its thread. Staging a batch in a thread of its own while the walk
goes on saved nothing either (2.3-2.6 s a day both ways: the work holds the GIL). The target
(well under a minute) is not met: what is left is the sandbox's day, the pages' decoding and
validation, the facts and the store's joins, each 0.25-0.65 s a day. (At the 2,000 users
of notebook 06, the loop takes 38.6 s.)

HistoryExplorer on the 30 snapshots (2026-12-07, evening; a run of 86.3 s for the loop):
it opens in 1.09 s (the charts' JavaScript bundled first, 1.30 s, quoted apart); every
snapshot in the range 0.26 s; grouped by link item 0.88 s (the status shares of every
snapshot by item, counted once per grouping); another item 0.29 s; a cell's accounts
0.19 s; grouped by a metadata key 1.59 s (each snapshot's users joined to its accounts).
Opening a table's rows for each snapshot costs about 15 ms (a DuckDB relation bound per
snapshot): a third of the metadata key's time.

2026-12-08, with a day lived a chunk of accounts at a time (the collector paused) and the
walks reading pages without searching them for long numbers, while the million-account
history ran on the other core: 80.2 s for the 30 days (2.09-3.96 s a day); a day of the
sandbox 0.43-0.55 s in-process; 132.3 MB; status_over_time 0.71 s, transitions 0.29 s,
reconnection 1.00 s, connection_lifetime 0.91 s, removal_bias 0.70 s (each slower than
the evening's by the busy core: no comparison is made from these).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

DAYS = 30
USERS = 10_000


def _size(path: Path) -> float:
    """Bytes under ``path``, in MB."""
    out = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0]) / 1e6


def main() -> None:
    from argyle_nb import analysis
    from argyle_nb.client import ArgyleClient
    from argyle_nb.dataset import Dataset
    from argyle_nb.sandbox import start

    warnings.simplefilter("ignore")
    work = Path(tempfile.mkdtemp(prefix="argyle-bench-history-"))
    try:
        path = work / "portfolio"
        days: list[float] = []
        with (
            start(db=work / "sandbox.sqlite", users=USERS, seed=42) as sandbox,
            ArgyleClient(
                sandbox.key_id,
                sandbox.key_secret,
                base_url=sandbox.base_url,
                cache="memory",
                progress=False,
                now=sandbox.now,
            ) as client,
        ):
            one = 0.0
            for day in range(DAYS):
                began = time.perf_counter()
                if day:
                    sandbox.advance(days=1)
                client.export(path).close()
                days.append(time.perf_counter() - began)
                if day == 0:
                    one = _size(path)
        print(
            f"{DAYS} daily snapshots of {USERS:,} users: {sum(days):.1f} s"
            f" ({min(days):.2f}-{max(days):.2f} s a day; target: well under a minute)"
        )
        print(f"store: one snapshot {one:.1f} MB, {DAYS}: {_size(path):.1f} MB")
        for part in sorted(p for p in path.iterdir() if p.is_dir()):
            print(f"  {part.name:>14}: {_size(part):6.1f} MB")
        began = time.perf_counter()
        analysis.stats.wilson([1], [2])  # scipy and statsmodels: once a process, quoted apart
        print(f"{'load the statistics':>22}: {time.perf_counter() - began:6.2f} s")
        with Dataset(path) as ds:
            for name, seconds in time_analyses(ds).items():
                print(f"{name:>22}: {seconds:6.2f} s")
            _explorer(ds)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def time_analyses(ds: Any, report: Callable[[str], object] | None = None) -> dict[str, float]:
    """Each history analysis run once on the dataset ``ds``: its seconds, by name
    (``report``: told each analysis's name as it starts, on stderr for a child)."""
    from argyle_nb import analysis

    calls: dict[str, Callable[[], Any]] = {
        "status_over_time": lambda: analysis.status_over_time(ds),
        "transitions": lambda: analysis.transitions(ds, by="link_item"),
        "reconnection": lambda: analysis.reconnection(ds, by="link_item"),
        "connection_lifetime": lambda: analysis.connection_lifetime(ds, by="link_item"),
        "removal_bias": lambda: analysis.removal_bias(ds),
    }
    seconds = {}
    for name, call in calls.items():
        if report is not None:
            report(f"Running {name}")
        began = time.perf_counter()
        call()
        seconds[name] = time.perf_counter() - began
    return seconds


def _explorer(ds: Any) -> None:
    """HistoryExplorer on the snapshots: it opens (the charts' JavaScript bundled first,
    quoted apart), then each reaction."""
    import altair

    from argyle_nb.widgets import HistoryExplorer

    began = time.perf_counter()
    altair.JupyterChart.enable_offline()
    print(f"{'bundle the charts JS':>22}: {time.perf_counter() - began:6.2f} s")
    began = time.perf_counter()
    explorer = HistoryExplorer(ds)
    print(f"{'HistoryExplorer opens':>22}: {time.perf_counter() - began:6.2f} s")
    count = len(ds.snapshots)
    steps: dict[str, Callable[[], Any]] = {
        "every snapshot": lambda: setattr(explorer.snapshots, "index", (0, count - 1)),
        "by link item": lambda: setattr(explorer.by, "value", "link_item"),
        "another item": lambda: setattr(explorer.group, "value", explorer.group.options[1]),
        "a cell's accounts": lambda: setattr(explorer.move, "value", explorer.move.options[0][1]),
        "by a metadata key": lambda: setattr(explorer.by, "value", "customer group"),
    }
    for name, step in steps.items():
        began = time.perf_counter()
        step()
        print(f"{name:>22}: {time.perf_counter() - began:6.2f} s")
