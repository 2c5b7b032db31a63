"""Where the integration tests run (:class:`Target`) and one way to build a client there.

The suite runs on the embedded sandbox by default. With ``ARGYLE_LIVE=1`` and a key pair in
``ARGYLE_API_KEY_ID``/``ARGYLE_API_KEY_SECRET`` the contract tests (those using the
``target`` fixture) run against Argyle's own sandbox at ``ARGYLE_BASE_URL`` (default
:data:`argyle_nb.client.DEFAULT_BASE_URL`) instead; the ones that need the emulator itself
are skipped, saying why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import jwt
import pytest
import requests

from argyle_nb.client import DEFAULT_BASE_URL, ArgyleClient
from argyle_nb.sandbox import Sandbox

__all__ = [
    "KEY_VARIABLES",
    "LIVE_HINT",
    "Endpoint",
    "Scratch",
    "Target",
    "argyle_target",
    "client_on",
    "live_requested",
    "missing_keys",
    "token_claims",
]

#: The variables a live run needs.
KEY_VARIABLES = ("ARGYLE_API_KEY_ID", "ARGYLE_API_KEY_SECRET")

#: What ``pytest -ra`` shows in default mode (the one visible skip).
LIVE_HINT = (
    "the contract tests ran on the embedded sandbox; to run them against Argyle's own "
    "sandbox, set ARGYLE_LIVE=1 and ARGYLE_API_KEY_ID/ARGYLE_API_KEY_SECRET (a sandbox key "
    f"pair; ARGYLE_BASE_URL defaults to {DEFAULT_BASE_URL})"
)

_TRUE = {"1", "true", "yes", "on"}


class Endpoint(Protocol):
    """A server and its key pair: a :class:`Target` or an embedded :class:`Sandbox`."""

    @property
    def base_url(self) -> str: ...

    @property
    def key_id(self) -> str: ...

    @property
    def key_secret(self) -> str: ...

    @property
    def auth(self) -> tuple[str, str]: ...


@dataclass(frozen=True)
class Target:
    """Where the suite runs: the embedded sandbox, or Argyle's own sandbox."""

    base_url: str
    key_id: str
    key_secret: str = field(repr=False)
    kind: Literal["embedded", "argyle"]
    #: The embedded sandbox (kind ``"embedded"``), else None.
    sandbox: Sandbox | None = None

    @property
    def auth(self) -> tuple[str, str]:
        """``(key_id, key_secret)``, ready for ``requests``' ``auth=``."""
        return (self.key_id, self.key_secret)

    @property
    def embedded(self) -> bool:
        """Whether this is the seeded embedded sandbox (its data are known)."""
        return self.kind == "embedded"

    def require(self, condition: object, what: str) -> None:
        """Data a test needs: asserted on the seeded embedded sandbox, else the test skips.

        Argyle's sandbox holds whatever the key's account holds (accounts come only from
        Link), so a check that needs, say, an account is skipped there, saying so.
        """
        if condition:
            return
        if self.embedded:
            raise AssertionError(f"the seeded embedded sandbox should hold {what}")
        pytest.skip(f"needs {what}, which Argyle's sandbox at {self.base_url} does not hold")


def live_requested(env: Mapping[str, str]) -> bool:
    """Whether ``ARGYLE_LIVE`` asks for Argyle's own sandbox."""
    return env.get("ARGYLE_LIVE", "").strip().lower() in _TRUE


def missing_keys(env: Mapping[str, str]) -> list[str]:
    """The key variables a live run needs and ``env`` lacks (empty counts as missing)."""
    return [name for name in KEY_VARIABLES if not env.get(name, "").strip()]


def argyle_target(env: Mapping[str, str]) -> Target:
    """Argyle's sandbox as ``env`` configures it (the keys must be set)."""
    missing = missing_keys(env)
    if missing:
        raise ValueError(f"ARGYLE_LIVE=1 needs {' and '.join(missing)}")
    base_url = env.get("ARGYLE_BASE_URL", "").strip() or DEFAULT_BASE_URL
    return Target(
        base_url=base_url.rstrip("/"),
        key_id=env["ARGYLE_API_KEY_ID"].strip(),
        key_secret=env["ARGYLE_API_KEY_SECRET"].strip(),
        kind="argyle",
    )


def client_on(where: Endpoint, **options: Any) -> ArgyleClient:
    """A quiet client on a target or a sandbox; an in-memory cache unless ``cache_path``."""
    if "cache_path" not in options:
        options.setdefault("cache", "memory")
    options.setdefault("progress", False)
    return ArgyleClient(where.key_id, where.key_secret, base_url=where.base_url, **options)


def token_claims(target: Target, token: str) -> dict[str, Any]:
    """The claims of a user token: verified by the embedded sandbox, else only decoded.

    Argyle does not publish its signing key, so on its sandbox the signature is not checked.
    """
    if target.sandbox is not None:
        return dict(target.sandbox.decode_token(token))
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


class Scratch:
    """Users a test creates on the target, deleted when it ends: a run leaves nothing behind."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.user_ids: list[str] = []

    def add(self, user_id: object) -> str:
        """Delete this user (created some other way) at the end of the test."""
        text = str(user_id)
        self.user_ids.append(text)
        return text

    def user(self, external_metadata: Any = None) -> dict[str, Any]:
        """``POST /users`` with plain requests; the answer (``id``, ``token``)."""
        body = {} if external_metadata is None else {"external_metadata": external_metadata}
        answer = requests.post(
            f"{self.target.base_url}/users", json=body, auth=self.target.auth, timeout=30
        )
        assert answer.status_code == 201, answer.text
        created: dict[str, Any] = answer.json()
        self.add(created["id"])
        return created

    def clean(self) -> None:
        """Delete every recorded user (already gone is fine); complain about anything else."""
        left: list[str] = []
        while self.user_ids:
            user_id = self.user_ids.pop()
            answer = requests.delete(
                f"{self.target.base_url}/users/{user_id}", auth=self.target.auth, timeout=30
            )
            if answer.status_code not in (204, 404):
                left.append(f"{user_id}: {answer.status_code} {answer.text[:200]}")
        assert not left, "could not delete users this test created:\n" + "\n".join(left)
