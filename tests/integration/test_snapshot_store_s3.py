"""A team's store on object storage: snapshots added to and read from an ``s3://`` URL on
an S3-compatible server the test starts on loopback (moto), as on a local folder."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import duckdb

from argyle_nb.dataset._snapshots import SnapshotStore
from tests.object_store import object_store
from tests.portfolio_model import T0, as_read, expected, live_a_day, portfolio, read, stage


def test_snapshots_on_object_storage_read_back_as_added(tmp_path: Path) -> None:
    with object_store(tmp_path / "moto.log") as server:
        store = SnapshotStore(f"{server.bucket('team')}/portfolio", server.options())
        state, rng, states = portfolio(40), random.Random(3), []
        for day in range(3):
            if day:
                live_a_day(state, rng)
            states.append({t: dict(rows) for t, rows in state.items()})
            store.add(stage(tmp_path / f"{day}", state), taken_at=T0 + timedelta(days=day))
        assert [s.users for s in store.snapshots()] == [len(s["users"]) for s in states]
        assert store.snapshot(2).bases["users"] == store.snapshot(0).export  # changes only
        for number, then in enumerate(states):
            for table in ("users", "accounts", "availability", "rejected"):
                assert as_read(read(store, table, number)) == expected(then, table)
        # Another reader (DuckDB through the store) counts the same.
        db = duckdb.connect()
        rel = store.relation(db, "accounts", store.snapshot(1))
        assert rel.aggregate("count(*)").fetchall()[0][0] == len(states[1]["accounts"])
    # The server was stopped by its PID.
    assert not Path(f"/proc/{server.pid}").exists()
