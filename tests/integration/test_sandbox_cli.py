"""The sandbox's commands: `python -m argyle_nb.sandbox` and `argyle-nb sandbox serve`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.embedded_only("runs the embedded sandbox's commands")


def _serve(command: list[str], env: dict[str, str]) -> tuple[str, subprocess.Popen[str]]:
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "Argyle sandbox at" in line:
            return line.split(" at ", 1)[1].strip(), process
    process.kill()
    raise AssertionError(process.stderr.read() if process.stderr else "no output")


@pytest.mark.parametrize(
    "prefix",
    [
        [sys.executable, "-m", "argyle_nb.sandbox"],
        [sys.executable, "-m", "argyle_nb.cli", "sandbox", "serve"],
    ],
    ids=["module", "argyle-nb"],
)
def test_serve_prints_url_and_credentials_and_stops_on_sigterm(
    prefix: list[str], tmp_path: Path
) -> None:
    env = {**os.environ, "ARGYLE_API_KEY_ID": "env-id", "ARGYLE_API_KEY_SECRET": "env-secret"}
    db = tmp_path / "cli.sqlite"
    command = [*prefix, "--port", "0", "--db", str(db), "--users", "12", "--seed", "4"]
    base_url, process = _serve(command, env)
    try:
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        page = requests.get(f"{base_url}/users", auth=("env-id", "env-secret"), timeout=10)
        assert page.json()["count"] == 12
        flags = requests.get(f"{base_url}/users", auth=("x", "y"), timeout=10)
        assert flags.status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "env-secret" not in err
    assert db.exists()


def test_serve_flags_override_environment(tmp_path: Path) -> None:
    env = {**os.environ, "ARGYLE_API_KEY_ID": "env-id", "ARGYLE_API_KEY_SECRET": "env-secret"}
    command = [
        sys.executable, "-m", "argyle_nb.sandbox", "--key-id", "flag-id", "--key-secret", "s3",
        "--rate-limit", "1", "--retry-after", "3",
    ]  # fmt: skip
    base_url, process = _serve(command, env)
    try:
        answer = requests.get(f"{base_url}/users", auth=("flag-id", "s3"), timeout=10)
        assert answer.status_code == 429 and answer.headers["Retry-After"] == "3"
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)
    assert process.returncode == 0
