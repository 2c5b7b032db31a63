"""The models read every example of the reference pages and reject malformed input."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from pydantic import BaseModel, ValidationError

from argyle_nb.models import (
    CONNECTION_ERROR_CODES,
    CONNECTION_STATUSES,
    RESOURCES,
    Account,
    NewUser,
    Page,
    PayDistribution,
    User,
    UserToken,
    UserWrite,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

#: Which model reads each fixture; a list value is read as a list page of that model.
MODEL_OF: dict[str, type[BaseModel]] = {
    "users_01_the_user_object.json": UserWrite,
    "users_02_the_user_object.json": User,
    "users_03_the_user_token_object.json": UserToken,
    "users_04_create_a_user.json": NewUser,
    "users_05_retrieve_a_user_and_their_metadata.json": User,
    "users_06_update_a_user_s_metadata.json": User,
    "users_07_list_users.json": User,
    "users_08_create_a_user_token.json": UserToken,
    "accounts_01_the_account_object.json": Account,
    "accounts_02_retrieve_an_account.json": Account,
    "accounts_03_list_accounts.json": Account,
}


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_every_fixture_has_a_model() -> None:
    assert sorted(p.name for p in FIXTURES.glob("*.json")) == sorted(MODEL_OF)


def _same(original: Any, dumped: Any) -> None:
    """Every key of ``original`` is in ``dumped`` with an equal value (timestamps as times)."""
    if isinstance(original, dict):
        assert isinstance(dumped, dict)
        missing = set(original) - set(dumped)
        assert not missing, f"model_dump dropped {missing}"
        for key, value in original.items():
            _same(value, dumped[key])
    elif isinstance(original, list):
        assert isinstance(dumped, list) and len(dumped) == len(original)
        for a, b in zip(original, dumped, strict=True):
            _same(a, b)
    elif isinstance(original, str) and isinstance(dumped, str) and original != dumped:
        # Only timestamps may be re-spelt (naive -> UTC, "Z" vs "+00:00").
        a = datetime.fromisoformat(original.replace("Z", "+00:00"))
        a = a if a.tzinfo else a.replace(tzinfo=UTC)
        assert a == datetime.fromisoformat(dumped.replace("Z", "+00:00"))
    else:
        assert original == dumped


@pytest.mark.parametrize("name", sorted(MODEL_OF))
def test_seed_examples_parse_and_dump_every_field(name: str) -> None:
    model = MODEL_OF[name]
    raw = load(name)
    items = raw if isinstance(raw, list) else [raw]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # dumping must not touch deprecated attributes
        for item in items:
            parsed = model.model_validate(item)
            _same(item, parsed.model_dump(mode="json"))
            # and the JSON bytes path gives the same model
            assert model.model_validate_json(json.dumps(item)) == parsed


def test_list_examples_read_as_bare_array_pages() -> None:
    page = Page[Account].model_validate_json(
        (FIXTURES / "accounts_03_list_accounts.json").read_bytes()
    )
    assert page.count == 2 and page.next is None
    assert [a.link_item for a in page.results] == ["us_army", "doordash"]


def test_envelope_pages() -> None:
    body = {
        "count": 3,
        "next": "http://127.0.0.1:1/v1/users?limit=2&offset=2",
        "previous": None,
        "results": load("users_07_list_users.json"),
    }
    page = Page[User].model_validate(body)
    assert page.count == 3
    assert page.next is not None and page.next.endswith("offset=2")
    assert page.results[1].external_metadata == {"customer group": "lending"}


def test_timestamps_are_utc_aware_even_when_naive() -> None:
    account = Account.model_validate(load("accounts_01_the_account_object.json"))
    assert account.connection is not None
    naive = account.connection.updated_at  # "2019-11-29T08:37:42.112859" on the page
    assert naive == datetime(2019, 11, 29, 8, 37, 42, 112859, tzinfo=UTC)
    assert account.created_at.tzinfo is not None
    offset = User.model_validate(
        {**load("users_02_the_user_object.json"), "created_at": "2019-11-27T17:56:50+02:00"}
    )
    assert offset.created_at == datetime(2019, 11, 27, 15, 56, 50, tzinfo=UTC)
    assert offset.created_at.utcoffset() is not None


def test_ids_are_uuids() -> None:
    user = User.model_validate(load("users_02_the_user_object.json"))
    assert user.id == UUID("0994b847-cc69-4d98-bc99-c5e65e762add")


@pytest.mark.parametrize(
    "metadata",
    [{"a": {"b": [1, 2]}}, "User group A", 42, 1.5, [1, "x"], None, {}, True],
)
def test_external_metadata_is_any_json(metadata: Any) -> None:
    raw = {**load("users_02_the_user_object.json"), "external_metadata": metadata}
    user = User.model_validate(raw)
    assert user.external_metadata == metadata
    assert user.model_dump(mode="json")["external_metadata"] == metadata


def test_unknown_statuses_and_codes_parse() -> None:
    raw = load("accounts_02_retrieve_an_account.json")
    raw["connection"] = {
        "status": "reconnecting",
        "error_code": "brand_new_code",
        "error_message": "x",
        "updated_at": None,
    }
    account = Account.model_validate(raw)
    assert account.connection is not None
    assert account.connection.status == "reconnecting"
    assert "reconnecting" not in CONNECTION_STATUSES
    assert "brand_new_code" not in CONNECTION_ERROR_CODES


def test_unknown_fields_are_kept() -> None:
    raw = {**load("accounts_02_retrieve_an_account.json"), "ownership": "primary"}
    raw["availability"] = {**raw["availability"], "shifts": {"status": "synced"}}
    dumped = Account.model_validate(raw).model_dump(mode="json")
    assert dumped["ownership"] == "primary"
    assert dumped["availability"]["shifts"] == {"status": "synced"}


def test_pay_distribution_reads_error_and_error_code() -> None:
    old = PayDistribution.model_validate({"status": "error", "error": "bad_routing"})
    new = PayDistribution.model_validate({"status": "error", "error_code": "bad_routing"})
    assert old.error_code == new.error_code == "bad_routing"
    assert old.model_dump()["error"] == "bad_routing"
    assert new.model_dump()["error_code"] == "bad_routing"


def test_deprecated_fields_parse_and_warn() -> None:
    account = Account.model_validate(load("accounts_02_retrieve_an_account.json"))
    for name, value in [("status", "done"), ("error_code", None), ("data_partner", "amazon")]:
        with pytest.warns(DeprecationWarning, match=name):
            assert getattr(account, name) == value
    first = Account.model_validate(load("accounts_01_the_account_object.json"))
    assert first.availability is not None
    with pytest.warns(DeprecationWarning, match="finances"):
        assert first.availability.finances is not None


def test_availability_resources_cover_the_page() -> None:
    account = Account.model_validate(load("accounts_01_the_account_object.json"))
    assert account.availability is not None
    assert account.availability.payouts is not None
    assert account.availability.payouts.available_count == 3
    assert account.availability.forms is None
    assert set(RESOURCES) == set(type(account.availability).model_fields)


@pytest.mark.parametrize(
    ("field", "value", "loc"),
    [
        ("id", "not-a-uuid", ("id",)),
        ("created_at", "yesterday", ("created_at",)),
        ("employers_connected", "rideCo", ("employers_connected",)),
    ],
)
def test_malformed_user_names_the_field(field: str, value: Any, loc: tuple[str, ...]) -> None:
    raw = {**load("users_02_the_user_object.json"), field: value}
    with pytest.raises(ValidationError) as info:
        User.model_validate(raw)
    assert [e["loc"] for e in info.value.errors()] == [loc]
    assert field in str(info.value)


def test_malformed_nested_account_field_names_its_path() -> None:
    raw = load("accounts_02_retrieve_an_account.json")
    raw["availability"]["payouts"]["available_count"] = "many"
    with pytest.raises(ValidationError) as info:
        Account.model_validate(raw)
    assert info.value.errors()[0]["loc"] == ("availability", "payouts", "available_count")


def test_missing_required_field() -> None:
    raw = load("accounts_02_retrieve_an_account.json")
    del raw["user"]
    with pytest.raises(ValidationError, match="user"):
        Account.model_validate(raw)


def test_token_reprs_hide_the_token() -> None:
    token = UserToken.model_validate(load("users_08_create_a_user_token.json"))
    assert token.access not in repr(token)


@pytest.mark.parametrize("stamp", [1574870210, 1574870210.5])
def test_a_number_is_not_a_timestamp(stamp: float) -> None:
    """The frames refuse epoch numbers for timestamps, and so do the models."""
    with pytest.raises(ValidationError, match="ISO 8601 text"):
        User.model_validate({"id": "0994b847-cc69-4d98-bc99-c5e65e762add", "created_at": stamp})
