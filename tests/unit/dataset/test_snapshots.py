"""The snapshot store: each snapshot reads back exactly as it was added, whatever came
before, while only what changed is written; checked against a plain model of the
portfolio (dicts of records, changed by hand) and counts made by a plain loop."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake

from argyle_nb.dataset import Dataset, DatasetError
from argyle_nb.dataset._snapshots import SnapshotStore
from tests.portfolio_model import (
    T0,
    TABLES,
    State,
    as_read,
    expected,
    live_a_day,
    portfolio,
    read,
    stage,
)


@pytest.fixture
def lived(tmp_path: Path) -> tuple[SnapshotStore, list[State]]:
    """Six days of a 300-user portfolio added to a store; the state at each."""
    rng = random.Random(5)
    store = SnapshotStore(tmp_path / "store")
    state = portfolio(300)
    states = []
    for day in range(6):
        if day:
            live_a_day(state, rng)
        states.append({t: dict(rows) for t, rows in state.items()})
        store.add(stage(tmp_path / f"day{day}", state), taken_at=T0 + timedelta(days=day))
    return store, states


def test_every_snapshot_reads_back_as_it_was_added(
    lived: tuple[SnapshotStore, list[State]],
) -> None:
    store, states = lived
    assert [s.number for s in store.snapshots()] == list(range(len(states)))
    for number, state in enumerate(states):
        for table in TABLES:
            assert as_read(read(store, table, number)) == expected(state, table), (table, number)


def test_across_gives_each_snapshot_as_it_was_added(
    lived: tuple[SnapshotStore, list[State]],
) -> None:
    # One read of a table for many snapshots (in any order, one twice): each snapshot's
    # rows are the plain model's state that day.
    store, states = lived
    numbers = [4, 0, 2, 5, 0]
    with Dataset(store.uri) as ds:
        for table in ("users", "accounts", "availability", "rejected"):
            view = ds.across(table, numbers)
            for number in set(numbers):
                rel = ds.sql(
                    f"select * exclude (snapshot, _seen) from {view} where snapshot = $n",
                    {"n": number},
                )
                rows = [tuple(zip(rel.columns, row, strict=True)) for row in rel.fetchall()]
                twice = numbers.count(number)
                assert as_read(rows) == sorted(expected(states[number], table) * twice), (
                    table,
                    number,
                )


def test_only_what_changed_is_written_and_counted(
    lived: tuple[SnapshotStore, list[State]],
) -> None:
    store, states = lived
    snapshots = store.snapshots()
    first = snapshots[0].export
    for before, after, snap in zip(states, states[1:], snapshots[1:], strict=False):
        # A plain loop over the two states: records new, changed or gone.
        differ = {
            t: sum(
                1 for k in before[t].keys() | after[t].keys() if before[t].get(k) != after[t].get(k)
            )
            for t in ("users", "accounts", "availability")
        }
        assert snap.changed == differ["users"] + differ["accounts"]
        # Every keyed table is written as changes against the first export.
        assert snap.bases == {
            "users": first,
            "accounts": first,
            "availability": first,
            "rejected": None,
        }
    # What the last export wrote: its changes against the first (a plain loop again).
    last = snapshots[-1].export
    for table in ("users", "accounts", "availability"):
        written = DeltaTable(f"{store.uri}/{table}").to_pyarrow_table(
            filters=[("_export", "=", last)]
        )
        base, now = states[0][table], states[-1][table]
        differ = sum(1 for k in base.keys() | now.keys() if base.get(k) != now.get(k))
        assert written.num_rows == differ, table
        assert written.num_rows < len(now) / 10


def test_a_new_base_is_written_when_most_records_changed(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "store")
    state = portfolio(50)
    store.add(stage(tmp_path / "0", state), taken_at=T0)
    for key, account in state["accounts"].items():
        state["accounts"][key] = {**account, "scans": account["scans"] + 1}
    second = store.add(stage(tmp_path / "1", state), taken_at=T0 + timedelta(days=1))
    assert second.bases["accounts"] is None  # every account changed: written full
    assert second.bases["users"] == store.snapshot(0).export  # no user did
    assert second.changed == len(state["accounts"])
    assert as_read(read(store, "accounts", 1)) == expected(state, "accounts")


def test_changes_are_counted_against_the_latest_snapshot_when_each_is_a_new_base(
    tmp_path: Path,
) -> None:
    # Every account scanned daily (the sandbox's story): each export of the accounts a
    # new base, while the users are written as changes; the count is a plain loop's.
    rng = random.Random(11)
    store = SnapshotStore(tmp_path / "store")
    state = portfolio(80)
    before = {t: dict(rows) for t, rows in state.items()}
    store.add(stage(tmp_path / "0", state), taken_at=T0)
    for day in range(1, 4):
        live_a_day(state, rng)
        for key, account in state["accounts"].items():
            state["accounts"][key] = {**account, "scans": account["scans"] + 1}
        snap = store.add(stage(tmp_path / str(day), state), taken_at=T0 + timedelta(days=day))
        differ = sum(
            1
            for t in ("users", "accounts")
            for k in before[t].keys() | state[t].keys()
            if before[t].get(k) != state[t].get(k)
        )
        assert snap.bases["accounts"] is None
        assert snap.bases["users"] == store.snapshot(0).export
        assert snap.changed == differ, day
        before = {t: dict(rows) for t, rows in state.items()}


def test_a_table_opens_from_a_checkpoint_of_its_log(
    lived: tuple[SnapshotStore, list[State]],
) -> None:
    # The tables write a checkpoint of their log every 10 commits: after 12 exports each
    # has one (as Delta Lake lays it out), and a snapshot reads the same.
    store, states = lived
    state = states[-1]
    for day in range(len(states), 12):
        store.add(
            stage(Path(store.uri).parent / f"more{day}", state), taken_at=T0 + timedelta(days=day)
        )
    for name in ("users", "accounts", "snapshots"):
        log = Path(store.uri) / name / "_delta_log"
        assert (log / "_last_checkpoint").is_file(), name
        assert list(log.glob("*.checkpoint.parquet")), name
    assert as_read(read(store, "accounts", 11)) == expected(state, "accounts")


def test_a_column_the_base_lacks_makes_a_new_base(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "store")
    state = portfolio(20)
    store.add(stage(tmp_path / "0", state), taken_at=T0)
    first = {t: dict(rows) for t, rows in state.items()}
    state["users"] = {k: {**u, "region": "west"} for k, u in state["users"].items()}
    second = store.add(stage(tmp_path / "1", state), taken_at=T0 + timedelta(days=1))
    assert second.bases["users"] is None
    assert as_read(read(store, "users", 1)) == expected(state, "users")
    # The first snapshot reads as it was: without the column.
    assert as_read(read(store, "users", 0)) == expected(first, "users")


def test_an_export_that_never_committed_is_never_read(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "store")
    state = portfolio(20)
    store.add(stage(tmp_path / "0", state), taken_at=T0)
    # What a crash between an export's rows and its catalogue row leaves behind.
    orphan = pa.table({"id": ["u99999"], "created_at": [T0], "external_metadata": ["{}"]})
    orphan = orphan.append_column("_seen", pa.array([0], pa.int64()))
    orphan = orphan.append_column("_export", pa.array(["29990101T000000000000Z-1-dead"]))
    orphan = orphan.append_column("_removed", pa.array([False]))
    write_deltalake(f"{store.uri}/users", orphan, mode="append", partition_by=["_export"])
    assert len(store.snapshots()) == 1
    assert as_read(read(store, "users", 0)) == expected(state, "users")


def test_snapshots_are_found_by_number_and_by_time(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "store")
    with pytest.raises(DatasetError, match="no snapshots"):
        store.snapshot()
    state = portfolio(5)
    for day in range(3):
        store.add(stage(tmp_path / f"{day}", state), taken_at=T0 + timedelta(days=day))
    assert store.snapshot().number == 2
    assert store.snapshot(-3).number == 0
    assert store.snapshot(as_of=T0 + timedelta(days=1, hours=5)).number == 1
    assert store.snapshot(as_of=T0 + timedelta(days=1)).number == 1
    for wrong, match in ((3, "does not exist"), (-4, "does not exist"), (True, "does not exist")):
        with pytest.raises(DatasetError, match=match):
            store.snapshot(wrong)
    with pytest.raises(DatasetError, match="no snapshot was taken by"):
        store.snapshot(as_of=T0 - timedelta(seconds=1))
    with pytest.raises(DatasetError, match="no time zone"):
        store.snapshot(as_of=datetime(2026, 12, 2))
    with pytest.raises(DatasetError, match="not both"):
        store.snapshot(1, as_of=T0)


def test_snapshots_are_numbered_by_the_time_they_were_taken(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "store")
    a, b = portfolio(3), portfolio(4)
    store.add(stage(tmp_path / "late", b), taken_at=T0 + timedelta(days=1))
    store.add(stage(tmp_path / "early", a), taken_at=T0)  # committed second, taken first
    assert [(s.number, s.users) for s in store.snapshots()] == [(0, 3), (1, 4)]
    assert as_read(read(store, "users", 1)) == expected(b, "users")


def test_a_damaged_catalogue_row_is_named(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "store")
    store.add(stage(tmp_path / "0", portfolio(3)), taken_at=T0)
    row = DeltaTable(f"{store.uri}/snapshots").to_pyarrow_table()
    row = row.set_column(row.schema.get_field_index("bases"), "bases", pa.array(["{not json"]))
    row = row.set_column(row.schema.get_field_index("export"), "export", pa.array(["x-1-2"]))
    write_deltalake(f"{store.uri}/snapshots", row, mode="append")
    with pytest.raises(DatasetError, match="'x-1-2' is damaged"):
        store.snapshots()


def test_the_store_keeps_its_storage_options_out_of_its_repr(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path, {"AWS_SECRET_ACCESS_KEY": "s3cr3t-value"})
    assert "s3cr3t" not in repr(store)


def test_other_engines_read_the_store_as_delta_tables(
    lived: tuple[SnapshotStore, list[State]],
) -> None:
    import polars as pl

    store, states = lived
    first = store.snapshot(0).export
    users = pl.scan_delta(f"{store.uri}/users").filter(pl.col("_export") == first).collect()
    assert sorted(users["id"].to_list()) == sorted(states[0]["users"])
    catalogue = pl.read_delta(f"{store.uri}/snapshots")
    assert sorted(catalogue["users"].to_list()) == sorted(len(s["users"]) for s in states)


def test_a_walk_that_saw_a_record_twice_is_written_full(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "store")
    state = portfolio(10)
    store.add(stage(tmp_path / "0", state), taken_at=T0)
    staged = stage(tmp_path / "1", state)
    twice = pq.read_table(staged["users"][0])
    pq.write_table(pa.concat_tables([twice, twice.slice(0, 1)]), staged["users"][0])
    second = store.add(staged, taken_at=T0 + timedelta(days=1))
    assert second.bases["users"] is None
    rows = read(store, "users", 1)
    assert len(rows) == len(state["users"]) + 1  # both rows kept, as the walk saw them


def test_keeping_the_newest_snapshots_removes_what_only_the_others_needed(
    lived: tuple[SnapshotStore, list[State]],
) -> None:
    store, states = lived
    before = store.snapshots()
    users = f"{store.uri}/users"
    # Rows of two exports that never committed: one that crashed before the newest
    # snapshot to forget was taken, one still running (begun after every snapshot).
    for orphan in ("20261202T000000000000Z-1-deadbeef", "29990101T000000000000Z-1-0badc0de"):
        row = pa.table({"id": ["u99999"], "created_at": [T0], "external_metadata": ["{}"]})
        row = row.append_column("_seen", pa.array([0], pa.int64()))
        row = row.append_column("_export", pa.array([orphan]))
        row = row.append_column("_removed", pa.array([False]))
        write_deltalake(users, row, mode="append", partition_by=["_export"])
    files_before = len(DeltaTable(users).file_uris())
    forgotten = store.keep(2)
    assert [s.export for s in forgotten] == [s.export for s in before[:4]]
    after = store.snapshots()
    assert [(s.number, s.export) for s in after] == [(0, before[4].export), (1, before[5].export)]
    for number, state in enumerate(states[-2:]):
        for table in TABLES:
            assert as_read(read(store, table, number)) == expected(state, table), (table, number)
    # The rows left: those of the two kept exports and of the base their changes apply to.
    left = set(DeltaTable(users).to_pyarrow_table(columns=["_export"])["_export"].to_pylist())
    still_running = "29990101T000000000000Z-1-0badc0de"
    assert left == {before[0].export, before[4].export, before[5].export, still_running}
    assert len(DeltaTable(users).file_uris()) < files_before
    # What time travel kept is gone too: only the files the table now lists are on disk
    # (besides its log's checkpoints).
    on_disk = {str(p) for p in Path(users).rglob("*.parquet") if "_delta_log" not in p.parts}
    assert on_disk == set(DeltaTable(users).file_uris())
    assert store.keep(2) == []
    with pytest.raises(DatasetError, match="keep must be a whole number"):
        store.keep(0)


@pytest.mark.parametrize(("share", "full"), [(0.9, True), (0.55, True), (0.3, False)])
def test_windows_mostly_changed_are_written_full_and_every_snapshot_reads_back(
    tmp_path: Path, share: float, full: bool
) -> None:
    # 80,000 windows: enough for a sample of one key in 32 to decide (a day that scans
    # every account changes 90% of them) without comparing every row; near or under
    # half, every row is compared and the written share decides as always.
    store = SnapshotStore(tmp_path / "store")
    state = portfolio(20_000)
    before = expected(state, "availability")
    store.add(stage(tmp_path / "0", state), taken_at=T0)
    windows = state["availability"]
    for key in random.Random(3).sample(sorted(windows), int(share * len(windows))):
        windows[key] = {**windows[key], "status": "sync_failed"}
    second = store.add(stage(tmp_path / "1", state), taken_at=T0 + timedelta(days=1))
    assert (second.bases["availability"] is None) is full
    assert as_read(read(store, "availability", 1)) == expected(state, "availability")
    assert as_read(read(store, "availability", 0)) == before
