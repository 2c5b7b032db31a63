"""Nothing lost, nothing fatal: corrupt records from a live sandbox go to ``client.rejected``.

The sandbox's ``corrupt`` fault mode damages a fixed set of records (picked by id and
seed); the truth is what the same sandbox serves with the faults off.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import orjson
import pandas as pd
import pytest

from argyle_nb import InvalidRecordsError, RejectedRecordsWarning, provenance_of
from argyle_nb.quarantine import REJECTED_COLUMNS
from argyle_nb.sandbox import Faults, Sandbox, start
from tests.integration.clients import client_on

CORRUPT = Faults(corrupt=0.04, seed=11)


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox of 700 users (about 1,000 accounts, 5 pages) serving 4% corrupt records."""
    db = tmp_path_factory.mktemp("quarantine") / "sandbox.sqlite"
    with start(db=db, users=700, seed=21, faults=CORRUPT) as running:
        yield running


def truth(sandbox: Sandbox) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    sandbox.faults = Faults()
    with client_on(sandbox) as client:
        result = client.users_frame(), client.accounts_frame(), client.availability_frame()
    sandbox.faults = CORRUPT
    return result


def corrupt_ids(kind: str, ids: pd.Series, fields: set[str] | None = None) -> set[str]:
    """The ids the sandbox serves corrupt (in ``fields`` when given)."""
    return {
        i
        for i in ids
        if CORRUPT.corrupts(i) and (fields is None or CORRUPT.damage(kind, i) in fields)
    }


#: What each account frame judges (its fields, and the record's shape).
ACCOUNT_FIELDS = {"created_at", "connection", "employers", "user", "shape"}
AVAILABILITY_FIELDS = {"created_at", "user", "availability", "shape"}


def test_every_good_record_arrives_and_every_bad_one_is_rejected(damaged: Sandbox) -> None:
    users, accounts, availability = truth(damaged)
    bad_users = corrupt_ids("users", users["id"])
    bad_accounts = corrupt_ids("accounts", accounts["id"], ACCOUNT_FIELDS)
    bad_availability = corrupt_ids("accounts", accounts["id"], AVAILABILITY_FIELDS)
    assert bad_users and bad_accounts and bad_availability
    assert corrupt_ids("accounts", accounts["id"], {"connection"}) - bad_availability
    assert corrupt_ids("accounts", accounts["id"], {"availability"}) - bad_accounts
    with client_on(damaged) as client:
        with pytest.warns(RejectedRecordsWarning, match=rf"{len(bad_users)} of {len(users)} users"):
            got_users = client.users_frame()
        with pytest.warns(RejectedRecordsWarning, match=rf"{len(bad_accounts)} of {len(accounts)}"):
            got_accounts = client.accounts_frame()
        with pytest.warns(RejectedRecordsWarning, match="in availability_frame()"):
            got_availability = client.availability_frame()
        rejected = client.rejected

    # Every good record, value for value, in the service's order.
    keep = ~users["id"].isin(bad_users)
    pd.testing.assert_frame_equal(got_users, users[keep].reset_index(drop=True), check_like=False)
    keep = ~accounts["id"].isin(bad_accounts)
    pd.testing.assert_frame_equal(got_accounts, accounts[keep].reset_index(drop=True))
    keep = ~availability["account"].isin(bad_availability)
    pd.testing.assert_frame_equal(got_availability, availability[keep].reset_index(drop=True))

    # Every bad one, once per list and reader, with its page URL, reason and raw JSON.
    assert tuple(rejected.columns) == REJECTED_COLUMNS
    counts = rejected.groupby(["endpoint", "read_by"])["raw"].count().to_dict()
    assert counts == {
        ("/v1/users", "users_frame()"): len(bad_users),
        ("/v1/accounts", "accounts_frame()"): len(bad_accounts),
        ("/v1/accounts", "availability_frame()"): len(bad_availability),
    }
    for reader, expected in (
        ("accounts_frame()", bad_accounts),
        ("availability_frame()", bad_availability),
    ):
        rows = rejected[rejected["read_by"] == reader]
        # An id, or (a record replaced by an array) the id the array carries.
        named = {
            str(orjson.loads(raw)[-1]) if raw.startswith("[") else found
            for found, raw in zip(rows["id"], rows["raw"], strict=True)
        }
        assert named == expected
    assert rejected["url"].str.match(r"^/v1/(users|accounts)\?limit=200&offset=\d+$").all()
    assert rejected["error"].str.len().gt(0).all()

    # The provenance counts them too.
    assert provenance_of(got_accounts).rejected == len(bad_accounts)  # type: ignore[union-attr]
    assert provenance_of(got_accounts).records == len(got_accounts)  # type: ignore[union-attr]


def test_models_judge_every_field(damaged: Sandbox) -> None:
    _, accounts, _ = truth(damaged)
    bad = corrupt_ids("accounts", accounts["id"])  # the models judge every field
    with client_on(damaged) as client:
        with pytest.warns(RejectedRecordsWarning, match=f"{len(bad)} of {len(accounts)}"):
            models = list(client.accounts.list())
        assert [str(m.id) for m in models] == [i for i in accounts["id"] if i not in bad]
        assert len(client.rejected) == len(bad)


def test_strict_raises_naming_the_records(damaged: Sandbox) -> None:
    _, accounts, _ = truth(damaged)
    bad = corrupt_ids("accounts", accounts["id"], ACCOUNT_FIELDS)
    with client_on(damaged, strict=True) as client:
        with pytest.raises(InvalidRecordsError, match="failed validation") as caught:
            client.accounts_frame()
        assert len(caught.value.rejected) == len(bad)
        assert caught.value.path == "/v1/accounts"
        with pytest.raises(InvalidRecordsError):
            list(client.accounts.list())


def test_a_new_fetch_replaces_a_lists_rejected_records(damaged: Sandbox) -> None:
    with client_on(damaged) as client:
        with pytest.warns(RejectedRecordsWarning):
            client.users_frame()
        assert len(client.rejected) > 0
        damaged.faults = Faults()
        client.cache.clear()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a clean list warns nothing
            client.users_frame()
        assert len(client.rejected) == 0
    damaged.faults = CORRUPT
