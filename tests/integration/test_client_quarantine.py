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


def test_every_good_record_arrives_and_every_bad_one_is_rejected(damaged: Sandbox) -> None:
    users, accounts, availability = truth(damaged)
    bad_users = {i for i in users["id"] if CORRUPT.corrupts(i)}
    bad_accounts = {i for i in accounts["id"] if CORRUPT.corrupts(i)}
    assert bad_users and bad_accounts
    with client_on(damaged) as client:
        with pytest.warns(RejectedRecordsWarning, match=rf"{len(bad_users)} of {len(users)} users"):
            got_users = client.users_frame()
        with pytest.warns(RejectedRecordsWarning, match=rf"{len(bad_accounts)} of {len(accounts)}"):
            got_accounts = client.accounts_frame()
        with pytest.warns(RejectedRecordsWarning):
            got_availability = client.availability_frame()
        rejected = client.rejected

    # Every good record, value for value, in the service's order.
    keep = ~users["id"].isin(bad_users)
    pd.testing.assert_frame_equal(got_users, users[keep].reset_index(drop=True), check_like=False)
    keep = ~accounts["id"].isin(bad_accounts)
    pd.testing.assert_frame_equal(got_accounts, accounts[keep].reset_index(drop=True))
    keep = ~availability["account"].isin(bad_accounts)
    pd.testing.assert_frame_equal(got_availability, availability[keep].reset_index(drop=True))

    # Every bad one, once per list, with its page URL, the reason and the raw JSON.
    assert tuple(rejected.columns) == REJECTED_COLUMNS
    by_endpoint = rejected.groupby("endpoint")["raw"].count().to_dict()
    assert by_endpoint == {"/v1/users": len(bad_users), "/v1/accounts": len(bad_accounts)}
    ids = set(rejected["id"].dropna())
    raw_ids = {str(orjson.loads(r)[-1]) for r in rejected["raw"] if r.startswith("[")}
    assert (ids | raw_ids) >= bad_accounts - {None}
    assert rejected["url"].str.match(r"^/v1/(users|accounts)\?limit=200&offset=\d+$").all()
    assert rejected["error"].str.len().gt(0).all()

    # The provenance counts them too.
    assert provenance_of(got_accounts).rejected == len(bad_accounts)  # type: ignore[union-attr]
    assert provenance_of(got_accounts).records == len(got_accounts)  # type: ignore[union-attr]


def test_models_set_aside_the_same_records(damaged: Sandbox) -> None:
    _, accounts, _ = truth(damaged)
    bad = {i for i in accounts["id"] if CORRUPT.corrupts(i)}
    with client_on(damaged) as client:
        with pytest.warns(RejectedRecordsWarning, match=f"{len(bad)} of {len(accounts)}"):
            models = list(client.accounts.list())
        assert [str(m.id) for m in models] == [i for i in accounts["id"] if i not in bad]
        assert len(client.rejected) == len(bad)


def test_strict_raises_naming_the_records(damaged: Sandbox) -> None:
    _, accounts, _ = truth(damaged)
    bad = {i for i in accounts["id"] if CORRUPT.corrupts(i)}
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
