"""What happened to each user and each account (the outcomes every cohort analysis counts),
and the cohorts users fall into by their metadata."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np
import orjson
import pandas as pd

from argyle_nb.analysis._common import (
    _ACCOUNT_NEEDS,
    MIN_USERS,
    MISSING,
    OTHER,
    text_labels,
)
from argyle_nb.errors import ArgyleValueError
from argyle_nb.frames import META_PREFIX, MissingColumnsError, metadata_keys, require_columns

#: The outcomes a share can be taken of, in funnel order, and what each means for a user.
#: For accounts (``unit="accounts"``) each means the same of the account itself, but
#: ``with_account``, which every account has.
METRICS: Final[dict[str, str]] = {
    "with_account": "have at least one account",
    "ever_connected": "ever connected an account (was_connected)",
    "connected": "have an account connected now",
    "fully_synced": "have a connected account with every resource synced",
    "error": "have an account in error now",
}

#: What a share of accounts means, per metric.
ACCOUNT_METRICS: Final[dict[str, str]] = {
    "ever_connected": "ever connected (was_connected)",
    "connected": "connected now",
    "fully_synced": "connected with every resource synced",
    "error": "in error now",
}

Unit = Literal["users", "accounts"]
UNITS: Final = ("users", "accounts")

_OUTCOME_NEEDS: Final = (*_ACCOUNT_NEEDS, "created_at", "was_connected")


def _meta_column(users: pd.DataFrame, key: str) -> str:
    column = key if key == META_PREFIX or key.startswith(META_PREFIX + ".") else f"meta.{key}"
    if column not in users.columns:
        known = ", ".join(metadata_keys(users)) or "none"
        raise MissingColumnsError(f"no metadata key {key!r} among the users (keys: {known})")
    return column


def _labels(values: pd.Series[Any]) -> pd.Series[str]:
    """Metadata values as group labels: text as is (but a text that reads as a label of
    ours is quoted: :func:`text_labels`), other JSON values as JSON, missing explicit."""

    def label(value: Any) -> str:
        if isinstance(value, np.generic):
            value = value.item()
        return orjson.dumps(value).decode()

    array = values.to_numpy(object)
    out = array.copy()
    missing = np.asarray(values.isna().to_numpy(), dtype=bool)
    text = np.fromiter((type(v) is str for v in array), dtype=bool, count=len(array))
    out[missing] = MISSING
    others = ~missing & ~text
    if others.any():
        out[others] = [label(v) for v in array[others]]
    texts = text & ~missing
    if texts.any():  # a real "(missing)" is not the users without the key
        out[texts] = text_labels(pd.Series(array[texts], dtype="str")).to_numpy(object)
    return pd.Series(out, index=values.index, dtype="str")


def _unique_users(users: pd.DataFrame) -> pd.DataFrame:
    """Users once each (the first row of an id seen twice), indexed by id."""
    ids = users["id"].astype("str")
    keep = ~ids.duplicated().to_numpy()
    out = users.loc[keep]
    out.index = pd.Index(ids[keep].to_numpy(), dtype="str", name="user")
    return out


def cohort_labels(
    users: pd.DataFrame,
    key: str,
    *,
    min_users: int = MIN_USERS,
    pool_small: bool = False,
) -> pd.Series[str]:
    """The cohort of each user (indexed by user id) for one metadata key.

    Users without the key are in :data:`MISSING`. With ``pool_small``, the users of
    cohorts smaller than ``min_users`` (but :data:`MISSING`) are pooled into
    :data:`OTHER`, so that no user is dropped and no tiny cohort is shown as its own.

    Example:
        >>> from argyle_nb.frames import users_frame
        >>> users = users_frame([
        ...     {"id": "0994b847-cc69-4d98-bc99-c5e65e762add", "created_at": "2020-01-01",
        ...      "external_metadata": {"group": "A"}}])
        >>> cohort_labels(users, "group").tolist()
        ['A']
        >>> cohort_labels(users, "group", pool_small=True).tolist()
        ['(other)']
    """
    require_columns(users, ["id"], by="cohort_labels", made_by="users_frame")
    _check_min_users(min_users)
    return _cohort_labels(_unique_users(users), key, min_users, pool_small)


def _cohort_labels(
    unique: pd.DataFrame, key: str, min_users: int, pool_small: bool
) -> pd.Series[str]:
    """:func:`cohort_labels` of users already once each (:func:`_unique_users`)."""
    labels = _labels(unique[_meta_column(unique, key)])
    labels.name = key
    if pool_small:
        sizes = labels.value_counts()
        small = [g for g, n in sizes.items() if n < min_users and g != MISSING]
        if small:
            labels = labels.where(~labels.isin(small), OTHER).astype("str")
    return labels


def _check_min_users(min_users: int) -> None:
    if isinstance(min_users, bool) or not isinstance(min_users, int) or min_users < 1:
        raise ArgyleValueError(f"min_users must be a positive whole number, not {min_users!r}")


def _fully_synced(accounts: pd.DataFrame, availability: pd.DataFrame) -> np.ndarray[Any, Any]:
    """Per account: every resource it has is ``synced`` (and it has at least one)."""
    require_columns(
        availability, ["account", "status"], by="fully_synced", made_by="availability_frame"
    )
    if "id" not in accounts.columns:
        raise MissingColumnsError("fully_synced needs the accounts' 'id' column")
    ids = pd.Index(accounts["id"].to_numpy(object))
    present = availability[availability["status"].notna().to_numpy()]
    codes = ids.get_indexer(pd.Index(present["account"].to_numpy(object)))
    known = codes >= 0
    synced = (present["status"].astype("str") == "synced").to_numpy(bool)[known]
    codes = codes[known]
    rows = np.bincount(codes, minlength=len(ids))
    unsynced = np.bincount(codes[~synced], minlength=len(ids))
    return np.asarray((rows > 0) & (unsynced == 0))


def account_outcomes(
    accounts: pd.DataFrame, availability: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per account: its user and the outcomes of :data:`METRICS` (booleans).

    ``fully_synced`` (connected, and every resource of its availability ``synced``) is
    there only when ``availability`` is given.

    Example:
        >>> from argyle_nb.frames import accounts_frame
        >>> list(account_outcomes(accounts_frame(b"[]")).columns)
        ['user', 'created_at', 'ever_connected', 'connected', 'error']
    """
    require_columns(accounts, _OUTCOME_NEEDS, by="account_outcomes", made_by="accounts_frame")
    status = accounts["connection_status"].astype("str").to_numpy()
    connected = status == "connected"
    out = pd.DataFrame(
        {
            "user": accounts["user"].astype("str").to_numpy(),
            "created_at": accounts["created_at"],
            # Connected now means connected once, whatever the flag says.
            "ever_connected": accounts["was_connected"].fillna(False).to_numpy(bool) | connected,
            "connected": connected,
            "error": status == "error",
        },
        index=accounts.index,
    )
    if availability is not None:
        out["fully_synced"] = connected & _fully_synced(accounts, availability)
    return out


def user_outcomes(
    users: pd.DataFrame,
    accounts: pd.DataFrame,
    availability: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per user (indexed by id): what they did, as the funnel counts it.

    Columns: ``created_at``, ``accounts`` (how many), then one boolean per metric of
    :data:`METRICS` (``fully_synced`` only when ``availability`` is given), and
    ``first_connected_at``: the ``created_at`` of the user's first account that ever
    connected (Argyle creates an account when its user connects it), missing for users
    who never connected. Accounts of users not in ``users`` are left out; a user id
    seen twice counts once.

    Example:
        >>> from argyle_nb.frames import users_frame, accounts_frame
        >>> users = users_frame([
        ...     {"id": "0994b847-cc69-4d98-bc99-c5e65e762add", "created_at": "2020-01-01"}])
        >>> user_outcomes(users, accounts_frame(b"[]"))[["accounts", "connected"]].to_dict()
        {'accounts': {'0994b847-cc69-4d98-bc99-c5e65e762add': 0}, 'connected': {'0994b847-cc69-4d98-bc99-c5e65e762add': False}}
    """  # noqa: E501
    return Outcomes.of(users, accounts, availability).per_user


def _account_codes(unique: pd.DataFrame, per_account: pd.DataFrame) -> np.ndarray[Any, Any]:
    """Each account's row among the users once each (-1: a user not among them).

    Integer codes, counted with bincount: a groupby over string ids costs several times
    more.
    """
    return np.asarray(unique.index.get_indexer(pd.Index(per_account["user"].to_numpy(object))))


def _per_user(
    unique: pd.DataFrame, per_account: pd.DataFrame, codes: np.ndarray[Any, Any]
) -> pd.DataFrame:
    """:func:`user_outcomes` from the unique users, the known accounts' outcomes and codes."""
    size = len(unique)
    flags = [m for m in METRICS if m != "with_account" and m in per_account.columns]
    out = pd.DataFrame(index=unique.index)
    out["created_at"] = unique["created_at"]
    out["accounts"] = np.bincount(codes, minlength=size).astype("int64")
    out["with_account"] = (out["accounts"] > 0).to_numpy()
    for flag in flags:
        hits = per_account[flag].to_numpy(bool)
        out[flag] = np.bincount(codes[hits], minlength=size) > 0
    ever = per_account["ever_connected"].to_numpy(bool)
    created = per_account["created_at"]
    first = pd.Series(created.array[ever]).groupby(codes[ever]).min()
    stamps = pd.Series(pd.NaT, index=range(size), dtype=created.dtype)
    stamps.iloc[first.index.to_numpy()] = first.array
    out["first_connected_at"] = stamps.array
    return out


def _check_metric(metric: str, unit: str, availability: pd.DataFrame | None) -> None:
    if unit not in UNITS:
        raise ArgyleValueError(f"unit must be 'users' or 'accounts', not {unit!r}")
    if metric not in METRICS:
        raise ArgyleValueError(f"unknown metric {metric!r}: choose one of {', '.join(METRICS)}")
    if metric == "with_account" and unit == "accounts":
        raise ArgyleValueError("every account is 'with_account': use unit='users' for that metric")
    if metric == "fully_synced" and availability is None:
        raise ArgyleValueError(
            "metric 'fully_synced' needs the availability frame (availability=...)"
        )


def describe(metric: str, unit: str) -> str:
    """What a share of ``unit`` with ``metric`` is, in words."""
    if unit == "users":
        return f"share of users who {METRICS[metric]}"
    return f"share of accounts {ACCOUNT_METRICS[metric]}"


@dataclass(frozen=True)
class Outcomes:
    """What every user and account did, computed once for many cohort analyses.

    The analyses compute it from the frames on every call; an explorer (or a notebook
    comparing many keys) builds it once and passes it as ``outcomes=``, so that a new
    key costs only its labels.

    Example:
        >>> from argyle_nb.frames import users_frame, accounts_frame
        >>> users = users_frame([
        ...     {"id": "0994b847-cc69-4d98-bc99-c5e65e762add", "created_at": "2020-01-01",
        ...      "external_metadata": {"group": "A"}}])
        >>> Outcomes.of(users, accounts_frame(b"[]")).users_count
        1
    """

    users: pd.DataFrame = field(repr=False)
    accounts: pd.DataFrame = field(repr=False)
    availability: pd.DataFrame | None = field(repr=False)
    unique: pd.DataFrame = field(repr=False)  # the users once each, indexed by id
    per_user: pd.DataFrame = field(repr=False)  # :func:`user_outcomes`
    per_account: pd.DataFrame = field(repr=False)  # :func:`account_outcomes` of known users
    codes: np.ndarray[Any, Any] = field(repr=False)  # each known account's row in per_user

    @property
    def users_count(self) -> int:
        """How many users (each id once)."""
        return len(self.per_user)

    @classmethod
    def of(
        cls,
        users: pd.DataFrame,
        accounts: pd.DataFrame,
        availability: pd.DataFrame | None = None,
    ) -> Outcomes:
        require_columns(users, ["id", "created_at"], by="user_outcomes", made_by="users_frame")
        unique = _unique_users(users)
        per_account = account_outcomes(accounts, availability)
        codes = _account_codes(unique, per_account)
        known = codes >= 0
        per_account, codes = per_account[known], codes[known]
        per_user = _per_user(unique, per_account, codes)
        return cls(users, accounts, availability, unique, per_user, per_account, codes)

    def check(
        self,
        users: pd.DataFrame,
        accounts: pd.DataFrame,
        availability: pd.DataFrame | None = None,
    ) -> None:
        """Refuse outcomes computed from other frames than the ones given."""
        if users is not self.users or accounts is not self.accounts:
            raise ArgyleValueError("outcomes= was computed from other users or accounts frames")
        if availability is not None and availability is not self.availability:
            raise ArgyleValueError("outcomes= was computed without this availability frame")

    def cohorts(
        self, keys: str | Sequence[str], *, min_users: int = MIN_USERS, pool_small: bool = False
    ) -> Prepared:
        """The users and accounts with their cohorts of one or two keys."""
        names = [keys] if isinstance(keys, str) else list(keys)
        if not 1 <= len(names) <= 2:
            raise ArgyleValueError(f"one or two metadata keys, not {len(names)}")
        _check_min_users(min_users)
        labels = [_cohort_labels(self.unique, k, min_users, pool_small) for k in names]
        by_user = pd.DataFrame(
            {f"k{i}": lab.to_numpy() for i, lab in enumerate(labels)}, index=self.per_user.index
        )
        per_account = self.per_account.copy()
        for column in by_user.columns:
            per_account[column] = by_user[column].to_numpy()[self.codes]
        return Prepared(names, by_user, self.per_user, per_account, min_users)


@dataclass(frozen=True)
class Prepared:
    """Users with their cohorts and outcomes, and their accounts with the same cohorts."""

    keys: list[str]
    by_user: pd.DataFrame  # one column per key (k0, k1), indexed by user id
    outcomes: pd.DataFrame  # :func:`user_outcomes`
    per_account: pd.DataFrame  # :func:`account_outcomes` of known users, with k0, k1
    min_users: int

    @classmethod
    def of(
        cls,
        users: pd.DataFrame,
        accounts: pd.DataFrame,
        keys: str | Sequence[str],
        *,
        availability: pd.DataFrame | None = None,
        min_users: int = MIN_USERS,
        pool_small: bool = False,
        outcomes: Outcomes | None = None,
    ) -> Prepared:
        if outcomes is None:
            outcomes = Outcomes.of(users, accounts, availability)
        else:
            outcomes.check(users, accounts, availability)
        return outcomes.cohorts(keys, min_users=min_users, pool_small=pool_small)

    def tally(self, metric: str, unit: str) -> pd.DataFrame:
        """Per cohort: ``users``, ``trials``, ``successes`` (of ``metric``) and ``small``."""
        columns = list(self.by_user.columns)
        n_users = self.by_user.groupby(columns, sort=False).size()
        if unit == "users":
            frame = self.by_user.assign(success=self.outcomes[metric].to_numpy())
        else:
            frame = self.per_account[[*columns, metric]].rename(columns={metric: "success"})
        grouped = frame.groupby(columns, sort=False)["success"]
        out = pd.DataFrame({"users": n_users.astype("int64")})
        out["trials"] = grouped.size().reindex(out.index).fillna(0).astype("int64")
        out["successes"] = grouped.sum().reindex(out.index).fillna(0).astype("int64")
        out["small"] = (out["users"] < self.min_users).to_numpy()
        out.index = out.index.set_names(self.keys)
        return out


def cohort_counts(
    users: pd.DataFrame,
    accounts: pd.DataFrame,
    keys: str | Sequence[str],
    *,
    metric: str = "connected",
    unit: Unit = "users",
    availability: pd.DataFrame | None = None,
    min_users: int = MIN_USERS,
    pool_small: bool = False,
    outcomes: Outcomes | None = None,
) -> pd.DataFrame:
    """Per cohort (of one key, or of the pairs of two keys): users, trials and successes.

    ``trials`` are the cohort's users (``unit="users"``) or accounts
    (``unit="accounts"``); ``successes`` those of them with the ``metric`` (one of
    :data:`METRICS`). ``small`` flags cohorts of fewer than ``min_users`` users. Every
    user is in exactly one cohort, so the users add up to all users. ``outcomes``: an
    :class:`Outcomes` of these same frames, to skip recomputing it.

    Example:
        >>> from argyle_nb.frames import users_frame, accounts_frame
        >>> users = users_frame([
        ...     {"id": "0994b847-cc69-4d98-bc99-c5e65e762add", "created_at": "2020-01-01",
        ...      "external_metadata": {"group": "A"}}])
        >>> cohort_counts(users, accounts_frame(b"[]"), "group").loc["A"].to_dict()
        {'users': 1, 'trials': 1, 'successes': 0, 'small': True}
    """
    _check_metric(metric, unit, availability)
    prepared = Prepared.of(
        users,
        accounts,
        keys,
        availability=availability,
        min_users=min_users,
        pool_small=pool_small,
        outcomes=outcomes,
    )
    return prepared.tally(metric, unit)


def cohort_order(users_per_cohort: pd.Series[Any]) -> list[str]:
    """Cohorts by users (most first), then name; :data:`OTHER` and :data:`MISSING` last."""
    sizes = dict(zip(users_per_cohort.index, users_per_cohort.tolist(), strict=True))
    return sorted(sizes, key=lambda g: (g == MISSING, g == OTHER, -sizes[g], str(g)))
