"""Snapshots of a dataset under concurrent exports and damage: every snapshot reads whole,
exports running at once each add theirs, and a damaged or missing file is a
:class:`DatasetError` that names it and says what to do."""

from __future__ import annotations

import multiprocessing
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from deltalake import DeltaTable

from argyle_nb.dataset import Dataset, DatasetError, DatasetWriter
from tests.unit.dataset.exports import check, counts, expected, export_in_process, write_version

STEPS = ("begun", "written", "committed")


def test_exports_from_threads_each_add_a_whole_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "portfolio"
    write_version(path, 2)
    reached: set[str] = set()
    seen: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(sizes: list[int], seed: int) -> None:
        rng = random.Random(seed)

        def step(name: str) -> None:
            # A pause at each step lets the other writers run there; then the latest
            # snapshot must still be whole.
            time.sleep(rng.uniform(0, 0.01))
            got = check(path)["users"]
            with lock:
                reached.add(name)
                seen.append(got)

        try:
            for size in sizes:
                write_version(path, size, step=step)
        except BaseException as exc:  # reported below, with the thread's traceback
            errors.append(exc)

    sizes = {k: [k + 3, k + 7] for k in range(4)}
    threads = [threading.Thread(target=run, args=(s, k)) for k, s in sizes.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert reached == set(STEPS)
    written = [2, *(n for s in sizes.values() for n in s)]
    assert seen and set(seen) <= set(written)
    # Every export added its snapshot, each whole.
    snapshots = Dataset(path).snapshots
    assert sorted(snapshots["users"]) == sorted(written)
    for number in snapshots.index:
        assert check(path, int(number))["users"] == snapshots.loc[number, "users"]
    assert not list((path / "_staging").glob("*.partial"))


def test_exports_from_processes_each_add_a_whole_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "portfolio"
    write_version(path, 2)
    context = multiprocessing.get_context("spawn")
    jobs = [(str(path), [10 + k, 20 + k], 0.02, k) for k in range(2)]
    with context.Pool(len(jobs)) as pool:
        seen = pool.starmap(export_in_process, jobs)
    written = {2} | {n for job in jobs for n in job[1]}
    assert all(s and set(s) <= written for s in seen)
    snapshots = Dataset(path).snapshots
    assert sorted(snapshots["users"]) == sorted(written)
    for number in snapshots.index:
        check(path, int(number))
    assert not list((path / "_staging").glob("*.partial"))


def test_two_exports_in_one_process_keep_each_others_staging(tmp_path: Path) -> None:
    path = tmp_path / "portfolio"
    write_version(path, 1)
    # The first export is under way (staging) when a second one in the same process
    # begins, commits, and clears what it takes for left overs.
    first = DatasetWriter(path, now=lambda: datetime.now(UTC), batch_pages=1)
    write_version(path, 4)
    assert first.folder.is_dir()
    first.abort()
    assert not first.folder.exists()
    assert check(path) == expected(4)
    assert list(Dataset(path).snapshots["users"]) == [1, 4]


def test_an_open_dataset_keeps_its_snapshot_through_exports(tmp_path: Path) -> None:
    path = tmp_path / "portfolio"
    write_version(path, 3)
    ds = Dataset(path)
    selection = ds.restricted("users", "true")
    write_version(path, 4)
    write_version(path, 5)
    assert counts(ds) == expected(3) and counts(selection) == expected(3)
    assert check(path) == expected(5)
    assert check(path, 0) == expected(3) and check(path, -2) == expected(4)
    ds.close()


def test_snapshots_are_listed_and_opened_by_number_and_time(tmp_path: Path) -> None:
    path = tmp_path / "portfolio"
    taken = [write_version(path, n).taken_at for n in (3, 5, 4)]
    listed = Dataset(path).snapshots
    assert list(listed.index) == [0, 1, 2]
    assert list(listed["users"]) == [3, 5, 4] and list(listed["accounts"]) == [6, 10, 8]
    # Users and accounts new or gone between two exports (the records written are the
    # first n of one list: a plain difference of the counts).
    assert list(listed["changed"]) == [3 + 6, (5 - 3) + (10 - 6), (5 - 4) + (10 - 8)]
    assert list(listed["taken_at"]) == taken
    assert Dataset(path, as_of=taken[1] + timedelta(microseconds=1)).snapshot.number == 1
    with pytest.raises(DatasetError, match="snapshot 3 does not exist"):
        Dataset(path, snapshot=3)
    with pytest.raises(DatasetError, match="no snapshot was taken by"):
        Dataset(path, as_of=taken[0] - timedelta(seconds=1))


def _files(path: Path, table: str) -> list[Path]:
    """The data files of ``table`` of the latest snapshot (its own export's)."""
    export = Dataset(path).snapshot.export
    found = DeltaTable(str(path / table)).file_uris(
        file_pruning_predicate=[("_export", "=", export)]
    )
    return [Path(f) for f in found]


@pytest.mark.parametrize("table", ["users", "accounts", "availability", "rejected"])
@pytest.mark.parametrize("damage", ["truncated", "garbage", "emptied"])
def test_a_damaged_file_is_named_when_read(tmp_path: Path, table: str, damage: str) -> None:
    path = tmp_path / "portfolio"
    write_version(path, 5)
    part = _files(path, table)[0]
    data = part.read_bytes()
    if damage == "truncated":
        part.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        part.write_bytes(random.Random(1).randbytes(len(data) - 4) + b"PAR1")
    else:
        part.write_bytes(b"")
    with pytest.raises(DatasetError) as raised, Dataset(path) as ds:
        counts(ds)
    said = str(raised.value)
    assert str(part) in said and "export to a new path" in said


def test_a_file_removed_is_named(tmp_path: Path) -> None:
    path = tmp_path / "portfolio"
    write_version(path, 5)
    part = _files(path, "accounts")[-1]
    part.unlink()
    with pytest.raises(DatasetError) as raised:
        Dataset(path)
    assert str(part) in str(raised.value) and "is missing" in str(raised.value)
