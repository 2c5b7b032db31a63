"""`argyle-nb lab` starts the demo sandbox for JupyterLab's lifetime and passes its address."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests

from argyle_nb import cli
from argyle_nb.sandbox import DEMO_KEY_ID, DEMO_USERS


def test_lab_runs_jupyterlab_beside_a_demo_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def fake_jupyterlab(command: list[str], env: dict[str, str]) -> int:
        # stands in for JupyterLab only: the sandbox it talks to is real
        seen["command"] = command
        seen["env"] = env
        answer = requests.get(
            f"{env['ARGYLE_BASE_URL']}/users",
            auth=(env["ARGYLE_API_KEY_ID"], env["ARGYLE_API_KEY_SECRET"]),
            timeout=10,
        )
        seen["count"] = answer.json()["count"]
        return 0

    monkeypatch.setattr(subprocess, "call", fake_jupyterlab)
    (tmp_path / "notebooks").mkdir()
    code = cli.main(["lab", "--notebooks", str(tmp_path / "notebooks")])
    assert code == 0
    assert seen["command"][1:3] == ["-m", "jupyterlab"]
    assert seen["env"]["ARGYLE_API_KEY_ID"] == DEMO_KEY_ID
    assert seen["count"] == DEMO_USERS
    with pytest.raises(requests.ConnectionError):  # stopped when JupyterLab exits
        requests.get(seen["env"]["ARGYLE_BASE_URL"] + "/users", timeout=2)
