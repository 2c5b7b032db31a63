"""Deterministic synthetic Argyle data: users and their accounts as the API serves them.

:func:`generate` is pure: the same ``(users, seed, now)`` always yields the same
documents. Ids, metadata, link items, statuses and counts depend on the seed only;
timestamps are offsets back from ``now`` (so the data looks recent and the 30-day sweep
of never-connected accounts makes sense: every never-connected account is younger than
29 days when generated).

Realism, in brief:

* ``external_metadata`` comes in several shapes: objects with keys such as
  ``customer group``, ``acquisition channel``, ``region``, ``internal user id``; the
  seed page's ``internalTracking_*`` and ``group_id`` objects; strings; null; ``{}``.
* 0-4 accounts per user over a catalogue of gig items (uber, lyft, doordash,
  instacart, amazon_flex, ...) and payroll items (homedepot, walmart, amazon, target,
  us_army, ...), plus payroll platforms that serve several employers (myadp, paychex).
* connection statuses weighted like a portfolio: about 82% connected, 14% error
  (codes of :data:`argyle_nb.models.CONNECTION_ERROR_MESSAGES`, with their messages;
  re-authentication codes on accounts that were connected, login failures on accounts
  that never were), 4% connecting (all within the last two hours).
* availability agrees with the item (gig items have activities, vehicles and
  reputations; payroll items pay every two weeks) and with the status (scans of the
  last 20 minutes are ``in_progress``; a few resources ``sync_failed``).

Example:
    >>> from datetime import UTC, datetime
    >>> now = datetime(2026, 1, 1, tzinfo=UTC)
    >>> first = list(generate(3, seed=42, now=now))
    >>> first == list(generate(3, seed=42, now=now))
    True
    >>> user, accounts = first[0]
    >>> sorted(user) == sorted(["id", "created_at", "employers_connected",
    ...                         "data_providers_connected", "external_metadata"])
    True
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from argyle_nb.models import CONNECTION_ERROR_MESSAGES
from argyle_nb.sandbox.documents import connected_lists, user_document

__all__ = ["CATALOGUE", "SOURCE", "LinkItem", "generate"]

#: ``account.source`` in Argyle's sandbox, whatever the link item.
SOURCE: Final = "argyle_sandbox"


@dataclass(frozen=True)
class LinkItem:
    """One Link item of the catalogue."""

    link_item: str
    item: str
    kind: str  # "gig" or "payroll"
    platform: str  # the payroll platform behind it in production (not served: see SOURCE)
    weight: float
    employers: tuple[str, ...] = ()  # platforms serving several employers draw from these
    pay_allocations: bool = True


_SMALL_EMPLOYERS: Final = (
    "acme_logistics",
    "sunrise_dental",
    "bluewater_hospitality",
    "northgate_staffing",
    "pinecrest_health",
    "redline_manufacturing",
    "summit_retail_group",
    "harbor_city_schools",
)

#: The Link items synthetic accounts are drawn from (weights are relative).
CATALOGUE: Final[tuple[LinkItem, ...]] = (
    LinkItem("uber", "item_000041078", "gig", "uber", 14),
    LinkItem("lyft", "item_000024211", "gig", "lyft", 7),
    LinkItem("doordash", "item_000012375", "gig", "doordash", 12),
    LinkItem("instacart", "item_000020164", "gig", "instacart", 6),
    LinkItem("amazon_flex", "item_000002097", "gig", "amazon_flex", 5),
    LinkItem("grubhub", "item_000017433", "gig", "grubhub", 3),
    LinkItem("shipt", "item_000035870", "gig", "shipt", 2, pay_allocations=False),
    LinkItem("postmates", "item_000031125", "gig", "postmates", 1, pay_allocations=False),
    LinkItem("homedepot", "item_000019016", "payroll", "workday", 5),
    LinkItem("walmart", "item_000046112", "payroll", "walmart_onewalmart", 8),
    LinkItem("amazon", "item_000002102", "payroll", "amazonwarehouse_remote", 7),
    LinkItem("target", "item_000038771", "payroll", "workday", 4),
    LinkItem("us_army", "item_000041672", "payroll", "mypay", 3),
    LinkItem("starbucks", "item_000036524", "payroll", "adp", 3),
    LinkItem("mcdonalds", "item_000026019", "payroll", "adp", 2),
    LinkItem("fedex", "item_000015350", "payroll", "workday", 2),
    LinkItem("ups", "item_000043907", "payroll", "ups", 2),
    LinkItem("kroger", "item_000023466", "payroll", "kroger_express_hr", 2),
    LinkItem("costco", "item_000010246", "payroll", "costco", 1),
    LinkItem("cvs", "item_000010988", "payroll", "workday", 1),
    LinkItem("usps", "item_000044310", "payroll", "liteblue", 1),
    LinkItem("myadp", "item_000000981", "payroll", "myadp", 5, _SMALL_EMPLOYERS),
    LinkItem("paychex", "item_000030567", "payroll", "paychex_flex", 2, _SMALL_EMPLOYERS),
    LinkItem("gusto", "item_000018142", "payroll", "gusto", 1, _SMALL_EMPLOYERS, False),
)

_ITEM_WEIGHTS: Final = [item.weight for item in CATALOGUE]

#: Codes of accounts that were connected, then lost the connection.
_LOST_CODES: Final = (
    ("auth_required", 40),
    ("expired_credentials", 12),
    ("account_disabled", 10),
    ("invalid_auth", 10),
    ("account_inaccessible", 6),
    ("system_error", 6),
    ("connection_unavailable", 4),
)
#: Codes of accounts whose first login failed.
_LOGIN_CODES: Final = (
    ("invalid_credentials", 40),
    ("mfa_timeout", 14),
    ("invalid_mfa", 10),
    ("account_not_found", 8),
    ("unsupported_auth_type", 5),
    ("unsupported_mfa_method", 4),
    ("account_incomplete", 4),
    ("tos_required", 3),
    ("email_verification_required", 3),
    ("invalid_account_type", 3),
    ("system_error", 3),
    ("connection_unavailable", 3),
)
_PAY_DISTRIBUTION_ERRORS: Final = (
    ("account_disconnected", "This user's connection has expired and requires re-authentication."),
    (
        "bank_and_card_update_failed",
        "Argyle encountered a problem when updating bank account and card deposit settings. "
        "Our team has been notified and is investigating.",
    ),
    ("invalid_mfa", "This user did not provide the correct multi-factor authentication response."),
)

_GROUPS: Final = ("lending", "lending", "insurance", "earned_wage_access", "background_check")
_CHANNELS: Final = ("organic", "paid_search", "partner_referral", "email", "social", "direct_mail")
_REGIONS: Final = ("us-west", "us-east", "us-central", "us-south")
_CLASSIFICATIONS: Final = ("Gig Worker", "W2 Employee", "Contractor", "Multiple")
_ACCOUNTS_PER_USER: Final = (0, 1, 2, 3, 4)
_ACCOUNT_WEIGHTS: Final = (18, 47, 20, 10, 5)

_DAY: Final = 86_400.0
_GIG_ONLY: Final = frozenset({"activities", "vehicles", "reputations"})
_RESOURCES: Final = (
    "activities",
    "payouts",
    "documents",
    "profiles",
    "employments",
    "reputations",
    "vehicles",
    "pay_allocations",
)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _metadata(rng: random.Random, index: int) -> Any:
    shape = rng.random()
    if shape < 0.45:
        meta: dict[str, Any] = {"customer group": rng.choice(_GROUPS)}
        if rng.random() < 0.9:
            meta["acquisition channel"] = rng.choice(_CHANNELS)
        if rng.random() < 0.85:
            meta["region"] = rng.choice(_REGIONS)
        if rng.random() < 0.9:
            meta["internal user id"] = f"cu_{index + 100_000:07d}"
        return meta
    if shape < 0.60:
        return {
            "internalTracking_userId": str(1000 + index),
            "internalTracking_groupClassification": rng.choice(_CLASSIFICATIONS),
        }
    if shape < 0.70:
        return {"group_id": f"Group {rng.choice('ABC')}{rng.randint(1, 6)}"}
    if shape < 0.82:
        return f"User group {rng.choice('ABCD')}"
    if shape < 0.92:
        return None
    return {}


class _Clock:
    """Formats offsets (seconds before ``now``) as the API's timestamps."""

    def __init__(self, now: datetime) -> None:
        self.now = now.astimezone(UTC).replace(tzinfo=None)

    def at(self, seconds_ago: float) -> str:
        moment = self.now - timedelta(seconds=max(seconds_ago, 0.0))
        return moment.isoformat(timespec="microseconds") + "Z"

    def day(self, seconds_ago: float) -> str:
        """Midnight of the day ``seconds_ago`` (event windows are whole days)."""
        moment = self.now - timedelta(seconds=max(seconds_ago, 0.0))
        return moment.strftime("%Y-%m-%dT00:00:00Z")


def _availability(
    rng: random.Random,
    clock: _Clock,
    item: LinkItem,
    created: float,
    synced: float,
    scanning: bool,
) -> dict[str, Any]:
    """Availability of an account created ``created`` s ago whose last scan ended ``synced`` s ago.

    ``scanning``: the first scan is still running (events partly counted).
    """
    gig = item.kind == "gig"
    history = rng.uniform(14, 800) if gig else rng.uniform(60, 1100)
    start = created + history * _DAY  # seconds ago of the first event
    failed = rng.choice(_RESOURCES) if rng.random() < 0.05 else None
    stamp = clock.at(synced)
    out: dict[str, Any] = {}
    for resource in _RESOURCES:
        if resource in _GIG_ONLY and not gig:
            out[resource] = None
            continue
        if resource == "pay_allocations" and not item.pay_allocations:
            out[resource] = None
            continue
        status = "synced"
        if scanning and resource in ("activities", "payouts", "documents"):
            status = "in_progress"
        elif resource == failed:
            status = "sync_failed"
        entry: dict[str, Any] = {"status": status, "updated_at": stamp}
        if resource in ("activities", "payouts"):
            period = (7.0 if gig else 14.0) if resource == "payouts" else 1.0 / rng.uniform(0.3, 6)
            span = (start - synced) / _DAY
            if scanning:
                span *= rng.uniform(0.1, 0.6)
            count = max(int(span / period), 1)
            last = synced + rng.uniform(0, min(period, 13) * _DAY * 0.9)
            entry["available_count"] = count
            entry["available_from"] = clock.day(start)
            entry["available_to"] = clock.day(min(last, start))
        out[resource] = entry
    out["forms"] = None
    out["user_uploads"] = None
    return out


def _account_for(
    rng: random.Random, clock: _Clock, user_id: str, user_age: float, first: bool, item: LinkItem
) -> dict[str, Any]:
    roll = rng.random()
    status = "connected" if roll < 0.82 else ("error" if roll < 0.96 else "connecting")
    lost = status == "error" and rng.random() < 0.6  # connected once, then lost it
    # Link opens a few seconds to minutes after the user is created.
    newest = max(user_age - rng.uniform(5, 900), user_age * 0.99)
    if status == "connecting":
        created = min(newest, rng.uniform(30, 2 * 3600))
    elif status == "error" and not lost:
        created = min(newest, rng.uniform(600, 29 * _DAY))
    elif first:
        created = newest
    else:
        created = newest * (1 - rng.random() ** 0.5)
    created = max(created, 1.0)

    employers = (
        sorted(rng.sample(item.employers, 1 if rng.random() < 0.8 else 2))
        if item.employers
        else [item.link_item]
    )
    was_connected = status == "connected" or lost
    scan_done = max(created - rng.uniform(20, 240), 0.0)  # first scan ends minutes later
    error_code = error_message = None
    pay: dict[str, Any] = {"status": "idle", "error_code": None, "error_message": None}
    availability: dict[str, Any] | None
    deprecated_status = "done"

    if status == "connected":
        scanning = created < 20 * 60
        # connected accounts are refreshed about daily
        synced = scan_done if scanning or created < _DAY else rng.uniform(0, min(_DAY, created))
        availability = _availability(rng, clock, item, created, synced, scanning)
        connection_at = scan_done if not scanning else created - rng.uniform(1, 10)
        updated = synced
        deprecated_status = "syncing" if scanning else "done"
        pay_roll = rng.random()
        if pay_roll < 0.18:
            pay["status"] = "success"
        elif pay_roll < 0.21:
            code, message = rng.choice(_PAY_DISTRIBUTION_ERRORS)
            pay.update(status="error", error_code=code, error_message=message)
        elif pay_roll < 0.23:
            pay["status"] = "awaiting_confirmation"
    elif lost:
        failed_at = rng.uniform(0, scan_done)
        synced = min(scan_done, failed_at + rng.uniform(0, 3 * _DAY))
        availability = _availability(rng, clock, item, created, synced, False)
        error_code = rng.choices(*zip(*_LOST_CODES, strict=True))[0]
        connection_at = updated = failed_at
        deprecated_status = "error"
    else:
        availability = None
        connection_at = updated = max(created - rng.uniform(1, 300), 0.0)
        if status == "error":
            error_code = rng.choices(*zip(*_LOGIN_CODES, strict=True))[0]
            deprecated_status = "error"
        else:
            deprecated_status = "connecting"
        pay["status"] = "awaiting_connection"
    if error_code is not None:
        error_message = CONNECTION_ERROR_MESSAGES.get(error_code)
    pay["updated_at"] = clock.at(max(created - rng.uniform(0, 2), 0.0))

    return {
        "id": _uuid(rng),
        "user": user_id,
        "employers": employers,
        "link_item": item.link_item,
        "data_partner": item.link_item,
        "item": item.item,
        "source": SOURCE,
        "created_at": clock.at(created),
        "updated_at": clock.at(min(updated, created)),
        "was_connected": was_connected,
        "connection": {
            "status": status,
            "error_code": error_code,
            "error_message": error_message,
            "updated_at": clock.at(min(connection_at, created)),
        },
        "pay_distribution": pay,
        "availability": availability,
        "status": deprecated_status,
        "error_code": error_code,
    }


def generate(
    users: int, seed: int, now: datetime
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Yield ``users`` synthetic users, each with its accounts, as the API serves them.

    Args:
        users: how many users.
        seed: the data depend only on it (and on ``now`` for timestamps).
        now: the moment the data are anchored on: every timestamp is at or before it.

    Each account's ``created_at`` is after its user's; a user's connected lists follow
    its accounts (see :mod:`argyle_nb.sandbox.documents`).
    """
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    rng = random.Random(seed)
    clock = _Clock(now)
    for index in range(users):
        user_id = _uuid(rng)
        # sign-ups over the last year, more of them recently (a growing customer)
        user_age = 365 * _DAY * rng.random() ** 1.4 + 60
        metadata = _metadata(rng, index)
        wanted = rng.choices(_ACCOUNTS_PER_USER, weights=_ACCOUNT_WEIGHTS)[0]
        items: list[LinkItem] = []
        while len(items) < wanted:
            item = rng.choices(CATALOGUE, weights=_ITEM_WEIGHTS)[0]
            if item not in items:
                items.append(item)
        accounts = [
            _account_for(rng, clock, user_id, user_age, n == 0, item)
            for n, item in enumerate(items)
        ]
        accounts.sort(key=lambda a: (a["created_at"], a["id"]))
        employers, providers = connected_lists(
            (a["link_item"], a["employers"], a["was_connected"]) for a in accounts
        )
        user = user_document(user_id, clock.at(user_age), employers, providers, metadata)
        yield user, accounts
