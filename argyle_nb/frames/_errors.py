"""The errors of the frames: :class:`FrameError` and :class:`MissingColumnsError`."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from argyle_nb.errors import ArgyleKeyError, ArgyleValueError


class FrameError(ArgyleValueError):
    """Input that is not what the Argyle API promises (the message says what and where).

    An :class:`~argyle_nb.errors.ArgyleError` and a ``ValueError``.
    """


class MissingColumnsError(FrameError, ArgyleKeyError):
    """A frame lacks columns a function needs; the message names them and what makes them.

    Also a ``KeyError``, as pandas raises for a missing column.
    """


def require_columns(frame: object, columns: Iterable[str], *, by: str, made_by: str) -> None:
    """Raise :class:`MissingColumnsError` unless ``frame`` is a DataFrame with ``columns``.

    Examples:
        >>> require_columns(pd.DataFrame({"a": [1]}), ["a", "b"], by="f", made_by="g")
        Traceback (most recent call last):
        ...
        argyle_nb.frames.MissingColumnsError: f needs column 'b' (made by g)
    """
    if not isinstance(frame, pd.DataFrame):
        raise FrameError(f"{by} needs a DataFrame (made by {made_by}), not {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        names = ", ".join(repr(c) for c in missing)
        raise MissingColumnsError(
            f"{by} needs column{'s' if len(missing) > 1 else ''} {names} (made by {made_by})"
        )


# Public under argyle_nb.frames, and named so in tracebacks.
FrameError.__module__ = MissingColumnsError.__module__ = "argyle_nb.frames"
