"""Versions of a dataset under concurrent exports and damage: the link always leads to a
whole version, no writer removes what another needs, and a damaged or vanished file is a
:class:`DatasetError` that names it and says what to do."""

from __future__ import annotations

import gc
import multiprocessing
import random
import shutil
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from argyle_nb.dataset import Dataset, DatasetError, DatasetWriter
from tests.unit.dataset.exports import (
    check,
    counts,
    expected,
    export_in_process,
    hold_open,
    write_version,
)

STEPS = ("begun", "written", "locked", "renamed", "linked", "removing", "committed")


def _versions(path: Path) -> list[Path]:
    return sorted(p for p in path.with_name(f".{path.name}.versions").iterdir() if p.is_dir())


def test_exports_from_threads_never_remove_the_current_version_nor_one_being_written(
    tmp_path: Path,
) -> None:
    path = tmp_path / "portfolio"
    reached: set[str] = set()
    seen: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(sizes: list[int], seed: int) -> None:
        rng = random.Random(seed)

        def step(name: str) -> None:
            # A pause at each step lets the other writers run there; then the dataset
            # must still be whole.
            time.sleep(rng.uniform(0, 0.01))
            with lock:
                reached.add(name)
            if path.exists() or path.is_symlink():
                got = check(path)["users"]
                with lock:
                    seen.append(got)

        try:
            for size in sizes:
                write_version(path, size, step=step)
        except BaseException as exc:  # reported below, with the thread's traceback
            errors.append(exc)

    sizes = {k: [k + 1, k + 7] for k in range(4)}
    threads = [threading.Thread(target=run, args=(s, k)) for k, s in sizes.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert reached == set(STEPS)
    written = {n for s in sizes.values() for n in s}
    assert seen and set(seen) <= written
    assert check(path)["users"] in written
    assert not list(path.with_name(".portfolio.versions").glob("*.partial"))
    # One more export, alone: the current version and the one it replaced remain.
    write_version(path, 3)
    assert check(path) == expected(3)
    assert len(_versions(path)) == 2


def test_exports_from_processes_never_remove_the_current_version(tmp_path: Path) -> None:
    path = tmp_path / "portfolio"
    write_version(path, 2)
    context = multiprocessing.get_context("spawn")
    jobs = [(str(path), [10 + k, 20 + k], 0.02, k) for k in range(2)]
    with context.Pool(len(jobs)) as pool:
        seen = pool.starmap(export_in_process, jobs)
    written = {2} | {n for job in jobs for n in job[1]}
    assert all(s and set(s) <= written for s in seen)
    assert check(path)["users"] in written
    assert not list(path.with_name(".portfolio.versions").glob("*.partial"))


def test_two_exports_in_one_process_keep_each_others_folder(tmp_path: Path) -> None:
    path = tmp_path / "portfolio"
    write_version(path, 1)
    # What an export killed between making its new link and swapping it in leaves.
    stray = tmp_path / ".portfolio.link-1-2-dead"
    stray.symlink_to("nowhere")
    # The first export is under way (its folder is being written) when a second one in
    # the same process begins, commits, and clears what it takes for left overs.
    first = DatasetWriter(path, now=lambda: datetime.now(UTC), batch_pages=1)
    write_version(path, 4)
    assert first.folder.is_dir() and not stray.is_symlink()
    first.abort()
    assert not first.folder.exists()
    assert check(path) == expected(4)


@pytest.mark.parametrize("table", ["users", "accounts", "availability", "rejected"])
@pytest.mark.parametrize("damage", ["truncated", "garbage", "emptied"])
def test_a_damaged_part_is_named_at_open(tmp_path: Path, table: str, damage: str) -> None:
    path = tmp_path / "portfolio"
    folder = write_version(path, 5)
    part = sorted((folder / table).glob("*.parquet"))[0]
    data = part.read_bytes()
    if damage == "truncated":
        part.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        part.write_bytes(random.Random(1).randbytes(len(data) - 4) + b"PAR1")
    else:
        part.write_bytes(b"")
    with pytest.raises(DatasetError) as raised:
        Dataset(path)
    said = str(raised.value)
    assert str(part) in said and "export it again" in said


def test_a_part_removed_under_an_open_dataset_is_named(tmp_path: Path) -> None:
    path = tmp_path / "portfolio"
    folder = write_version(path, 5)
    part = sorted((folder / "accounts").glob("*.parquet"))[-1]
    with Dataset(path) as ds:
        part.unlink()
        with pytest.raises(DatasetError) as raised:
            ds.sql("select count(*) from accounts").fetchall()
    assert str(part) in str(raised.value) and "export it again" in str(raised.value)
    with pytest.raises(DatasetError, match="is missing"):
        Dataset(path)


def _edit_manifest(folder: Path, edit: object) -> None:
    file = folder / "_dataset.json"
    manifest = orjson.loads(file.read_bytes())
    edit(manifest)  # type: ignore[operator]
    file.write_bytes(orjson.dumps(manifest))


def test_a_manifest_that_lists_a_part_under_the_wrong_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "portfolio"
    folder = write_version(path, 5)

    def relabel(manifest: dict) -> None:  # type: ignore[type-arg]
        part = next(p for p in manifest["parts"] if p["table"] == "accounts")
        part["table"] = "users"

    _edit_manifest(folder, relabel)
    with pytest.raises(DatasetError, match="under the table users"):
        Dataset(path)


def test_a_part_moved_to_another_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "portfolio"
    folder = write_version(path, 5)
    moved: list[Path] = []

    def move(manifest: dict) -> None:  # type: ignore[type-arg]
        part = next(p for p in manifest["parts"] if p["table"] == "accounts")
        name = part["file"].replace("accounts/", "users/")
        (folder / part["file"]).rename(folder / name)
        moved.append(folder / name)
        part.update(file=name, table="users", endpoint="/v1/users")

    _edit_manifest(folder, move)
    with pytest.raises(DatasetError) as raised:
        Dataset(path)
    said = str(raised.value)
    assert str(moved[0]) in said and "holds accounts of /v1/accounts" in said


def test_a_manifest_whose_rows_disagree_with_a_part_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "portfolio"
    folder = write_version(path, 5)
    changed: list[str] = []

    def more(manifest: dict) -> None:  # type: ignore[type-arg]
        part = next(p for p in manifest["parts"] if p["table"] == "users")
        part["rows"] += 1
        changed.append(part["file"])

    _edit_manifest(folder, more)
    with pytest.raises(DatasetError) as raised:
        Dataset(path)
    assert str(folder / changed[0]) in str(raised.value) and "rows" in str(raised.value)


def test_an_open_dataset_keeps_its_version_through_refreshes(tmp_path: Path) -> None:
    path = tmp_path / "portfolio"
    write_version(path, 3)
    ds = Dataset(path)
    selection = ds.restricted("users", "true")
    write_version(path, 4)
    write_version(path, 5)
    # Two refreshes later, the open dataset still reads its own version, whole.
    assert counts(ds) == expected(3) and counts(selection) == expected(3)
    assert ds.folder.is_dir() and check(path) == expected(5)
    ds.close()
    write_version(path, 6)  # the first export after it is closed removes it
    assert not ds.folder.exists() and len(_versions(path)) == 2
    # A dataset dropped without close() frees its version too.
    dropped = Dataset(path)
    folder = dropped.folder
    del dropped, selection
    gc.collect()
    write_version(path, 7)
    write_version(path, 8)
    assert not folder.exists()


def test_a_dataset_open_in_another_process_keeps_its_version(tmp_path: Path) -> None:
    path = tmp_path / "portfolio"
    write_version(path, 3)
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    reader = context.Process(target=hold_open, args=(str(path), theirs))
    reader.start()
    try:
        assert ours.poll(60), "the reader did not open the dataset"
        folder = Path(ours.recv())
        write_version(path, 4)
        write_version(path, 5)
        assert folder.is_dir()
        ours.send("count")
        assert ours.recv() == expected(3)  # read after the two refreshes, whole
        assert ours.recv() == "closed"
    finally:
        ours.close()  # a reader still waiting reads the end of the pipe and stops
        reader.join(60)
    write_version(path, 6)
    assert not folder.exists()


def test_a_version_removed_under_an_open_dataset_says_to_open_it_again(tmp_path: Path) -> None:
    path = tmp_path / "portfolio"
    write_version(path, 3)
    ds = Dataset(path)
    write_version(path, 4)
    shutil.rmtree(ds.folder)  # by hand, or by a tool that does not see it is open
    with pytest.raises(DatasetError) as raised:
        ds.sql("select count(*) from users")
    said = str(raised.value)
    assert ds.manifest.version in said and "open the dataset again" in said
    ds.close()
    assert check(path) == expected(4)


def test_a_link_to_a_version_that_is_gone_says_to_export_again(tmp_path: Path) -> None:
    path = tmp_path / "portfolio"
    folder = write_version(path, 3)
    shutil.rmtree(folder)
    with pytest.raises(DatasetError, match="which is gone: export the dataset again"):
        Dataset(path)
    write_version(path, 2)  # an export repairs it
    assert check(path) == expected(2)
