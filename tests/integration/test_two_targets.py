"""One suite, two targets: the embedded sandbox by default, Argyle's own with ARGYLE_LIVE=1.

There are no Argyle keys here, so the live mode's mechanics are proven with a second
embedded sandbox playing Argyle's part (real HTTP on loopback, its own key pair): the
suite runs in a subprocess with ``ARGYLE_LIVE=1`` pointing at it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from argyle_nb.client import DEFAULT_BASE_URL
from argyle_nb.sandbox import Sandbox, start
from tests.integration.clients import (
    KEY_VARIABLES,
    Target,
    argyle_target,
    live_requested,
    missing_keys,
)

ROOT = Path(__file__).resolve().parents[2]
HERE = "tests/integration"
EMBEDDED_ONLY = "embedded sandbox only ("
UNDER_LIVE = "): skipped under ARGYLE_LIVE=1"


@pytest.mark.live
def test_on_argyle_sandbox(target: Target) -> None:
    """Under ARGYLE_LIVE=1: the target is Argyle's sandbox and the key pair is accepted."""
    assert target.kind == "argyle" and target.sandbox is None
    expected = os.environ.get("ARGYLE_BASE_URL", "").strip() or DEFAULT_BASE_URL
    assert target.base_url == expected.rstrip("/")
    answer = requests.get(
        f"{target.base_url}/users", params={"limit": 1}, auth=target.auth, timeout=30
    )
    assert answer.status_code == 200, f"the key pair was refused: {answer.text[:200]}"
    assert "results" in answer.json()


# -- reading the environment (in process) --------------------------------------------


@pytest.mark.embedded_only("checks how the suite reads its environment")
def test_the_environment_chooses_the_target() -> None:
    assert not live_requested({})
    assert not live_requested({"ARGYLE_LIVE": "0"})
    assert live_requested({"ARGYLE_LIVE": "1"})
    assert missing_keys({}) == list(KEY_VARIABLES)
    assert missing_keys({"ARGYLE_API_KEY_ID": "id"}) == ["ARGYLE_API_KEY_SECRET"]
    assert missing_keys({"ARGYLE_API_KEY_ID": " ", "ARGYLE_API_KEY_SECRET": "s"}) == [
        "ARGYLE_API_KEY_ID"
    ]
    keys = {"ARGYLE_API_KEY_ID": "id", "ARGYLE_API_KEY_SECRET": "secret"}
    default = argyle_target(keys)
    assert (default.base_url, default.kind, default.auth) == (
        DEFAULT_BASE_URL,
        "argyle",
        ("id", "secret"),
    )
    assert "secret" not in repr(default)
    other = argyle_target({**keys, "ARGYLE_BASE_URL": "http://127.0.0.1:9/v1/"})
    assert other.base_url == "http://127.0.0.1:9/v1"
    with pytest.raises(ValueError, match="ARGYLE_API_KEY_SECRET"):
        argyle_target({"ARGYLE_API_KEY_ID": "id"})


# -- the live mode, run in a subprocess ------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    outcome: str  # "passed", "skipped", "failed" or "error"
    message: str


def _run_suite(env: dict[str, str], junit: Path, *args: str) -> dict[str, Outcome]:
    """``python -m pytest`` on integration tests in a subprocess; each test's outcome."""
    command = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--timeout=60",
        f"--junitxml={junit}", *args,
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert junit.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    outcomes: dict[str, Outcome] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = f"{case.get('classname', '').rsplit('.', 1)[-1]}::{case.get('name')}"
        found: list[Any] = [case.find(tag) for tag in ("skipped", "failure", "error")]
        skipped, failure, error = found
        if failure is not None or error is not None:
            bad = failure if failure is not None else error
            outcomes[name] = Outcome("failed", str(bad.get("message", "")))
        elif skipped is not None:
            outcomes[name] = Outcome("skipped", str(skipped.get("message", "")))
        else:
            outcomes[name] = Outcome("passed", "")
    assert outcomes, done.stdout[-3000:]
    return outcomes


def _environment(**values: str) -> dict[str, str]:
    """This process's environment without any ARGYLE_* variable, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARGYLE_")}
    env.pop("PYTEST_ADDOPTS", None)
    return {**env, **values}


def _everything(server: Sandbox) -> tuple[set[str], set[str]]:
    """Every user id and account id on ``server``."""
    ids: list[set[str]] = []
    for path in ("/users", "/accounts"):
        seen: set[str] = set()
        url: str | None = f"{server.base_url}{path}?limit=200"
        while url:
            page = requests.get(url, auth=server.auth, timeout=30).json()
            seen.update(o["id"] for o in page["results"])
            url = page["next"]
        ids.append(seen)
    return ids[0], ids[1]


@pytest.mark.embedded_only("starts a sandbox to play Argyle's part")
def test_live_mode_runs_the_contract_tests_on_the_given_server(tmp_path: Path) -> None:
    key_id, key_secret = "stand-in-for-argyle", "stand-in-secret-4f1c"
    with start(users=40, seed=13, key_id=key_id, key_secret=key_secret) as argyle:
        before = _everything(argyle)
        env = _environment(
            ARGYLE_LIVE="1",
            ARGYLE_BASE_URL=argyle.base_url,
            ARGYLE_API_KEY_ID=key_id,
            ARGYLE_API_KEY_SECRET=key_secret,
        )
        outcomes = _run_suite(
            env,
            tmp_path / "live.xml",
            f"{HERE}/test_sandbox_http.py",
            f"{HERE}/test_client_resources.py",
            f"{HERE}/test_client_cache.py",
            f"{HERE}/test_client_faults.py",
            f"{HERE}/test_two_targets.py",
        )
        after = _everything(argyle)

    failed = {name: o.message for name, o in outcomes.items() if o.outcome == "failed"}
    assert not failed, failed
    passed = {name for name, o in outcomes.items() if o.outcome == "passed"}
    # the contract tests ran on the stand-in, with its key pair
    for name in (
        "test_two_targets::test_on_argyle_sandbox",
        "test_sandbox_http::test_missing_or_wrong_credentials_answer_401[/users-wrong-secret]",
        "test_sandbox_http::test_create_user_answers_201_with_id_and_token_only",
        "test_sandbox_http::test_delete_user_answers_204_then_404",
        "test_sandbox_http::test_user_tokens",
        "test_sandbox_http::test_paging_yields_every_object_once_newest_first",
        "test_sandbox_http::test_get_account",
        "test_client_resources::test_user_life_cycle",
        "test_client_resources::test_accounts_list_follows_every_page",
        "test_client_resources::test_connect_with_keys_targets_the_configured_url",
        "test_client_cache::test_two_key_ids_never_share_entries",
        "test_client_cache::test_invalidation_after_delete_of_a_new_user",
    ):
        assert name in passed, (name, outcomes.get(name))
    # the ones that need the emulator were skipped, saying why
    expected_skips = {
        "test_client_faults::test_lists_are_complete_under_429_and_503": (
            "injects faults into the embedded sandbox"
        ),
        "test_sandbox_http::test_data_survive_a_restart": "restarts the sandbox",
        "test_sandbox_http::test_demo_pair_is_the_default": "demo key pair",
        "test_client_resources::test_delete_account": "deletes a seeded account",
        "test_client_cache::test_reads_are_cached": "an outage by fault injection",
        "test_client_resources::test_an_empty_sandbox_lists_only_what_was_created": (
            "uses the `fresh_sandbox` fixture"
        ),
        "test_two_targets::test_live_mode_runs_the_contract_tests_on_the_given_server": (
            "to play Argyle's part"
        ),
    }
    for name, why in expected_skips.items():
        got = outcomes[name]
        assert got.outcome == "skipped", (name, got)
        assert EMBEDDED_ONLY in got.message and UNDER_LIVE in got.message, got.message
        assert why in got.message, got.message
    skipped = [o.message for o in outcomes.values() if o.outcome == "skipped"]
    assert all(m.startswith(EMBEDDED_ONLY) or "does not hold" in m for m in skipped), skipped
    assert len(passed) > 60
    # the run left nothing behind on "Argyle's" sandbox
    assert after == before


@pytest.mark.embedded_only("runs the suite in a subprocess without keys")
def test_live_mode_without_keys_skips_everything_naming_the_missing_variables(
    tmp_path: Path,
) -> None:
    outcomes = _run_suite(
        _environment(ARGYLE_LIVE="1"),
        tmp_path / "nokeys.xml",
        f"{HERE}/test_client_resources.py",
        f"{HERE}/test_client_faults.py",
        f"{HERE}/test_two_targets.py",
    )
    assert len(outcomes) > 20
    for name, got in outcomes.items():
        assert got.outcome == "skipped", (name, got)
        assert got.message.startswith(
            "ARGYLE_LIVE=1 but ARGYLE_API_KEY_ID and ARGYLE_API_KEY_SECRET are not set"
        ), (name, got.message)
