"""Progress bars of long fetches (tqdm), shown only when there is progress to show."""

from __future__ import annotations

from typing import Any

__all__ = ["Progress"]


class Progress:
    """A tqdm bar that appears once a walk reaches its second page (or at once, with
    ``always``): a one-page list shows none. Its ``total`` may grow as lists say their size.

    Examples:
        >>> bar = Progress("GET /users", show=False)
        >>> bar.update(); bar.update(); bar.n
        2
    """

    def __init__(self, desc: str, *, show: bool, always: bool = False) -> None:
        self.desc = desc
        self.show = show
        self.always = always
        self.total: int | None = None
        self.n = 0
        self._bar: Any = None
        if show and always:
            self._open()

    def _open(self) -> None:
        from tqdm.auto import tqdm

        # A prefetch's bar stays when done: it is the cell's record of what was cached.
        self._bar = tqdm(total=self.total, desc=self.desc, unit="page", leave=self.always)
        self._bar.update(self.n)

    def refresh(self) -> None:
        if self._bar is not None:
            self._bar.total = self.total
            self._bar.refresh()

    def update(self, n: int = 1) -> None:
        self.n += n
        if self._bar is None:
            if self.show and (self.n > 1 or (self.total or 0) > 1):
                self._open()
            return
        if self._bar.total != self.total:
            self._bar.total = self.total
        self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
