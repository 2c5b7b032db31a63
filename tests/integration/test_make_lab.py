"""`make lab` for real: JupyterLab and its sandbox start, a kernel runs the tutorial's first
cells through Lab's REST and websocket API, and everything stops by PID.

It runs as whoever runs the tests: root in CI and containers (where JupyterLab needs
``--allow-root``), a normal user elsewhere (where it must not get it).
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
import websocket

from argyle_nb.sandbox import DEMO_KEY_ID, DEMO_KEY_SECRET, DEMO_USERS
from tests.browser.lab import free_port, stop_group

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "notebooks" / "01_getting_started.ipynb"
READY = re.compile(r"^\s+(http://\S+/lab\?token=(\w+))\s*$")
SANDBOX = re.compile(r"sandbox:\s+(http://127\.0\.0\.1:\d+/v1) \(([\d,]+) users")
DATABASE = re.compile(r"^\s+database (\S+) \(")


class Lab:
    """A ``make lab`` started in its own session, its output read as it comes."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.login_url = self.token = self.sandbox_url = self.sandbox_db = ""
        self.sandbox_users = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if found := SANDBOX.search(line):
                self.sandbox_url = found.group(1)
                self.sandbox_users = int(found.group(2).replace(",", ""))
            elif found := DATABASE.match(line):  # the banner's last line
                self.sandbox_db = found.group(1)
                self.ready.set()
            elif found := READY.match(line):
                self.login_url, self.token = found.groups()
        self.ready.set()

    @property
    def url(self) -> str:
        return self.login_url.split("/lab?")[0]

    def output(self) -> str:
        return "".join(self.lines)


def _private_dirs(home: Path) -> dict[str, str]:
    """Everything Jupyter, IPython and our cache write goes under ``home``."""
    names = {
        "JUPYTER_CONFIG_DIR": "config",
        "JUPYTER_DATA_DIR": "data",
        "JUPYTER_RUNTIME_DIR": "runtime",
        "IPYTHONDIR": "ipython",
        "XDG_CACHE_HOME": "cache",
    }
    return {"HOME": str(home), **{k: str(home / v) for k, v in names.items()}}


@contextmanager
def make_lab(home: Path) -> Iterator[Lab]:
    port = free_port()
    command = ["make", "-s", "lab", f"LAB_ARGS=--port={port} --ServerApp.port_retries=0"]
    with started_lab(command, ROOT, home) as lab:
        yield lab


@contextmanager
def started_lab(
    command: list[str], cwd: Path, home: Path, *, path: Path | None = None
) -> Iterator[Lab]:
    """``command`` (a Lab with its sandbox) started in ``cwd`` in its own process group,
    Jupyter's folders under ``home``, no Argyle key (``path``: first on ``PATH``); the
    group stopped by its PID at the end."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARGYLE_", "JUPYTER"))}
    env.update(_private_dirs(home))
    if path is not None:
        env["PATH"] = f"{path}{os.pathsep}{env.get('PATH', '')}"
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: stopped below by this PID
    )
    lab = Lab(process)
    try:
        yield lab
    finally:
        stop_group(process)


def _group(pgid: int) -> list[Path]:
    """The /proc folders of the live processes of process group ``pgid``."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(stat.parent)
    return alive


def _command_lines(pgid: int, needle: str) -> list[list[str]]:
    """The argument lists of the group's processes that run ``-m needle``."""
    found = []
    for proc in _group(pgid):
        try:
            argv = (proc / "cmdline").read_bytes().decode().split("\0")
        except OSError:
            continue
        if needle in argv and "-m" in argv:
            found.append(argv)
    return found


def _execute(ws: websocket.WebSocket, session: str, code: str) -> tuple[str, str]:
    """Run ``code`` in the kernel: (reply status, everything it printed or displayed)."""
    msg_id = uuid.uuid4().hex
    ws.send(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "session": session,
                    "username": "test",
                    "version": "5.3",
                },
                "parent_header": {},
                "metadata": {},
                "content": {
                    "code": code,
                    "silent": False,
                    "store_history": True,
                    "user_expressions": {},
                    "allow_stdin": False,
                    "stop_on_error": True,
                },
                "channel": "shell",
                "buffers": [],
            }
        )
    )
    status, shown, idle = "", [], False
    while not (status and idle):
        message: dict[str, Any] = json.loads(ws.recv())
        if message.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = message["msg_type"], message["content"]
        if kind == "execute_reply":
            status = content["status"]
            if status == "error":
                shown.append("\n".join(content.get("traceback", [])))
        elif kind == "stream":
            shown.append(content["text"])
        elif kind in ("execute_result", "display_data"):
            shown.append(content["data"].get("text/plain", ""))
        elif kind == "error":
            shown.append(f"{content['ename']}: {content['evalue']}")
        elif kind == "status" and content["execution_state"] == "idle":
            idle = True
    return status, "".join(shown)


def _first_code_cells(count: int) -> list[str]:
    cells = json.loads(TUTORIAL.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"][:count]


#: What a kernel is asked for: the key pair and URL its environment gives (to check them).
KERNEL_KEYS = (
    "import os; print(repr([os.environ[k] for k in "
    "('ARGYLE_API_KEY_ID', 'ARGYLE_API_KEY_SECRET', 'ARGYLE_BASE_URL')]))"
)


def _run_tutorial_start(lab: Lab) -> tuple[str, list[str]]:
    """What the tutorial's first cells show, and the kernel's ``[key id, secret, URL]``."""
    headers = {"Authorization": f"token {lab.token}"}
    kernel = requests.post(
        f"{lab.url}/api/kernels", json={"name": "python3"}, headers=headers, timeout=30
    )
    assert kernel.status_code == 201, kernel.text
    kernel_id = kernel.json()["id"]
    ws_url = lab.url.replace("http://", "ws://") + f"/api/kernels/{kernel_id}/channels"
    ws = websocket.create_connection(f"{ws_url}?token={lab.token}", timeout=120)
    try:
        shown = []
        for code in _first_code_cells(2):
            status, output = _execute(ws, uuid.uuid4().hex, code)
            assert status == "ok", output
            shown.append(output)
        status, keys = _execute(ws, uuid.uuid4().hex, KERNEL_KEYS)
        assert status == "ok", keys
        return "\n".join(shown), ast.literal_eval(keys.strip())
    finally:
        ws.close()


def test_make_lab_serves_the_tutorial_and_stops_by_pid(tmp_path: Path) -> None:
    with make_lab(tmp_path) as lab:
        assert lab.ready.wait(180), f"no banner in 180 s:\n{lab.output()}"
        assert lab.token, f"no login URL with a token:\n{lab.output()}"
        assert lab.process.poll() is None, lab.output()
        assert lab.sandbox_users == DEMO_USERS
        auth = {"Authorization": f"token {lab.token}"}
        assert requests.get(f"{lab.url}/api/status", headers=auth, timeout=10).ok
        # the news / update pop-up is off for this Lab (page config on JUPYTER_CONFIG_PATH)
        page = requests.get(f"{lab.url}/lab", headers=auth, timeout=30).text
        config = re.search(r'id="jupyter-config-data"[^>]*>(.*?)</script>', page, re.S)
        assert config, page[:2000]
        disabled = json.loads(config.group(1))["disabledExtensions"]
        assert "@jupyterlab/apputils-extension:announcements" in disabled
        # --allow-root exactly when JupyterLab runs as root
        lab_command = _command_lines(lab.process.pid, "jupyterlab")
        assert len(lab_command) == 1, lab_command
        assert ("--allow-root" in lab_command[0]) == (os.geteuid() == 0)

        shown, (key_id, key_secret, base_url) = _run_tutorial_start(lab)
        # the tutorial's connect() found the Lab's sandbox (no second one) and named it
        assert "no API key configured" not in shown
        assert "environment='embedded sandbox'" in shown, shown
        assert lab.sandbox_url in shown, shown
        # the kernels got this session's own random key pair; the README's demo pair opens
        # nothing, and the secret was never printed (banner, Lab's log, the tutorial)
        assert base_url == lab.sandbox_url
        assert DEMO_KEY_SECRET not in (key_id, key_secret) and len(key_secret) >= 43
        users = f"{lab.sandbox_url}/users"
        assert requests.get(users, auth=(key_id, key_secret), timeout=10).status_code == 200
        assert requests.get(users, auth=(DEMO_KEY_ID, DEMO_KEY_SECRET), timeout=10).status_code == (
            401
        )
        assert key_secret not in lab.output() and key_secret not in shown
        pgid = lab.process.pid
    # stopped by PID: nothing of the group is left, and the sandbox no longer answers
    assert _group(pgid) == [], lab.output()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{lab.sandbox_url}/users", timeout=5)
    assert lab.sandbox_db and not Path(lab.sandbox_db).exists()  # its demo data is gone
