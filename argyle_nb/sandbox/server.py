"""Run a sandbox in the background: :func:`start` and the :class:`Sandbox` handle.

Examples:
    >>> from argyle_nb.sandbox import start
    >>> with start(users=20, seed=1) as sandbox:                     # doctest: +SKIP
    ...     import requests
    ...     auth = (sandbox.key_id, sandbox.key_secret)
    ...     requests.get(f"{sandbox.base_url}/users", auth=auth).json()["count"]
    20
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Final

import uvicorn

from argyle_nb._html import escape
from argyle_nb.errors import ArgyleRuntimeError, ArgyleValueError
from argyle_nb.sandbox.app import SandboxApp
from argyle_nb.sandbox.faults import Faults
from argyle_nb.sandbox.hosts import allowed_hosts as host_names
from argyle_nb.sandbox.limits import (
    KEEP_ALIVE_TIMEOUT,
    MAX_CONNECTIONS,
    MAX_HEAD,
    REQUEST_TIMEOUT,
    guarded_protocol,
)
from argyle_nb.sandbox.living import LIVED_FROM, advance, sandbox_now
from argyle_nb.sandbox.store import Store
from argyle_nb.sandbox.synth import generate

__all__ = ["DEMO_KEY_ID", "DEMO_KEY_SECRET", "Sandbox", "start", "utc_now"]

#: The fixed demo key pair, used when no key is given.
DEMO_KEY_ID: Final = "argyle-nb-demo-key-id"
DEMO_KEY_SECRET: Final = "argyle-nb-demo-key-secret"
#: What a key secret is shown as (reprs, ``sandbox serve``'s banner): never the secret.
_SECRET_MASK: Final = "\u2022" * 8

_START_TIMEOUT: Final = 30.0


def utc_now() -> datetime:
    """The default sandbox clock: the current time in UTC."""
    return datetime.now(UTC)


class Sandbox:
    """A running sandbox: its base URL, credentials and database; stop it when done.

    Created by :func:`start`. Assign :attr:`faults` to change fault injection while running.
    """

    def __init__(
        self,
        *,
        app: SandboxApp,
        server: uvicorn.Server,
        thread: threading.Thread,
        base_url: str,
        key_id: str,
        key_secret: str,
        db_path: Path,
        temp_dir: Path | None,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._app = app
        self._wall = wall
        self._server = server
        self._thread = thread
        self.base_url = base_url
        self.key_id = key_id
        self.key_secret = key_secret
        self.db_path = db_path
        self._temp_dir = temp_dir
        self._stopped = False

    @property
    def auth(self) -> tuple[str, str]:
        """``(key_id, key_secret)``, ready for ``requests``' ``auth=``."""
        return (self.key_id, self.key_secret)

    @property
    def allowed_hosts(self) -> list[str]:
        """The ``Host`` names it answers (others answer 400)."""
        return list(self._app.guard.hosts)

    @property
    def faults(self) -> Faults:
        """The faults in force."""
        return self._app.faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        self._app.faults = value

    @property
    def store(self) -> Store:
        """The sandbox's storage (for tests and tools)."""
        return self._app.store

    @property
    def running(self) -> bool:
        """Whether the server thread is alive."""
        return not self._stopped and self._thread.is_alive()

    def sweep(self) -> int:
        """Remove never-connected accounts older than 30 days now (sandbox clock)."""
        return self._app.sweep(force=True)

    def now(self) -> datetime:
        """The sandbox's "now": the clock it was started with, plus the days advanced."""
        return self._app.clock()

    def advance(self, days: int = 1) -> dict[str, int]:
        """Move the sandbox forward ``days`` days: new users sign up and connect,
        connections are lost and come back, scans run, the incident of the story starts
        and ends (see :mod:`argyle_nb.sandbox.living`); it answers from the new state at
        once. Returns what happened (``signups``, ``came_back``, ``connected``,
        ``failed``, ``lost``, ``removed``, ``days``).

        Examples:
            >>> with start(users=1000, seed=42) as sandbox:            # doctest: +SKIP
            ...     sandbox.advance(days=3)["days"], sandbox.now() - utc_now() > timedelta(2)
            (3, True)
        """
        return advance(self.store, days, self._wall())

    def decode_token(self, token: str) -> dict[str, object]:
        """Verify a user token of this sandbox and return its claims."""
        return self._app.issuer.decode(token, self._app.clock())

    def stop(self) -> None:
        """Stop the server, close the database and remove a temporary one (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._app.store.close()
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __del__(self) -> None:  # pragma: no cover - best effort at interpreter exit
        try:
            if not self._stopped:
                self._server.should_exit = True
        except AttributeError:
            pass

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return (
            f"Sandbox(base_url={self.base_url!r}, key_id={self.key_id!r}, "
            f"db_path={str(self.db_path)!r}, {state})"
        )

    def _repr_html_(self) -> str:
        state = "running" if self.running else "stopped"
        rows = [
            ("base URL", self.base_url),
            ("key id", self.key_id),
            ("key secret", _SECRET_MASK),
            ("database", str(self.db_path)),
            ("state", state),
        ]
        cells = "".join(
            f"<tr><th style='text-align:left'>{escape(k)}</th>"
            f"<td><code>{escape(v)}</code></td></tr>"
            for k, v in rows
        )
        return f"<table><caption>Argyle sandbox</caption>{cells}</table>"


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.listen(512)
    sock.set_inheritable(True)
    return sock


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def start(
    *,
    db: str | Path | None = None,
    users: int = 0,
    seed: int = 0,
    host: str = "127.0.0.1",
    port: int = 0,
    key_id: str | None = None,
    key_secret: str | None = None,
    faults: Faults | None = None,
    clock: Callable[[], datetime] | None = None,
    request_timeout: float = REQUEST_TIMEOUT,
    keep_alive_timeout: float = KEEP_ALIVE_TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
    allowed_hosts: Iterable[str] = (),
) -> Sandbox:
    """Start a sandbox in a background thread; returns once it answers HTTP.

    Args:
        db: the SQLite file (kept); None: a fresh temporary file removed by ``stop()``.
        users: fill an *empty* database with this many synthetic users (seeded by ``seed``).
        seed: seed of the synthetic data.
        host: the address to listen on.
        port: the port to listen on (0: any free port).
        key_id: the API key's id (default: the demo pair's).
        key_secret: the API key's secret (default: the demo pair's).
        faults: faults to inject from the start.
        clock: the wall clock (default: :func:`utc_now`; tests pass their own): the
            sandbox's "now" is it plus the days the sandbox was advanced.
        request_timeout: seconds (default 10) a client has to send a request head, and
            then the whole body it announced: a late head answers 408 and the connection
            closes, a late body answers 408 (:mod:`argyle_nb.sandbox.limits`).
        keep_alive_timeout: seconds (default 5) an idle connection stays open after an answer.
        max_connections: open connections, and running requests, beyond which requests
            answer 503 (default 256; uvicorn's ``limit_concurrency``).
        allowed_hosts: ``Host`` names answered besides localhost and ``host`` (a sandbox
            served on a network: ``["box.local"]``; ``"*.example.com"`` patterns; ``"*"``
            turns the check off). Any other ``Host`` answers 400, a defence against DNS
            rebinding (:mod:`argyle_nb.sandbox.hosts`).

    Raises:
        ValueError: for a negative ``users``, only one of the key pair, a timeout or
            ``max_connections`` that is not positive, or an allowed host that is not a
            host name (one with a port, say).
        OSError: when the address cannot be bound.
    """
    if users < 0:
        raise ArgyleValueError(f"users must be >= 0, not {users}")
    if not (request_timeout > 0 and keep_alive_timeout > 0 and max_connections >= 1):
        raise ArgyleValueError(
            "request_timeout, keep_alive_timeout and max_connections must be > 0"
        )
    if (key_id is None) != (key_secret is None):
        raise ArgyleValueError("give both key_id and key_secret, or neither")
    key_id = DEMO_KEY_ID if key_id is None else key_id
    key_secret = DEMO_KEY_SECRET if key_secret is None else key_secret
    if not key_id or not key_secret or ":" in key_id:
        raise ArgyleValueError(
            "key_id and key_secret must be non-empty; key_id must not contain ':'"
        )
    hosts = host_names(host, allowed_hosts)
    wall = clock or utc_now

    temp_dir = None
    if db is None:
        temp_dir = Path(tempfile.mkdtemp(prefix="argyle-sandbox-"))
        db_path = temp_dir / "sandbox.sqlite"
    else:
        db_path = Path(db).expanduser().resolve()
        db_path.parent.mkdir(parents=True, exist_ok=True)

    store = Store(db_path)

    def now() -> datetime:  # the wall clock, plus the days the sandbox was advanced
        return sandbox_now(store, wall())

    try:
        if users and store.is_empty():
            born = now()
            store.insert(generate(users, seed, born))
            # (its days are lived from the moment it was generated: see lived_from)
            store.set_meta({"seed": str(seed), LIVED_FROM: born.isoformat()})
        app = SandboxApp(
            store,
            key_id=key_id,
            key_secret=key_secret,
            clock=now,
            faults=faults,
            body_timeout=request_timeout,
            allowed_hosts=hosts,
        )
        app.sweep(force=True)
        sock = _bind(host, port)
    except BaseException:
        store.close()
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)
        raise

    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        http=guarded_protocol(
            request_timeout=request_timeout, keep_alive_timeout=keep_alive_timeout
        ),
        limit_concurrency=max_connections,
        h11_max_incomplete_event_size=MAX_HEAD,
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=2,
        backlog=512,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run,
        kwargs={"sockets": [sock]},
        name=f"argyle-sandbox-{bound_port}",
        daemon=True,
    )
    base_url = f"http://{_url_host(host)}:{bound_port}/v1"
    sandbox = Sandbox(
        app=app,
        server=server,
        thread=thread,
        base_url=base_url,
        key_id=key_id,
        key_secret=key_secret,
        db_path=db_path,
        temp_dir=temp_dir,
        wall=wall,
    )
    thread.start()
    try:
        _wait_until_answering(base_url[: -len("/v1")] + "/openapi.json", thread)
    except BaseException:
        sandbox.stop()
        sock.close()
        raise
    return sandbox


def _wait_until_answering(url: str, thread: threading.Thread) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise ArgyleRuntimeError("the sandbox server stopped while starting")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.02)
    raise TimeoutError(f"the sandbox did not answer at {url} within {_START_TIMEOUT} s")
