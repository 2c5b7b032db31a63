"""The facts an export stores with a snapshot (what every user did, their fully synced
accounts and error codes, the metadata keys' sizes): equal to a plain loop over the
records written, read by the analyses in place of computing them, named when damaged,
and absent from snapshots written without them."""

from __future__ import annotations

import hashlib
import random
import statistics
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable

from argyle_nb import analysis
from argyle_nb.dataset import Dataset, DatasetError
from tests.unit.dataset.exports import account_records, user_records, write_records

FACTS = {"_unique_users", "_outcomes", "_synced", "_codes", "_key_sizes", "_latest"}


def _records(n: int, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``n`` users with metadata, and accounts of every status: some users have none,
    some several; availability synced, failed or missing by account."""
    rng = random.Random(seed)
    users = user_records(n)
    for user in users:
        user["external_metadata"] = rng.choice(
            [{"group": rng.choice("ABC"), "n": rng.randint(0, 3)}, {"group": "A"}, {}]
        )
    accounts = account_records(n)
    for account in accounts:
        status = rng.choice(["connected", "connected", "error", "connecting"])
        code = rng.choice(["auth_required", "expired_credentials"]) if status == "error" else None
        account["connection"].update(status=status, error_code=code)
        account["was_connected"] = status == "connected" or rng.random() < 0.3
        for window in account["availability"].values():
            if window is not None:
                window["status"] = rng.choice(["synced"] * 6 + ["sync_failed", "in_progress"])
        if rng.random() < 0.2:
            account["availability"] = {name: None for name in account["availability"]}
    # Some users connected nothing: their accounts are not listed.
    dropped = {users[i]["id"] for i in range(0, n, 5)}
    return users, [a for a in accounts if a["user"] not in dropped]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Any], list[Any]]:
    users, accounts = _records(40, seed=3)
    path = tmp_path_factory.mktemp("facts") / "portfolio"
    write_records(path, users, accounts, facts=analysis.facts)
    return path, users, accounts


def _stored(ds: Dataset, name: str) -> list[dict[str, Any]]:
    view = ds.stored(name)
    assert view is not None, name
    rows: list[dict[str, Any]] = ds.sql(f"select * from {view}").df().to_dict("records")
    return rows


def _label_fact(key: str) -> str:
    return "_label_" + hashlib.sha256(key.encode()).hexdigest()[:24]


def test_the_snapshot_lists_the_facts(exported: tuple[Path, Any, Any]) -> None:
    with Dataset(exported[0]) as ds:
        labels = {_label_fact("group"), _label_fact("n")}  # the keys of the metadata
        assert set(ds.snapshot.facts) == FACTS | labels
        for name, rows in ds.snapshot.facts.items():
            assert len(_stored(ds, name)) == rows, name


def _fact_files(path: Path, name: str) -> list[Path]:
    """The files of the fact ``name`` of the latest snapshot at ``path``."""
    export = Dataset(path).snapshot.export
    table = DeltaTable(str(path / "facts" / name))
    return [Path(f) for f in table.file_uris(file_pruning_predicate=[("_export", "=", export)])]


def test_what_every_user_did_is_a_plain_loop_over_the_records(
    exported: tuple[Path, list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    _, users, accounts = exported
    valid = [u for u in users if u["id"] != "not-a-uuid"]
    want: dict[str, Counter[str]] = {u["id"]: Counter() for u in valid}
    synced: Counter[str] = Counter()
    codes: Counter[tuple[str, str]] = Counter()
    for a in accounts:
        status = a["connection"]["status"]
        mine = want[a["user"]]
        mine["accounts"] += 1
        mine["connected"] += status == "connected"
        mine["error"] += status == "error"
        mine["ever_connected"] += status == "connected" or a["was_connected"]
        windows = [w["status"] for w in a["availability"].values() if w is not None]
        if status == "connected" and windows and all(s == "synced" for s in windows):
            synced[a["user"]] += 1
        if a["connection"]["error_code"]:
            codes[(a["user"], a["connection"]["error_code"])] += 1
    with Dataset(exported[0]) as ds:
        outcomes = {row["id"]: row for row in _stored(ds, "_outcomes")}
        assert set(outcomes) == set(want)
        for user, counted in want.items():
            got = outcomes[user]
            for column in ("accounts", "connected", "error", "ever_connected"):
                assert got[column] == counted[column], (user, column)
        assert {r["user"]: r["fully_synced"] for r in _stored(ds, "_synced")} == dict(synced)
        per_user = ds.sql(
            f"select u.id, e.code, e.n from {ds.stored('_codes')} e join users u using (_seen)"
        )
        assert {(user, code): n for user, code, n in per_user.fetchall()} == dict(codes)
        assert _stored(ds, "_unique_users") == [{"unique_users": True}]
        (latest,) = _stored(ds, "_latest")
    moments = [u["created_at"] for u in users] + [
        a[c] for a in accounts for c in ("created_at", "updated_at")
    ]
    assert latest["latest"] == datetime.fromisoformat(max(moments).replace("Z", "+00:00"))


def test_the_keys_sizes_are_a_plain_count_of_the_metadata(
    exported: tuple[Path, list[dict[str, Any]], Any],
) -> None:
    values: dict[str, Counter[str]] = defaultdict(Counter)
    for user in exported[1]:
        if user["id"] != "not-a-uuid":
            for key, value in user["external_metadata"].items():
                values[key][str(value)] += 1
    with Dataset(exported[0]) as ds:
        got = {r["fullkey"]: r for r in _stored(ds, "_key_sizes")}
    assert set(got) == set(values)
    for key, counts in values.items():
        assert got[key]["present"] == got[key]["carried"] == sum(counts.values())
        assert got[key]["n_values"] == len(counts)
        assert got[key]["median"] == statistics.median(counts.values())


def test_each_users_label_is_a_plain_reading_of_their_metadata(
    exported: tuple[Path, list[dict[str, Any]], Any],
) -> None:
    with Dataset(exported[0]) as ds:
        for key in ("group", "n"):
            stored = ds.stored(_label_fact(key))
            rows = ds.sql(f"select u.id, l.label from users u join {stored} l using (_seen)")
            got = dict(rows.fetchall())
            want = {
                u["id"]: str(u["external_metadata"].get(key, analysis.MISSING))
                for u in exported[1]
                if u["id"] != "not-a-uuid"
            }
            assert got == want, key


@pytest.mark.parametrize("fact", ["_outcomes", _label_fact("group")])
def test_the_analyses_read_the_stored_facts(tmp_path: Path, fact: str) -> None:
    users, accounts = _records(12, seed=4)
    write_records(tmp_path / "portfolio", users, accounts, facts=analysis.facts)
    (file,) = _fact_files(tmp_path / "portfolio", fact)
    with Dataset(tmp_path / "portfolio") as ds:
        file.unlink()
        with pytest.raises(DatasetError) as raised:
            analysis.metadata_groups(ds, "group")
    assert f"{file} is missing" in str(raised.value)


def test_a_selection_counts_its_own_rows_not_the_stored_facts(
    exported: tuple[Path, list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    _, _, accounts = exported
    with Dataset(exported[0]) as ds:
        errors = ds.restricted(
            "accounts", "cast(connection_status as varchar) = $s", {"s": "error"}
        )
        got = analysis.user_outcomes(errors)
    per_user = Counter(a["user"] for a in accounts if a["connection"]["status"] == "error")
    assert {u: n for u, n in zip(got.index, got["accounts"], strict=True) if n} == dict(per_user)


def test_a_version_without_facts_is_counted_as_before(tmp_path: Path) -> None:
    users, accounts = _records(12, seed=5)
    write_records(tmp_path / "portfolio", users, accounts)
    with Dataset(tmp_path / "portfolio") as ds:
        assert ds.snapshot.facts == {} and ds.stored("_outcomes") is None
        got = analysis.user_outcomes(ds)
    per_user = Counter(a["user"] for a in accounts)
    assert {u: n for u, n in zip(got.index, got["accounts"], strict=True) if n} == dict(per_user)


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_a_damaged_fact_is_named(tmp_path: Path, damage: str) -> None:
    users, accounts = _records(8, seed=6)
    write_records(tmp_path / "portfolio", users, accounts, facts=analysis.facts)
    (fact,) = _fact_files(tmp_path / "portfolio", "_codes")
    data = fact.read_bytes()
    if damage == "truncated":
        fact.write_bytes(data[:100])
    else:
        fact.write_bytes(random.Random(2).randbytes(len(data) - 4) + b"PAR1")
    with pytest.raises(DatasetError) as raised, Dataset(tmp_path / "portfolio") as ds:
        analysis.metadata_groups(ds, "group")
    assert str(fact) in str(raised.value) and "export to a new path" in str(raised.value)
