"""History at scale (issue 28): 30 daily snapshots of a million-account portfolio, each
exported under a hard 1 GB memory limit, then every history analysis on them under it.

The portfolio is :mod:`benchmarks.bench_dataset`'s (770,000 users, about 1,010,000
accounts, seeded once into ``$ARGYLE_NB_BENCH_DIR``), copied, so that the seeded file stays
as it was. An embedded sandbox serves the copy; each day it lives a day
(``sandbox.advance(1)``, in this process), then a child process under
``setrlimit(RLIMIT_DATA, 1 GB)`` (as in :mod:`benchmarks.bench_dataset`) adds a snapshot
with ``client.export(path)``, stamped with the sandbox's clock. After 30 snapshots (29
days lived), a child under the same limit runs each analysis that reads the snapshots,
DuckDB given 250 MB: ``status_over_time``, ``transitions`` (the last two, by link item),
``reconnection`` and ``connection_lifetime`` (by link item), ``removal_bias``.

Printed: each day's living and export (seconds, the export's peak RSS), the store's size
by table against one snapshot, each analysis's time and the analyses' peak RSS.

About an hour on 2 cores, so ``make bench`` skips it unless ``ARGYLE_NB_BENCH_LONG=1``:
``ARGYLE_NB_BENCH_LONG=1 python -m benchmarks history_million``
(``ARGYLE_NB_BENCH_DAYS`` sets the snapshots, default 30).
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from benchmarks.bench_dataset import ALLOCATORS, DUCKDB_MEMORY, LIMIT, SEED, USERS
from benchmarks.bench_history import time_analyses

DAYS = int(os.environ.get("ARGYLE_NB_BENCH_DAYS", "30"))
#: How the child is limited: ``cgroup`` (the parent put it in one) or ``rlimit``.
_LIMITED: Final = "ARGYLE_NB_BENCH_LIMITED"


def _join(group: Path) -> None:
    """In the child, before it runs: join the memory cgroup ``group``."""
    (group / "cgroup.procs").write_text(str(os.getpid()))


def _size(path: Path) -> float:
    """Bytes under ``path``, in MB."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


#: The memory cgroup (v1) a child runs in, when this process may make one (root).
_CGROUP: Final = Path("/sys/fs/cgroup/memory")


def _cgroup() -> Path | None:
    """A memory cgroup limited to :data:`LIMIT` for the children, or None (not root, or
    no cgroup v1 memory controller: the children then limit themselves with
    ``RLIMIT_DATA``)."""
    group = _CGROUP / f"argyle-bench-{os.getpid()}"
    try:
        group.mkdir(exist_ok=True)
        (group / "memory.limit_in_bytes").write_text(str(LIMIT))
    except OSError:
        return None
    return group


def _run(env: dict[str, str], *args: str, group: Path | None = None) -> dict[str, Any]:
    """A child under the limit: what it says, its seconds, whether it succeeded."""
    began = time.perf_counter()
    if group is not None:
        (group / "memory.max_usage_in_bytes").write_text("0")
    child = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_history_million", "--child", *args],
        env={**os.environ, **ALLOCATORS, **env, _LIMITED: "cgroup" if group else "rlimit"},
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=None if group is None else lambda: _join(group),
    )
    answer: dict[str, Any] = {"seconds": time.perf_counter() - began, "ok": not child.returncode}
    if group is not None:
        answer["cgroup_mb"] = int((group / "memory.max_usage_in_bytes").read_text()) / 2**20
    said = [line for line in child.stdout.splitlines() if line.startswith("{")]
    if said:
        answer.update(json.loads(said[-1]))
    if child.returncode:  # what the child was doing, and its error (else its last words)
        lines = child.stderr.strip().splitlines()
        running = [line for line in lines if line.startswith("Running ")][-1:]
        errors = [line for line in lines if "Error" in line][-1:] or lines[-1:]
        answer["error"] = ": ".join(running + errors)[:300] or f"killed ({child.returncode})"
    return answer


def main() -> None:
    if os.environ.get("ARGYLE_NB_BENCH_LONG") != "1":
        print("skipped: about an hour (ARGYLE_NB_BENCH_LONG=1 runs it)")
        return
    from argyle_nb.sandbox import start

    home = Path(os.environ.get("ARGYLE_NB_BENCH_DIR", Path.home() / ".cache/argyle_nb/bench"))
    home.mkdir(parents=True, exist_ok=True)
    seeded = home / f"sandbox-{USERS}-{SEED}.sqlite"
    if not seeded.exists():
        with start(db=seeded, users=USERS, seed=SEED):
            pass
    work = Path(tempfile.mkdtemp(prefix="argyle-bench-history-million-", dir=home))
    group = _cgroup()
    kept = False
    print(
        "limit: 1 GB of memory, "
        + (
            "a memory cgroup (what a container enforces: memory used)"
            if group
            else "RLIMIT_DATA (address space written or reserved)"
        )
    )
    try:
        db = work / "sandbox.sqlite"
        shutil.copyfile(seeded, db)
        store = work / "portfolio"
        one = 0.0
        exports: list[float] = []
        # The sandbox's wall clock stands still: its portfolio changes by the days lived,
        # not while a walk reads it (never-connected accounts crossing their 30 days
        # as the wall clock moves would change the list under each walk, and each walk
        # would read it three times).
        frozen = datetime.now(UTC)
        with start(db=db, clock=lambda: frozen) as sandbox:
            env = {
                "ARGYLE_BASE_URL": sandbox.base_url,
                "ARGYLE_API_KEY_ID": sandbox.key_id,
                "ARGYLE_API_KEY_SECRET": sandbox.key_secret,
            }
            for day in range(DAYS):
                lived = 0.0
                if day:
                    began = time.perf_counter()
                    sandbox.advance(days=1)
                    lived = time.perf_counter() - began
                ahead = (sandbox.now() - datetime.now(UTC)).total_seconds()
                done = _run(env, "export", str(work), str(ahead), group=group)
                exports.append(done["seconds"])
                if day == 0:
                    one = _size(store)
                print(
                    f"day {day:2d}: lived {lived:5.1f} s, export {done['seconds']:6.1f} s"
                    f" (peak RSS {done.get('peak_mb', 0):4.0f} MB,"
                    f" cgroup {done.get('cgroup_mb', 0):4.0f} MB,"
                    f" {done.get('accounts', 0):,} accounts, {done.get('users', 0):,} users)"
                    + ("" if done["ok"] else f"  FAILED: {done.get('error')}"),
                    flush=True,
                )
                if not done["ok"]:
                    return
        print(
            f"{DAYS} snapshots: export {sum(exports) / len(exports):.1f} s a snapshot"
            f" ({min(exports):.1f}-{max(exports):.1f} s)"
        )
        print(f"store: one snapshot {one:,.0f} MB, {DAYS}: {_size(store):,.0f} MB")
        for part in sorted(p for p in store.iterdir() if p.is_dir()):
            print(f"  {part.name:>14}: {_size(part):8,.0f} MB")
        analyses = _run({}, "analyses", str(work), group=group)
        print(
            f"analyses (1 GB limit): {analyses['seconds']:.1f} s, peak RSS"
            f" {analyses.get('peak_mb', 0):.0f} MB, cgroup {analyses.get('cgroup_mb', 0):.0f} MB"
            + ("" if analyses["ok"] else f"  FAILED: {analyses.get('error')}")
        )
        for name, seconds in analyses.get("timings", {}).items():
            print(f"  {name:>22}: {seconds:6.2f} s")
        kept = not analyses["ok"]
    finally:
        if kept:  # an hour's snapshots, kept to look at what failed
            print(f"the store is kept in {work} (remove it when done)")
        else:
            shutil.rmtree(work, ignore_errors=True)
        if group is not None:
            group.rmdir()


def _peak() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(step: str, folder: str, *rest: str) -> None:
    if os.environ.get(_LIMITED) != "cgroup":
        resource.setrlimit(resource.RLIMIT_DATA, (LIMIT, LIMIT))
    work = Path(folder)
    if step == "export":
        from argyle_nb.client import ArgyleClient

        ahead = timedelta(seconds=float(rest[0]))  # the sandbox's clock: days lived
        with (
            ArgyleClient(
                cache="memory", progress=False, now=lambda: datetime.now(UTC) + ahead
            ) as client,
            client.export(work / "portfolio") as ds,
        ):
            counts = {"accounts": ds.rows("accounts"), "users": ds.rows("users")}
        print(json.dumps({**counts, "peak_mb": _peak()}))
        return
    from argyle_nb import analysis
    from argyle_nb.dataset import Dataset

    timings: dict[str, float] = {}
    began = time.perf_counter()
    analysis.stats.wilson([1], [2])  # scipy and statsmodels: once a process, quoted apart
    timings["(the statistics' imports)"] = round(time.perf_counter() - began, 2)
    # One thread: with two, DuckDB's aggregate by account over the union of 11 or more
    # snapshots' scans (each a pipeline with its own state) ran out of its 250 MB rather
    # than spill (removal_bias, 2026-12-08); with one it spills.
    with Dataset(work / "portfolio", memory_limit=DUCKDB_MEMORY, threads=1) as ds:
        told = time_analyses(ds, report=lambda line: print(line, file=sys.stderr, flush=True))
        timings.update({k: round(v, 2) for k, v in told.items()})
    print(json.dumps({"timings": timings, "peak_mb": _peak()}))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _child(*sys.argv[2:])
