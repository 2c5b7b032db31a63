"""Start a private JupyterLab on loopback for a browser test, and stop it by its PID."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from argyle_nb.lab import LAB_CONFIG_DIR, jupyterlab_command

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def jupyterlab(root: Path, home: Path, env: dict[str, str]) -> Iterator[str]:
    """Run JupyterLab on ``root`` with private config/data/runtime dirs; yield its URL."""
    port = free_port()
    private = {
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
    }
    # The command of `argyle-nb lab` (news and update checks off, --allow-root as root), on
    # a port of its own, with no token: the test's browser logs in without one.
    command = jupyterlab_command(
        root,
        [
            "--ip=127.0.0.1",
            f"--port={port}",
            "--ServerApp.port_retries=0",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            "--ServerApp.disable_check_xsrf=True",
        ],
        euid=os.geteuid(),
        open_browser=False,
    )
    private["JUPYTER_CONFIG_PATH"] = str(LAB_CONFIG_DIR)
    log = (home / "jupyterlab.log").open("w")
    process = subprocess.Popen(
        command,
        env={**os.environ, **env, **private},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited: {(home / 'jupyterlab.log').read_text()}")
            try:
                if requests.get(f"{url}/api/status", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("JupyterLab did not answer within 60 s")
            time.sleep(0.3)
        yield url
    finally:
        stop_group(process)
        log.close()


def stop_group(process: subprocess.Popen[Any], *, grace: float = 30) -> None:
    """Stop ``process`` and its process group (started with ``start_new_session``) by its
    PID: SIGTERM, then SIGKILL when it has not ended within ``grace`` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
        if process.poll() is not None:
            return
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue


def browser_missing_reason() -> str | None:
    """Why the browser test cannot run here, or None when it can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (make test installs Debian's chromium when run as root)"
    return None


def hover_for_tooltip(page: Any, mark: Any, *, tries: int = 5) -> Any:
    """Hover ``mark`` (a locator of one Vega mark) until Vega's tooltip shows; the tooltip.

    A chart drawn again just as the pointer arrives (an explorer redraws its chart when a
    choice is made) misses that hover, so the pointer leaves and comes back, as a person's
    would: at most ``tries`` times, 4 s each, the last failure raised.
    """
    from playwright.sync_api import expect

    tooltip = page.locator("#vg-tooltip-element")
    for attempt in range(tries):
        mark.hover(force=True)
        try:
            expect(tooltip).to_be_visible(timeout=4_000)
        except AssertionError:
            if attempt == tries - 1:
                raise
            page.mouse.move(0, 0)
        else:
            break
    return tooltip
