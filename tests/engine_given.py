"""Raw user and account records, and the same records as each engine input an analysis
takes: frames, :meth:`Dataset.from_frames` over them, or a dataset exported from the
records (no server). For the semantics tests (tests/unit/test_engine_semantics*.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from argyle_nb import frames
from argyle_nb.dataset import Dataset

#: The inputs every semantics test runs on; "export" is added where a test says so.
ENGINES = ("frames", "dataset")
AS_OF = "2026-03-01T00:00:00Z"


def user_id(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012d}"


def account_id(i: int) -> str:
    return f"10000000-0000-4000-8000-{i:012d}"


def user(i: int, meta: Any = None, *, created: str = "2026-01-01T00:00:00Z") -> dict[str, Any]:
    """A user record; ``meta`` its external_metadata (left out when None)."""
    record: dict[str, Any] = {"id": user_id(i), "created_at": created}
    if meta is not None:
        record["external_metadata"] = meta
    return record


def account(
    i: int,
    owner: int,
    status: str = "connected",
    *,
    was: bool | None = None,
    code: str | None = None,
    created: str = "2026-01-02T00:00:00Z",
    scans: dict[str, str | None] | None = None,
) -> dict[str, Any]:
    """An account record of user ``owner``: ``was`` its was_connected (left out when
    None), ``code`` its connection error code, ``scans`` resource -> availability status
    (a None status: the resource is there without one)."""
    record: dict[str, Any] = {
        "id": account_id(i),
        "user": user_id(owner),
        "created_at": created,
        "connection": {"status": status, "error_code": code},
    }
    if was is not None:
        record["was_connected"] = was
    if scans is not None:
        record["availability"] = {r: {"status": s} for r, s in scans.items()}
    return record


@dataclass
class Given:
    """The same records as one engine's input."""

    users: pd.DataFrame
    accounts: pd.DataFrame
    availability: pd.DataFrame
    ds: Dataset | None

    def cohort(self, analysis: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``analysis(users, accounts, *args)`` on frames, ``analysis(ds, *args)`` else."""
        if self.ds is None:
            return analysis(self.users, self.accounts, *args, **kwargs)
        return analysis(self.ds, *args, **kwargs)

    def of_users(self, analysis: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``analysis(users, *args)`` on frames, ``analysis(ds, *args)`` else."""
        return analysis(self.users if self.ds is None else self.ds, *args, **kwargs)

    def funnel(self, analysis: Callable[..., Any], key: str, **kwargs: Any) -> Any:
        """``cohort_funnel(users, accounts, availability, key)`` or ``(ds, key)``."""
        if self.ds is None:
            return analysis(self.users, self.accounts, self.availability, key, **kwargs)
        return analysis(self.ds, key, **kwargs)

    def with_availability(self) -> dict[str, Any]:
        """``availability=`` for an analysis on frames (a dataset holds its own)."""
        return {"availability": self.availability} if self.ds is None else {}


class Build:
    """Turns records into a :class:`Given` of one engine; closes its datasets after."""

    def __init__(self, engine: str, folder: Path) -> None:
        self.engine = engine
        self.folder = folder
        self.opened: list[Dataset] = []
        #: Records a page of an export.
        self.per_page = 3

    def __call__(self, users: list[dict[str, Any]], accounts: list[dict[str, Any]]) -> Given:
        made = frames.users_frame(orjson.dumps(users))
        listed, availability = frames.accounts_and_availability(orjson.dumps(accounts))
        ds: Dataset | None = None
        if self.engine == "dataset":
            ds = Dataset.from_frames(made, listed, availability)
        elif self.engine == "export":
            from tests.unit.dataset.exports import write_records

            path = self.folder / f"export{len(self.opened)}"
            write_records(path, users, accounts, per_page=self.per_page)
            ds = Dataset(path)
        if ds is not None:
            self.opened.append(ds)
        return Given(made, listed, availability, ds)

    def close(self) -> None:
        for ds in self.opened:
            ds.close()


def building(engine: str, folder: Path) -> Iterator[Build]:
    """The body of a ``build`` fixture: a :class:`Build` of ``engine``, closed after."""
    made = Build(engine, folder)
    try:
        yield made
    finally:
        made.close()


#: A key holding quotes and a backslash.
ODD_KEY = 'say "hi"\\now'


def messy() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Records mixing every rule: a user seen twice (the second record in another
    cohort), text with a real "(missing)", ints and floats under one key, booleans,
    arrays, null, absent and object values, a dotted key nested and flat, a key with
    quotes and a backslash, accounts of an unknown user, users without accounts, error
    codes in a tie, scans synced or not."""
    day = "2026-01-{:02d}T{:02d}:00:00Z".format
    users = [
        user(
            1,
            {"group": "A", "score": 2, "flag": True, "region": {"zone": "north"}, ODD_KEY: "x"},
            created=day(1, 0),
        ),
        user(
            2,
            {"group": "B", "score": 2.0, "flag": False, "region.zone": "north", "tags": [1, "a"]},
            created=day(1, 6),
        ),
        user(
            3,
            {
                "group": "(missing)",
                "score": 1.5,
                "flag": None,
                "region": {"zone": "south"},
                ODD_KEY: "y",
            },
            created=day(2, 0),
        ),
        user(1, {"group": "B", "score": 7, "flag": False, ODD_KEY: "y"}, created=day(3, 0)),
        user(
            4,
            {"group": "A", "score": 3, "tags": [1, "a"], "region.zone": "south"},
            created=day(2, 12),
        ),
        user(5, {"group": {"nested": "object"}, "score": None, "flag": True}, created=day(3, 0)),
        user(6, None, created=day(4, 0)),
        user(
            7, {"group": "A", "score": 2, "flag": True, "tags": [], ODD_KEY: "x"}, created=day(4, 0)
        ),
        user(8, {"group": "C", "score": 1.5, "region": {"zone": "north"}}, created=day(5, 0)),
        user(9, {"group": "B", "score": 3, "flag": False}, created=day(5, 0)),
    ]
    synced = {"payouts": "synced", "finances": "synced"}
    accounts = [
        account(1, 1, "connected", was=True, created=day(3, 0), scans=synced),
        account(2, 1, "error", code="auth_required", created=day(1, 12)),
        account(3, 2, "error", was=True, code="system_error", created=day(2, 0)),
        account(4, 2, "error", code="auth_required", created=day(1, 18)),
        account(
            5,
            3,
            "connected",
            created=day(6, 0),
            scans={"payouts": "synced", "finances": "sync_failed"},
        ),
        account(6, 4, "connecting", was=False, created=day(2, 12)),
        account(
            7,
            5,
            "connected",
            was=False,
            created=day(3, 6),
            scans={"payouts": "synced", "finances": None},
        ),
        account(8, 7, "error", code="system_error", created=day(5, 0)),
        account(9, 7, "connected", created=day(6, 0), scans={"payouts": "in_progress"}),
        account(10, 8, "connected", was=True, created=day(7, 0), scans=synced),
        account(11, 99, "connected", was=True, created=day(2, 0), scans=synced),
        account(12, 99, "error", code="auth_required", created=day(2, 0)),
        account(13, 9, "error", code="account_locked", created=day(9, 0)),
    ]
    return users, accounts
