"""argyle_nb.frames with ``rejected=[]``: bad records are set aside, every good one is read."""

from __future__ import annotations

from typing import Any

import orjson
import pandas as pd
import pytest
from pydantic import ValidationError

from argyle_nb import frames
from argyle_nb.models import Account, User
from argyle_nb.quarantine import REJECTED_COLUMNS, RejectedRecord, rejected_frame
from argyle_nb.sandbox.faults import Faults
from tests.unit.test_frames import envelope_pages, sandbox

# One damage of each kind the API could plausibly send, at known positions.
ACCOUNT_DAMAGE: list[tuple[str, Any]] = [
    ("created_at", "yesterday"),
    ("connection", "connected"),
    ("employers", "Walmart"),
    ("user", 12345),
    ("id", "not-a-uuid"),
    ("availability", {"payouts": {"status": "synced", "available_count": "many"}}),
    ("availability", {"forms": {"status": "synced", "files_count": [1]}}),
    ("was_connected", "maybe"),
]


#: Fields both account frames read: damage there costs a record its place in either.
SHARED = {"id", "user", "created_at"}


def damaged_accounts(n_users: int = 60) -> tuple[list[Any], dict[int, str]]:
    """Sandbox accounts with one damage of each kind: position -> the field damaged."""
    _, accounts = sandbox(users=n_users, seed=3)
    records: list[Any] = [dict(a) for a in accounts]
    bad: dict[int, str] = {}
    for k, (field, value) in enumerate(ACCOUNT_DAMAGE):
        position = 3 + 7 * k
        records[position] = {**records[position], field: value}
        bad[position] = field
    # An unknown shape: a value that is not an object at all.
    records[70] = ["unexpected", "shape"]
    bad[70] = "shape"
    return records, bad


def judged_by_accounts(bad: dict[int, str]) -> set[int]:
    return {i for i, field in bad.items() if field != "availability"}


def judged_by_availability(bad: dict[int, str]) -> set[int]:
    return {i for i, field in bad.items() if field in SHARED | {"availability", "shape"}}


def test_bad_accounts_are_set_aside_and_every_good_one_is_read() -> None:
    records, damage = damaged_accounts()
    bad = judged_by_accounts(damage)
    assert len(bad) == len(damage) - 2  # a broken availability keeps its account row
    pages = list(envelope_pages(records, size=25))
    rejected: list[RejectedRecord] = []
    frame = frames.accounts_frame(pages, rejected=rejected)

    good = [r for i, r in enumerate(records) if i not in bad]
    assert frame["id"].tolist() == [r["id"] for r in good]
    # Exactly what the builder makes of the good records alone, value for value.
    pd.testing.assert_frame_equal(frame, frames.accounts_frame(good))
    # Every bad record is there once, located by page and position, raw JSON kept.
    assert sorted(r.page * 25 + r.index for r in rejected) == sorted(bad)
    for record in rejected:
        position = record.page * 25 + record.index
        assert orjson.loads(record.raw) == records[position]
        assert record.error


def test_each_rejection_names_what_was_wrong() -> None:
    records, _ = damaged_accounts()
    rejected: list[RejectedRecord] = []
    frames.accounts_and_availability(orjson.dumps(records), rejected=rejected)
    errors = {r.index: r.error for r in rejected}
    assert "timestamp" in errors[3] and "yesterday" in errors[3]
    assert "connection" in errors[10]
    assert "employers" in errors[17]
    assert "user" in errors[24]
    assert "UUID" in errors[31]
    assert "available_count" in errors[38]
    assert "files_count" in errors[45]
    assert "was_connected" in errors[52]
    assert "not an account object" in errors[70]


def test_each_frame_judges_the_fields_it_shows() -> None:
    """accounts_frame ignores a broken availability, availability_frame a broken connection;
    read together, an account is left out when either table could not show it."""
    records, damage = damaged_accounts()
    pages = list(envelope_pages(records, size=40))
    by_accounts: list[RejectedRecord] = []
    by_availability: list[RejectedRecord] = []
    both: list[RejectedRecord] = []
    accounts = frames.accounts_frame(pages, rejected=by_accounts)
    availability = frames.availability_frame(pages, rejected=by_availability)
    pair = frames.accounts_and_availability(pages, rejected=both)

    def positions(found: list[RejectedRecord]) -> set[int]:
        return {r.page * 40 + r.index for r in found}

    assert positions(by_accounts) == judged_by_accounts(damage)
    assert positions(by_availability) == judged_by_availability(damage)
    assert positions(both) == set(damage)
    kept = [r for i, r in enumerate(records) if i not in damage]
    pd.testing.assert_frame_equal(pair[0], frames.accounts_frame(kept))
    pd.testing.assert_frame_equal(pair[1], frames.availability_frame(kept))
    # Each frame equals what it makes of the records it did not reject, value for value.
    for_accounts = [r for i, r in enumerate(records) if i not in judged_by_accounts(damage)]
    for_availability = [r for i, r in enumerate(records) if i not in judged_by_availability(damage)]
    pd.testing.assert_frame_equal(accounts, frames.accounts_frame(for_accounts))
    pd.testing.assert_frame_equal(availability, frames.availability_frame(for_availability))


def test_frames_reject_what_the_model_rejects() -> None:
    """The frames and the pydantic model agree on each damaged record."""
    records, damage = damaged_accounts()
    for position in sorted(damage):
        with pytest.raises(ValidationError):
            Account.model_validate(records[position])


def test_without_rejected_the_first_bad_record_raises() -> None:
    records, _ = damaged_accounts()
    with pytest.raises(frames.FrameError, match="page 0"):
        frames.accounts_frame(list(envelope_pages(records, size=25)))


def test_a_broken_page_is_still_an_error() -> None:
    """Quarantine is for records: a page that is not a list page raises either way."""
    for page in (b"not json", b'{"count": 1}', b'"text"'):
        with pytest.raises(frames.FrameError):
            frames.accounts_frame([b"[]", page], rejected=[])


def test_all_bad_gives_an_empty_frame() -> None:
    rejected: list[RejectedRecord] = []
    frame = frames.accounts_frame(b'[{"id": 1}, 2, null]', rejected=rejected)
    assert frame.shape == (0, len(frames.ACCOUNT_COLUMNS))
    assert [r.index for r in rejected] == [0, 1, 2]


def test_bad_users_are_set_aside() -> None:
    users, _ = sandbox(users=40, seed=5)
    records: list[Any] = [dict(u) for u in users]
    damage = {
        2: {**records[2], "created_at": "not a date"},
        5: {**records[5], "created_at": 1574870210},
        9: {**records[9], "employers_connected": "Walmart"},
        12: {**records[12], "id": "nope"},
        15: {k: v for k, v in records[15].items() if k != "id"},
        20: "a string",
    }
    records = [damage.get(i, r) for i, r in enumerate(records)]
    rejected: list[RejectedRecord] = []
    frame = frames.users_frame(list(envelope_pages(records, size=10)), rejected=rejected)
    good = [r for i, r in enumerate(records) if i not in damage]
    pd.testing.assert_frame_equal(frame, frames.users_frame(good))
    assert sorted(r.page * 10 + r.index for r in rejected) == sorted(damage)
    for record in rejected:  # the model refuses each one too
        with pytest.raises(ValidationError):
            User.model_validate(orjson.loads(record.raw))
    with pytest.raises(frames.FrameError, match="user 2 has created_at"):
        frames.users_frame(list(envelope_pages(records, size=10)))


def test_sandbox_corruption_is_rejected_by_frames_and_models() -> None:
    """Every kind of damage the sandbox's fault mode serves is caught by both validators."""
    users, accounts = sandbox(users=200, seed=9)
    faults = Faults(corrupt=0.2, seed=4)

    def both_tables(source: Any, rejected: list[RejectedRecord]) -> pd.DataFrame:
        return frames.accounts_and_availability(source, rejected=rejected)[0]

    for kind, records, build, model in (
        ("users", users, frames.users_frame, User),
        ("accounts", accounts, both_tables, Account),
    ):
        served = [orjson.loads(faults.corrupt_record(kind, orjson.dumps(r))) for r in records]
        corrupt = {r["id"] for r in records if faults.corrupts(r["id"])}
        assert 0.1 < len(corrupt) / len(records) < 0.3
        rejected: list[RejectedRecord] = []
        frame = build(orjson.dumps(served), rejected=rejected)
        assert set(frame["id"]) == {r["id"] for r in records} - corrupt
        assert len(rejected) == len(corrupt)
        for record in rejected:
            with pytest.raises(ValidationError):
                model.model_validate(orjson.loads(record.raw))


def test_rejected_record_and_frame() -> None:
    record = RejectedRecord.of(1, 4, {"id": "abc", "created_at": 3}, "created_at: not a time")
    assert record.id == "abc" and record.where == "record 4 of page 1"
    assert RejectedRecord.of(0, 0, ["x"], "shape").id is None
    located = record.located(url="/v1/users?limit=200&offset=200", endpoint="/v1/users")
    frame = rejected_frame([located, RejectedRecord.of(0, 0, 5, "shape")])
    assert tuple(frame.columns) == REJECTED_COLUMNS
    assert frame["page"].dtype == "int64"
    assert str(frame["rejected_at"].dtype) == "datetime64[us, UTC]"
    assert frame.loc[0, "url"] == "/v1/users?limit=200&offset=200"
    assert frame["raw"].tolist() == ['{"id":"abc","created_at":3}', "5"]
    assert rejected_frame([]).shape == (0, len(REJECTED_COLUMNS))
