"""The ``argyle-nb`` command.

``argyle-nb lab`` starts the embedded sandbox (demo dataset) and opens JupyterLab on
``notebooks/`` with ARGYLE_BASE_URL, ARGYLE_API_KEY_ID and ARGYLE_API_KEY_SECRET set;
``argyle-nb sandbox serve`` runs a sandbox in the foreground; ``argyle-nb report`` executes
the notebooks into ``reports/<YYYY-MM-DD>/``, one offline HTML report each and an index.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from datetime import date, datetime
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


def _report(args: argparse.Namespace) -> int:
    from argyle_nb.report import NotebookRun, run_report

    if args.notebook:
        paths = [Path(p) for p in args.notebook]
    else:
        paths = sorted(Path(args.notebooks).glob("*.ipynb"))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing or not paths:
        where = ", ".join(missing) or f"{args.notebooks}/*.ipynb"
        print(f"argyle-nb report: no notebook at {where}", file=sys.stderr)
        return 2

    def said(run: NotebookRun) -> None:
        outcome = "ok" if run.ok else f"FAILED ({run.error})"
        print(f"argyle-nb report: {run.notebook}: {outcome}, {run.seconds:.1f} s", flush=True)

    try:
        folder, runs = run_report(
            paths,
            Path(args.out),
            clock=lambda: datetime.now().astimezone(),
            day=args.date,
            base_url=args.base_url,
            users=args.users,
            seed=args.seed,
            timeout=args.timeout,
            on_run=said,
        )
    except (ValueError, RuntimeError) as exc:
        print(f"argyle-nb report: {exc}", file=sys.stderr)
        return 2
    print(f"argyle-nb report: {folder / 'index.html'}")
    external = [f"{run.html}: {url}" for run in runs for url in run.external]
    if external:
        print("argyle-nb report: network references left:", *external, sep="\n  ", file=sys.stderr)
    failed = [run.notebook for run in runs if not run.ok]
    if failed:
        print(f"argyle-nb report: failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed or external else 0


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
    report = commands.add_parser(
        "report", help="execute the notebooks into dated, offline HTML reports"
    )
    report.add_argument(
        "notebook", nargs="*", help="notebooks to run (default: every notebook in --notebooks)"
    )
    report.add_argument("--notebooks", default="notebooks", help="default: notebooks")
    report.add_argument("--out", default="reports", help="reports go to OUT/YYYY-MM-DD/")
    report.add_argument(
        "--base-url",
        help="ARGYLE_BASE_URL (needs ARGYLE_API_KEY_ID/_SECRET in the environment; "
        "default: the notebook's, i.e. $ARGYLE_BASE_URL or the embedded sandbox)",
    )
    report.add_argument("--users", type=int, help="USERS: embedded-sandbox demo users")
    report.add_argument("--seed", type=int, help="SEED: the embedded sandbox's data seed")
    report.add_argument(
        "--date", type=date.fromisoformat, help="the folder's date, YYYY-MM-DD (default: today)"
    )
    report.add_argument(
        "--timeout", type=float, default=600, help="seconds a cell may run (default: 600)"
    )
    report.set_defaults(run=_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``argyle-nb`` with ``argv`` (default: the process arguments)."""
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
