"""Small snapshots written straight from JSON pages by :class:`DatasetWriter` (no server):
``users`` valid users, two accounts each, and one invalid user (a rejected record), so
every table has rows. A snapshot of ``n`` users is recognisable by its counts."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from argyle_nb.dataset import Dataset, DatasetWriter, ServedPage, Snapshot
from argyle_nb.dataset._facts import Derive
from argyle_nb.dataset._write import accounts_batch, users_batch

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
_ACCOUNT: dict[str, Any] = orjson.loads((FIXTURES / "accounts_03_list_accounts.json").read_bytes())[
    0
]
#: Availability rows of one account (its resources with a status).
RESOURCES = sum(1 for v in _ACCOUNT["availability"].values() if v is not None)


def _now() -> datetime:
    return datetime.now(UTC)


def _page(records: list[dict[str, Any]]) -> ServedPage:
    body = {"count": len(records), "next": None, "previous": None, "results": records}
    return ServedPage(raw=orjson.dumps(body), url="https://api.test/v1/x", records=len(records))


def user_records(n: int) -> list[dict[str, Any]]:
    valid = [
        {"id": f"00000000-0000-4000-8000-{i:012d}", "created_at": "2026-01-01T00:00:00Z"}
        for i in range(n)
    ]
    return [*valid, {"id": "not-a-uuid", "created_at": "2026-01-01T00:00:00Z"}]


def account_records(n: int) -> list[dict[str, Any]]:
    out = []
    for i in range(2 * n):
        account = copy.deepcopy(_ACCOUNT)
        account["id"] = f"10000000-0000-4000-8000-{i:012d}"
        account["user"] = f"00000000-0000-4000-8000-{i // 2:012d}"
        out.append(account)
    return out


def write_version(
    path: Path, users: int, *, step: Callable[[str], object] | None = None, per_page: int = 4
) -> Snapshot:
    """Export a snapshot of ``users`` users to ``path``; the snapshot."""
    return write_records(
        path, user_records(users), account_records(users), step=step, per_page=per_page
    )


def write_records(
    path: Path,
    users: list[dict[str, Any]],
    accounts: list[dict[str, Any]],
    *,
    step: Callable[[str], object] | None = None,
    per_page: int = 4,
    facts: Derive | None = None,
) -> Snapshot:
    """Export these user and account records (as the API would list them, ``per_page``
    a page, in this order) to ``path``, with the facts ``facts`` derives (as
    ``client.export`` does with :func:`argyle_nb.analysis.facts`); the snapshot."""
    writer = DatasetWriter(path, now=_now, batch_pages=1, step=step)
    try:
        provenance = {}
        for endpoint, build, records in (
            ("/v1/users", users_batch, users),
            ("/v1/accounts", accounts_batch, accounts),
        ):
            lists = writer.list(endpoint, "test", build)
            lists.begin(1)
            for start in range(0, len(records), per_page):
                lists.page(_page(records[start : start + per_page]))
            lists.flush()
            started = _now()
            provenance[endpoint] = lists.provenance(
                base_url="https://api.test/v1",
                environment="test",
                fetch_started=started,
                fetch_finished=started,
            )
        return writer.commit(provenance, facts=facts)
    except BaseException:
        writer.abort()
        raise


def counts(ds: Dataset) -> dict[str, int]:
    """Rows of each table, counted by DuckDB in the files."""
    tables = ("users", "accounts", "availability", "rejected")
    return {t: int(ds.sql(f"select count(*) from {t}").fetchall()[0][0]) for t in tables}


def expected(users: int) -> dict[str, int]:
    """What a snapshot of ``users`` users holds (counted from the records written)."""
    return {
        "users": users,
        "accounts": 2 * users,
        "availability": 2 * users * RESOURCES,
        "rejected": 1,
    }


def check(path: Path, snapshot: int | None = None) -> dict[str, int]:
    """Open the snapshot ``snapshot`` (default the latest) at ``path``: it must be whole
    (counts of one export, in the rows and in the catalogue alike); its counts."""
    with Dataset(path, snapshot=snapshot) as ds:
        got = counts(ds)
        assert got == expected(got["users"]), got
        assert {t: ds.rows(t) for t in got} == got
        return got


def export_in_process(path: str, sizes: list[int], pause: float, seed: int) -> list[int]:
    """Run in a process of its own: exports of each size in turn, pausing up to ``pause``
    seconds at each step of each and checking the dataset there; the sizes seen."""
    import random
    import time

    rng = random.Random(seed)
    seen: list[int] = []

    def step(name: str) -> None:
        time.sleep(rng.uniform(0, pause))
        seen.append(check(Path(path))["users"])

    for size in sizes:
        write_version(Path(path), size, step=step)
    return seen
