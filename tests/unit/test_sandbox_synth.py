"""The synthetic-data generator: deterministic, realistic, consistent with the models."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from argyle_nb.models import (
    AVAILABILITY_STATUSES,
    CONNECTION_ERROR_CODES,
    CONNECTION_ERROR_MESSAGES,
    PAY_DISTRIBUTION_STATUSES,
    Account,
    User,
)
from argyle_nb.sandbox.documents import parse_iso
from argyle_nb.sandbox.synth import CATALOGUE, SOURCE, generate

NOW = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def data() -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    return list(generate(2000, seed=42, now=NOW))


def test_deterministic_for_a_seed_and_different_across_seeds() -> None:
    assert list(generate(50, 1, NOW)) == list(generate(50, 1, NOW))
    assert list(generate(50, 1, NOW)) != list(generate(50, 2, NOW))
    later = list(generate(50, 1, NOW + timedelta(days=3)))
    ids = [(u["id"], [a["id"] for a in accounts]) for u, accounts in generate(50, 1, NOW)]
    assert ids == [(u["id"], [a["id"] for a in accounts]) for u, accounts in later]


def test_documents_parse_as_the_models(data: list[tuple[dict[str, Any], list[Any]]]) -> None:
    for user, accounts in data[:300]:
        User.model_validate(user)
        for account in accounts:
            Account.model_validate(account)


def test_timestamps_are_ordered_and_recent(data: list[tuple[dict[str, Any], list[Any]]]) -> None:
    for user, accounts in data:
        user_at = parse_iso(user["created_at"])
        assert NOW - timedelta(days=366) < user_at <= NOW
        for account in accounts:
            created = parse_iso(account["created_at"])
            assert user_at <= created <= NOW
            assert created <= parse_iso(account["updated_at"]) <= NOW
            assert created <= parse_iso(account["connection"]["updated_at"]) <= NOW
            if not account["was_connected"]:
                assert NOW - created < timedelta(days=30)
            if account["connection"]["status"] == "connecting":
                assert NOW - created <= timedelta(hours=2)


def test_users_follow_their_accounts(data: list[tuple[dict[str, Any], list[Any]]]) -> None:
    counts = Counter(len(accounts) for _, accounts in data)
    assert set(counts) == {0, 1, 2, 3, 4}
    for user, accounts in data:
        assert {a["user"] for a in accounts} <= {user["id"]}
        providers = [a["link_item"] for a in accounts]
        assert user["data_providers_connected"] == list(dict.fromkeys(providers))
        employers = [e for a in accounts if a["was_connected"] for e in a["employers"]]
        assert user["employers_connected"] == list(dict.fromkeys(employers))


def test_portfolio_statuses_and_errors(data: list[tuple[dict[str, Any], list[Any]]]) -> None:
    accounts = [a for _, user_accounts in data for a in user_accounts]
    statuses = Counter(a["connection"]["status"] for a in accounts)
    total = len(accounts)
    assert statuses["connected"] / total > 0.7
    assert 0.05 < statuses["error"] / total < 0.25
    assert 0 < statuses["connecting"] / total < 0.1
    for account in accounts:
        connection = account["connection"]
        assert account["source"] == SOURCE
        assert account["item"].startswith("item_0000") and len(account["item"]) == 14
        assert account["pay_distribution"]["status"] in PAY_DISTRIBUTION_STATUSES
        if connection["status"] == "error":
            assert connection["error_code"] in CONNECTION_ERROR_CODES
            assert (
                connection["error_message"] == CONNECTION_ERROR_MESSAGES[connection["error_code"]]
            )
        else:
            assert connection["error_code"] is None and connection["error_message"] is None
        if connection["status"] == "connected":
            assert account["was_connected"]
    assert len({a["connection"]["error_code"] for a in accounts}) > 8


def test_availability_agrees_with_item_and_status(
    data: list[tuple[dict[str, Any], list[Any]]],
) -> None:
    kinds = {item.link_item: item.kind for item in CATALOGUE}
    seen_statuses: Counter[str] = Counter()
    for _, accounts in data:
        for account in accounts:
            availability = account["availability"]
            if not account["was_connected"]:
                assert availability is None
                continue
            gig = kinds[account["link_item"]] == "gig"
            assert (availability["activities"] is not None) == gig
            assert (availability["vehicles"] is not None) == gig
            for name in ("payouts", "activities"):
                entry = availability[name]
                if entry is None:
                    continue
                assert entry["available_count"] >= 1
                assert entry["available_from"] <= entry["available_to"]
                assert entry["available_from"] < account["created_at"]
            for entry in availability.values():
                if entry is not None:
                    assert entry["status"] in AVAILABILITY_STATUSES
                    seen_statuses[entry["status"]] += 1
            recent = NOW - parse_iso(account["created_at"]) < timedelta(minutes=20)
            if account["connection"]["status"] == "connected" and recent:
                assert availability["payouts"]["status"] == "in_progress"
    assert set(seen_statuses) == set(AVAILABILITY_STATUSES)


def test_metadata_shapes(data: list[tuple[dict[str, Any], list[Any]]]) -> None:
    shapes = Counter(type(user["external_metadata"]).__name__ for user, _ in data)
    assert set(shapes) == {"dict", "str", "NoneType"}
    groups = {
        user["external_metadata"]["customer group"]
        for user, _ in data
        if isinstance(user["external_metadata"], dict)
        and "customer group" in user["external_metadata"]
    }
    assert {"lending", "insurance"} <= groups
    assert any(user["external_metadata"] == {} for user, _ in data)


def test_catalogue_covers_gig_and_payroll_items() -> None:
    names = {item.link_item for item in CATALOGUE}
    assert {"uber", "lyft", "doordash", "instacart", "amazon_flex"} <= names
    assert {"homedepot", "walmart", "amazon", "target", "us_army"} <= names
    assert len({item.item for item in CATALOGUE}) == len(CATALOGUE)
