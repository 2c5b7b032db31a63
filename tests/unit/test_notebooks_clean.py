"""Stored notebooks carry no volatile outputs (see tests/notebook_outputs.py)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tests.notebook_outputs import NOTEBOOKS, is_checked, strip

STORED = sorted(NOTEBOOKS.glob("*.ipynb"))


@pytest.mark.parametrize("path", STORED, ids=lambda p: p.name)
def test_notebook_is_stored_clean(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert "widgets" not in nb.metadata, f"{path.name}: widget state stored"
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert any(is_checked(cell) and cell.outputs for cell in code), f"{path.name}: checks nothing"
    for position, cell in enumerate(code, start=1):
        if is_checked(cell):
            assert cell.execution_count == position, f"{path.name} code cell {position}: count"
        else:
            assert cell.execution_count is None, f"{path.name} code cell {position}: count stored"
            assert cell.outputs == [], f"{path.name} code cell {position}: unchecked output stored"
    assert strip(nbformat.read(path, as_version=4)) == nb


def test_strip_drops_volatile_outputs() -> None:
    nb = nbformat.v4.new_notebook()
    checked = nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\n1 + 1", execution_count=3)
    checked.outputs = [
        nbformat.v4.new_output(
            "execute_result", {"text/plain": "2", "text/html": "<b>2</b>"}, execution_count=3
        ),
        nbformat.v4.new_output("display_data", {"image/png": "AAAA"}),
    ]
    volatile = nbformat.v4.new_code_cell("import time; time.time()", execution_count=4)
    volatile.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1.7e9\n")]
    nb.cells = [checked, volatile]
    nb.metadata["widgets"] = {"state": {}}
    strip(nb)
    assert "widgets" not in nb.metadata
    assert [c.execution_count for c in nb.cells] == [1, None]
    assert checked.outputs[0]["data"] == {"text/plain": "2"}
    assert checked.outputs[0]["execution_count"] == 1
    assert len(checked.outputs) == 1
    assert volatile.outputs == []
