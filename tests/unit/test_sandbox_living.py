"""The sandbox's days (argyle_nb.sandbox.living): deterministic by seed, the story's daily
rates found by a plain count over the documents before and after each day (a textbook
Wilson interval at 99.9% around each, from scipy's normal quantile), what never changes
(``was_connected`` stays true) and what always happens (connecting accounts resolve within
hours, never-connected accounts go at 30 days)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from argyle_nb.errors import ArgyleValueError
from argyle_nb.sandbox import living
from argyle_nb.sandbox.catalogue import STORY
from argyle_nb.sandbox.living import LIFE, MAX_DAYS, REAUTH_CODES, advance, sandbox_now
from argyle_nb.sandbox.store import Store
from argyle_nb.sandbox.synth import generate

WALL = datetime(2026, 12, 1, tzinfo=UTC)
#: The z of a two-sided 99.9% interval (norm.ppf(0.9995)).
Z = 3.2905267314919255


def _store(path: Path, users: int, seed: int) -> Store:
    store = Store(path)
    store.insert(generate(users, seed, WALL))
    store.set_meta({"seed": str(seed)})
    return store


def _accounts(store: Store) -> dict[str, dict[str, Any]]:
    _, docs = store.list_accounts(None, limit=10**9, offset=0)
    return {a["id"]: a for a in map(orjson.loads, docs)}


def _interval(k: int, n: int) -> tuple[float, float]:
    """Wilson's score interval (the textbook formula)."""
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return centre - half, centre + half


@pytest.fixture(scope="module")
def days(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[tuple[Any, Any]]]:
    """3,000 users lived 20 days: each day's accounts before and after."""
    store = _store(tmp_path_factory.mktemp("living") / "sandbox.sqlite", 3000, seed=7)
    out = []
    before = _accounts(store)
    for _ in range(20):
        advance(store, 1, WALL)
        after = _accounts(store)
        out.append((before, after))
        before = after
    store.close()
    yield out


def _losses(days: list[tuple[Any, Any]], item: set[str] | None, which: range) -> tuple[int, int]:
    """Connected accounts at the start of the days ``which`` (of ``item``, or of every item
    but the churning one and those in an incident), and how many were in error the next
    day."""
    trials = lost = 0
    for day in which:
        special = {LIFE.churn_item, LIFE.incident_item}
        if day < LIFE.walmart_end:
            special.add(STORY.incident_item)  # the generator's incident goes on
        before, after = days[day]
        for key, account in before.items():
            name = account["link_item"]
            if (name not in item) if item is not None else (name in special):
                continue
            if account["connection"]["status"] != "connected" or key not in after:
                continue
            trials += 1
            lost += after[key]["connection"]["status"] == "error"
    return lost, trials


def test_connections_are_lost_at_the_stories_rates(days: list[tuple[Any, Any]]) -> None:
    every_day = range(20)
    low, high = _interval(*_losses(days, None, every_day))
    assert low <= LIFE.loss <= high
    churn_low, churn_high = _interval(*_losses(days, {LIFE.churn_item}, every_day))
    assert churn_low <= LIFE.churn_loss <= churn_high
    assert churn_low > high  # the churning platform is found apart from the rest


def test_the_incident_starts_and_ends_on_its_days(days: list[tuple[Any, Any]]) -> None:
    incident = range(LIFE.incident_start, LIFE.incident_end + 1)
    during = _interval(*_losses(days, {LIFE.incident_item}, incident))
    assert during[0] <= LIFE.incident_loss <= during[1]
    before = _losses(days, {LIFE.incident_item}, range(LIFE.incident_start))
    after = _losses(days, {LIFE.incident_item}, range(LIFE.incident_end + 1, 20))
    for lost, trials in (before, after):
        assert _interval(lost, trials)[1] < during[0]
    # once it is over, its accounts come back: fewer in error each day
    in_error = []
    for day in range(LIFE.incident_end, 20):
        after_day = days[day][1].values()
        in_error.append(
            sum(
                a["link_item"] == LIFE.incident_item and a["connection"]["status"] == "error"
                for a in after_day
            )
        )
    assert in_error[-1] < in_error[0] / 4


def test_lost_connections_carry_reauthentication_codes_and_come_back(
    days: list[tuple[Any, Any]],
) -> None:
    codes: Counter[str] = Counter()
    back = trials = 0
    for before, after in days[: LIFE.incident_start]:
        for key, account in before.items():
            then = after.get(key)
            if then is None:
                continue
            was, now = account["connection"], then["connection"]
            if was["status"] == "connected" and now["status"] == "error":
                codes[now["error_code"]] += 1
                assert now["error_message"] and then["was_connected"] is True
            reauth = was["error_code"] in dict(REAUTH_CODES)
            if was["status"] == "error" and account["was_connected"] and reauth:
                trials += 1
                back += now["status"] == "connected"
    assert set(codes) <= {code for code, _ in REAUTH_CODES} | {
        "connection_unavailable",
        "system_error",
    }
    assert set(codes) >= {code for code, _ in REAUTH_CODES}
    low, high = _interval(back, trials)
    assert low <= LIFE.reconnect <= high


def test_what_never_goes_back_and_what_always_happens(days: list[tuple[Any, Any]]) -> None:
    for number, (before, after) in enumerate(days):
        end = WALL + timedelta(days=number + 1)
        for key, account in after.items():
            if before.get(key, {}).get("was_connected"):
                assert account["was_connected"] is True
            created = datetime.fromisoformat(account["created_at"].replace("Z", "+00:00"))
            if not account["was_connected"]:
                assert end - created <= timedelta(days=30)
            if account["connection"]["status"] == "connecting":
                assert end - created < timedelta(hours=6)
        gone = [k for k, a in before.items() if k not in after]
        assert all(not before[k]["was_connected"] for k in gone)
    signed_up = len(days[-1][1]) - len(days[0][0])
    assert signed_up != 0  # new users came and connected accounts


def test_advancing_is_deterministic_by_seed(tmp_path: Path) -> None:
    runs = []
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        store = _store(tmp_path / f"{name}.sqlite", 300, seed=3)
        store.set_meta({"seed": str(seed)})
        advance(store, 3, WALL)
        runs.append((_accounts(store), store.list_users(10_000, 0)))
        assert sandbox_now(store, WALL) == WALL + timedelta(days=3)
        store.close()
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]  # another seed, another life


def test_the_days_lived_do_not_depend_on_when_they_are_advanced(tmp_path: Path) -> None:
    # Reproduces notebook 06's drift: each day began at the wall clock of its advance, so
    # a loop that took longer moved 30-day removals and resolutions across a day's end.
    runs = []
    for name, walls in (
        ("steady", [WALL, WALL, WALL]),
        ("slow", [WALL, WALL + timedelta(seconds=40), WALL + timedelta(minutes=7)]),
    ):
        store = _store(tmp_path / f"{name}.sqlite", 300, seed=5)
        for wall in walls:
            advance(store, 1, wall)
        runs.append((_accounts(store), store.list_users(10_000, 0)))
        store.close()
    assert runs[0] == runs[1]


def test_an_embedded_sandbox_lives_from_the_moment_it_was_generated(tmp_path: Path) -> None:
    from argyle_nb.sandbox import start

    wall = [WALL]
    with start(db=tmp_path / "a.sqlite", users=50, seed=9, clock=lambda: wall[0]) as sb:
        wall[0] = WALL + timedelta(hours=5)
        sb.advance(1)  # five hours after it was generated
        late = _accounts(sb.store)
    store = _store(tmp_path / "b.sqlite", 50, seed=9)
    advance(store, 1, WALL)  # at once
    assert late == _accounts(store)
    store.close()


def test_a_day_lived_a_few_accounts_at_a_time_is_the_same_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A day reads, lives and writes back its accounts a chunk at a time (memory holds a
    # chunk, not the portfolio): chunks of 7 accounts live the very day one chunk does.
    import gc

    runs = []
    for name, chunk in (("whole", 10**9), ("chunks", 7)):
        monkeypatch.setattr(living, "_CHUNK", chunk)
        store = _store(tmp_path / f"{name}.sqlite", 300, seed=11)
        counts = advance(store, 4, WALL)
        runs.append((counts, _accounts(store), store.list_users(10_000, 0)))
        store.close()
    assert runs[0] == runs[1]
    assert runs[0][0]["connected"] and runs[0][0]["lost"]  # the days changed accounts
    assert gc.isenabled()  # the collector paused for the day is running again


def test_a_day_that_fails_halfway_leaves_the_portfolio_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(tmp_path / "s.sqlite", 300, seed=11)
    before = (_accounts(store), store.list_users(10_000, 0))

    def broken(day: Any) -> Any:  # after every account was lived and written back
        raise OSError("disk full")

    monkeypatch.setattr(living._Day, "_signups", broken)
    with pytest.raises(OSError, match="disk full"):
        advance(store, 1, WALL)
    assert (_accounts(store), store.list_users(10_000, 0)) == before
    assert store.meta("days") is None
    store.close()


@pytest.mark.parametrize("days", [0, -1, True, 1.5, "2", MAX_DAYS + 1])
def test_days_must_be_a_whole_number_in_range(tmp_path: Path, days: Any) -> None:
    store = _store(tmp_path / "s.sqlite", 5, seed=1)
    with pytest.raises(ArgyleValueError, match="days must be a whole number"):
        advance(store, days, WALL)
    store.close()
