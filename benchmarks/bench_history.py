"""History (issue 28): 30 daily snapshots of the 10,000-user demo, the store's size, and
each history analysis's time on them.

The embedded sandbox lives a day (``sandbox.advance(1)``), then ``client.export`` adds a
snapshot, 30 times (the loop of notebook 06; target: well under a minute). Then each
analysis of :mod:`argyle_nb.analysis` that reads the snapshots, once, on
``Dataset(path)``: ``status_over_time``, ``transitions`` (the last two, by link item),
``reconnection`` and ``connection_lifetime`` (by link item), ``removal_bias``.

Measured 2026-12-07 on 2 cores: 92-107 s for the 30 days (2.3-4.1 s a day: the export
waits on the pages the sandbox serves in the same process); 131 MB for 30 snapshots
against 4.7 MB for one (users 3.9 MB in all: changes; accounts 44 MB and availability 47
MB: the story scans every connected account daily, so each day is a new base; facts 36
MB). The analyses on the 30 snapshots (14,000 accounts each), the statistics' imports
(1.1-1.5 s, once a process) quoted apart: status_over_time 1.18 s, transitions 0.36 s,
reconnection 1.33 s, connection_lifetime 1.66 s, removal_bias 1.60 s. Gathering the
snapshots' rows costs about 20 ms a snapshot (a Delta table opened and its files listed
for each).
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
            calls: dict[str, Callable[[], Any]] = {
                "status_over_time": lambda: analysis.status_over_time(ds),
                "transitions": lambda: analysis.transitions(ds, by="link_item"),
                "reconnection": lambda: analysis.reconnection(ds, by="link_item"),
                "connection_lifetime": lambda: analysis.connection_lifetime(ds, by="link_item"),
                "removal_bias": lambda: analysis.removal_bias(ds),
            }
            for name, call in calls.items():
                began = time.perf_counter()
                call()
                print(f"{name:>22}: {time.perf_counter() - began:6.2f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
