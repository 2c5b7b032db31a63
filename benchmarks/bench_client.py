"""The cached client against a plain ``requests`` loop over the same 500 pages.

Seeds 100,000 sandbox accounts (500 pages of 200) once into a temporary database and
serves them from two sandbox processes on loopback: one as served, one with the fault
injection adding 100 ms to every request (network-like). Each side fetches every page of
``GET /v1/accounts``:

* plain: a ``requests.Session`` loop following ``next``, ``.json()`` per page, no cache,
  no validation;
* cold: ``ArgyleClient.accounts.pages()`` on an empty SQLite cache (page checks and cache
  writes included; pages after the first fetched concurrently);
* warm: the same call again (every page a cache hit, page checks included).

Targets: as served, cold within 3x of plain and warm no slower than plain; network-like,
cold at least 4x and warm at least 20x faster than plain.

Then a fetch that must not die on bad records: ``client.accounts_frame()`` (cold, in-memory
cache) from a sandbox serving 1% of the records corrupt (``--corrupt 0.01``), beside the
same call on the clean sandbox. Target: every one of the 100,000 accounts is either in the
frame or in ``client.rejected``, at < 3x the clean fetch's time.

Last, the same ``accounts_frame()`` while another thread deletes users with accounts
(and creates users) through a second client, beside the quiet fetch: records kept,
duplicates met, pages re-read, reads, whether the result was vouched for, and its time.
Target: no account twice, and every account that still exists at the end (so existed
throughout) in the frame.

Run: ``python -m benchmarks client`` (part of ``make bench``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import requests

from argyle_nb.client import ArgyleClient
from argyle_nb.sandbox import DEMO_KEY_ID, DEMO_KEY_SECRET

ACCOUNTS = 100_000
PAGE = 200
LATENCY = 0.1
#: Seconds between the busy writer's create + delete pairs (about 20 writes a second).
WRITE_PAUSE = 0.1


def _seed(db: Path) -> int:
    """Fill ``db`` with exactly ``ACCOUNTS`` accounts (all connected: none is swept)."""
    from argyle_nb.sandbox.store import Store
    from argyle_nb.sandbox.synth import generate

    left = ACCOUNTS

    def capped() -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
        nonlocal left
        for user, accounts in generate(ACCOUNTS, 2024, datetime.now(UTC)):
            if left <= 0:
                return
            kept = [a for a in accounts if a.get("was_connected")][:left]
            left -= len(kept)
            yield user, kept

    store = Store(db)
    try:
        store.insert(capped())
        return store.counts()[1]
    finally:
        store.close()


class _Server:
    """A sandbox in its own process (client and server do not share a GIL, as over a network)."""

    def __init__(self, db: Path, latency: float, *flags: str) -> None:
        command = [sys.executable, "-m", "argyle_nb.sandbox", "--db", str(db)]
        command += ["--key-id", DEMO_KEY_ID, "--key-secret", DEMO_KEY_SECRET, *flags]
        if latency:
            command += ["--latency", str(latency)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert self.process.stdout is not None
        for line in self.process.stdout:
            found = re.search(r"Argyle sandbox at (\S+)", line)
            if found:
                self.base_url = found.group(1)
                break
        else:
            raise RuntimeError("the sandbox process did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _plain(base_url: str) -> int:
    """What a user would hand-write: follow ``next`` with a session, decode each page."""
    session = requests.Session()
    url: str | None = f"{base_url}/accounts?limit={PAGE}&offset=0"
    total = 0
    while url:
        answer = session.get(url, auth=(DEMO_KEY_ID, DEMO_KEY_SECRET), timeout=60)
        answer.raise_for_status()
        page = answer.json()
        total += len(page["results"])
        url = page["next"]
    session.close()
    return total


def _count(pages: list[bytes]) -> int:
    ids = [a["id"] for p in pages for a in orjson.loads(p)["results"]]
    assert len(ids) == len(set(ids)), "duplicate accounts"
    return len(ids)


def _time(run: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def _frame(base_url: str) -> tuple[int, int]:
    """``accounts_frame()`` on a cold in-memory cache: (accounts kept, records rejected)."""
    import warnings

    from argyle_nb.quarantine import RejectedRecordsWarning

    client = ArgyleClient(
        DEMO_KEY_ID, DEMO_KEY_SECRET, base_url=base_url, cache="memory", progress=False
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RejectedRecordsWarning)
            frame = client.accounts_frame()
        return len(frame), len(client.rejected)
    finally:
        client.close()


def _side_by_side(base_url: str, cache: Path) -> tuple[float, float, float]:
    plain, n_plain = _time(lambda: _plain(base_url))
    client = ArgyleClient(
        DEMO_KEY_ID, DEMO_KEY_SECRET, base_url=base_url, cache_path=cache, progress=False
    )
    try:
        cold, pages = _time(client.accounts.pages)
        assert client.cache.info().responses == len(pages)
        warm, again = _time(client.accounts.pages)
    finally:
        client.close()
    assert n_plain == _count(pages) == _count(again) == ACCOUNTS, (n_plain, len(pages))
    return plain, cold, warm


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="argyle-bench-") as tmp:
        root = Path(tmp)
        db = root / "sandbox.sqlite"
        seconds, accounts = _time(lambda: _seed(db))
        print(f"seeded {accounts:,} accounts ({accounts // PAGE} pages) in {seconds:.1f} s")
        results: dict[str, tuple[float, float, float]] = {}
        for name, latency in (("as served", 0.0), ("network-like (+100 ms)", LATENCY)):
            server = _Server(db, latency)
            try:
                results[name] = _side_by_side(server.base_url, root / f"cache-{latency}.sqlite")
            finally:
                server.stop()
        print(f"{'':24} {'plain':>8} {'cold':>8} {'warm':>8}   cold/plain  plain/cold  plain/warm")
        for name, (plain, cold, warm) in results.items():
            print(
                f"{name:24} {plain:7.2f}s {cold:7.2f}s {warm:7.2f}s   "
                f"{cold / plain:9.2f}x  {plain / cold:9.2f}x  {plain / warm:9.2f}x"
            )
        plain, cold, warm = results["as served"]
        net_plain, net_cold, net_warm = results["network-like (+100 ms)"]
        checks = [
            ("as served: cold within 3x of plain", cold / plain, cold <= 3 * plain),
            ("as served: warm no slower than plain", warm / plain, warm <= plain),
            ("network-like: cold >= 4x faster", net_plain / net_cold, net_cold * 4 <= net_plain),
            ("network-like: warm >= 20x faster", net_plain / net_warm, net_warm * 20 <= net_plain),
        ]
        for label, ratio, ok in checks:
            print(f"  {'PASS' if ok else 'FAIL'}  {label}: {ratio:.2f}x")

        clean_server = _Server(db, 0.0)
        corrupt_server = _Server(db, 0.0, "--corrupt", "0.01", "--fault-seed", "1")
        try:
            best: dict[str, float] = {"clean": float("inf"), "corrupt": float("inf")}
            counts: dict[str, tuple[int, int]] = {}
            for _ in range(2):  # interleaved, best of 2
                for name, server in (("clean", clean_server), ("corrupt", corrupt_server)):
                    seconds, counts[name] = _time(lambda s=server: _frame(s.base_url))
                    best[name] = min(best[name], seconds)
        finally:
            clean_server.stop()
            corrupt_server.stop()
        kept, rejected = counts["corrupt"]
        print(
            f"accounts_frame(), clean sandbox: {best['clean']:.2f} s ({counts['clean'][0]:,} "
            f"accounts); 1% corrupt: {best['corrupt']:.2f} s ({kept:,} kept + {rejected:,} "
            f"in client.rejected)"
        )
        ratio = best["corrupt"] / best["clean"]
        whole = kept + rejected == ACCOUNTS == counts["clean"][0]
        print(f"  {'PASS' if whole else 'FAIL'}  every account kept or rejected: {whole}")
        print(f"  {'PASS' if ratio < 3 else 'FAIL'}  1% corrupt within 3x of clean: {ratio:.2f}x")
        _busy(db, root)
        print(f"({os.cpu_count()} cores)")


def _ids_of(frame: Any) -> list[str]:
    return [str(i) for i in frame["id"]]


def _busy(db: Path, root: Path) -> None:
    """``accounts_frame()`` while a writer deletes users with accounts, beside a quiet one."""
    import shutil
    import threading
    import warnings

    from argyle_nb.provenance import ListChangedWarning, provenance_of

    busy_db = root / "busy.sqlite"
    shutil.copy(db, busy_db)  # the writer changes it; the other measurements keep theirs
    server = _Server(busy_db, 0.0)

    def client() -> ArgyleClient:
        return ArgyleClient(
            DEMO_KEY_ID, DEMO_KEY_SECRET, base_url=server.base_url, cache="memory", progress=False
        )

    try:
        with client() as reader:
            quiet, frame = _time(reader.accounts_frame)
        owners = list(dict.fromkeys(frame["user"].astype(str)))[::7]  # spread over the list
        stop = threading.Event()
        writes = [0]

        def writer() -> None:
            with client() as other:
                for owner in owners:
                    if stop.is_set():
                        return
                    other.users.create()
                    other.users.delete(owner)  # their accounts go, mid-list
                    writes[0] += 2
                    time.sleep(WRITE_PAUSE)  # a steady writer, not a flood

        thread = threading.Thread(target=writer)
        with client() as reader:
            thread.start()
            try:
                with warnings.catch_warnings(record=True) as seen:
                    warnings.simplefilter("always", ListChangedWarning)
                    before = writes[0]
                    busy, frame = _time(reader.accounts_frame)
                    during = writes[0] - before
            finally:
                stop.set()
                thread.join(timeout=300)
        with client() as reader:
            final = set(_ids_of(reader.accounts_frame()))  # the server's own state at the end
    finally:
        server.stop()
    got = _ids_of(frame)
    provenance = provenance_of(frame)
    assert provenance is not None
    print(
        f"accounts_frame() quiet: {quiet:.2f} s; while a writer made {during} writes: "
        f"{busy:.2f} s ({busy / quiet:.2f}x), {len(got):,} accounts kept, "
        f"{provenance.duplicates:,} duplicates met and removed, {provenance.rereads} pages "
        f"re-read, {provenance.passes} reads, vouched for: {provenance.consistent}"
        + (f" ({len(seen)} ListChangedWarning)" if seen else "")
    )
    unique = len(got) == len(set(got))
    complete = final <= set(got)
    print(f"  {'PASS' if unique else 'FAIL'}  no account twice")
    print(
        f"  {'PASS' if complete else 'FAIL'}  every account that existed throughout is kept "
        f"({len(final - set(got))} missing of {len(final):,})"
    )


if __name__ == "__main__":
    main()
