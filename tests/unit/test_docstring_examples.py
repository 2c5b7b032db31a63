"""The examples in the package's docstrings run and print what they show.

Examples that need a live client are marked ``+SKIP`` in the docstrings themselves.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import argyle_nb

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(argyle_nb.__path__, prefix="argyle_nb.")
    if not info.name.endswith("__main__")
)


def test_every_module_is_found() -> None:
    assert {"argyle_nb.client", "argyle_nb.provenance", "argyle_nb.sandbox.faults"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
