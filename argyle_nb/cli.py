"""The ``argyle-nb`` command.

``argyle-nb lab`` starts the embedded sandbox (demo dataset) and opens JupyterLab on
``notebooks/`` with ARGYLE_BASE_URL, ARGYLE_API_KEY_ID and ARGYLE_API_KEY_SECRET set;
``argyle-nb sandbox serve`` runs a sandbox in the foreground.
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
    from argyle_nb.sandbox import DEMO_SEED, DEMO_USERS, start

    command = [sys.executable, "-m", "jupyterlab", f"--notebook-dir={notebooks}"]
    with start(users=DEMO_USERS, seed=DEMO_SEED) as sandbox:
        print(f"argyle-nb lab: Argyle sandbox at {sandbox.base_url}", flush=True)
        env = os.environ.copy()
        env["ARGYLE_BASE_URL"] = sandbox.base_url
        env["ARGYLE_API_KEY_ID"] = sandbox.key_id
        env["ARGYLE_API_KEY_SECRET"] = sandbox.key_secret
        try:
            return subprocess.call(command, env=env)
        except KeyboardInterrupt:
            return 130


def _sandbox_serve(args: argparse.Namespace) -> int:
    from argyle_nb.sandbox.command import serve

    return serve(args)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``argyle-nb``."""
    parser = argparse.ArgumentParser(prog="argyle-nb", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    lab = commands.add_parser("lab", help="open JupyterLab on the notebooks")
    lab.add_argument("--notebooks", default="notebooks", help="folder to open (default: notebooks)")
    lab.set_defaults(run=_lab)
    sandbox = commands.add_parser("sandbox", help="the embedded Argyle API sandbox")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", required=True)
    serve = sandbox_commands.add_parser(
        "serve", help="run a sandbox until Ctrl-C (prints its base URL and credentials)"
    )
    from argyle_nb.sandbox.command import add_arguments

    add_arguments(serve)
    serve.set_defaults(run=_sandbox_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``argyle-nb`` with ``argv`` (default: the process arguments)."""
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
