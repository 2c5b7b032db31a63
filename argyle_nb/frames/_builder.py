"""Frames built from pages as they arrive (:class:`FrameBuilder`), and the merge of the
frames of several reads of a list that never held still (:func:`merge_passes`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal, TypeAlias

import pandas as pd

from argyle_nb.errors import ArgyleValueError
from argyle_nb.frames._accounts import BATCH_PAGES, AccountBatches
from argyle_nb.frames._users import UserBatches
from argyle_nb.quarantine import RejectedRecord

#: The frames a :class:`FrameBuilder` makes.
Table: TypeAlias = Literal["users", "accounts", "availability"]
_BUILDERS = {
    "users": "users_frame",
    "accounts": "accounts_frame",
    "availability": "availability_frame",
}
#: The column that names a frame's record (an availability row names its account).
KEYS = {"users": "id", "accounts": "id", "availability": "account"}


class FrameBuilder:
    """One frame of a list, built from its pages as they arrive, a batch at a time.

    What :func:`users_frame`, :func:`accounts_frame` and :func:`availability_frame` do
    with a list of pages, without the list: memory holds the columns made so far (compact
    Arrow chunks) and one batch of :data:`BATCH_PAGES` pages, never every page, so the
    client hands each page over as it is fetched. ``rejected`` works as in the builders
    (a record's ``page`` counts the pages added).

    Examples:
        >>> builder = FrameBuilder("accounts")
        >>> builder.add(b'{"count": 1, "next": null, "previous": null, "results": ['
        ...     b'{"id": "ac81e2bc-2157-4535-8ca4-fb1f068df1fc",'
        ...     b' "user": "53fe928d-9c6a-460b-b5ac-19d67304d106",'
        ...     b' "created_at": "2019-11-27T15:55:56Z"}]}')
        >>> builder.frame()[["id", "created_at"]]
                                             id                created_at
        0  ac81e2bc-2157-4535-8ca4-fb1f068df1fc 2019-11-27 15:55:56+00:00
        >>> builder
        FrameBuilder('accounts': 1 page, 1 record)
    """

    def __init__(
        self,
        table: Table,
        *,
        rejected: list[RejectedRecord] | None = None,
        batch_pages: int = BATCH_PAGES,
    ) -> None:
        if table not in _BUILDERS:
            raise ArgyleValueError(f"table must be one of {', '.join(_BUILDERS)}, not {table!r}")
        self.table = table
        self._batches: AccountBatches | UserBatches = (
            UserBatches(rejected=rejected, batch_pages=batch_pages)
            if table == "users"
            else AccountBatches(
                [table], rejected=rejected, builder=_BUILDERS[table], batch_pages=batch_pages
            )
        )

    @property
    def pages(self) -> int:
        """Pages added so far."""
        return self._batches.pages

    @property
    def records(self) -> int:
        """Records kept so far (of the pages read: a batch is read when full, or by
        :meth:`frame`)."""
        return self._batches.records

    def add(self, page: bytes) -> None:
        """One more page, its bytes as served (an envelope or a bare JSON array)."""
        self._batches.add(page)

    def frame(self) -> pd.DataFrame:
        """The frame of every page added (once: the columns are handed over, not copied)."""
        if isinstance(self._batches, UserBatches):
            return self._batches.frame()
        return self._batches.frames()[self.table]

    def __repr__(self) -> str:
        pages, records = self.pages, self.records
        return (
            f"FrameBuilder({self.table!r}: {pages:,} page{'s' * (pages != 1)}, "
            f"{records:,} record{'s' * (records != 1)})"
        )


def merge_passes(
    frames: Sequence[pd.DataFrame], table: Table, *, held: Iterable[str] = ()
) -> tuple[pd.DataFrame, int]:
    """The frames of successive reads of one list, the newest last, as one frame: every row
    of the newest, then the rows of the earlier ones (newest first) whose record it did not
    hold, each record once; and how many records the earlier reads added. ``held``: ids
    the newest read served but left out of its frame (its rejected records).

    What a list that changed in every read is made of: nothing the service served is lost,
    and what it served last wins.

    Examples:
        >>> old = pd.DataFrame({"id": ["a", "b"], "n": [1, 1]})
        >>> new = pd.DataFrame({"id": ["b", "c"], "n": [2, 2]})
        >>> frame, added = merge_passes([old, new], "accounts")
        >>> frame.values.tolist(), added
        ([['b', 2], ['c', 2], ['a', 1]], 1)
    """
    *earlier, newest = frames
    key = KEYS[table]
    seen = pd.Index(newest[key].astype("str").unique()).append(pd.Index(list(held), dtype="str"))
    parts = [newest]
    added = 0
    for frame in reversed(earlier):
        keys = frame[key].astype("str")
        extra = frame[~keys.isin(seen)]
        if len(extra):
            new_keys = pd.Index(extra[key].astype("str").unique())
            added += len(new_keys)
            seen = seen.append(new_keys)
            parts.append(extra)
    if len(parts) == 1:
        return newest, 0
    merged = pd.concat(parts, ignore_index=True)
    for name in newest.columns:  # Categoricals of different passes: their union
        if isinstance(newest[name].dtype, pd.CategoricalDtype) and not isinstance(
            merged[name].dtype, pd.CategoricalDtype
        ):
            categories = pd.api.types.union_categoricals(
                [part[name].array for part in parts], ignore_order=True
            ).categories
            merged[name] = pd.Categorical(merged[name], categories=categories)
    merged.attrs = dict(newest.attrs)
    return merged, added
