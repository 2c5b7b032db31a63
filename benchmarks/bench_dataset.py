"""A portfolio past what fits in memory: export a million accounts to a Parquet dataset
and run the analyses on it in DuckDB, under a hard 1 GB memory limit.

The sandbox is seeded once into a reusable SQLite file (``$ARGYLE_NB_BENCH_DIR``, default
``~/.cache/argyle_nb/bench``; about 3 minutes the first time) and serves it over loopback.
Each measured step runs in its own client process under ``setrlimit(RLIMIT_DATA, 1 GB)``
(the heap and every private mapping: what the process can actually write; ``RLIMIT_AS``
would also count the address space DuckDB and jemalloc reserve without using it, and
refuses DuckDB's start at any size); its peak RSS is the child's ``ru_maxrss``:

* ``export``: ``client.export(path)`` of users and accounts (SQLite cache on disk);
* ``analyses``: every analysis on the dataset, in the order a notebook runs them (the
  first to need it pays for what every user did, counted once per dataset), DuckDB given
  250 MB, spilling past it;
* ``explorers``: each explorer opened on the dataset and one choice made in it, timed
  (no RLIMIT_DATA: the charts' JavaScript is bundled by vl-convert, whose V8 reserves about
  1.2 GB of address space it never touches; the peak RSS is what is used);
* ``in-memory frames``: ``users_frame`` + ``accounts_frame`` + ``availability_frame`` of
  the same portfolio under the same limit, for comparison.

``python -m benchmarks dataset`` (part of ``make bench``); ``ARGYLE_NB_BENCH_USERS`` sets
the users (default 770,000: about 1,010,000 accounts).

Measured 2026-12-04 on 2 cores (seeding 155 s, once): export of 1,011,221 accounts and
770,000 users in 122.9 s (8,228 accounts a second; 161.6 s and 522 MB before the walk kept
its ids as numbers and the frames were built a batch at a time), peak RSS 480 MB, dataset
266 MB (cache 1,483 MB); the four analyses in 4.5 s, peak RSS 510 MB; the in-memory frames
under the same limit: ArrowMemoryError after 57.9 s.

Then, with the explorers taking a dataset (same machine and dataset): export 137.9 s,
477 MB; analyses 1.8 s of queries (cohorts 1.26 s), peak 504 MB; explorers, peak RSS
754 MB: ConnectionExplorer opens in 3.4 s (of it about 2 s bundling the charts'
JavaScript, once a process), three link items chosen 0.45 s, grouped by source 0.24 s;
MetadataExplorer opens in 4.9 s (key summary of 770,000 users' metadata, the cohorts and
their comparison), another key 2.0 s (1.4 s once the comparison reused the cohorts'
counts), a group's users 0.6 s; AvailabilityExplorer opens
in 1.0 s, sync_failed chosen 0.4 s. The in-memory frames: ArrowMemoryError after 60.5 s.

With one engine for frames and datasets (issue 26; 2026-12-07, same machine and
portfolio): export 131.5 s, 441 MB; every analysis under the 1 GB limit, peak RSS
616 MB: key summary 2.4-3.7 s (770,000 users' metadata walked; the first call),
cohorts 1.9 s (what every user did, counted once), compare 0.16 s, compare errors
0.14 s, funnel 0.82 s, time to connect 1.03 s, its curves 0.27 s, matrix 0.57 s,
connection 0.14 s, by month 0.14 s, availability 0.24 s. Explorers (peak RSS 722 MB;
once a process, quoted apart: bundling the charts' JavaScript 1.5 s, the first
statistic's imports 0.7 s): ConnectionExplorer opens in 1.2 s, three link items 0.77 s,
by source 0.55 s; MetadataExplorer opens in 4.6 s (the key summary walks 770,000 users'
metadata: 2.4-3 s), another key 0.87 s, the funnel tab 1.15 s, the time-to-connect tab
1.34 s (88 s and 5 GB before its chart drew at most 200 points a curve), a key with that
tab shown 1.6 s, a group's users 0.84 s; AvailabilityExplorer opens in 1.0 s,
sync_failed 0.67 s.

Then (same day, same portfolio), flat metadata read off its keys and values rather than
walked, a key's JSON types and the latest time asked once per dataset, Kaplan–Meier
cohorts in one query: analyses peak RSS 635 MB, key summary 0.9-1.0 s (same table),
cohorts 1.6-2.0 s (with the statistics' first imports, 0.6 s), funnel 0.77 s, time to
connect 0.84-1.05 s, curves 0.03-0.08 s, matrix 0.56-0.65 s, connection 0.14-0.16 s, by
month 0.13-0.15 s, availability 0.26-0.27 s. Explorers (peak RSS 746 MB; bundling 1.2-1.3
s and the statistics' imports 0.5-0.6 s quoted apart): ConnectionExplorer opens in
0.8-0.9 s, three link items 0.47-0.6 s, by source 0.37-0.45 s; MetadataExplorer opens in
1.9-2.2 s (key summary 0.9 s, what every user did 0.4 s, the key's labels 0.25 s, the
chart 0.2 s), another key 0.53-0.59 s, the funnel tab 0.8-1.0 s (each account's scans
0.48 s), the time-to-connect tab 0.85-0.97 s, a key with that tab shown 0.9-1.1 s, a
group's users 0.6 s; AvailabilityExplorer opens in 0.8 s, sync_failed 0.5 s. Then, with
labels keyed by the user's row (a number) rather than the id text, a group's users read
off the key's labels (the first 2,000 listed), charts shown without validating their
spec again (2026-12-07, noisy: the ranges of three runs): MetadataExplorer opens in
1.8-2.1 s, another key 0.39-0.49 s, the funnel tab 0.70-0.90 s, the time-to-connect tab
0.73-0.94 s, a key with that tab shown 0.78-0.81 s, a group's users 0.18-0.24 s;
ConnectionExplorer opens in 0.9-1.0 s, three link items 0.47-0.88 s, by source 0.35-0.49
s; AvailabilityExplorer opens in 0.8-0.96 s, sync_failed 0.5-0.68 s. Analyses: key
summary 0.9-1.1 s, cohorts 1.6-1.7 s (with the statistics' imports), funnel 0.76 s, time
to connect 0.81 s, matrix 0.39 s, peak RSS 594 MB.

Then, with the facts the analyses start from stored by the export (what every user did,
fully synced accounts, error codes by user, key sizes, the latest time, the labels of each
key of at most 1,000 values: deriving them took 4.3-5.3 s under the limit, peak RSS 555
MB, 96 MB on disk beside the 441 MB of records), same portfolio, 2026-12-07: analyses key
summary 0.04 s, cohorts 0.95 s (with the statistics' imports), funnel 0.28 s, time to
connect 0.31 s, matrix 0.19 s, connection 0.13 s, availability 0.24 s, peak RSS 510 MB.
Explorers (peak RSS 660 MB; bundling 1.2-1.4 s and the statistics' imports 0.6 s quoted
apart): MetadataExplorer opens in 0.29-0.40 s, another key 0.19-0.29 s, the funnel tab
0.24-0.27 s, the time-to-connect tab 0.41-0.47 s (its days now microseconds apart, not
an interval per user; its chart's rows consolidated by Altair, not walked), a key with
that tab shown 0.43-0.63 s, a group's users 0.19-0.46 s; ConnectionExplorer opens in
0.79 s, three link items 0.39-0.6 s, by source 0.33-0.37 s; AvailabilityExplorer opens
in 0.71-0.97 s, sync_failed 0.44-0.5 s. Then, with Parquet footers read once per database
(DuckDB's parquet_metadata_cache), a selection reading its dataset's file views, each
table's columns asked once, and a cohort's top error code counted in its tally's query:
analyses connection 0.06 s, availability 0.20 s, funnel 0.24 s, time to connect 0.30 s,
matrix 0.18 s, peak RSS 552 MB; explorers (peak RSS 674-700 MB) ConnectionExplorer opens
in 0.56 s, three link items 0.48-0.64 s, by source 0.25-0.33 s; MetadataExplorer opens in
0.31-0.43 s, another key 0.21-0.35 s, the funnel tab 0.31-0.40 s, the time-to-connect tab
0.48-0.54 s, a key with that tab shown 0.51-0.55 s, a group's users 0.22-0.34 s;
AvailabilityExplorer opens in 0.63-1.0 s, sync_failed 0.38-0.56 s (two runs). Then,
with a selection's views bound once per table (no ``all_<table>`` view between a view and
its files) and the Kaplan–Meier curves joined as arrays (2026-12-07, two runs; peak RSS
674-718 MB): ConnectionExplorer opens in 0.45-0.61 s, three link items 0.41-0.56 s, by
source 0.22-0.27 s; MetadataExplorer opens in 0.29-0.35 s, another key 0.22-0.26 s, the
funnel tab 0.32-0.76 s, the time-to-connect tab 0.42-0.57 s, a key with that tab shown
0.50-0.55 s, a group's users 0.21-0.28 s; AvailabilityExplorer opens in 0.63-0.64 s,
sync_failed 0.32-0.36 s.

With every export a snapshot of a Delta Lake store (issue 28; the same records added as
one snapshot: 6.1-6.8 s, peak RSS 395 MB once DuckDB wrote the files instead of delta-rs,
which held the export's id on every row in memory: 1.3 GB; 337 MB on disk against 346 MB
for the version folder), files of 131,072-row groups (2026-12-07, two runs; peak RSS 742
MB): ConnectionExplorer opens in 0.30-0.39 s, three link items 0.13-0.17 s, by source
0.09-0.10 s; MetadataExplorer opens in 0.30-0.36 s, another key 0.25 s, the funnel tab
0.35-0.44 s, the time-to-connect tab 0.53-0.54 s, a key with that tab shown 0.51-0.63 s, a
group's users 0.13-0.16 s; AvailabilityExplorer opens in 0.52-0.53 s, sync_failed
0.24-0.29 s. Analyses: funnel 0.28 s, time to connect 0.38 s, matrix 0.25 s, connection
0.04 s, availability 0.15 s; peak RSS 569 MB. Then (2026-12-07, evening, four runs):
each chart's conditions built typed (``alt.condition``'s dict is resolved against the
schema, 7 ms a channel), its title, config and data set in one step at its end (each
Altair step copied the chart deeply, its rows with it), MetadataExplorer drawing each tab
only when it is shown, and the Kaplan–Meier fits of the cohorts two at a time:
ConnectionExplorer opens in 0.26-0.38 s; MetadataExplorer opens in 0.32-0.41 s, another
key 0.23-0.24 s, the funnel tab 0.26-0.31 s, the time-to-connect tab 0.39-0.50 s, a key
with that tab shown 0.30-0.48 s, a group's users 0.12-0.15 s; AvailabilityExplorer opens
in 0.42-0.46 s (one-offs quoted apart: bundling the charts' JavaScript 1.3-1.8 s, the
statistics' imports 0.6-1.0 s); peak RSS 698-738 MB. Analyses: key summary 0.04 s,
cohorts 0.98 s (with the statistics' imports), funnel 0.24 s, time to connect 0.34 s,
matrix 0.21 s, connection 0.03 s, availability 0.14 s; peak RSS 592 MB.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

LIMIT = 1 << 30
#: RLIMIT_DATA counts address space reserved and never touched: pyarrow's jemalloc
#: reserves about 1 GB when it first reads a Parquet footer, and glibc one arena per
#: thread. The children allocate with malloc and two arenas, so that the limit counts
#: what is used (their peak RSS, printed, is the same either way).
ALLOCATORS = {"ARROW_DEFAULT_MEMORY_POOL": "system", "MALLOC_ARENA_MAX": "2"}
#: What DuckDB may hold before it spills to disk, under the 1 GB limit.
DUCKDB_MEMORY = "250MB"
USERS = int(os.environ.get("ARGYLE_NB_BENCH_USERS", "770000"))
SEED = 7


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _run(step: str, env: dict[str, str], *args: str) -> dict[str, object]:
    """One step in a child process under the limit: what it says, seconds and peak RSS."""
    start = time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_dataset", "--child", step, *args],
        env={**os.environ, **ALLOCATORS, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    answer: dict[str, object] = {"seconds": time.perf_counter() - start, "ok": not child.returncode}
    lines = [line for line in child.stdout.splitlines() if line.startswith("{")]
    if lines:
        answer.update(json.loads(lines[-1]))
    if child.returncode:
        last = (child.stderr.strip().splitlines() or [f"killed ({child.returncode})"])[-1]
        answer["error"] = last[:200]
    return answer


def main() -> None:
    from argyle_nb.sandbox import start

    home = Path(os.environ.get("ARGYLE_NB_BENCH_DIR", Path.home() / ".cache/argyle_nb/bench"))
    home.mkdir(parents=True, exist_ok=True)
    db = home / f"sandbox-{USERS}-{SEED}.sqlite"
    began = time.perf_counter()
    seeded = not db.exists()
    with start(db=db, users=USERS, seed=SEED) as sandbox:
        if seeded:
            print(f"seeded {USERS:,} users into {db} in {time.perf_counter() - began:.0f} s")
        env = {
            "ARGYLE_BASE_URL": sandbox.base_url,
            "ARGYLE_API_KEY_ID": sandbox.key_id,
            "ARGYLE_API_KEY_SECRET": sandbox.key_secret,
        }
        work = Path(tempfile.mkdtemp(prefix="argyle-bench-dataset-"))
        try:
            analyses_after = work / "portfolio"
            export = _run("export", env, str(work))
            accounts = int(export.get("accounts", 0) or 0)
            print(
                f"{'export (1 GB limit)':>28}: {export['seconds']:7.1f} s, peak RSS "
                f"{export.get('peak_mb', 0):6.0f} MB, {accounts:,} accounts "
                f"({accounts / float(export['seconds']):,.0f} a second), "  # type: ignore[arg-type]
                f"{export.get('users', 0):,} users; dataset "
                f"{_size(work / 'portfolio') / 1e6:,.0f} MB, cache "
                f"{_size(work / 'cache') / 1e6:,.0f} MB"
                + ("" if export["ok"] else f"  FAILED: {export.get('error')}")
            )
            analyses = _run("analyses", env, str(analyses_after))
            print(
                f"{'analyses (1 GB limit)':>28}: {analyses['seconds']:7.1f} s, peak RSS "
                f"{analyses.get('peak_mb', 0):6.0f} MB  "
                + (str(analyses.get("timings")) if analyses["ok"] else f"FAILED: {analyses}")
            )
            explorers = _run("explorers", env, str(analyses_after))
            print(
                f"{'explorers (no limit)':>28}: {explorers['seconds']:7.1f} s, peak RSS "
                f"{explorers.get('peak_mb', 0):6.0f} MB  "
                + (str(explorers.get("timings")) if explorers["ok"] else f"FAILED: {explorers}")
            )
            frames = _run("frames", env, str(work))
            verdict = "fits" if frames["ok"] else f"does not fit: {frames.get('error')}"
            print(f"{'in-memory frames (1 GB)':>28}: {frames['seconds']:7.1f} s, {verdict}")
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _own_peak() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(step: str, folder: str) -> None:
    if step != "explorers":
        resource.setrlimit(resource.RLIMIT_DATA, (LIMIT, LIMIT))
    from argyle_nb.client import ArgyleClient

    work = Path(folder)
    if step == "analyses":
        from argyle_nb import analysis, dataset

        timings: dict[str, float] = {}
        key = "customer group"
        with dataset.Dataset(work, memory_limit=DUCKDB_MEMORY, threads=2) as ds:
            for name, run in (
                ("key summary", lambda: analysis.metadata_key_summary(ds)),
                ("cohorts", lambda: analysis.metadata_groups(ds, key)),
                ("compare", lambda: analysis.compare_cohorts(ds, key)),
                (
                    "compare errors",
                    lambda: analysis.compare_cohorts(ds, key, metric="error", unit="accounts"),
                ),
                ("funnel", lambda: analysis.cohort_funnel(ds, key)),
                (
                    "time to connect",
                    lambda: analysis.time_to_connect(ds, "acquisition channel"),
                ),
                (
                    "curves",
                    lambda: analysis.time_to_connect_curves(ds, "acquisition channel"),
                ),
                ("matrix", lambda: analysis.cohort_matrix(ds, key, "region")),
                ("connection", lambda: analysis.connection_status_distribution(ds, "link_item")),
                ("by month", lambda: analysis.connection_status_distribution(ds, "month")),
                ("availability", lambda: analysis.availability_windows(ds)),
            ):
                start = time.perf_counter()
                run()
                timings[name] = round(time.perf_counter() - start, 2)
        print(json.dumps({"timings": timings, "peak_mb": _own_peak()}))
        return
    if step == "explorers":
        _explorers(work)
        return
    client = ArgyleClient(cache_path=work / "cache" / "argyle.sqlite", progress=False)
    with client:
        if step == "export":
            with client.export(work / "portfolio") as ds:
                counts = {"accounts": ds.rows("accounts"), "users": ds.rows("users")}
            print(json.dumps({**counts, "peak_mb": _own_peak()}))
        else:
            users = client.users_frame()
            accounts = client.accounts_frame()
            availability = client.availability_frame()
            rows = len(users) + len(accounts) + len(availability)
            print(json.dumps({"rows": rows, "peak_mb": _own_peak()}))


def _explorers(work: Path) -> None:
    """Each explorer opened on the dataset, then one choice made in it (what a data
    scientist waits for), timed."""
    from argyle_nb import dataset, widgets

    timings: dict[str, float] = {}
    key = "customer group"

    def timed(name: str, run: object) -> object:
        start = time.perf_counter()
        out = run()  # type: ignore[operator]
        timings[name] = round(time.perf_counter() - start, 2)
        return out

    # No RLIMIT_DATA here: the charts' JavaScript is bundled offline by vl-convert, whose
    # V8 reserves about 1.2 GB of address space it never touches (RSS is what is used).
    import altair

    # Once a process: the charts' JavaScript bundled offline (quoted apart).
    timed("bundle charts' JavaScript", altair.JupyterChart.enable_offline)
    # Once a process too: the first statistic imports scipy and statsmodels (quoted apart).
    from argyle_nb.analysis.stats import wilson

    timed("load the statistics", lambda: wilson([1], [2]))
    with dataset.Dataset(work, memory_limit=DUCKDB_MEMORY, threads=2) as ds:
        connection: Any = timed("connection: open", lambda: widgets.ConnectionExplorer(ds))
        timed(
            "connection: 3 link items",
            lambda: setattr(connection.link_item, "value", connection.link_item.options[:3]),
        )
        timed("connection: by source", lambda: setattr(connection.by, "value", "source"))
        cohorts: Any = timed("cohorts: open", lambda: widgets.MetadataExplorer(ds))
        timed("cohorts: key region", lambda: setattr(cohorts.key, "value", "region"))
        timed("cohorts: funnel tab", lambda: setattr(cohorts.tabs, "selected_index", 1))
        timed("cohorts: time to connect tab", lambda: setattr(cohorts.tabs, "selected_index", 2))
        timed("cohorts: key customer group", lambda: setattr(cohorts.key, "value", key))
        timed(
            "cohorts: a group's users",
            lambda: setattr(cohorts.group, "value", cohorts.group.options[0]),
        )
        windows: Any = timed("availability: open", lambda: widgets.AvailabilityExplorer(ds))
        timed(
            "availability: sync_failed",
            lambda: setattr(windows.statuses, "value", ("sync_failed",)),
        )
    print(json.dumps({"timings": timings, "peak_mb": _own_peak()}))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2], sys.argv[3])
    else:
        main()
