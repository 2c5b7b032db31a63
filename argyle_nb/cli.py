"""The ``argyle-nb`` command.

``argyle-nb lab`` opens JupyterLab on ``notebooks/``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]


def _lab(args: argparse.Namespace) -> int:
    notebooks = Path(args.notebooks).resolve()
    if not notebooks.is_dir():
        print(f"argyle-nb lab: no notebooks folder at {notebooks}", file=sys.stderr)
        return 2
    command = [sys.executable, "-m", "jupyterlab", f"--notebook-dir={notebooks}"]
    return subprocess.call(command, env=os.environ.copy())


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``argyle-nb``."""
    parser = argparse.ArgumentParser(prog="argyle-nb", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    lab = commands.add_parser("lab", help="open JupyterLab on the notebooks")
    lab.add_argument("--notebooks", default="notebooks", help="folder to open (default: notebooks)")
    lab.set_defaults(run=_lab)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``argyle-nb`` with ``argv`` (default: the process arguments)."""
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
