"""The cohort analyses' counts as plain loops over the raw JSON records: the independent
reference the engine is checked against (tests/unit/test_engine_semantics*.py).

Nothing here calls argyle_nb: each rule of issue 26 is written out by hand, once.

- a user id seen twice counts once, its FIRST record in list order deciding its cohort;
- a label is a text as is (a text that reads as one of our labels, ``(missing)``,
  ``(other)``, ``(rest)``, quotes around it or not, gets one more pair of quotes), a number
  its JSON text, ``true``/``false``, an array its JSON text; null, absent or an object is
  ``(missing)``; a key whose present values are all numbers, some of them floats, labels
  its integers as floats (``2`` as ``2.0``);
- a dotted key ``a.b`` is ``{"a": {"b": ..}}`` or ``{"a.b": ..}`` alike;
- accounts of users not among the users are left out; users without accounts count;
- ``ever_connected`` is ``was_connected`` or connected now; ``fully_synced`` is connected
  with every present availability status ``synced`` (at least one); a user has an
  outcome when one of their accounts has it;
- a user's first connection is the ``created_at`` of their first (earliest) account that
  ever connected.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from datetime import datetime
from typing import Any

import orjson

MISSING = "(missing)"
OTHER = "(other)"
#: A text reading as one of the labels above (or "(rest)"), quotes around it or not.
_RESERVED = re.compile(r'"*\((?:missing|other|rest)\)"*')
#: The two-sided 95% normal quantile.
Z95 = 1.959963984540054

_ABSENT = object()


def first_users(users: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each user id once, its first record in list order (dicts keep insertion order)."""
    out: dict[str, dict[str, Any]] = {}
    for user in users:
        if user["id"] not in out:
            out[user["id"]] = user
    return out


def _lookup(value: Any, parts: list[str]) -> Any:
    """The value at the dotted path ``parts``: each step a key holding zero or more of
    the next dots (``a.b.c`` may be a→b→c, a.b→c, a→b.c, a.b.c), nested first."""
    if not parts:
        return value
    if not isinstance(value, dict):
        return _ABSENT
    for i in range(1, len(parts) + 1):
        name = ".".join(parts[:i])
        if name in value:
            found = _lookup(value[name], parts[i:])
            if found is not _ABSENT:
                return found
    return _ABSENT


def raw_value(user: dict[str, Any], key: str) -> Any:
    """The value of the metadata key ``key`` in a user record (``_ABSENT`` if none); the
    key ``meta`` is metadata that is not an object."""
    metadata = user.get("external_metadata")
    if key == "meta":
        return _ABSENT if isinstance(metadata, dict) else metadata
    return _lookup(metadata, key.split("."))


def _present(value: Any) -> bool:
    """A value of the key: not absent, not null, not an object holding keys of its own
    (an empty object is a value, ``{}``, as the users frame's column holds it)."""
    return value is not _ABSENT and value is not None and not (isinstance(value, dict) and value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def floaty(values: list[Any]) -> bool:
    """Whether a key's integers are labelled as floats: its present values are all
    numbers, one of them at least a float."""
    present = [v for v in values if _present(v)]
    return any(isinstance(v, float) for v in present) and all(_is_number(v) for v in present)


def label(value: Any, as_floats: bool) -> str:
    """The cohort label of one raw value (``as_floats``: the key is :func:`floaty`)."""
    if not _present(value):
        return MISSING
    if isinstance(value, str):
        return f'"{value}"' if _RESERVED.fullmatch(value) else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and as_floats:
        return orjson.dumps(float(value)).decode()
    return orjson.dumps(value).decode()


def labels(users: list[dict[str, Any]], key: str) -> dict[str, str]:
    """Each user id (once, first record) -> its cohort label for ``key``."""
    first = first_users(users)
    values = {uid: raw_value(u, key) for uid, u in first.items()}
    as_floats = floaty(list(values.values()))
    return {uid: label(v, as_floats) for uid, v in values.items()}


def pooled(cohort_of: dict[str, str], min_users: int) -> dict[str, str]:
    """``pool_small``: the users of cohorts under ``min_users`` users (but MISSING) in
    OTHER."""
    sizes = Counter(cohort_of.values())
    return {
        uid: OTHER if g != MISSING and sizes[g] < min_users else g for uid, g in cohort_of.items()
    }


def statuses(account: dict[str, Any]) -> list[str]:
    """The present availability statuses of an account (a resource with a status)."""
    found = []
    for resource in (account.get("availability") or {}).values():
        if isinstance(resource, dict) and resource.get("status") is not None:
            found.append(resource["status"])
    return found


def account_outcome(account: dict[str, Any]) -> dict[str, bool]:
    """What one account did."""
    status = (account.get("connection") or {}).get("status")
    connected = status == "connected"
    synced = statuses(account)
    return {
        "with_account": True,
        "ever_connected": bool(account.get("was_connected")) or connected,
        "connected": connected,
        "fully_synced": connected and bool(synced) and all(s == "synced" for s in synced),
        "error": status == "error",
    }


def user_accounts(
    users: list[dict[str, Any]], accounts: list[dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """Each user id (once) -> their accounts; accounts of unknown users are left out."""
    out: dict[str, list[dict[str, Any]]] = {uid: [] for uid in first_users(users)}
    for account in accounts:
        if account["user"] in out:
            out[account["user"]].append(account)
    return out


def user_outcome(accounts: list[dict[str, Any]], metric: str) -> bool:
    """Whether a user with these accounts has ``metric``: one account has it."""
    return any(account_outcome(a)[metric] for a in accounts)


def cohort_order(sizes: dict[str, int]) -> list[str]:
    """Cohorts by users (most first), then name; OTHER, then MISSING, last."""
    return sorted(sizes, key=lambda g: (g == MISSING, g == OTHER, -sizes[g], g))


def counts(
    users: list[dict[str, Any]],
    accounts: list[dict[str, Any]],
    key: str,
    metric: str,
    unit: str,
    *,
    pool_small_under: int | None = None,
) -> dict[str, tuple[int, int, int]]:
    """Per cohort: (users, trials, successes) of ``metric`` per ``unit`` ("users" or
    "accounts"), in :func:`cohort_order`."""
    cohort_of = labels(users, key)
    if pool_small_under is not None:
        cohort_of = pooled(cohort_of, pool_small_under)
    owned = user_accounts(users, accounts)
    out: dict[str, list[int]] = {}
    for uid, group in cohort_of.items():
        row = out.setdefault(group, [0, 0, 0])
        row[0] += 1
        if unit == "users":
            row[1] += 1
            row[2] += user_outcome(owned[uid], metric)
        else:
            row[1] += len(owned[uid])
            row[2] += sum(account_outcome(a)[metric] for a in owned[uid])
    order = cohort_order({g: r[0] for g, r in out.items()})
    return {g: (out[g][0], out[g][1], out[g][2]) for g in order}


def top_error_codes(
    users: list[dict[str, Any]], accounts: list[dict[str, Any]], key: str
) -> dict[str, str | None]:
    """Per cohort: the most frequent ``connection.error_code`` of its accounts (ties by
    name), None when none has one."""
    cohort_of = labels(users, key)
    owned = user_accounts(users, accounts)
    tallies: dict[str, Counter[str]] = {g: Counter() for g in cohort_of.values()}
    for uid, group in cohort_of.items():
        for account in owned[uid]:
            code = (account.get("connection") or {}).get("error_code")
            if code is not None:
                tallies[group][code] += 1
    return {g: min(t, key=lambda c: (-t[c], c)) if t else None for g, t in tallies.items()}


def wilson(k: int, n: int) -> tuple[float, float]:
    """The 95% Wilson score interval of ``k`` of ``n`` (textbook formula)."""
    p = k / n
    denominator = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denominator
    half = Z95 / denominator * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n))
    return centre - half, centre + half


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def waits(
    users: list[dict[str, Any]], accounts: list[dict[str, Any]], key: str, now: str
) -> dict[str, list[tuple[float, bool]]]:
    """Per cohort: each user's (days waited, connected): from the user's ``created_at``
    to the ``created_at`` of their earliest account that ever connected, or to ``now``
    (censored) for users who never connected."""
    cohort_of = labels(users, key)
    owned = user_accounts(users, accounts)
    first = first_users(users)
    out: dict[str, list[tuple[float, bool]]] = {}
    for uid, group in cohort_of.items():
        start = _time(first[uid]["created_at"])
        connected = [
            _time(a["created_at"]) for a in owned[uid] if account_outcome(a)["ever_connected"]
        ]
        end = min(connected) if connected else _time(now)
        days = (end - start).total_seconds() / 86_400
        out.setdefault(group, []).append((days, bool(connected)))
    return out


def kaplan_meier_share(observed: list[tuple[float, bool]], t: float) -> float:
    """The product-limit share connected by time ``t``: 1 - prod over event times up to
    ``t`` of (1 - events / at risk) (censored at a time: at risk at that time's events)."""
    survival = 1.0
    for time in sorted({d for d, event in observed if event and d <= t}):
        at_risk = sum(1 for d, _ in observed if d >= time)
        events = sum(1 for d, event in observed if event and d == time)
        survival *= 1 - events / at_risk
    return 1 - survival
