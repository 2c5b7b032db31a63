"""The ``serve`` command: run a sandbox in the foreground until Ctrl-C or SIGTERM.

Used by ``argyle-nb sandbox serve`` and ``python -m argyle_nb.sandbox``.

Credentials: ``--key-id``/``--key-secret``, else the environment variables
``ARGYLE_API_KEY_ID``/``ARGYLE_API_KEY_SECRET``, else the fixed demo pair. The banner shows
the key secret only when it is the public demo one; a secret given by flag or environment
(often a real key) is masked, as the sandbox's repr does, so it never reaches a terminal
or a CI log.

Examples:
    >>> args = build_parser().parse_args(["--users", "100", "--seed", "3", "--port", "0"])
    >>> (args.users, args.seed, args.host)
    (100, 3, '127.0.0.1')
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from argyle_nb.errors import ArgyleValueError
from argyle_nb.sandbox.faults import Faults
from argyle_nb.sandbox.server import _SECRET_MASK, DEMO_KEY_ID, DEMO_KEY_SECRET, start

__all__ = ["add_arguments", "advance_command", "build_parser", "credentials", "main", "serve"]


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1], got {text}")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text}")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the flags of ``serve`` to ``parser``."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    parser.add_argument("--db", default=None, help="SQLite file (default: a temporary one)")
    parser.add_argument("--users", type=_count, default=0, help="seed an empty db with N users")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic data")
    parser.add_argument("--key-id", default=None, help="API key id (Basic auth username)")
    parser.add_argument("--key-secret", default=None, help="API key secret (Basic auth password)")
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests whose Host is NAME (repeatable; default: localhost and "
        "--host only; others answer 400, a defence against DNS rebinding)",
    )
    faults = parser.add_argument_group("fault injection")
    faults.add_argument("--rate-limit", type=_fraction, default=0.0, help="fraction answered 429")
    faults.add_argument(
        "--retry-after", type=_non_negative, default=1.0, help="Retry-After seconds of a 429"
    )
    faults.add_argument("--server-error", type=_fraction, default=0.0, help="fraction answered 5xx")
    faults.add_argument(
        "--server-error-status", type=int, choices=(500, 503), default=503, help="5xx status"
    )
    faults.add_argument(
        "--latency", type=_non_negative, default=0.0, help="seconds added to every request"
    )
    faults.add_argument(
        "--corrupt",
        type=_fraction,
        default=0.0,
        help="fraction of list records served corrupt (picked by record id)",
    )
    faults.add_argument("--fault-seed", type=int, default=None, help="seed of the fault draws")


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m argyle_nb.sandbox``."""
    parser = argparse.ArgumentParser(
        prog="python -m argyle_nb.sandbox", description="Run the embedded Argyle sandbox."
    )
    add_arguments(parser)
    return parser


def credentials(args: argparse.Namespace) -> tuple[str, str]:
    """The key pair: flags, else ARGYLE_API_KEY_ID/ARGYLE_API_KEY_SECRET, else the demo pair."""
    if args.key_id or args.key_secret:
        if not (args.key_id and args.key_secret):
            raise ArgyleValueError("give both --key-id and --key-secret")
        return args.key_id, args.key_secret
    key_id = os.environ.get("ARGYLE_API_KEY_ID")
    key_secret = os.environ.get("ARGYLE_API_KEY_SECRET")
    if key_id and key_secret:
        return key_id, key_secret
    return DEMO_KEY_ID, DEMO_KEY_SECRET


def _shown_secret(key_id: str, key_secret: str) -> str:
    """The secret as the banner shows it: the public demo secret as it is (the README
    prints it too), any other masked."""
    if (key_id, key_secret) == (DEMO_KEY_ID, DEMO_KEY_SECRET):
        return f"{key_secret} (the public demo pair)"
    return f"{_SECRET_MASK} (the one given: never shown)"


def serve(args: argparse.Namespace) -> int:
    """Run a sandbox until SIGINT/SIGTERM; prints the base URL and credentials."""
    try:
        key_id, key_secret = credentials(args)
        faults = Faults(
            rate_limit=args.rate_limit,
            retry_after=args.retry_after,
            server_error=args.server_error,
            server_error_status=args.server_error_status,
            latency=args.latency,
            corrupt=args.corrupt,
            seed=args.fault_seed,
        )
        if args.users:
            print(f"seeding up to {args.users} users (seed {args.seed})...", flush=True)
        sandbox = start(
            db=args.db,
            users=args.users,
            seed=args.seed,
            host=args.host,
            port=args.port,
            key_id=key_id,
            key_secret=key_secret,
            faults=faults,
            allowed_hosts=args.allow_host,
        )
    except (ValueError, OSError) as exc:
        print(f"argyle-nb sandbox: {exc}", file=sys.stderr)
        return 2
    done = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        users, accounts = sandbox.store.counts()
        print(f"Argyle sandbox at {sandbox.base_url}", flush=True)
        print(f"  key id:     {sandbox.key_id}", flush=True)
        print(f"  key secret: {_shown_secret(sandbox.key_id, sandbox.key_secret)}", flush=True)
        print(f"  database:   {sandbox.db_path} ({users} users, {accounts} accounts)", flush=True)
        if faults.active:
            print(f"  faults:     {faults}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        while not done.wait(0.5):
            if not sandbox.running:
                print("argyle-nb sandbox: the server stopped", file=sys.stderr)
                return 1
    finally:
        sandbox.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("sandbox stopped", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m argyle_nb.sandbox``."""
    return serve(build_parser().parse_args(argv))


def advance_command(args: argparse.Namespace) -> int:
    """``argyle-nb sandbox advance --db PATH --days N``: advance the sandbox of a database
    and say what happened; 2 when there is no sandbox database there."""
    from datetime import UTC, datetime

    from argyle_nb.sandbox.living import advance, sandbox_now
    from argyle_nb.sandbox.store import Store

    path = Path(args.db).expanduser()
    problem = _not_a_sandbox(path)
    if problem is not None:
        print(f"argyle-nb sandbox advance: {problem}", file=sys.stderr)
        return 2
    store = Store(path)
    try:
        if store.is_empty():
            print(f"argyle-nb sandbox advance: {path} holds no users", file=sys.stderr)
            return 2
        happened = advance(store, args.days, datetime.now(UTC))
        now = sandbox_now(store, datetime.now(UTC))
        users, accounts = store.counts()
    except ArgyleValueError as exc:
        print(f"argyle-nb sandbox advance: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    said = ", ".join(f"{n:,} {what}" for what, n in happened.items() if what != "days")
    print(
        f"advanced {happened['days']} day(s) to {now:%Y-%m-%d %H:%M} UTC: {said}; "
        f"now {users:,} users and {accounts:,} accounts"
    )
    return 0


def _not_a_sandbox(path: Path) -> str | None:
    """Why the file at ``path`` is no sandbox database (``None``: it is one), looked at
    read-only: another application's SQLite file is never changed."""
    import sqlite3

    if not path.is_file():
        return f"no sandbox database at {path}"
    try:
        with contextlib.closing(
            sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
        ) as db:
            names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    except sqlite3.Error as exc:
        return f"{path} is not a readable SQLite database ({exc})"
    missing = {"meta", "users", "accounts"} - names
    if missing:
        return f"{path} is not a sandbox database (no table {', '.join(sorted(missing))})"
    return None
