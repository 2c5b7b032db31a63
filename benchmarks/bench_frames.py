"""accounts_frame + availability_frame against what a user writes by hand, on the same bytes.

100,000 sandbox accounts held as the raw list-page bytes the client receives (envelope
pages of 200). Side by side in one run, best of 3:

* hand-written: ``orjson.loads`` of each page, then ``pandas.json_normalize`` (untyped, wide);
* ``orjson.loads`` of each page alone (dicts kept, nothing built; and results discarded);
* argyle_nb: ``accounts_and_availability`` (typed accounts + long availability, one read),
  and ``accounts_frame`` plus ``availability_frame`` called separately.

Target: >= 3x faster than the hand-written path (stretch: faster than ``orjson.loads``);
``accounts_frame`` <= 400 bytes per account (``memory_usage(deep=True)``).
"""

from __future__ import annotations

import gc
import random
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pandas as pd

from argyle_nb import frames
from argyle_nb.models import CONNECTION_ERROR_MESSAGES, RESOURCES

ACCOUNTS = 100_000
PAGE = 200
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _stamp(t: datetime, naive: bool = False) -> str:
    text = t.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return text if naive else text + "Z"


def fallback_accounts(n: int, seed: int = 5) -> Iterator[dict[str, Any]]:
    """Accounts shaped like the reference example (when the sandbox generator is absent)."""
    rng = random.Random(seed)
    items = ["homedepot", "amazon", "doordash", "us_army", "uber", "lyft", "walmart", "target"]
    sources = ["workday", "mypay", "amazonwarehouse_remote", "doordash", "uber", "adp"]
    codes = list(CONNECTION_ERROR_MESSAGES)
    user = str(uuid.UUID(int=rng.getrandbits(128)))
    for i in range(n):
        if i % 3 == 0:
            user = str(uuid.UUID(int=rng.getrandbits(128)))
        created = NOW - timedelta(seconds=rng.randrange(400 * 86400))
        status = rng.choices(["connected", "error", "connecting"], [0.75, 0.2, 0.05])[0]
        code = rng.choice(codes) if status == "error" else None
        link = rng.choice(items)
        availability: dict[str, Any] = {}
        for r in RESOURCES:
            if r in ("forms", "user_uploads") or (r == "pay_allocations" and rng.random() < 0.3):
                availability[r] = None
                continue
            entry: dict[str, Any] = {
                "status": rng.choices(["synced", "in_progress", "sync_failed"], [0.8, 0.1, 0.1])[0],
                "updated_at": _stamp(created + timedelta(hours=rng.randrange(1, 2000))),
            }
            if r in ("payouts", "activities"):
                start = created - timedelta(days=rng.randrange(30, 400))
                entry["available_count"] = rng.randrange(0, 300)
                entry["available_from"] = _stamp(start)
                entry["available_to"] = _stamp(created)
            availability[r] = entry
        yield {
            "id": str(uuid.UUID(int=rng.getrandbits(128))),
            "user": user,
            "availability": availability,
            "connection": {
                "status": status,
                "error_code": code,
                "updated_at": _stamp(created + timedelta(minutes=1), naive=True),
                "error_message": CONNECTION_ERROR_MESSAGES[code] if code else None,
            },
            "pay_distribution": {
                "status": "idle",
                "error_code": None,
                "updated_at": _stamp(created),
                "error_message": None,
            },
            "created_at": _stamp(created),
            "updated_at": _stamp(created + timedelta(hours=2)),
            "status": "done",
            "error_code": None,
            "data_partner": link,
            "link_item": link,
            "item": f"item_{items.index(link):09d}",
            "source": rng.choice(sources),
            "employers": [link],
            "was_connected": status == "connected",
        }


def sandbox_accounts(n: int) -> tuple[str, list[dict[str, Any]]]:
    """Accounts from the sandbox's generator when it is there, else the fallback builder."""
    try:
        from argyle_nb.sandbox.synth import generate  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return "fallback builder", list(fallback_accounts(n))
    out: list[dict[str, Any]] = []
    for _user, accounts in generate(users=n, seed=5, now=NOW):
        out.extend(accounts)
        if len(out) >= n:
            break
    return "argyle_nb.sandbox.synth", out[:n]


def envelope_pages(accounts: list[dict[str, Any]], size: int = PAGE) -> list[bytes]:
    """Envelope pages as the API serves them, encoded with orjson."""
    pages = []
    for start in range(0, len(accounts), size):
        chunk = accounts[start : start + size]
        nxt = f"http://sandbox/v1/accounts?limit={size}&offset={start + size}"
        pages.append(
            orjson.dumps(
                {
                    "count": len(accounts),
                    "next": nxt if start + size < len(accounts) else None,
                    "previous": None,
                    "results": chunk,
                }
            )
        )
    return pages


def _interleaved(contenders: dict[str, Callable[[], Any]], rounds: int = 5) -> dict[str, float]:
    """Best time of each contender over rounds that run every contender once, in turn.

    Interleaving keeps the comparison fair when the machine's load changes during the run.
    """
    best = dict.fromkeys(contenders, float("inf"))
    for _ in range(rounds):
        for name, fn in contenders.items():
            gc.collect()
            start = time.perf_counter()
            result = fn()
            best[name] = min(best[name], time.perf_counter() - start)
            del result
    return best


def hand_written(pages: list[bytes]) -> pd.DataFrame:
    records: list[Any] = []
    for page in pages:
        records.extend(orjson.loads(page)["results"])
    return pd.json_normalize(records)


def orjson_only(pages: list[bytes]) -> list[Any]:
    return [orjson.loads(page) for page in pages]


def main() -> None:
    origin, accounts = sandbox_accounts(ACCOUNTS)
    pages = envelope_pages(accounts)
    del accounts
    size = sum(map(len, pages))
    print(f"{ACCOUNTS:,} accounts from the {origin}, {len(pages)} pages, {size / 1e6:.0f} MB")

    t = _interleaved(
        {
            "hand": lambda: hand_written(pages),
            "loads": lambda: orjson_only(pages),
            "loads_discarded": lambda: [orjson.loads(page) and None for page in pages],
            "both": lambda: frames.accounts_and_availability(pages),
            "sep": lambda: (frames.accounts_frame(pages), frames.availability_frame(pages)),
        }
    )
    t_hand, t_loads, t_both, t_sep = t["hand"], t["loads"], t["both"], t["sep"]
    accounts_df, availability_df = frames.accounts_and_availability(pages)
    per_account = accounts_df.memory_usage(deep=True).sum() / len(accounts_df)
    print(f"orjson.loads + json_normalize (hand-written)   {t_hand:6.2f} s")
    print(f"orjson.loads alone (dicts kept)                {t_loads:6.2f} s")
    print(f"orjson.loads alone (each result discarded)     {t['loads_discarded']:6.2f} s")
    print(f"accounts_and_availability (one read)           {t_both:6.2f} s")
    print(f"accounts_frame + availability_frame (2 reads)  {t_sep:6.2f} s")
    print(
        f"ratio vs hand-written: {t_hand / t_both:.1f}x (one read), {t_hand / t_sep:.1f}x (2 reads)"
        "  [target >= 3x]"
    )
    print(
        f"ratio vs orjson.loads: {t_loads / t_both:.2f}x (one read), {t_loads / t_sep:.2f}x "
        "(2 reads)  [stretch > 1]"
    )
    print(
        f"ratio vs orjson.loads, results discarded: {t['loads_discarded'] / t_both:.2f}x "
        f"(one read), {t['loads_discarded'] / t_sep:.2f}x (2 reads)"
    )
    print(
        f"accounts_frame: {per_account:.0f} bytes per account [target <= 400];"
        f" availability rows: {len(availability_df):,}"
    )
    _wide_metadata()


def _wide_metadata() -> None:
    """``users_frame`` on users with very wide metadata (the sandbox accepts such a user):
    21 users with 40,000 keys each, beside 100,000 users with a few keys (the usual)."""
    import tracemalloc

    wide = [
        {
            "id": f"00000000-0000-4000-8000-{n:012d}",
            "created_at": "2026-01-01T00:00:00Z",
            "external_metadata": {f"key {i}": i for i in range(40_000)},
        }
        for n in range(21)
    ]
    page = orjson.dumps({"count": len(wide), "next": None, "results": wide})
    started = time.perf_counter()
    users = frames.users_frame(page)
    seconds = time.perf_counter() - started
    tracemalloc.start()  # a second run for the memory: tracing slows it down
    frames.users_frame(page)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    left_out = users.attrs[frames.META_LEFT_OUT]
    print(
        f"users_frame, 21 users x 40,000 metadata keys ({len(page) / 1e6:.1f} MB): "
        f"{seconds:.2f} s, peak {peak / 1e6:.0f} MB traced, {users.shape[1]} columns "
        f"({left_out:,} keys kept only in external_metadata)  [target < 1 s]"
    )
    print(f"  {'PASS' if seconds < 1 else 'FAIL'}  wide metadata well under a second")
