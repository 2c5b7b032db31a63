"""Peak memory of the in-memory frames against the memory of the frames they return.

A client process fetches ``users_frame`` + ``accounts_frame`` + ``availability_frame``
from a sandbox over loopback (SQLite cache on disk), then reports its peak RSS
(``ru_maxrss``) and the frames' own memory (``memory_usage(deep=True)``). Portfolios of
about 100,000 and 400,000 accounts, seeded once into reusable SQLite files
(``$ARGYLE_NB_BENCH_DIR``, default ``~/.cache/argyle_nb/bench``).

Target (issue 17): peak RSS at most about 2x the frames. The frames are built as the pages
arrive (:class:`~argyle_nb.frames.FrameBuilder`, 50 pages at a time; no page kept). Measured
2026-12-04 on 2 cores: 383,104 accounts 922 MB for 441 MB of frames (2.1x; 1.8x above the
129 MB that importing pandas and pyarrow costs), 32 to 45 s over four runs; 96,105 accounts
421 MB for 110 MB (3.8x; 2.6x above the imports), 8 to 11 s. Before (pages held whole,
joined, read at once): 2,325 MB (5.3x) and 689 MB (6.2x), 49.6 s and 12.8 s. What is left
above the frames is mostly freed memory the allocators keep (Arrow's mimalloc, glibc), not
live data.

Then the client's streamed lists read 10 pages at a time into Arrow (the one-shot builders
keep 50; ``client._frames.STREAM_BATCH_PAGES``), measured side by side in one session:
383,104 accounts 890 MB (2.0x; 1.7x above the imports), 44.4 s (50 pages: 929 MB, 50.3
s); 96,105 accounts 372 MB (3.4x; 2.2x above the imports), 9.5 s (50 pages: 412 MB,
12.4 s).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

SIZES = (73_000, 292_000)  # users: about 100,000 and 400,000 accounts
SEED = 7


def main() -> None:
    from argyle_nb.sandbox import start

    home = Path(os.environ.get("ARGYLE_NB_BENCH_DIR", Path.home() / ".cache/argyle_nb/bench"))
    home.mkdir(parents=True, exist_ok=True)
    for users in SIZES:
        with start(db=home / f"sandbox-{users}-{SEED}.sqlite", users=users, seed=SEED) as sb:
            env = {
                **os.environ,
                "ARGYLE_BASE_URL": sb.base_url,
                "ARGYLE_API_KEY_ID": sb.key_id,
                "ARGYLE_API_KEY_SECRET": sb.key_secret,
            }
            with tempfile.TemporaryDirectory() as work:
                child = subprocess.run(
                    [sys.executable, "-m", "benchmarks.bench_memory", "--child", work],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                )
        if child.returncode:
            print(f"{users:,} users: FAILED {child.stderr.strip().splitlines()[-1:]}")
            continue
        got = json.loads(child.stdout.strip().splitlines()[-1])
        ratio = got["peak_mb"] / got["frames_mb"]
        grown = (got["peak_mb"] - got["imports_mb"]) / got["frames_mb"]
        verdict = "PASS" if ratio <= 2.0 else "FAIL"
        print(
            f"{got['accounts']:>9,} accounts: fetch + frames {got['seconds']:6.1f} s, peak RSS "
            f"{got['peak_mb']:6.0f} MB (imports {got['imports_mb']:.0f} MB), frames "
            f"{got['frames_mb']:5.0f} MB, ratio {ratio:4.1f}x, above the imports "
            f"{grown:4.1f}x  {verdict} (target <= 2x)"
        )


def _child(folder: str) -> None:
    import time

    import argyle_nb.frames  # noqa: F401 - what any frame needs: pandas, pyarrow
    from argyle_nb.client import ArgyleClient

    imports = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    with ArgyleClient(cache_path=Path(folder) / "cache.sqlite", progress=False) as client:
        users = client.users_frame()
        accounts = client.accounts_frame()
        availability = client.availability_frame()
    seconds = time.perf_counter() - start
    frames = sum(int(f.memory_usage(deep=True).sum()) for f in (users, accounts, availability))
    print(
        json.dumps(
            {
                "accounts": len(accounts),
                "seconds": seconds,
                "frames_mb": frames / 2**20,
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "imports_mb": imports,
            }
        )
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2])
    else:
        main()
