"""Metadata cohorts: which keys make good cohorts, and each cohort's size and health."""

from __future__ import annotations

from typing import Any, Final

import pandas as pd

from argyle_nb._sql import Params
from argyle_nb.analysis._common import MIN_USERS
from argyle_nb.analysis._engine import check_min_users, frames_dataset, keyed, require_key, tally
from argyle_nb.analysis._outcomes import cohort_order
from argyle_nb.analysis._tables import first_users, key_sizes, labels
from argyle_nb.analysis.stats import add_share
from argyle_nb.dataset import Dataset
from argyle_nb.envelope import loads_json
from argyle_nb.errors import ArgyleValueError
from argyle_nb.frames import require_columns, users_frame

#: Above this share of distinct values per user, a key is an id, not a cohort.
ID_LIKE_SHARE: Final = 0.5
#: Over this many values whose groups are mostly small, a key makes no usable cohorts.
MANY_VALUES: Final = 20
#: Below this share of users carrying it, a key is mostly missing.
MOSTLY_MISSING_SHARE: Final = 0.05


def metadata_key_summary(
    users: pd.DataFrame | Dataset, *, min_users: int = MIN_USERS
) -> pd.DataFrame:
    """One row per metadata key: how many users carry it, its values, and whether it makes
    a good cohort.

    Columns: ``users`` (carrying the key), ``share`` (of all users), ``values``
    (distinct), ``median_group`` (users in the median group), ``cohort`` (``"good"`` or
    ``"poor"``) and ``reason``: why a key is poor: nearly unique per user (an id), a
    single value, mostly missing (under 5% of users), or many values (over 20) whose
    groups are mostly under ``min_users``. (A key of a few values whose groups are all
    small is still a cohort: :func:`metadata_groups` flags its groups ``small``.) Good
    keys come first, each part by users. The keys are those
    :func:`~argyle_nb.frames.users_frame` makes columns of: every leaf of the metadata
    objects (nested objects dotted, arrays as values), ``meta`` for metadata that is not
    an object, at most :data:`~argyle_nb.frames.MAX_META_COLUMNS` (those most users
    carry). Takes a users frame or a dataset.

    Examples:
        >>> from argyle_nb.frames import users_frame
        >>> users = users_frame([
        ...     {"id": "0994b847-cc69-4d98-bc99-c5e65e762add", "created_at": "2020-01-01",
        ...      "external_metadata": {"group": "A"}}])
        >>> metadata_key_summary(users)[["users", "cohort", "reason"]].to_dict("records")
        [{'users': 1, 'cohort': 'poor', 'reason': 'a single value'}]
    """
    ds = (
        users
        if isinstance(users, Dataset)
        else frames_dataset(users, None, by="metadata_key_summary")
    )
    check_min_users(min_users)
    users_once = first_users(ds)
    (total,) = ds.sql(f"select count(*) from {users_once}").fetchall()[0]
    rows = [
        judge_key(key, present, values, median, int(total), min_users)
        for key, _, present, values, median in key_sizes(ds)
    ]
    return finish_key_summary(rows)


def judge_key(
    key: str, present: int, values: int, median: float, total: int, min_users: int
) -> dict[str, Any]:
    """One row of :func:`metadata_key_summary`: ``present`` users of ``total`` carry the
    key, in ``values`` groups of median size ``median``. Shared with the DuckDB path."""
    share = present / total if total else 0.0
    if values <= 1:
        reason = "a single value" if values else "no values"
    elif values > 20 and values >= ID_LIKE_SHARE * present:
        reason = f"nearly unique per user ({values:,} values): an id, not a cohort"
    elif share < MOSTLY_MISSING_SHARE:
        reason = f"mostly missing (carried by {share:.1%} of users)"
    elif values > MANY_VALUES and median < min_users:
        reason = f"many small groups ({values:,} values, most under {min_users} users)"
    else:
        reason = ""
    return {
        "key": key,
        "users": present,
        "share": share,
        "values": values,
        "median_group": median,
        "cohort": "poor" if reason else "good",
        "reason": reason,
    }


def finish_key_summary(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The rows of :func:`judge_key` as :func:`metadata_key_summary`'s table: good keys
    first, each part by users, then name."""
    columns = ["key", "users", "share", "values", "median_group", "cohort", "reason"]
    out = pd.DataFrame(rows, columns=columns).set_index("key")
    out.index = out.index.astype("str")
    out = out.astype(
        {
            "users": "int64",
            "share": "float64",
            "values": "int64",
            "median_group": "float64",
            "cohort": "str",
            "reason": "str",
        }
    )
    out["_poor"] = out["cohort"] != "good"
    out["_order"] = -out["users"]
    out = out.rename_axis("key").sort_values(["_poor", "_order", "key"], kind="stable")
    return out.drop(columns=["_poor", "_order"])


_GROUP_COLUMNS: Final = (
    "users",
    "accounts",
    "accounts_per_user",
    "connected_users",
    "connected_share",
    "connected_low",
    "connected_high",
    "accounts_connected_share",
    "accounts_connected_low",
    "accounts_connected_high",
    "accounts_error_share",
    "accounts_error_low",
    "accounts_error_high",
    "top_error_code",
    "small",
)


def metadata_groups(
    users: pd.DataFrame | Dataset,
    accounts: pd.DataFrame | str,
    key: str | None = None,
    *,
    min_users: int = MIN_USERS,
    pool_small: bool = False,
) -> pd.DataFrame:
    """Per value of a metadata key: users, accounts and their connection health, with 95%
    Wilson intervals.

    The headline, of **users**: ``connected_users`` (users with at least one account
    connected now) and ``connected_share`` of the cohort's users, with
    ``connected_low``/``connected_high``. Of **accounts**: ``accounts``,
    ``accounts_per_user``, ``accounts_connected_share`` and ``accounts_error_share``
    (by ``connection_status``) with their intervals (which ignore that a user's
    accounts go together), and ``top_error_code`` (ties broken by name). ``small``
    flags cohorts under ``min_users`` users; with ``pool_small`` they are pooled into
    :data:`OTHER` instead. Users without the key form :data:`MISSING`, last; other
    cohorts are ordered by users, then name. Non-text values are grouped by their JSON
    text (a number no int64 or double holds by its exact text). A real value that reads
    as :data:`MISSING`, :data:`OTHER` or :data:`REST` (quotes around it or not) is the
    cohort of that value in one more pair of quotes (``'"(missing)"'``): it never merges
    with the users without the key. Users with no accounts count as users; accounts of
    users not in ``users`` are left out. A share of nothing (a cohort without accounts) is
    missing. Takes ``(users, accounts, key)`` or ``(dataset, key)``.

    Examples:
        >>> from argyle_nb.frames import users_frame, accounts_frame
        >>> users = users_frame([
        ...     {"id": "0994b847-cc69-4d98-bc99-c5e65e762add", "created_at": "2020-01-01",
        ...      "external_metadata": {"group": "A"}}])
        >>> metadata_groups(users, accounts_frame(b"[]"), "group").loc["A", "users"]
        np.int64(1)
    """
    ds, key = keyed(users, accounts, key, by="metadata_groups")
    table = tally(ds, key, min_users=min_users, pool_small=pool_small, with_codes=True)
    counts = pd.DataFrame(
        {
            "users": table["users"].to_numpy(),
            "connected_users": table["users_connected"].to_numpy(),
            "accounts": table["accounts_with_account"].to_numpy(),
            "connected_accounts": table["accounts_connected"].to_numpy(),
            "error_accounts": table["accounts_error"].to_numpy(),
            "small": table["small"].to_numpy(),
        },
        index=table.index,
    )
    return finish_groups(counts, table["top_error_code"])


def finish_groups(counts: pd.DataFrame, top_codes: pd.Series[str]) -> pd.DataFrame:
    """:func:`metadata_groups` from its counts per cohort (``users``, ``connected_users``,
    ``accounts``, ``connected_accounts``, ``error_accounts``, ``small``) and the top error
    code of each: the shares, intervals and cohort order, from any engine."""
    out = pd.DataFrame(index=counts.index)
    out["users"] = counts["users"].to_numpy("int64")
    out["accounts"] = counts["accounts"].to_numpy("int64")
    out["accounts_per_user"] = out["accounts"] / out["users"]
    out["connected_users"] = counts["connected_users"].to_numpy("int64")
    add_share(out, "connected", "connected_users", "users")
    out["_connected_accounts"] = counts["connected_accounts"].to_numpy("int64")
    out["_error_accounts"] = counts["error_accounts"].to_numpy("int64")
    add_share(out, "accounts_connected", "_connected_accounts", "accounts")
    add_share(out, "accounts_error", "_error_accounts", "accounts")
    out["top_error_code"] = top_codes.reindex(out.index).astype("str")
    out["small"] = counts["small"].to_numpy(bool)
    out = out[list(_GROUP_COLUMNS)]
    out.attrs["units"] = {
        "connected_share": "users",
        "accounts_connected_share": "accounts",
        "accounts_error_share": "accounts",
    }
    return out.loc[cohort_order(out["users"])]


def users_in_group(
    users: pd.DataFrame | Dataset, key: str, group: str, *, limit: int | None = None
) -> pd.DataFrame:
    """The users of one group of :func:`metadata_groups` (use :data:`MISSING` for no
    key) as a :func:`~argyle_nb.frames.users_frame`, the first ``limit`` of them in the
    order they were listed (all: ``None``). Takes a users frame or a dataset.

    Examples:
        >>> from argyle_nb.frames import users_frame
        >>> users = users_frame([
        ...     {"id": "0994b847-cc69-4d98-bc99-c5e65e762add", "created_at": "2020-01-01",
        ...      "external_metadata": "A"}])
        >>> users_in_group(users, "meta", "A")["id"].tolist()
        ['0994b847-cc69-4d98-bc99-c5e65e762add']
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ArgyleValueError(f"limit must be a whole number of users, not {limit!r}")
    if isinstance(users, pd.DataFrame):
        require_columns(users, ["id"], by="users_in_group", made_by="users_frame")
    ds = users if isinstance(users, Dataset) else frames_dataset(users, None, by="users_in_group")
    p = Params()
    cap = "" if limit is None else f" limit {p(int(limit))}"
    rows = ds.sql(
        "select u.id, strftime(u.created_at at time zone 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ'),"
        " u.employers_connected, u.data_providers_connected, u.external_metadata"
        f" from {first_users(ds)} u semi join {labels(ds, key)} l on l._seen = u._seen"
        f" and l.label = {p(str(group))} order by u._seen{cap}",
        params=p.values,
    ).fetchall()
    if not rows:
        require_key(ds, [], key)
    records = [
        {
            "id": uid,
            "created_at": created,
            "employers_connected": employers,
            "data_providers_connected": providers,
            "external_metadata": None if meta is None else loads_json(meta),
        }
        for uid, created, employers, providers, meta in rows
    ]
    return users_frame(records)


def plot_metadata_groups(groups: pd.DataFrame, *, title: str | None = None) -> Any:
    """The share of each cohort's users with a connected account, with its 95% interval.

    ``groups`` is a :func:`metadata_groups`: one row per cohort, its users written right
    of the data; small cohorts (``small``) are drawn hollow; the dashed line is the share
    over all users. Hovering gives the exact counts; clicking a cohort selects it (the
    MetadataExplorer then lists its users). Returns the Altair chart the explorer shows;
    an empty ``groups`` gives a chart that says so.

    Examples:
        >>> groups = metadata_groups(users, accounts, "customer group")  # doctest: +SKIP
        >>> plot_metadata_groups(groups).save("groups.png")  # doctest: +SKIP
    """
    from argyle_nb.analysis._chart_base import empty_chart
    from argyle_nb.analysis._chart_cohorts import groups_chart

    require_columns(
        groups,
        ["users", "connected_users", "connected_share", "connected_low", "connected_high"],
        by="plot_metadata_groups",
        made_by="metadata_groups",
    )
    if groups.empty:
        return empty_chart(
            title or "Users with an account connected now, by cohort", "no groups to show"
        )
    return groups_chart(groups, title=title)
