"""Metadata cohorts: groups of users by an ``external_metadata`` key, and their health."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import pandas as pd

from argyle_nb.frames import META_PREFIX, MissingColumnsError, metadata_keys, require_columns

if TYPE_CHECKING:
    from matplotlib.axes import Axes
from argyle_nb.analysis._common import _ACCOUNT_NEEDS, MISSING, _empty

# ---------------------------------------------------------------------------
# Metadata cohorts
# ---------------------------------------------------------------------------


def _meta_column(users: pd.DataFrame, key: str) -> str:
    column = key if key == META_PREFIX or key.startswith(META_PREFIX + ".") else f"meta.{key}"
    if column not in users.columns:
        known = ", ".join(metadata_keys(users)) or "none"
        raise MissingColumnsError(f"no metadata key {key!r} among the users (keys: {known})")
    return column


def _labels(values: pd.Series[Any]) -> pd.Series[str]:
    """Metadata values as group labels: text as is, other JSON values as JSON, missing explicit."""

    def label(value: Any) -> str:
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            return MISSING
        if isinstance(value, str):
            return value
        if isinstance(value, np.generic):
            value = value.item()
        return orjson.dumps(value).decode()

    return pd.Series([label(v) for v in values], index=values.index, dtype="str")


def metadata_key_summary(users: pd.DataFrame) -> pd.DataFrame:
    """One row per metadata key: how many users carry it and how many distinct values it has.

    Example:
        >>> from argyle_nb.frames import users_frame
        >>> users = users_frame([
        ...     {"id": "0994b847-cc69-4d98-bc99-c5e65e762add", "created_at": "2020-01-01",
        ...      "external_metadata": {"group": "A"}}])
        >>> metadata_key_summary(users)["users"].to_dict()
        {'group': 1}
    """
    require_columns(users, ["id"], by="metadata_key_summary", made_by="users_frame")
    rows = []
    for key in metadata_keys(users):
        labels = _labels(users[_meta_column(users, key)])
        present = labels != MISSING
        rows.append(
            {
                "key": key,
                "users": int(present.sum()),
                "share": float(present.mean()) if len(users) else 0.0,
                "values": int(labels[present].nunique()),
            }
        )
    out = pd.DataFrame(rows, columns=["key", "users", "share", "values"]).set_index("key")
    return out.astype({"users": "int64", "share": "float64", "values": "int64"})


def metadata_groups(users: pd.DataFrame, accounts: pd.DataFrame, key: str) -> pd.DataFrame:
    """Per value of a metadata key: users, accounts and their connection health.

    Columns: ``users``, ``accounts``, ``accounts_per_user``, ``connected_share`` and
    ``error_share`` (of the group's accounts, by ``connection_status``), and
    ``top_error_code`` (the most frequent ``connection_error_code``, ties broken by
    name). Users without the key form the group :data:`MISSING`, always last; other
    groups are ordered by users, then name. Non-text values are grouped by their JSON
    text. Users with no accounts count as users; accounts of users not in ``users``
    are left out.

    Example:
        >>> from argyle_nb.frames import users_frame, accounts_frame
        >>> users = users_frame([
        ...     {"id": "0994b847-cc69-4d98-bc99-c5e65e762add", "created_at": "2020-01-01",
        ...      "external_metadata": {"group": "A"}}])
        >>> metadata_groups(users, accounts_frame(b"[]"), "group").loc["A", "users"]
        np.int64(1)
    """
    require_columns(users, ["id"], by="metadata_groups", made_by="users_frame")
    require_columns(accounts, _ACCOUNT_NEEDS, by="metadata_groups", made_by="accounts_frame")
    column = _meta_column(users, key)
    user_groups = pd.Series(
        _labels(users[column]).to_numpy(), index=users["id"].astype("str"), dtype="str"
    )
    user_groups = user_groups[~user_groups.index.duplicated()]
    n_users = user_groups.value_counts()
    group_of = pd.Series(
        user_groups.reindex(accounts["user"].astype("str")).to_numpy(), index=accounts.index
    )
    known = group_of.notna()
    acc = accounts.loc[known]
    groups = group_of[known].astype("str")
    status = acc["connection_status"].astype("str")
    per = pd.DataFrame(
        {
            "group": groups,
            "connected": (status == "connected").to_numpy(),
            "error": (status == "error").to_numpy(),
        }
    ).groupby("group", sort=False)
    out = pd.DataFrame(index=pd.Index(n_users.index, dtype="str", name=key))
    out["users"] = n_users.astype("int64")
    counts = per.size()
    out["accounts"] = counts.reindex(out.index).fillna(0).astype("int64")
    out["accounts_per_user"] = out["accounts"] / out["users"]
    connected = per["connected"].sum().reindex(out.index).fillna(0)
    errors = per["error"].sum().reindex(out.index).fillna(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["connected_share"] = (connected / out["accounts"]).astype("Float64")
        out["error_share"] = (errors / out["accounts"]).astype("Float64")
    out.loc[out["accounts"] == 0, ["connected_share", "error_share"]] = pd.NA
    codes = acc["connection_error_code"].astype("str")
    code_frame = pd.DataFrame({"group": groups.to_numpy(), "code": codes.to_numpy()})
    code_frame = code_frame[acc["connection_error_code"].notna().to_numpy()]
    top: dict[str, str] = {}
    if len(code_frame):
        tally = code_frame.value_counts().reset_index(name="n")
        tally = tally.sort_values(["group", "n", "code"], ascending=[True, False, True])
        top = dict(tally.drop_duplicates("group").set_index("group")["code"])
    out["top_error_code"] = pd.Series([top.get(g) for g in out.index], index=out.index, dtype="str")
    n_by_group = dict(zip(out.index, out["users"].tolist(), strict=True))
    order = sorted(out.index, key=lambda g: (g == MISSING, -n_by_group[g], g))
    return out.loc[order]


def users_in_group(users: pd.DataFrame, key: str, group: str) -> pd.DataFrame:
    """The users of one group of :func:`metadata_groups` (use :data:`MISSING` for no key).

    Example:
        >>> from argyle_nb.frames import users_frame
        >>> users = users_frame([
        ...     {"id": "0994b847-cc69-4d98-bc99-c5e65e762add", "created_at": "2020-01-01",
        ...      "external_metadata": "A"}])
        >>> users_in_group(users, "meta", "A")["id"].tolist()
        ['0994b847-cc69-4d98-bc99-c5e65e762add']
    """
    require_columns(users, ["id"], by="users_in_group", made_by="users_frame")
    labels = _labels(users[_meta_column(users, key)])
    return users.loc[(labels == group).to_numpy()]


def plot_metadata_groups(groups: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Bars of users and accounts per metadata group, with the connected share noted."""
    import matplotlib.pyplot as plt

    require_columns(
        groups,
        ["users", "accounts", "connected_share"],
        by="plot_metadata_groups",
        made_by="metadata_groups",
    )
    if groups.empty:
        return _empty(ax, "Users and accounts by metadata group", "no groups to show")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, max(2.5, 0.4 * len(groups) + 1)))
    key = groups.index.name or "group"
    frame = groups[["users", "accounts"]].iloc[::-1]
    frame.plot.barh(ax=ax)
    for y, share in enumerate(groups["connected_share"].iloc[::-1]):
        if share is not pd.NA and not pd.isna(share):
            ax.annotate(
                f"{share:.0%} connected",
                (0, y),
                xytext=(3, -3),
                textcoords="offset points",
                fontsize=8,
            )
    ax.set_title(f"Users and accounts by metadata {key!r}")
    ax.set_xlabel("count")
    ax.set_ylabel(str(key))
    return ax
