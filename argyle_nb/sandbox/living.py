"""The sandbox's clock, and what happens to its portfolio as the clock moves.

A sandbox's "now" is the wall clock plus the days it was advanced (kept in its database:
``meta.days``), so a sandbox serving that database answers from the new state at once.
:func:`advance` moves it forward one day at a time, each day drawn from the database's
seed and the day's number alone (``random.Random((seed, day))``), and day ``k`` runs from
the moment the portfolio was generated plus ``k`` days (:func:`lived_from`): the same
database advanced the same days is the same portfolio, however fast or late it was
advanced.

A day of the story (:data:`LIFE` holds the figures; day 0 is the first day advanced):

* **Sign-ups.** ``signups`` of the users there were when the clock first moved sign up
  each day (0.4%: 40 a day for the 10,000-user demo), drawn by the generator
  (:func:`~argyle_nb.sandbox.synth.generate`): metadata, channels and the waits of the
  story, the quick ones connecting that day.
* **Coming back.** A user without an account, signed up within ``come_back_days``, comes
  back to connect with a daily chance of ``come_back`` (``background_check`` users
  ``come_back_quiet``, ``partner_referral`` users ``come_back_slow``).
* **Connecting resolves within hours.** A ``connecting`` account ends ``connected``
  (``resolve_connected``) or in a failed login (the generator's login codes) 30 minutes
  to 6 hours after it was created.
* **Connections are lost.** A connected account loses its connection with a daily chance
  of ``loss`` (0.4%), ``churn_loss`` (3%) on the churning platform ``churn_item``
  (``lyft``), with a re-authentication code (``auth_required``, ``expired_credentials``,
  ``mfa_timeout``: :data:`REAUTH_CODES`) and its message; ``was_connected`` stays true.
* **Some users reconnect.** An account that lost its connection is connected again with
  a daily chance of ``reconnect`` (6%: about half within 11 days).
* **An incident.** On ``incident_item`` (``myadp``, a payroll platform of many
  employers) from day ``incident_start`` to day ``incident_end`` (10 to 14): logins fail
  ``incident_error`` of the time more (``connection_unavailable``, ``system_error``), and
  its connected accounts lose their connection with a daily chance of
  ``incident_loss`` (15%) with those codes; once it ends they come back with a daily
  chance of ``incident_recovery`` (50%). The generator's ``walmart`` incident, under way
  when the data were generated, ends on day ``walmart_end`` (3).
* **Scans.** Every connected account is scanned once a day: its resources' ``updated_at``
  move, the event windows reach the scan, ``available_count`` grows; ``updated_at``
  follows.
* **Removal.** Accounts that never connected are removed 30 days after creation (the
  store's sweep, at the end of each day).

Everything else is noise.

Examples:
    >>> LIFE.churn_item, LIFE.incident_item, (LIFE.incident_start, LIFE.incident_end)
    ('lyft', 'myadp', (10, 14))
"""

from __future__ import annotations

import gc
import random
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import orjson

from argyle_nb.errors import ArgyleValueError
from argyle_nb.models import CONNECTION_ERROR_MESSAGES
from argyle_nb.sandbox.catalogue import (
    CATALOGUE,
    DAY,
    INCIDENT_CODES,
    ITEM_WEIGHTS,
    LOGIN_CODES,
    STORY,
)
from argyle_nb.sandbox.documents import iso, parse_iso
from argyle_nb.sandbox.store import _SET_META, Store, _account_row, _user_row
from argyle_nb.sandbox.synth import _account_for, _availability, _Clock, generate

__all__ = ["LIFE", "REAUTH_CODES", "Life", "advance", "days_advanced", "sandbox_now"]

#: Codes of a connection lost because its user must log in again, and their weights.
REAUTH_CODES: Final = (("auth_required", 50), ("expired_credentials", 30), ("mfa_timeout", 20))
#: The most days one call advances (a loop over days must end).
MAX_DAYS: Final = 3_650


@dataclass(frozen=True)
class Life:
    """The figures of the sandbox's days (see the module docstring)."""

    signups: float = 0.004
    come_back: float = 0.20
    come_back_quiet: float = 0.03
    come_back_slow: float = 0.08
    come_back_days: float = 60.0
    resolve_connected: float = 0.85
    loss: float = 0.004
    churn_item: str = "lyft"
    churn_loss: float = 0.03
    reconnect: float = 0.06
    incident_item: str = "myadp"
    incident_start: int = 10
    incident_end: int = 14
    incident_error: float = STORY.incident_error
    incident_loss: float = 0.15
    incident_recovery: float = 0.50
    walmart_end: int = 3


#: The figures of the sandbox's days.
LIFE: Final = Life()

_INCIDENT: Final = frozenset(code for code, _ in INCIDENT_CODES)
_ITEMS: Final = {item.link_item: item for item in CATALOGUE}


def days_advanced(store: Store) -> int:
    """How many days the sandbox of ``store`` was advanced."""
    return int(store.meta("days") or 0)


def sandbox_now(store: Store, wall: datetime) -> datetime:
    """The sandbox's "now" when the wall clock says ``wall``."""
    return wall + timedelta(days=days_advanced(store))


#: The meta entry of the moment the sandbox's days are counted from (ISO 8601).
LIVED_FROM: Final = "lived_from"


def lived_from(store: Store, wall: datetime) -> datetime:
    """The moment the days of ``store``'s life are counted from: the moment its portfolio
    was generated (recorded then), else its "now" when the clock first moved (recorded
    then). Day ``k`` runs from it plus ``k`` days, however much time passed between the
    advances: the life depends on the seed, not on when or how fast it was advanced."""
    found = store.meta(LIVED_FROM)
    if found is not None:
        return datetime.fromisoformat(found)
    start = sandbox_now(store, wall) - timedelta(days=days_advanced(store))
    store.set_meta({LIVED_FROM: start.isoformat()})
    return start


def advance(store: Store, days: int, wall: datetime) -> dict[str, int]:
    """Move the sandbox of ``store`` forward ``days`` days (each day from
    :func:`lived_from` plus the days already lived, whatever the wall clock ``wall``
    says), a day at a time (each in one transaction); what happened, summed:
    users who signed up (``signups``), users without an account who came back to connect
    one (``came_back``), accounts ``connected`` (connecting ones resolved, lost ones
    reconnected), logins ``failed``, connections ``lost``, never-connected accounts
    ``removed``, and ``days``.

    Raises:
        ArgyleValueError: ``days`` is not a whole number from 1 to :data:`MAX_DAYS`.
    """
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ArgyleValueError(f"days must be a whole number from 1 to {MAX_DAYS}, not {days!r}")
    seed = int(store.meta("seed") or 0)
    born = store.meta("born_users")
    if born is None:
        born = str(store.counts()[0])
        store.set_meta({"born_users": born})
    total = dict.fromkeys(("signups", "came_back", "connected", "failed", "lost", "removed"), 0)
    total["days"] = 0
    origin = lived_from(store, wall)
    for _ in range(days):
        day = days_advanced(store)
        start = origin + timedelta(days=day)
        with store._write() as db, _collector_paused():  # the day in one transaction
            happened = _Day(db, seed, day, start, int(born)).run()
            _commit(store, db, happened, meta={"days": str(day + 1)})
        happened.counts["removed"] = store.sweep(start + timedelta(days=1))
        for name, n in happened.counts.items():
            total[name] += n
        total["days"] += 1
    return total


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while a day is lived: a day makes and frees
    millions of small dicts and lists (each account's document), none of them in a cycle,
    which the collector would otherwise walk again and again (a third of a day of a
    million accounts). What is freed goes at once by reference counting as always."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


#: Accounts read, lived and written back at a time (memory holds one chunk, not the
#: portfolio: a day of a million accounts took 10 GB and 92 s read whole, the garbage
#: collector walking every document held).
_CHUNK: Final = 20_000


def _accounts_by_id(db: sqlite3.Connection) -> Iterator[list[tuple[int, bytes]]]:
    """Every account's ``(rowid, document)``, by id, a chunk at a time (keyset pages of
    the transaction ``db`` is in: the chunks already written back come before)."""
    after = ""
    while True:
        rows = db.execute(
            "SELECT id, rowid, doc FROM accounts WHERE id > ? ORDER BY id LIMIT ?",
            (after, _CHUNK),
        ).fetchall()
        if not rows:
            return
        after = rows[-1][0]
        yield [(rowid, doc) for _, rowid, doc in rows]


def _users_without_accounts(db: sqlite3.Connection) -> list[bytes]:
    """The documents of the users who have no account, by id."""
    rows = db.execute(
        "SELECT doc FROM users u WHERE NOT EXISTS"
        " (SELECT 1 FROM accounts a WHERE a.user = u.id) ORDER BY id"
    )
    return [row[0] for row in rows]


def _commit(store: Store, db: sqlite3.Connection, day: _Day, meta: dict[str, str]) -> None:
    """The rest of the day in its transaction ``db`` (the changed accounts are written as
    they are lived): the users who signed up with their accounts, the first accounts of
    users who came back, and the ``meta`` keys (the clock); the connected lists of the
    users whose accounts connected for the first time, or who have new accounts, are
    recomputed."""
    added, accounts = day.added, day.came_back
    store._flush(
        db,
        [_user_row(u) for u, _ in added],
        [_account_row(a) for _, mine in added for a in mine] + [_account_row(a) for a in accounts],
    )
    touched = day.first_connected | {a["user"] for a in accounts}
    touched |= {u["id"] for u, mine in added if mine}
    store._refresh_users(db, touched)
    db.executemany(_SET_META, list(meta.items()))


class _Day:
    """One day of the sandbox's life, from ``start`` (its "now" before the day)."""

    def __init__(
        self, db: sqlite3.Connection, seed: int, day: int, start: datetime, born: int
    ) -> None:
        self.db = db
        self.day = day
        self.rng = random.Random(f"{seed}:{day}")
        self.start = start
        self.end = start + timedelta(days=1)
        self.clock = _Clock(self.end)
        self.counts = dict.fromkeys(("signups", "came_back", "connected", "failed", "lost"), 0)
        self.born = born
        #: The users who signed up today, with their accounts; the first accounts of
        #: users who came back.
        self.added: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
        self.came_back: list[dict[str, Any]] = []
        #: The users of accounts that connected for the first time today.
        self.first_connected: set[str] = set()

    def _incident(self, item: str) -> bool:
        on_myadp = LIFE.incident_start <= self.day <= LIFE.incident_end
        return (item == LIFE.incident_item and on_myadp) or (
            item == STORY.incident_item and self.day < LIFE.walmart_end
        )

    def _failing(self) -> tuple[str, float]:
        """The platform whose logins fail today, as the generator takes it (``incident``:
        any account created before the day's end), or none."""
        for item in (LIFE.incident_item, STORY.incident_item):
            if self._incident(item):
                return item, float("inf")
        return "", 0.0

    def _moment(self, after: datetime | None = None) -> datetime:
        """A moment of the day (after ``after``, if it is in the day)."""
        low = max(self.start, after) if after is not None else self.start
        if low >= self.end:
            return self.end - timedelta(microseconds=1)
        return low + (self.end - low) * self.rng.random()

    def run(self) -> _Day:
        """Every account's day, by id, each changed one written back at once; then those
        who come back and those who sign up (kept for :func:`_commit`)."""
        loads, dumps = orjson.loads, orjson.dumps
        for chunk in _accounts_by_id(self.db):
            changed = []
            for rowid, raw in chunk:
                account = loads(raw)
                if self._live(account):
                    changed.append((dumps(account), int(bool(account["was_connected"])), rowid))
            self.db.executemany(
                "UPDATE accounts SET doc = ?, was_connected = ? WHERE rowid = ?", changed
            )
        self.came_back = self._come_back()
        self.added = self._signups()
        return self

    def _live(self, account: dict[str, Any]) -> bool:
        """The account's day; whether it changed."""
        status = account["connection"]["status"]
        item = str(account.get("link_item"))
        if status == "connecting":
            created = parse_iso(account["created_at"])
            when = created + timedelta(hours=self.rng.uniform(0.5, 6))
            if when >= self.end:
                return False
            when = max(when, self.start)
            if self._incident(item) and self.rng.random() < LIFE.incident_error:
                self._fail(account, when, INCIDENT_CODES, login=True)
            elif self.rng.random() < LIFE.resolve_connected:
                self._connect(account, when)
            else:
                self._fail(account, when, LOGIN_CODES, login=True)
            return True
        if status == "connected":
            if self._incident(item) and self.rng.random() < LIFE.incident_loss:
                self._fail(account, self._moment(), INCIDENT_CODES, login=False)
                return True
            rate = LIFE.churn_loss if item == LIFE.churn_item else LIFE.loss
            if self.rng.random() < rate:
                self._fail(account, self._moment(), REAUTH_CODES, login=False)
                return True
            self._scan(account, self._moment())
            return True
        if status == "error" and account.get("was_connected"):
            platform = account["connection"]["error_code"] in _INCIDENT
            if platform:
                chance = 0.0 if self._incident(item) else LIFE.incident_recovery
            else:
                chance = LIFE.reconnect
            if self.rng.random() < chance:
                self._connect(account, self._moment())
                return True
        return False

    def _fail(
        self,
        account: dict[str, Any],
        when: datetime,
        codes: tuple[tuple[str, int], ...],
        *,
        login: bool,
    ) -> None:
        code = self.rng.choices(*zip(*codes, strict=True))[0]
        stamp = iso(when)
        account["connection"].update(
            status="error",
            error_code=code,
            error_message=CONNECTION_ERROR_MESSAGES.get(code),
            updated_at=stamp,
        )
        account.update(status="error", error_code=code, updated_at=stamp)
        self.counts["failed" if login else "lost"] += 1

    def _connect(self, account: dict[str, Any], when: datetime) -> None:
        stamp = iso(when)
        account["connection"].update(
            status="connected", error_code=None, error_message=None, updated_at=stamp
        )
        if not account.get("was_connected"):
            self.first_connected.add(account["user"])
        account.update(status="done", error_code=None, was_connected=True)
        self._scan(account, when)
        self.counts["connected"] += 1

    def _scan(self, account: dict[str, Any], when: datetime) -> None:
        """A scan ending at ``when``: every present resource synced (the usual 5% chance
        that one fails), the event windows extended to that day."""
        item = _ITEMS.get(str(account.get("link_item")))
        windows = account.get("availability")
        if not isinstance(windows, dict) or item is None:  # its first scan
            created = (self.end - parse_iso(account["created_at"])).total_seconds()
            ago = (self.end - when).total_seconds()
            if item is not None:
                account["availability"] = _availability(
                    self.rng, self.clock, item, created, ago, False
                )
            account["updated_at"] = iso(when)
            return
        stamp = iso(when)
        failed = self.rng.random() < 0.05
        flaky = item.link_item == STORY.flaky_item and self.rng.random() < STORY.flaky_failure
        present = [name for name, entry in windows.items() if isinstance(entry, dict)]
        broken = self.rng.choice(present) if failed and present else None
        day = stamp[:10] + "T00:00:00Z"  # (the scan's day, off its timestamp)
        for name in present:
            entry = windows[name]
            bad = name == broken or (flaky and name == STORY.flaky_resource)
            entry["status"] = "sync_failed" if bad else "synced"
            entry["updated_at"] = stamp
            if "available_count" in entry and not bad:
                before = entry.get("available_to")
                if before is None or before < day:
                    entry["available_to"] = day
                    entry["available_count"] = int(entry["available_count"] or 0) + 1
        account["updated_at"] = stamp

    def _come_back(self) -> list[dict[str, Any]]:
        """First accounts of users without one who come back today."""
        out = []
        for raw in _users_without_accounts(self.db):
            user = orjson.loads(raw)
            created = parse_iso(user["created_at"])
            if (self.start - created).total_seconds() > LIFE.come_back_days * DAY:
                continue
            meta = user.get("external_metadata")
            tags = meta if isinstance(meta, dict) else {}
            chance = LIFE.come_back
            if tags.get("customer group") == STORY.quiet_group:
                chance = LIFE.come_back_quiet
            elif tags.get("acquisition channel") == STORY.slow_channel:
                chance = LIFE.come_back_slow
            if self.rng.random() >= chance:
                continue
            when = self._moment(created)
            item = self.rng.choices(CATALOGUE, weights=ITEM_WEIGHTS)[0]
            incident = self._failing()
            ago = (self.end - when).total_seconds()
            account = _account_for(self.rng, self.clock, user["id"], ago, True, item, incident)
            out.append(account)
            self.counts["came_back"] += 1
        return out

    def _signups(self) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
        """The users who sign up today, with the accounts of those who connect today."""
        wanted = round(self.born * LIFE.signups * self.rng.uniform(0.8, 1.2))
        if wanted <= 0:
            return []
        incident = self._failing()
        made = list(
            generate(wanted, self.rng.getrandbits(63), self.end, within=DAY, incident=incident)
        )
        self.counts["signups"] += len(made)
        return made
