"""The ``argyle-nb`` command.

``argyle-nb lab`` starts the embedded sandbox (demo dataset) and opens JupyterLab on the
notebooks with ARGYLE_BASE_URL, ARGYLE_API_KEY_ID and ARGYLE_API_KEY_SECRET set;
``argyle-nb sandbox serve`` runs a sandbox in the foreground; ``argyle-nb report`` executes
the notebooks into ``reports/<YYYY-MM-DD>/``, one offline HTML report each and an index;
``argyle-nb export PATH`` writes the portfolio as a Parquet dataset in bounded memory;
``argyle-nb notebooks DIR`` copies the notebooks that ship with the package into DIR.
Without a ``notebooks/`` folder where they run, ``lab`` and ``report`` use the packaged
notebooks, copied into ``./argyle_nb_notebooks`` (a user's edits are kept).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

__all__ = ["main"]


def _folder(command: str, given: str | None) -> Path | None:
    """The notebooks folder of ``command`` (see :func:`argyle_nb.packaged.notebooks_for`),
    what was done to have it said; ``None`` when it could not be had (said why)."""
    from argyle_nb.errors import ArgyleError
    from argyle_nb.packaged import notebooks_for

    try:
        folder, said = notebooks_for(given)
    except (ArgyleError, OSError) as exc:
        print(f"argyle-nb {command}: {exc}", file=sys.stderr)
        return None
    for line in said:
        print(f"argyle-nb {command}: {line}", flush=True)
    return folder


def _notebooks(args: argparse.Namespace) -> int:
    from argyle_nb.errors import ArgyleError
    from argyle_nb.packaged import copy_notebooks

    try:
        said = copy_notebooks(Path(args.folder))
    except (ArgyleError, OSError) as exc:
        print(f"argyle-nb notebooks: {exc}", file=sys.stderr)
        return 2
    for line in said:
        print(f"argyle-nb notebooks: {line}")
    print(f"argyle-nb notebooks: open them with: argyle-nb lab --notebooks {args.folder}")
    return 0


def _lab(args: argparse.Namespace) -> int:
    from argyle_nb.lab import run_lab

    folder = _folder("lab", args.notebooks)
    if folder is None:
        return 2
    try:
        return run_lab(
            folder,
            db=Path(args.db) if args.db else None,
            users=args.users,
            seed=args.seed,
            extra=args.jupyterlab_args,
        )
    except (ValueError, OSError) as exc:
        print(f"argyle-nb lab: {exc}", file=sys.stderr)
        return 2


def _sandbox_serve(args: argparse.Namespace) -> int:
    from argyle_nb.sandbox.command import serve

    return serve(args)


def _sandbox_advance(args: argparse.Namespace) -> int:
    from argyle_nb.sandbox.command import advance_command

    return advance_command(args)


def _report(args: argparse.Namespace) -> int:
    from argyle_nb.report import NotebookRun, run_report

    if args.notebook:
        paths = [Path(p) for p in args.notebook]
        folder: Path | None = None
    else:
        folder = _folder("report", args.notebooks)
        if folder is None:
            return 2
        paths = sorted(folder.glob("*.ipynb"))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing or not paths:
        where = ", ".join(missing) or f"{folder}/*.ipynb"
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


def _export(args: argparse.Namespace) -> int:
    from argyle_nb import connect
    from argyle_nb.dataset import DatasetError
    from argyle_nb.errors import ArgyleError

    try:
        with connect(base_url=args.base_url, users=args.users, seed=args.seed) as client:
            ds = client.export(args.path, batch_pages=args.batch_pages, keep=args.keep)
    except (ArgyleError, DatasetError, OSError) as exc:
        notes = " ".join(getattr(exc, "__notes__", []))
        print(f"argyle-nb export: {exc}" + (f" {notes}" if notes else ""), file=sys.stderr)
        return 2
    with ds:
        counts = ", ".join(
            f"{ds.rows(t):,} {t}" for t in ("users", "accounts", "availability", "rejected")
        )
        print(
            f"argyle-nb export: {args.path}: {counts} (snapshot {ds.snapshot.number},"
            f" {ds.snapshot.changed:,} users and accounts changed)"
        )
    return 0


def _whole(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``argyle-nb``."""
    parser = argparse.ArgumentParser(prog="argyle-nb", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    from argyle_nb.packaged import COPIES
    from argyle_nb.sandbox import DEMO_SEED, DEMO_USERS

    lab = commands.add_parser(
        "lab",
        help="open JupyterLab on the notebooks, with the embedded sandbox behind it",
        description="Start the embedded sandbox and JupyterLab on the notebooks; prints Lab's "
        "URL with its token once it answers. Works as root (adds --allow-root) and without a "
        "screen (opens no browser then). Ctrl-C stops both.",
        epilog="JupyterLab options go after --, e.g. argyle-nb lab -- --port 9999 --ip 0.0.0.0",
    )
    lab.add_argument(
        "--notebooks",
        help="folder to open (default: ./notebooks, else the packaged notebooks copied into "
        f"./{COPIES}, your edits kept)",
    )
    lab.add_argument(
        "--db",
        help="keep the sandbox's data in this SQLite file across sessions "
        "(default: a temporary database, removed when Lab stops)",
    )
    lab.add_argument(
        "--users",
        type=_whole,
        default=DEMO_USERS,
        help=f"demo users of a new database (default: {DEMO_USERS})",
    )
    lab.add_argument(
        "--seed", type=int, default=DEMO_SEED, help=f"seed of the demo data (default: {DEMO_SEED})"
    )
    lab.add_argument(
        "jupyterlab_args", nargs="*", metavar="-- JUPYTERLAB_OPTION", help="passed to JupyterLab"
    )
    lab.set_defaults(run=_lab)
    sandbox = commands.add_parser("sandbox", help="the embedded Argyle API sandbox")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", required=True)
    serve = sandbox_commands.add_parser(
        "serve", help="run a sandbox until Ctrl-C (prints its base URL and credentials)"
    )
    from argyle_nb.sandbox.command import add_arguments

    add_arguments(serve)
    serve.set_defaults(run=_sandbox_serve)
    forward = sandbox_commands.add_parser(
        "advance",
        help="move a sandbox's clock forward: its users and accounts live those days",
        description="Move the sandbox of a database forward (see argyle_nb.sandbox.living): "
        "new users sign up and connect, connections are lost and come back, scans run. "
        "A sandbox serving the database answers from the new state at once.",
    )
    forward.add_argument("--db", required=True, help="the sandbox's SQLite file")
    forward.add_argument("--days", type=_whole, default=1, help="days to advance (default 1)")
    forward.set_defaults(run=_sandbox_advance)
    report = commands.add_parser(
        "report", help="execute the notebooks into dated, offline HTML reports"
    )
    report.add_argument(
        "notebook", nargs="*", help="notebooks to run (default: every notebook in --notebooks)"
    )
    report.add_argument(
        "--notebooks", help=f"default: ./notebooks, else the packaged notebooks in ./{COPIES}"
    )
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
    notebooks = commands.add_parser(
        "notebooks",
        help="copy the tutorial notebooks that ship with argyle_nb into a folder",
        description="Copy the packaged notebooks into FOLDER. A notebook you edited is never "
        "overwritten: a newer packaged version goes beside it as NAME.new.ipynb.",
    )
    notebooks.add_argument("folder", help="where the notebooks go (made if missing)")
    notebooks.set_defaults(run=_notebooks)
    export = commands.add_parser(
        "export",
        help="add every user and account as a snapshot of a dataset, in bounded memory",
        description="Walk the users and accounts into one more snapshot of the Delta Lake "
        "dataset at PATH (tables users, accounts, availability, rejected), a batch of pages at "
        "a time; only what changed is written. Keys come from ARGYLE_API_KEY_ID/_SECRET; "
        "without them, from the embedded sandbox's demo data.",
    )
    export.add_argument("path", help="the dataset (a folder of snapshots, made if missing)")
    export.add_argument("--base-url", help="ARGYLE_BASE_URL (needs the keys in the environment)")
    export.add_argument("--users", type=_whole, help="embedded-sandbox demo users")
    export.add_argument("--seed", type=int, help="the embedded sandbox's data seed")
    export.add_argument(
        "--batch-pages", type=_whole, default=None, help="pages read at a time (default: 50)"
    )
    export.add_argument(
        "--keep",
        type=_whole,
        default=None,
        help="then forget all but the newest KEEP snapshots (default: keep every one)",
    )
    export.set_defaults(run=_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``argyle-nb`` with ``argv`` (default: the process arguments)."""
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
