"""A plain model of a portfolio that lives (dicts of records, changed by hand), staged as an
export stages its tables, and read back from a snapshot store: the reference the snapshot
tests compare against."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from argyle_nb.dataset._snapshots import KEYS, SnapshotStore

State = dict[str, dict[Any, dict[str, Any]]]
T0 = datetime(2026, 12, 1, tzinfo=UTC)
TABLES = tuple(KEYS)


def user(i: int, group: str) -> dict[str, Any]:
    return {"id": f"u{i:05d}", "created_at": T0, "external_metadata": f'{{"group": "{group}"}}'}


def account(i: int, status: str) -> dict[str, Any]:
    return {"id": f"a{i:05d}", "user": f"u{i // 2:05d}", "connection_status": status, "scans": i}


def portfolio(users: int) -> State:
    out: State = {t: {} for t in TABLES}
    for i in range(users):
        out["users"][f"u{i:05d}"] = user(i, "a" if i % 3 else "b")
    for i in range(2 * users):
        out["accounts"][f"a{i:05d}"] = account(i, "connected")
        for resource in ("paystubs", "shifts"):
            out["availability"][(f"a{i:05d}", resource)] = {
                "account": f"a{i:05d}",
                "resource": resource,
                "status": "synced",
            }
    out["rejected"][0] = {"endpoint": "/v1/users", "error": "has no 'id'", "raw": "{}"}
    return out


def live_a_day(state: State, rng: random.Random) -> None:
    """A few users sign up, change or leave; some accounts lose their connection."""
    users = state["users"]
    for key in rng.sample(sorted(users), 3):  # metadata edited
        users[key] = {**users[key], "external_metadata": '{"group": "c"}'}
    del users[rng.choice(sorted(users))]  # one user gone
    n = len(users) + 1000
    users[f"u{n:05d}"] = user(n, "a")  # one sign-up
    accounts = state["accounts"]
    for key in rng.sample(sorted(accounts), 4):
        accounts[key] = {**accounts[key], "connection_status": "error"}
    gone = rng.choice(sorted(accounts))
    del accounts[gone]
    for resource in ("paystubs", "shifts"):
        state["availability"].pop((gone, resource), None)
    state["rejected"] = {0: {"endpoint": "/v1/accounts", "error": "bad", "raw": f"{n}"}}


def stage(folder: Path, state: State) -> dict[str, list[str]]:
    """The state as an export stages it: one Parquet file per table, in key order."""
    folder.mkdir(parents=True)
    staged = {}
    for table in TABLES:
        rows = [state[table][k] for k in sorted(state[table], key=str)]
        file = folder / f"{table}.parquet"
        pq.write_table(pa.Table.from_pylist(rows), file)
        staged[table] = [str(file)]
    return staged


def read(store: SnapshotStore, table: str, number: int) -> list[tuple[Any, ...]]:
    db = duckdb.connect()
    rel = store.relation(db, table, store.snapshot(number))
    names = [c for c in rel.columns if c != "_seen"]
    rows = rel.select(*names).fetchall()
    return sorted(tuple((n, v) for n, v in zip(names, row, strict=True)) for row in rows)


def expected(state: State, table: str) -> list[tuple[Any, ...]]:
    return sorted(tuple(sorted(r.items())) for r in state[table].values())


def as_read(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted(tuple(sorted(r)) for r in rows)
