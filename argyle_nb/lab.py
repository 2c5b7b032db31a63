"""``argyle-nb lab``: JupyterLab on the notebooks, with the embedded sandbox behind it.

What ``make lab`` runs. It starts the demo sandbox (a temporary database by default, so
what one Lab session changes never leaks into the next one or into ``make test``; pass
``--db PATH`` to keep it), starts JupyterLab with the sandbox's URL and keys in its
environment, waits until Lab answers, and prints its URL with the login token. When Lab
stops (Ctrl-C, or SIGTERM to this process), the sandbox stops too.

The sandbox's key pair is new and random each session (:func:`session_key_pair`): the
kernels get it from their environment, it is never printed, and the public demo pair of
the README opens nothing here.

It works the same as root (containers, CI: ``--allow-root`` is added when the effective
uid is 0) and on a machine without a screen (no browser is opened there; the URL is
printed). The news and update pop-ups are off for this Lab only (a page config on
``JUPYTER_CONFIG_PATH``; the user's own Jupyter settings are not touched). Anything after
``--`` goes to JupyterLab as it is: ``argyle-nb lab -- --port 9999``.

Examples:
    >>> command = jupyterlab_command(Path("notebooks"), ["--port", "9999"], euid=0,
    ...                              open_browser=False)
    >>> "--allow-root" in command, "--no-browser" in command, command[-2:]
    (True, True, ['--port', '9999'])
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import webbrowser
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Final, TextIO

import requests

from argyle_nb.provenance import SANDBOX_URL_VARIABLE

__all__ = [
    "LAB_CONFIG_DIR",
    "LabServer",
    "browser_available",
    "jupyterlab_command",
    "lab_environment",
    "run_lab",
    "session_key_pair",
    "wait_for_lab",
]

#: A Jupyter config folder of our own, put first on ``JUPYTER_CONFIG_PATH`` for this Lab:
#: its ``labconfig/page_config.json`` disables the news and update announcements.
LAB_CONFIG_DIR: Final = Path(__file__).parent / "lab_config"
#: How long :func:`run_lab` waits for JupyterLab to answer before saying it is slow.
READY_TIMEOUT: Final = 120.0


def browser_available(environ: Mapping[str, str] | None = None) -> bool:
    """Whether a web browser can be opened here: on Linux and the BSDs only with a screen
    (``DISPLAY`` or ``WAYLAND_DISPLAY``), elsewhere when Python knows a browser."""
    environ = os.environ if environ is None else environ
    if sys.platform.startswith(("linux", "freebsd", "openbsd")) and not (
        environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY")
    ):
        return False
    try:
        webbrowser.get()
    except webbrowser.Error:
        return False
    return True


def jupyterlab_command(
    notebooks: Path, extra: Sequence[str] = (), *, euid: int | None, open_browser: bool
) -> list[str]:
    """The JupyterLab command line of ``argyle-nb lab``: our defaults, then ``extra``
    (later options win, so ``extra`` can override any of them).

    Args:
        notebooks: the folder Lab opens.
        extra: JupyterLab options passed through (``--port 9999``).
        euid: the effective user id (``--allow-root`` for 0; None where there is none).
        open_browser: False adds ``--no-browser``.
    """
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={notebooks}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if euid == 0:
        command.append("--allow-root")
    if not open_browser:
        command.append("--no-browser")
    return [*command, *extra]


def session_key_pair() -> tuple[str, str]:
    """A fresh random ``(key_id, key_secret)`` for one Lab session's sandbox (256 random
    bits in the secret); never the demo pair."""
    return f"argyle-nb-lab-{secrets.token_hex(6)}", secrets.token_urlsafe(32)


def lab_environment(
    environ: Mapping[str, str], *, base_url: str, key_id: str, key_secret: str
) -> dict[str, str]:
    """The environment of JupyterLab and its kernels: the sandbox's URL and keys (what
    ``argyle_nb.connect()`` reads), the URL marked as the embedded sandbox, and
    :data:`LAB_CONFIG_DIR` first on ``JUPYTER_CONFIG_PATH``."""
    config_path = [str(LAB_CONFIG_DIR)]
    if environ.get("JUPYTER_CONFIG_PATH"):
        config_path.append(environ["JUPYTER_CONFIG_PATH"])
    return {
        **environ,
        "ARGYLE_BASE_URL": base_url,
        "ARGYLE_API_KEY_ID": key_id,
        "ARGYLE_API_KEY_SECRET": key_secret,
        SANDBOX_URL_VARIABLE: base_url,
        "JUPYTER_CONFIG_PATH": os.pathsep.join(config_path),
    }


@dataclass(frozen=True)
class LabServer:
    """A running JupyterLab, as its runtime file describes it."""

    url: str
    token: str

    @property
    def login_url(self) -> str:
        """The URL that opens Lab, with the token when Lab has one."""
        return f"{self.url}lab?token={self.token}" if self.token else f"{self.url}lab"

    def __repr__(self) -> str:  # the token is a login secret: never in a repr
        return f"LabServer(url={self.url!r}, token={'***' if self.token else ''!r})"


def _runtime_dir(environ: Mapping[str, str]) -> Path:
    from jupyter_core.paths import jupyter_runtime_dir

    saved = os.environ.get("JUPYTER_RUNTIME_DIR")
    try:
        if environ.get("JUPYTER_RUNTIME_DIR"):
            os.environ["JUPYTER_RUNTIME_DIR"] = environ["JUPYTER_RUNTIME_DIR"]
        return Path(jupyter_runtime_dir())
    finally:
        if saved is None:
            os.environ.pop("JUPYTER_RUNTIME_DIR", None)
        else:
            os.environ["JUPYTER_RUNTIME_DIR"] = saved


def wait_for_lab(
    process: subprocess.Popen[Any],
    environ: Mapping[str, str],
    *,
    timeout: float = READY_TIMEOUT,
    clock: Callable[[], float] = time.monotonic,
) -> LabServer | None:
    """Wait until the JupyterLab of ``process`` answers ``/api/status``.

    Reads the server's runtime file (``jpserver-<pid>.json``) for its URL and token.
    Returns None when the process exits first or ``timeout`` seconds pass.
    """
    info_file = _runtime_dir(environ) / f"jpserver-{process.pid}.json"
    deadline = clock() + timeout
    while clock() < deadline and process.poll() is None:
        try:
            info = json.loads(info_file.read_text(encoding="utf-8"))
            server = LabServer(url=str(info["url"]), token=str(info.get("token") or ""))
            answer = requests.get(
                f"{server.url}api/status",
                headers={"Authorization": f"token {server.token}"} if server.token else {},
                timeout=2,
            )
            if answer.ok:
                return server
        except (OSError, ValueError, KeyError, requests.RequestException):
            pass
        time.sleep(0.25)
    return None


def _say(out: TextIO, *lines: str) -> None:
    print(*lines, sep="\n", file=out, flush=True)


def run_lab(
    notebooks: Path,
    *,
    db: Path | None = None,
    users: int,
    seed: int,
    extra: Sequence[str] = (),
    out: TextIO = sys.stdout,
) -> int:
    """Run ``argyle-nb lab`` until JupyterLab stops; returns its exit status.

    Args:
        notebooks: the folder Lab opens (it must exist).
        db: the sandbox's SQLite file, kept after Lab stops; None: a temporary one.
        users: the demo users of a new (empty) database.
        seed: the seed of that demo data.
        extra: JupyterLab options passed through.
        out: where the banner goes.
    """
    from argyle_nb.sandbox import start

    notebooks = notebooks.resolve()
    if not notebooks.is_dir():
        print(f"argyle-nb lab: no notebooks folder at {notebooks}", file=sys.stderr)
        return 2
    if importlib.util.find_spec("jupyterlab") is None:
        print(
            "argyle-nb lab: JupyterLab is not installed: pip install 'argyle_nb[lab]'",
            file=sys.stderr,
        )
        return 2
    euid = os.geteuid() if hasattr(os, "geteuid") else None
    command = jupyterlab_command(notebooks, extra, euid=euid, open_browser=browser_available())
    key_id, key_secret = session_key_pair()
    with start(db=db, users=users, seed=seed, key_id=key_id, key_secret=key_secret) as sandbox:
        users_now, accounts_now = sandbox.store.counts()
        kept = "kept" if db is not None else "temporary: removed when Lab stops"
        env = lab_environment(
            os.environ,
            base_url=sandbox.base_url,
            key_id=sandbox.key_id,
            key_secret=sandbox.key_secret,
        )
        _say(out, f"argyle-nb lab: starting JupyterLab on {notebooks} ...")
        process = subprocess.Popen(command, env=env)

        def forward(signum: int, frame: FrameType | None) -> None:
            # Ctrl-C reaches JupyterLab itself (same process group), which then shuts
            # down; SIGTERM/SIGHUP sent to us alone are passed on. Either way we wait.
            if signum != signal.SIGINT and process.poll() is None:
                process.send_signal(signum)

        handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        previous = {sig: signal.signal(sig, forward) for sig in handled}
        try:
            server = wait_for_lab(process, env)
            if server is not None:
                _say(
                    out,
                    "",
                    "argyle-nb lab: JupyterLab is ready. Open this URL in a browser:",
                    "",
                    f"    {server.login_url}",
                    "",
                    f"  sandbox:   {sandbox.base_url} ({users_now:,} users, "
                    f"{accounts_now:,} accounts)",
                    f"             database {sandbox.db_path} ({kept})",
                    "  stop:      Ctrl-C (JupyterLab and the sandbox stop together)",
                    "",
                )
            elif process.poll() is None:
                _say(out, f"argyle-nb lab: JupyterLab has not answered in {READY_TIMEOUT:.0f} s")
            return process.wait()
        finally:
            if process.poll() is None:  # an error while waiting: never leave Lab behind
                process.terminate()
                process.wait(timeout=30)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
