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
  last 20 minutes, and the refreshes running now (about 1% of connected accounts), are
  ``in_progress``; a few resources ``sync_failed``).
* users come back to connect after a while: most within half an hour of sign-up, the
  others after an exponential wait (mean 3 days); users whose wait is longer than their
  age have no accounts yet.

The story (effects a cohort analysis should find; :data:`STORY` holds the figures):

* **A customer group that activates less.** Users whose ``customer group`` is
  ``background_check`` open Link far less: 45% of them never connect an account,
  against 18% of everyone else (planted difference in "has an account": -27 points,
  among users old enough to have come back).
* **A channel that connects more slowly, and ends up similar.** Users whose
  ``acquisition channel`` is ``partner_referral`` come back later: 15% within half
  an hour (70% elsewhere), the rest after a mean of 10 days (3 elsewhere). Their
  accounts are no different, so by about two months the same share has connected.
  A plain "connected" share calls them worse (their young users have not come back
  yet); the time to connect says they are slower.
* **An incident on one payroll platform.** ``walmart`` accounts created in the last
  5 days fail to connect 55% of the time (``connection_unavailable`` or
  ``system_error``), on top of the usual failures: visible by day, invisible by month.
* **One gig item's payouts scans fail more often.** ``doordash`` payouts end
  ``sync_failed`` 20% of the time (on top of the usual 5% chance that one of an
  account's resources fails).
* **The story goes on in time** once the sandbox's clock moves
  (:mod:`argyle_nb.sandbox.living`): a churning platform, an incident that starts and
  ends, connections lost and regained, sign-ups every day.
* **Noise only** everywhere else: ``lending``, ``insurance`` and
  ``earned_wage_access``; every other acquisition channel; ``region``;
  ``internalTracking_groupClassification``; ``group_id``; the text metadata
  ``User group A-D``. Differences between them are sampling noise.

Examples:
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
from datetime import UTC, datetime, timedelta
from typing import Any

from argyle_nb.models import CONNECTION_ERROR_MESSAGES
from argyle_nb.sandbox.catalogue import (
    ACCOUNT_WEIGHTS,
    ACCOUNTS_PER_USER,
    CATALOGUE,
    CHANNELS,
    CLASSIFICATIONS,
    DAY,
    GIG_ONLY,
    GROUPS,
    INCIDENT_CODES,
    ITEM_WEIGHTS,
    LOGIN_CODES,
    LOST_CODES,
    PAY_DISTRIBUTION_ERRORS,
    QUIET_ACCOUNT_WEIGHTS,
    REGIONS,
    RESOURCES,
    SOURCE,
    STORY,
    LinkItem,
    Story,
)
from argyle_nb.sandbox.documents import connected_lists, user_document

__all__ = ["CATALOGUE", "SOURCE", "STORY", "LinkItem", "Story", "generate"]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _metadata(rng: random.Random, index: int) -> Any:
    shape = rng.random()
    if shape < 0.45:
        meta: dict[str, Any] = {"customer group": rng.choice(GROUPS)}
        if rng.random() < 0.9:
            meta["acquisition channel"] = rng.choice(CHANNELS)
        if rng.random() < 0.85:
            meta["region"] = rng.choice(REGIONS)
        if rng.random() < 0.9:
            meta["internal user id"] = f"cu_{index + 100_000:07d}"
        return meta
    if shape < 0.60:
        return {
            "internalTracking_userId": str(1000 + index),
            "internalTracking_groupClassification": rng.choice(CLASSIFICATIONS),
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
    refreshing: bool = False,
) -> dict[str, Any]:
    """Availability of an account created ``created`` s ago whose last scan ended ``synced`` s ago.

    ``scanning``: the first scan is still running (events partly counted);
    ``refreshing``: a refresh is running now (events counted up to the last scan).
    """
    gig = item.kind == "gig"
    history = rng.uniform(14, 800) if gig else rng.uniform(60, 1100)
    start = created + history * DAY  # seconds ago of the first event
    failed = rng.choice(RESOURCES) if rng.random() < 0.05 else None
    flaky = item.link_item == STORY.flaky_item and rng.random() < STORY.flaky_failure
    stamp = clock.at(synced)
    out: dict[str, Any] = {}
    for resource in RESOURCES:
        if resource in GIG_ONLY and not gig:
            out[resource] = None
            continue
        if resource == "pay_allocations" and not item.pay_allocations:
            out[resource] = None
            continue
        status = "synced"
        if (scanning or refreshing) and resource in ("activities", "payouts", "documents"):
            status = "in_progress"
        elif resource == failed or (flaky and resource == STORY.flaky_resource):
            status = "sync_failed"
        entry: dict[str, Any] = {"status": status, "updated_at": stamp}
        if resource in ("activities", "payouts"):
            period = (7.0 if gig else 14.0) if resource == "payouts" else 1.0 / rng.uniform(0.3, 6)
            span = (start - synced) / DAY
            if scanning:
                span *= rng.uniform(0.1, 0.6)
            count = max(int(span / period), 1)
            last = synced + rng.uniform(0, min(period, 13) * DAY * 0.9)
            entry["available_count"] = count
            entry["available_from"] = clock.day(start)
            entry["available_to"] = clock.day(min(last, start))
        out[resource] = entry
    out["forms"] = None
    out["user_uploads"] = None
    return out


def _account_for(
    rng: random.Random,
    clock: _Clock,
    user_id: str,
    first_at: float,
    first: bool,
    item: LinkItem,
    incident: tuple[str, float] = (STORY.incident_item, STORY.incident_days * DAY),
) -> dict[str, Any]:
    """An account of a user who first came back to connect ``first_at`` seconds ago.

    ``incident``: the platform whose logins fail (:data:`STORY`'s ``incident_error``
    more often) for accounts created less than so many seconds ago."""
    roll = rng.random()
    status = "connected" if roll < 0.82 else ("error" if roll < 0.96 else "connecting")
    lost = status == "error" and rng.random() < 0.6  # connected once, then lost it
    newest = first_at
    if status == "connecting":
        created = min(newest, rng.uniform(30, 2 * 3600))
    elif status == "error" and not lost:
        created = min(newest, rng.uniform(600, 29 * DAY))
    elif first:
        created = newest
    else:
        created = newest * (1 - rng.random() ** 0.5)
    created = max(created, 1.0)
    failing = (
        item.link_item == incident[0]
        and created < incident[1]
        and rng.random() < STORY.incident_error
    )
    if failing:  # the platform is down: the login fails, whatever it would have done
        status, lost = "error", False

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
        synced = scan_done if scanning or created < DAY else rng.uniform(0, min(DAY, created))
        refreshing = not scanning and rng.random() < 0.01  # about 1% are rescanned now
        availability = _availability(rng, clock, item, created, synced, scanning, refreshing)
        connection_at = scan_done if not scanning else created - rng.uniform(1, 10)
        updated = synced
        deprecated_status = "syncing" if scanning else "done"
        pay_roll = rng.random()
        if pay_roll < 0.18:
            pay["status"] = "success"
        elif pay_roll < 0.21:
            code, message = rng.choice(PAY_DISTRIBUTION_ERRORS)
            pay.update(status="error", error_code=code, error_message=message)
        elif pay_roll < 0.23:
            pay["status"] = "awaiting_confirmation"
    elif lost:
        failed_at = rng.uniform(0, scan_done)
        synced = min(scan_done, failed_at + rng.uniform(0, 3 * DAY))
        availability = _availability(rng, clock, item, created, synced, False)
        error_code = rng.choices(*zip(*LOST_CODES, strict=True))[0]
        connection_at = updated = failed_at
        deprecated_status = "error"
    else:
        availability = None
        connection_at = updated = max(created - rng.uniform(1, 300), 0.0)
        if failing:
            error_code = rng.choices(*zip(*INCIDENT_CODES, strict=True))[0]
            deprecated_status = "error"
        elif status == "error":
            error_code = rng.choices(*zip(*LOGIN_CODES, strict=True))[0]
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


def _wait(rng: random.Random, *, slow: bool) -> float:
    """Seconds from sign-up to the first visit to Link."""
    quick = STORY.slow_quick_share if slow else STORY.quick_share
    if rng.random() < quick:
        return rng.uniform(5, 1800)
    mean = STORY.slow_mean_days if slow else STORY.mean_days
    return 1800 + rng.expovariate(1 / (mean * DAY))


def generate(
    users: int,
    seed: int,
    now: datetime,
    *,
    within: float | None = None,
    incident: tuple[str, float] = (STORY.incident_item, STORY.incident_days * DAY),
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Yield ``users`` synthetic users, each with its accounts, as the API serves them.

    Args:
        users: how many users.
        seed: the data depend only on it (and on ``now`` for timestamps).
        now: the moment the data are anchored on: every timestamp is at or before it.
        within: users signed up over this many seconds before ``now``, evenly (default:
            over the last year, more of them recently). The sandbox's day of sign-ups
            (:mod:`argyle_nb.sandbox.living`) gives a day.
        incident: the platform whose logins fail more for accounts created less than so
            many seconds before ``now`` (default: :data:`STORY`'s).

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
        user_age = 365 * DAY * rng.random() ** 1.4 + 60 if within is None else within * rng.random()
        metadata = _metadata(rng, index)
        tags = metadata if isinstance(metadata, dict) else {}
        quiet = tags.get("customer group") == STORY.quiet_group
        weights = QUIET_ACCOUNT_WEIGHTS if quiet else ACCOUNT_WEIGHTS
        wanted = rng.choices(ACCOUNTS_PER_USER, weights=weights)[0]
        wait = _wait(rng, slow=tags.get("acquisition channel") == STORY.slow_channel)
        if wait >= user_age:
            wanted = 0  # not come back yet
        items: list[LinkItem] = []
        while len(items) < wanted:
            item = rng.choices(CATALOGUE, weights=ITEM_WEIGHTS)[0]
            if item not in items:
                items.append(item)
        accounts = [
            _account_for(rng, clock, user_id, max(user_age - wait, 1.0), n == 0, item, incident)
            for n, item in enumerate(items)
        ]
        accounts.sort(key=lambda a: (a["created_at"], a["id"]))
        employers, providers = connected_lists(
            (a["link_item"], a["employers"], a["was_connected"]) for a in accounts
        )
        user = user_document(user_id, clock.at(user_age), employers, providers, metadata)
        yield user, accounts
