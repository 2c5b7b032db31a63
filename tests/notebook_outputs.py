"""Execute the notebooks and keep only the outputs nbval checks: ``make notebooks``.

A code cell whose source has ``# NBVAL_CHECK_OUTPUT`` keeps its text outputs (fixed by the
sandbox's seed) and a fixed execution count, its position among the code cells (nbval skips
cells stored without a count). Every other output and count, and widget state, is dropped,
so stored notebooks never change from run to run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ExecutePreprocessor

MARK = "# NBVAL_CHECK_OUTPUT"
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def is_checked(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "code" and MARK in cell.source


def strip(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop volatile outputs in place and return ``nb``."""
    nb.metadata.pop("widgets", None)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    for position, cell in enumerate(code, start=1):
        cell.metadata.pop("execution", None)
        if not is_checked(cell):
            cell.execution_count = None
            cell.outputs = []
            continue
        cell.execution_count = position
        kept = []
        for output in cell.outputs:
            if output.output_type == "execute_result":
                output.execution_count = position
                output.data = {k: v for k, v in output.data.items() if k == "text/plain"}
            elif output.output_type == "display_data":
                continue
            kept.append(output)
        cell.outputs = kept
    return nb


def main(paths: list[str]) -> int:
    targets = [Path(p) for p in paths] or sorted(NOTEBOOKS.glob("*.ipynb"))
    for path in targets:
        nb = nbformat.read(path, as_version=4)
        ExecutePreprocessor(timeout=300, kernel_name="python3").preprocess(
            nb, {"metadata": {"path": str(path.parent)}}
        )
        nbformat.write(strip(nb), path)
        print(f"executed and stripped {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
