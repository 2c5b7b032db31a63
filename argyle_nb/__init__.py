"""argyle_nb: explore Argyle payroll-connectivity data from JupyterLab.

Example:
    >>> import argyle_nb
    >>> client = argyle_nb.connect()          # doctest: +SKIP
    >>> accounts = client.accounts_frame()    # doctest: +SKIP

Heavy parts (pandas, the HTTP stack, widgets) load on first use, so
``import argyle_nb`` stays quick.
"""

from __future__ import annotations

import importlib
from typing import Any

from argyle_nb.models import Account, NewUser, Page, User, UserToken

__version__ = "0.1.0"

#: Public name -> the module that defines it (imported on first access).
_LAZY: dict[str, str] = {}

__all__ = [
    "Account",
    "NewUser",
    "Page",
    "User",
    "UserToken",
    "__version__",
    *_LAZY,
]

def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'argyle_nb' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
