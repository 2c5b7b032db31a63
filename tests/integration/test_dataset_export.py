"""``client.export(path)`` on the live sandbox: the dataset holds what the frames hold,
each export adds a snapshot whole, and an export that fails leaves the dataset as it was."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from argyle_nb.client import ArgyleClient
from argyle_nb.dataset import Dataset, DatasetError
from argyle_nb.errors import ServerError
from argyle_nb.sandbox import Sandbox, start
from tests.hostile import Reply, Request, json_reply, serve, users

pytestmark = pytest.mark.embedded_only("writes to the sandbox's users")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with start(db=tmp_path_factory.mktemp("export") / "sandbox.sqlite", users=400, seed=11) as sb:
        yield sb


def _client(sandbox: Sandbox) -> ArgyleClient:
    return ArgyleClient(
        sandbox.key_id,
        sandbox.key_secret,
        base_url=sandbox.base_url,
        cache="memory",
        progress=False,
    )


def test_the_dataset_holds_what_the_frames_hold(sandbox: Sandbox, tmp_path: Path) -> None:
    with _client(sandbox) as client:
        frames_users = client.users_frame()
        frames_accounts = client.accounts_frame()
        frames_availability = client.availability_frame()
        # Small part files: the lists are written in several batches.
        ds = client.export(tmp_path / "portfolio", batch_pages=1)
    with ds:
        assert ds.rows("users") == len(frames_users)
        assert ds.rows("accounts") == len(frames_accounts)
        assert ds.rows("availability") == len(frames_availability)
        assert ds.rows("rejected") == 0
        assert ds.provenance("/v1/accounts").pages > 1
        users = ds.sql("select * from users order by id").df()
        assert list(users["id"]) == sorted(frames_users["id"])
        assert list(users["external_metadata"]) == list(
            frames_users.sort_values("id")["external_metadata"]
        )
        accounts = ds.sql("select * from accounts").df().sort_values("id", ignore_index=True)
        expected = frames_accounts.sort_values("id", ignore_index=True)
        for column in ("id", "user", "link_item", "connection_status", "connection_error_code"):
            got = accounts[column].astype("str").where(accounts[column].notna())
            want = expected[column].astype("str").where(expected[column].notna())
            assert got.equals(want), column
        assert (accounts["created_at"] == expected["created_at"]).all()
        statuses = ds.sql("select resource, status, count(*) n from availability group by all").df()
        want = frames_availability.groupby(["resource", "status"], observed=True).size()
        got = {(r, s): n for r, s, n in statuses.itertuples(index=False)}
        assert got == {(str(r), str(s)): n for (r, s), n in want.items()}
        found = ds.provenance("/v1/accounts")
        assert found.records == len(frames_accounts) and found.consistent
        assert found.environment == "embedded sandbox"
        assert "users" in repr(ds) and "snapshot 0" in repr(ds)


def test_each_export_adds_a_snapshot_and_a_reader_keeps_its_own(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "portfolio"
    with _client(sandbox) as client:
        before = client.export(path)
        count = before.rows("users")
        created = client.users.create(external_metadata={"region": "export-test"})
        try:
            after = client.export(path)
        finally:
            client.users.delete(created.id)
    # The reader opened before the second export still reads its own snapshot, whole.
    assert before.sql("select count(*) from users").fetchall() == [(count,)]
    assert after.rows("users") == count + 1
    assert (before.snapshot.number, after.snapshot.number) == (0, 1)
    assert after.snapshot.changed == 1  # the one user created
    assert after.snapshot.bases["users"] == before.snapshot.export  # written as a change
    mine = after.sql("select count(*) from users where id = ?", [str(created.id)])
    assert mine.fetchall() == [(1,)]
    before.close()
    after.close()
    assert list(Dataset(path).snapshots["users"]) == [count, count + 1]


def test_a_failed_export_leaves_the_previous_dataset(sandbox: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "portfolio"
    with _client(sandbox) as client:
        first = client.export(path)
    first.close()

    # A service that serves its users, then fails on every accounts page.
    def handler(request: Request) -> Reply:
        if request.path == "/v1/users":
            return json_reply({"count": 3, "next": None, "previous": None, "results": users(3)})
        return json_reply({"detail": "down"}, status=503)

    with serve(handler) as fake:
        broken = fake.client()
        with pytest.raises(ServerError) as failed:
            broken.export(path)
        broken.close()
    note = " ".join(getattr(failed.value, "__notes__", []))
    assert "the dataset there is unchanged" in note and "again to restart" in note
    with Dataset(path) as again:  # still the first snapshot alone, whole
        assert len(again.snapshots) == 1 and again.rows("users") > 3
    assert not list((path / "_staging").glob("*.partial"))


def test_a_path_that_is_not_a_dataset_is_never_replaced(sandbox: Sandbox, tmp_path: Path) -> None:
    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "keep.txt").write_text("mine")
    with _client(sandbox) as client, pytest.raises(DatasetError, match="not replaced"):
        client.export(mine)
    assert (mine / "keep.txt").read_text() == "mine"
    with pytest.raises(DatasetError, match="is it an argyle_nb dataset"):
        Dataset(mine)


def test_the_command_exports_and_refuses_what_is_not_a_dataset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from argyle_nb.cli import main

    for name in ("ARGYLE_API_KEY_ID", "ARGYLE_API_KEY_SECRET", "ARGYLE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)  # the embedded sandbox's demo data
    path = tmp_path / "portfolio"
    assert main(["export", str(path), "--users", "60", "--seed", "3", "--batch-pages", "1"]) == 0
    said = capsys.readouterr().out
    with Dataset(path) as ds:
        assert ds.rows("users") == 60
        assert f"{path}: 60 users, {ds.rows('accounts'):,} accounts" in said
    # Run again: one more snapshot; with --keep 1, only the newest is left.
    assert main(["export", str(path), "--users", "60", "--seed", "3"]) == 0
    assert len(Dataset(path).snapshots) == 2
    assert main(["export", str(path), "--users", "61", "--seed", "3", "--keep", "1"]) == 0
    assert list(Dataset(path).snapshots["users"]) == [61]
    assert "snapshot 0" in capsys.readouterr().out
    (tmp_path / "file.txt").write_text("mine")
    assert main(["export", str(tmp_path / "file.txt"), "--users", "5"]) == 2
    assert "is not an argyle_nb dataset" in capsys.readouterr().err
    assert (tmp_path / "file.txt").read_text() == "mine"


def test_an_interrupted_export_is_cleared_and_a_running_one_is_not(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    versions = tmp_path / "portfolio" / "_staging"
    versions.mkdir(parents=True)
    # What an export killed mid-way leaves (its process is gone) ...
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    dead = versions / f"20260101T000000000000Z-{gone}.partial"
    (dead / "users").mkdir(parents=True)
    # ... and what one still running holds (this test's parent process stands in for it).
    alive = versions / f"20260101T000000000001Z-{os.getppid()}.partial"
    alive.mkdir()
    with _client(sandbox) as client:
        client.export(tmp_path / "portfolio").close()
    assert not dead.exists() and alive.exists()


def test_export_and_opening_a_dataset_load_no_statistics_nor_charts(tmp_path: Path) -> None:
    """Exporting and opening a dataset leave scipy, statsmodels, Altair and matplotlib
    unloaded (about a second and a half, paid only when an analysis needs them)."""
    heavy = ("scipy", "statsmodels", "altair", "matplotlib")
    code = f"""
import sys
import orjson
from argyle_nb.client import ArgyleClient
from argyle_nb.dataset import Dataset
from argyle_nb.sandbox import start

with start(db={str(tmp_path / "sandbox.sqlite")!r}, users=30, seed=3) as sb:
    with ArgyleClient(
        sb.key_id, sb.key_secret, base_url=sb.base_url, cache="memory", progress=False
    ) as client:
        accounts = sum(len(orjson.loads(page)["results"]) for page in client.accounts.pages())
        client.export({str(tmp_path / "ds")!r})
with Dataset({str(tmp_path / "ds")!r}) as ds:
    counted = ds.sql("select count(*) from accounts").fetchall()[0][0]
print(accounts, counted, sorted(m for m in {heavy!r} if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    listed, counted, loaded = out.stdout.strip().splitlines()[-1].split(" ", 2)
    assert int(counted) == int(listed) > 0
    assert loaded == "[]"


def test_an_export_writes_its_pages_to_the_dataset_not_to_the_cache(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    cache = tmp_path / "cache.sqlite"
    make = lambda: ArgyleClient(  # noqa: E731
        sandbox.key_id,
        sandbox.key_secret,
        base_url=sandbox.base_url,
        cache="sqlite",
        cache_path=cache,
        progress=False,
    )
    with make() as client:
        empty = client.cache.info().responses
        ds = client.export(tmp_path / "portfolio", batch_pages=2)
        assert client.cache.info().responses == empty  # no second copy of any page
        expected = ds.rows("accounts")
        ds.close()
        client.users_frame()  # reads the cache keeps
        client.accounts_frame()
        kept = client.cache.info().responses
        assert kept > empty
        # Offline, the cache answers alone: an export is made of what it holds.
        client.cache.offline = True
        again = client.export(tmp_path / "offline", batch_pages=2)
        with again:
            assert again.rows("accounts") == expected
            assert again.provenance("/v1/accounts").pages_from_cache > 0
        assert client.cache.info().responses == kept


def test_snapshots_of_the_embedded_sandbox_follow_its_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from argyle_nb import connect

    for name in ("ARGYLE_API_KEY_ID", "ARGYLE_API_KEY_SECRET", "ARGYLE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "portfolio"
    with connect(users=40, seed=3, progress=False) as client:
        client.export(path).close()
        client.sandbox.advance(days=3)
        second = client.export(path)
        now = client.sandbox.now()
    with second:
        first_taken, second_taken = list(second.snapshots["taken_at"])
        # Three days of the sandbox's life apart, though seconds apart on the wall clock.
        assert timedelta(days=3) <= second_taken - first_taken < timedelta(days=3, minutes=5)
        assert abs(second_taken - now) < timedelta(minutes=5)
