"""What setting bad records aside costs: clean pages, 0.1% and 1% corrupt, side by side.

100,000 sandbox accounts as envelope pages of 200, corrupted by the sandbox's own fault
mode (``Faults(corrupt=...)``: wrong types, records of an unknown shape). Contenders, best
of 3, interleaved:

* ``accounts_frame(pages, rejected=[])`` on clean pages (the fast path: one Arrow read);
* the same on pages with 0.1% and 1% corrupt records (pages that fail are halved until
  each bad record stands alone; the good ones are still read by Arrow);
* what one would write by hand to drop bad records: ``Account.model_validate`` on every
  record, then the frame from the records that passed.

Targets: clean pages cost nothing extra (the fast path is the plain read); 0.1% corrupt
costs < 3x the clean read; 1% corrupt (about 9 pages in 10 fail) stays faster than
validating every record with pydantic. Measured 2026-11-23 on 2 cores: clean 0.56 s,
0.1% 1.57 s (2.8x), 1% 4.05 s (7.2x), pydantic per record 6.30 s (1.6x slower than ours).
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError

from argyle_nb import frames
from argyle_nb.models import Account
from argyle_nb.quarantine import RejectedRecord
from argyle_nb.sandbox.faults import Faults
from benchmarks.bench_frames import _interleaved, envelope_pages, sandbox_accounts

ACCOUNTS = 100_000


def corrupted(accounts: list[dict[str, Any]], fraction: float) -> list[dict[str, Any]]:
    faults = Faults(corrupt=fraction, seed=1)
    return [orjson.loads(faults.corrupt_record("accounts", orjson.dumps(a))) for a in accounts]


def screened(pages: list[bytes]) -> tuple[int, int]:
    rejected: list[RejectedRecord] = []
    frame = frames.accounts_frame(pages, rejected=rejected)
    return len(frame), len(rejected)


def pydantic_then_frame(pages: list[bytes]) -> tuple[int, int]:
    good: list[Any] = []
    bad = 0
    for page in pages:
        for record in orjson.loads(page)["results"]:
            try:
                Account.model_validate(record)
            except ValidationError:
                bad += 1
            else:
                good.append(record)
    return len(frames.accounts_frame(good)), bad


def main() -> None:
    origin, accounts = sandbox_accounts(ACCOUNTS)
    clean = envelope_pages(accounts)
    some = envelope_pages(corrupted(accounts, 0.001))
    more = envelope_pages(corrupted(accounts, 0.01))
    del accounts
    print(f"{ACCOUNTS:,} accounts from the {origin}, {len(clean)} pages")
    for name, pages in (("clean", clean), ("0.1%", some), ("1%", more)):
        kept, rejected = screened(pages)
        print(f"  {name:>5}: {kept:,} read, {rejected:,} set aside")
    t = _interleaved(
        {
            "clean": lambda: screened(clean),
            "0.1%": lambda: screened(some),
            "1%": lambda: screened(more),
            "pydantic": lambda: pydantic_then_frame(more),
        },
        rounds=3,
    )
    print(f"accounts_frame, clean pages                     {t['clean']:6.2f} s")
    print(f"accounts_frame, 0.1% corrupt (set aside)        {t['0.1%']:6.2f} s")
    print(f"accounts_frame, 1% corrupt (set aside)          {t['1%']:6.2f} s")
    print(f"pydantic per record + frame of the good, 1%     {t['pydantic']:6.2f} s")
    print(
        f"cost vs clean: 0.1% corrupt {t['0.1%'] / t['clean']:.2f}x [target < 3x], "
        f"1% corrupt {t['1%'] / t['clean']:.2f}x"
    )
    print(f"ratio vs pydantic per record (1%): {t['pydantic'] / t['1%']:.1f}x faster  [target > 1]")


if __name__ == "__main__":
    main()
