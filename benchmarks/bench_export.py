"""``client.export(path)`` beside a plain sequential ``requests`` loop that writes the same
pages to Parquet (issue 28: at least as fast as the loop).

Seeds 30,000 sandbox users (about 39,000 accounts) once; each side then reads every page of
``GET /v1/users`` and ``GET /v1/accounts`` (200 a page) from the same sandbox on loopback,
in its own process (client and server do not share a GIL, as over a network):

* plain: a ``requests.Session`` loop following ``next``, ``.json()`` per page, each batch
  of 50 pages written as one Parquet file (``pa.Table.from_pylist``): no validation, no
  provenance, no rejected records, one page at a time;
* export: ``client.export(path)`` with an SQLite HTTP cache (validation, rejected records
  kept, provenance, the walk's checks, the facts the analyses start from, the atomic
  commit; pages after the first fetched concurrently). The cache file's size after it is
  printed: the pages go to the dataset, not a second time into the cache.

Then a cold fetch into frames from the same sandbox: ``users_frame()`` and
``accounts_frame()`` of a client with an empty in-memory cache, beside a plain loop that
follows ``next`` and ``pandas.json_normalize``s each list (target: at least as fast).

Best of 2, interleaved. Measured 2026-12-07 on 2 cores, 38,994 accounts: before the
export stopped writing its pages into the cache (sandbox in the benchmark's process):
plain 2.23 s, export 4.57 s (0.49x), 57.3 MB of cache; after: plain 1.90 s, export 3.96 s
(0.48x), no cache. With the sandbox in its own process: plain 1.89-2.06 s, export
3.17-3.38 s (0.59-0.63x), no cache; the cold fetch into frames 2.89 s against the plain
loop's 2.89 s (1.00x; 0.82x in a noisier run). The export is bound by the client's own
work on one core (validating and building each batch, writing it, the facts: 0.4 s of
it), not by fetching: three times as many pages in flight changed nothing. With every
export a snapshot of a Delta Lake store (staged as Parquet, then added: 2026-12-07, a
slower run): plain 2.62 s, export 4.98 s (0.53x); the cold fetch into frames 3.77 s
against the plain loop's 4.03 s (1.07x).

Run: ``python -m benchmarks export`` (part of ``make bench``).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import requests

from argyle_nb.client import ArgyleClient
from argyle_nb.sandbox import DEMO_KEY_ID, DEMO_KEY_SECRET
from benchmarks.bench_client import _Server

USERS = 30_000
BATCH = 50


def _bodies(session: requests.Session, base_url: str, noun: str) -> Iterator[dict[str, Any]]:
    """Every page of ``GET /v1/<noun>``, by hand: ``next`` followed, ``.json()`` each."""
    url: str | None = f"{base_url}/{noun}?limit=200&offset=0"
    while url:
        page = session.get(url, timeout=30)
        page.raise_for_status()
        body: dict[str, Any] = page.json()
        yield body
        url = body["next"]


def _plain(base_url: str, auth: tuple[str, str], folder: Path) -> int:
    """Every page of both lists written 50 pages a Parquet file; the accounts."""
    folder.mkdir(parents=True, exist_ok=True)
    session = requests.Session()
    session.auth = auth
    accounts = 0
    for noun in ("users", "accounts"):
        batch: list[dict[str, object]] = []
        part = 0
        for body in _bodies(session, base_url, noun):
            if noun == "users":  # metadata of every shape: kept as JSON text, as ours does
                for user in body["results"]:
                    user["external_metadata"] = json.dumps(user["external_metadata"])
            batch.extend(body["results"])
            if noun == "accounts":
                accounts += len(body["results"])
            if len(batch) >= BATCH * 200 or (body["next"] is None and batch):
                pq.write_table(pa.Table.from_pylist(batch), folder / f"{noun}-{part:05d}.parquet")
                batch, part = [], part + 1
    return accounts


def _plain_frames(base_url: str, auth: tuple[str, str]) -> int:
    """Every page of both lists into ``json_normalize`` frames; their rows."""
    session = requests.Session()
    session.auth = auth
    rows = 0
    for noun in ("users", "accounts"):
        records = [r for body in _bodies(session, base_url, noun) for r in body["results"]]
        rows += len(pd.json_normalize(records))
    return rows


def _frames(base_url: str, auth: tuple[str, str]) -> int:
    """``users_frame()`` and ``accounts_frame()`` of a client with a new in-memory cache."""
    with ArgyleClient(*auth, base_url=base_url, cache="memory", progress=False) as client:
        return len(client.users_frame()) + len(client.accounts_frame())


def _export(base_url: str, auth: tuple[str, str], folder: Path) -> tuple[int, int]:
    """``client.export`` into ``folder``; the accounts and the cache file's bytes."""
    cache = folder / "cache.sqlite"
    with (
        ArgyleClient(
            *auth, base_url=base_url, cache="sqlite", cache_path=cache, progress=False
        ) as client,
        client.export(folder / "portfolio") as ds,
    ):
        accounts = ds.rows("accounts")
    size = sum(p.stat().st_size for p in folder.glob("cache.sqlite*"))
    return accounts, size


def main() -> None:
    auth = (DEMO_KEY_ID, DEMO_KEY_SECRET)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        server = _Server(work / "sandbox.sqlite", 0.0, "--users", str(USERS), "--seed", "3")
        try:
            best = dict.fromkeys(("plain", "export", "plain frames", "frames"), float("inf"))
            cache_bytes = accounts = 0
            for round_ in range(2):
                started = time.perf_counter()
                accounts = _plain(server.base_url, auth, work / f"plain-{round_}")
                best["plain"] = min(best["plain"], time.perf_counter() - started)
                started = time.perf_counter()
                exported, cache_bytes = _export(server.base_url, auth, work / f"x-{round_}")
                best["export"] = min(best["export"], time.perf_counter() - started)
                assert exported == accounts, (exported, accounts)
                started = time.perf_counter()
                rows = _plain_frames(server.base_url, auth)
                best["plain frames"] = min(best["plain frames"], time.perf_counter() - started)
                started = time.perf_counter()
                assert _frames(server.base_url, auth) == rows
                best["frames"] = min(best["frames"], time.perf_counter() - started)
        finally:
            server.stop()
    plain, ours = best["plain"], best["export"]
    print(f"{USERS:,} users, {accounts:,} accounts (best of 2)")
    print(f"  plain loop to Parquet: {plain:6.2f} s  {accounts / plain:8,.0f} accounts/s")
    print(f"  client.export:         {ours:6.2f} s  {accounts / ours:8,.0f} accounts/s")
    print(f"  export / plain speed:  {plain / ours:6.2f}x (target >= 1)")
    print(f"  HTTP cache after the export: {cache_bytes / 1e6:.1f} MB")
    plain, ours = best["plain frames"], best["frames"]
    print("cold fetch into frames (users and accounts):")
    print(f"  plain loop + json_normalize: {plain:6.2f} s")
    print(f"  users_frame + accounts_frame: {ours:6.2f} s (memory cache)")
    print(f"  frames / plain speed:         {plain / ours:6.2f}x (target >= 1)")
