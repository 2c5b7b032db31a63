"""The sandbox's commands: `python -m argyle_nb.sandbox` and `argyle-nb sandbox serve`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import requests

pytestmark = pytest.mark.embedded_only("runs the embedded sandbox's commands")


def _serve(
    command: list[str], env: dict[str, str], banner: list[str] | None = None
) -> tuple[str, subprocess.Popen[str]]:
    """Start ``command``; its base URL once its banner is printed (the lines go to
    ``banner``)."""
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout is not None
    base_url = ""
    for line in process.stdout:
        if banner is not None:
            banner.append(line)
        if "Argyle sandbox at" in line:
            base_url = line.split(" at ", 1)[1].strip()
        if line.startswith("Press Ctrl-C") and base_url:
            return base_url, process
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


def _banner(command: list[str], env: dict[str, str]) -> str:
    """Everything the command printed (stdout and stderr) until stopped."""
    banner: list[str] = []
    _base_url, process = _serve(command, env, banner)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    return "".join(banner) + out + err


@pytest.mark.parametrize("given", ["environment", "flags"])
def test_serve_never_prints_a_secret_it_was_given(given: str) -> None:
    secret = "sk-live-NotForLogs-7f3a9c"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARGYLE_")}
    command = [sys.executable, "-m", "argyle_nb.sandbox", "--port", "0"]
    if given == "environment":
        env.update(ARGYLE_API_KEY_ID="real-id", ARGYLE_API_KEY_SECRET=secret)
    else:
        command += ["--key-id", "real-id", "--key-secret", secret]
    banner: list[str] = []
    base_url, process = _serve(command, env, banner)
    try:  # the secret works...
        answer = requests.get(f"{base_url}/users", auth=("real-id", secret), timeout=10)
        assert answer.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    # ...and is nowhere in what the command printed, not even in part; the id is shown
    printed = "".join(banner) + out + err
    assert secret not in printed and "NotForLogs" not in printed, printed
    assert "key id:     real-id" in printed
    assert "key secret: \u2022\u2022\u2022\u2022\u2022\u2022\u2022\u2022" in printed


def test_serve_shows_the_public_demo_pair_it_uses_without_keys() -> None:
    from argyle_nb.sandbox import DEMO_KEY_ID, DEMO_KEY_SECRET

    env = {k: v for k, v in os.environ.items() if not k.startswith("ARGYLE_")}
    printed = _banner([sys.executable, "-m", "argyle_nb.sandbox"], env)
    assert f"key id:     {DEMO_KEY_ID}" in printed
    assert f"key secret: {DEMO_KEY_SECRET}" in printed  # the README's pair: usable as printed


def _status_with_host(base_url: str, host: str) -> int:
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.putrequest("GET", "/openapi.json", skip_host=True)
        connection.putheader("Host", host)
        connection.endheaders()
        return connection.getresponse().status
    finally:
        connection.close()


def test_serve_answers_the_hosts_allowed_by_flag_and_400_to_others() -> None:
    command = [
        sys.executable, "-m", "argyle_nb.cli", "sandbox", "serve",
        "--allow-host", "box.local", "--allow-host", "10.1.2.3",
    ]  # fmt: skip
    base_url, process = _serve(command, dict(os.environ))
    try:
        assert _status_with_host(base_url, "box.local:8000") == 200
        assert _status_with_host(base_url, "10.1.2.3") == 200
        assert _status_with_host(base_url, "localhost") == 200
        assert _status_with_host(base_url, "evil.example") == 400
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)


def test_serve_refuses_an_allowed_host_with_a_port() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "argyle_nb.sandbox", "--allow-host", "box.local:8000"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "'box.local:8000' is not a host name" in done.stderr


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


def test_advance_moves_a_running_sandbox_at_once(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from argyle_nb.sandbox import start

    db = tmp_path / "living.sqlite"
    with start(db=db, users=200, seed=5) as sandbox:
        auth = sandbox.auth

        def listed() -> dict[str, dict[str, object]]:
            page = requests.get(
                f"{sandbox.base_url}/accounts", params={"limit": 200}, auth=auth, timeout=10
            ).json()
            out = {a["id"]: a for a in page["results"]}
            while page["next"]:
                page = requests.get(page["next"], auth=auth, timeout=10).json()
                out.update({a["id"]: a for a in page["results"]})
            return out

        before = listed()
        done = subprocess.run(
            [sys.executable, "-m", "argyle_nb.cli", "sandbox", "advance", "--db", str(db),
             "--days", "2"],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("advanced 2 day(s) to ")
        after = listed()
        # the running server answers from the database the command changed, at once
        assert after != before
        _, stored = sandbox.store.list_accounts(None, limit=10**9, offset=0)
        assert after == {a["id"]: a for a in map(orjson.loads, stored)}
        # and its clock moved with it: a user created now is two days ahead of the wall
        made = requests.post(f"{sandbox.base_url}/users", json={}, auth=auth, timeout=10)
        created = requests.get(
            f"{sandbox.base_url}/users/{made.json()['id']}", auth=auth, timeout=10
        ).json()["created_at"]
        ahead = datetime.fromisoformat(created.replace("Z", "+00:00")) - datetime.now(UTC)
        assert timedelta(days=2) - timedelta(minutes=5) < ahead <= timedelta(days=2)
        assert sandbox.now() - datetime.now(UTC) > timedelta(days=1, hours=23)


def test_advance_refuses_what_is_not_a_sandbox(tmp_path: Path) -> None:
    import sqlite3

    other = tmp_path / "other.sqlite"  # another application's database: left as it was
    with sqlite3.connect(other) as db:
        db.execute("create table notes (text)")
    db.close()
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database at all" * 100)
    before = other.read_bytes()
    for args, said in (
        (["--db", str(tmp_path / "none.sqlite")], "no sandbox database"),
        (["--db", str(tmp_path / "none.sqlite"), "--days", "-1"], "whole number"),
        (["--db", str(other)], "is not a sandbox database (no table accounts, meta, users)"),
        (["--db", str(garbage)], "is not a readable SQLite database"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "argyle_nb.cli", "sandbox", "advance", *args],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 2 and said in done.stderr, done.stderr
    assert other.read_bytes() == before
