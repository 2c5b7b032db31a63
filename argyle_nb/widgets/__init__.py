"""Interactive explorers for JupyterLab, built from standard ipywidgets and Altair.

Each explorer is a class: build it from frames or a :class:`~argyle_nb.dataset.Dataset`
(an export bigger than memory) and put it last in a cell to display it. Either way it
turns what it was given into one dataset when it opens, and every number comes from
:mod:`argyle_nb.analysis` counting in it (one engine, DuckDB); the explorers only filter,
pick and draw. What is shown is exposed for scripts and tests: ``.table`` (the
DataFrame in the table), ``.chart_data`` (the DataFrame drawn), ``.message`` (the
line of text under the controls), ``.data_source`` (where the frames came from and how
old they are, from their provenance: the line under the title) and ``.widget`` (the root
widget).

Examples:
    >>> import argyle_nb
    >>> from argyle_nb.widgets import MetadataExplorer
    >>> client = argyle_nb.connect()                                   # doctest: +SKIP
    >>> MetadataExplorer(client.users_frame(), client.accounts_frame())  # doctest: +SKIP

Charts are the analyses' own (``argyle_nb.analysis.plot_*``), shown in an offline
Altair widget; tables are HTML. Large inputs stay responsive: every chart draws an
aggregate (at most :data:`MAX_CHART_ROWS` bars) or a sample (timelines).
"""

from __future__ import annotations

from argyle_nb.widgets._availability import AvailabilityExplorer
from argyle_nb.widgets._base import MAX_CHART_ROWS, MAX_TABLE_ROWS
from argyle_nb.widgets._connection import ConnectionExplorer
from argyle_nb.widgets._history import HistoryExplorer
from argyle_nb.widgets._metadata import MetadataExplorer
from argyle_nb.widgets._user import UserInspector

__all__ = [
    "MAX_CHART_ROWS",
    "MAX_TABLE_ROWS",
    "AvailabilityExplorer",
    "ConnectionExplorer",
    "HistoryExplorer",
    "MetadataExplorer",
    "UserInspector",
]
