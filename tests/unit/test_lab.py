"""The parts of `argyle-nb lab` that decide how JupyterLab is started (the real start is in
tests/integration/test_lab.py)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from argyle_nb import cli
from argyle_nb.lab import (
    LAB_CONFIG_DIR,
    LabServer,
    browser_available,
    jupyterlab_command,
    lab_environment,
    session_key_pair,
)
from argyle_nb.provenance import SANDBOX_URL_VARIABLE
from argyle_nb.sandbox import DEMO_KEY_ID, DEMO_KEY_SECRET, DEMO_USERS

NOTEBOOKS = Path("/data/notebooks")


def test_root_gets_allow_root_and_a_normal_user_does_not() -> None:
    as_root = jupyterlab_command(NOTEBOOKS, euid=0, open_browser=True)
    as_user = jupyterlab_command(NOTEBOOKS, euid=1000, open_browser=True)
    assert "--allow-root" in as_root
    assert "--allow-root" not in as_user
    assert [a for a in as_root if a != "--allow-root"] == as_user
    assert as_user[:3] == [sys.executable, "-m", "jupyterlab"]
    assert f"--ServerApp.root_dir={NOTEBOOKS}" in as_user
    assert "--allow-root" not in jupyterlab_command(NOTEBOOKS, euid=None, open_browser=True)


def test_no_browser_where_none_can_open_and_extra_options_come_last() -> None:
    command = jupyterlab_command(NOTEBOOKS, ["--port", "9999"], euid=1000, open_browser=False)
    assert "--no-browser" in command
    assert command[-2:] == ["--port", "9999"]  # last: they override our defaults
    assert "--no-browser" not in jupyterlab_command(NOTEBOOKS, euid=1000, open_browser=True)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="screens are a Linux question")
def test_a_linux_machine_without_a_screen_opens_no_browser() -> None:
    assert browser_available({}) is False
    assert browser_available({"PATH": os.environ.get("PATH", "")}) is False


def test_the_news_pop_up_is_off_through_a_config_path_of_our_own() -> None:
    env = lab_environment(
        {"JUPYTER_CONFIG_PATH": "/etc/mine", "KEEP": "1"},
        base_url="http://127.0.0.1:9/v1",
        key_id="id",
        key_secret="secret",
    )
    assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep) == [str(LAB_CONFIG_DIR), "/etc/mine"]
    page = json.loads((LAB_CONFIG_DIR / "labconfig" / "page_config.json").read_text())
    assert page["disabledExtensions"] == {"@jupyterlab/apputils-extension:announcements": True}
    assert env["KEEP"] == "1"
    assert (env["ARGYLE_BASE_URL"], env["ARGYLE_API_KEY_ID"], env["ARGYLE_API_KEY_SECRET"]) == (
        "http://127.0.0.1:9/v1",
        "id",
        "secret",
    )
    assert env[SANDBOX_URL_VARIABLE] == "http://127.0.0.1:9/v1"
    alone = lab_environment({}, base_url="u", key_id="i", key_secret="s")
    assert alone["JUPYTER_CONFIG_PATH"] == str(LAB_CONFIG_DIR)


def test_the_login_token_stays_out_of_the_repr() -> None:
    server = LabServer(url="http://127.0.0.1:8888/", token="abc123")
    assert server.login_url == "http://127.0.0.1:8888/lab?token=abc123"
    assert "abc123" not in repr(server)
    assert LabServer(url="http://h:1/", token="").login_url == "http://h:1/lab"


def test_options_after_a_double_dash_go_to_jupyterlab() -> None:
    args = cli.build_parser().parse_args(["lab", "--db", "x.sqlite", "--", "--port", "9999"])
    assert (args.db, args.jupyterlab_args) == ("x.sqlite", ["--port", "9999"])
    assert args.users == DEMO_USERS


def test_a_missing_notebooks_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["lab", "--notebooks", str(tmp_path / "nowhere")]) == 2
    assert "no notebooks folder" in capsys.readouterr().err


def test_each_lab_session_gets_a_fresh_random_key_pair() -> None:
    pairs = [session_key_pair() for _ in range(50)]
    assert len({key_id for key_id, _ in pairs}) == len({s for _, s in pairs}) == 50
    for key_id, key_secret in pairs:
        assert DEMO_KEY_ID not in (key_id, key_secret)
        assert DEMO_KEY_SECRET not in (key_id, key_secret)
        assert ":" not in key_id  # a Basic auth username
        assert len(key_secret) >= 43  # 32 random bytes, URL-safe base64
