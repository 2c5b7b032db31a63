"""README.md as a newcomer uses it: every Python block runs, in order, in one namespace (as
when they are pasted into one notebook), and every command its shell blocks show exists
with the options shown.

The blocks are found by mktestdocs' Markdown reader; with no API key in the environment
they run against embedded sandboxes, in a scratch folder.
"""

from __future__ import annotations

import itertools
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from mktestdocs import grab_code_blocks

from argyle_nb import cli, frames
from argyle_nb.client import ArgyleClient

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PYTHON_BLOCKS = grab_code_blocks(README, lang="python")
SHELL_BLOCKS = grab_code_blocks(README, lang="sh")


@pytest.fixture
def newcomer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A namespace for the blocks: no Argyle key set, a scratch working folder."""
    for name in ("ARGYLE_API_KEY_ID", "ARGYLE_API_KEY_SECRET", "ARGYLE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return {"__name__": "__main__"}


def test_the_readme_has_python_and_shell_blocks() -> None:
    assert len(PYTHON_BLOCKS) >= 5
    assert len(SHELL_BLOCKS) >= 4


def test_every_python_block_runs_in_order(newcomer: dict[str, Any]) -> None:
    opened: dict[int, ArgyleClient] = {}  # every client a block made, closed at the end
    try:
        for number, block in enumerate(PYTHON_BLOCKS, start=1):
            try:
                exec(compile(block, f"README.md python block {number}", "exec"), newcomer)
            except Exception as exc:
                first = block.strip().splitlines()[0]
                pytest.fail(f"README python block {number} ({first!r}) failed: {exc!r}")
            for value in newcomer.values():
                if isinstance(value, ArgyleClient):
                    opened[id(value)] = value
        # what the blocks promise, checked on what they made
        client = newcomer["client"]
        users, accounts = client.sandbox.store.counts()
        assert client.cache.offline and client.environment == "embedded sandbox"
        assert len(newcomer["users"]) == users  # the user made and deleted above is gone
        assert len(newcomer["accounts"]) == accounts
        exported = frames.read_parquet("export")
        assert isinstance(exported, dict)
        assert (len(exported["users"]), len(exported["accounts"])) == (users, accounts)
        with newcomer["portfolio"] as portfolio:  # the export, offline, from the cache
            assert (portfolio.rows("users"), portfolio.rows("accounts")) == (users, accounts)
    finally:
        for client in opened.values():
            client.close()


def _commands() -> list[list[str]]:
    """Every command line of the shell blocks (continuations joined, comments dropped)."""
    lines: list[list[str]] = []
    for block in SHELL_BLOCKS:
        text = block.replace("\\\n", " ")
        for line in text.splitlines():
            words = shlex.split(line, comments=True)
            while words and "=" in words[0] and not words[0].startswith("-"):
                words = words[1:]  # VAR=value prefixes
            if words:
                lines.append(words)
    return lines


def test_every_shell_command_shown_exists_with_its_options() -> None:
    checked = {"argyle-nb": 0, "make": 0, "pip": 0, "python": 0}
    for words in _commands():
        program = Path(words[0]).name
        if program == "argyle-nb":
            # the options shown are accepted, and the command's --help works
            cli.build_parser().parse_args(words[1:])
            subcommand = list(itertools.takewhile(lambda w: not w.startswith("-"), words[1:]))
            shown = subprocess.run(
                [str(Path(sys.executable).parent / "argyle-nb"), *subcommand, "--help"],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert shown.returncode == 0, shown.stderr
        elif program == "make":
            target = next((w for w in words[1:] if "=" not in w), "")
            dry = subprocess.run(
                ["make", "-n", target, *[w for w in words[1:] if "=" in w]],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert dry.returncode == 0, f"make {target}: {dry.stderr}"
        elif program.startswith("python") and words[1:3] == ["-m", "argyle_nb.sandbox"]:
            from argyle_nb.sandbox.command import build_parser

            build_parser().parse_args(words[3:])
        elif program == "pip" and words[1] == "install":
            # the package and extra named are this project's (tests/integration/test_wheel.py
            # installs the built wheel so)
            project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
            (wanted,) = words[2:]
            name, _, extra = wanted.rstrip("]").partition("[")
            assert name == project["name"] and extra in project["optional-dependencies"]
        elif program.startswith("python") and words[1:3] == ["-m", "pytest"]:
            continue  # the live run needs Argyle keys: tests/integration/test_two_targets.py
        else:
            pytest.fail(f"README shows a command this test does not know: {shlex.join(words)}")
        checked[program if program in checked else "python"] += 1
    assert checked["argyle-nb"] >= 4 and checked["make"] >= 3 and checked["pip"] == 1, checked
