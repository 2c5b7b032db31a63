"""Pure parts of the sandbox: parameters, auth header parsing, tokens, faults, the store."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

from argyle_nb.sandbox import Faults
from argyle_nb.sandbox.app import ApiError, parse_count, parse_uuid
from argyle_nb.sandbox.auth import BasicAuth
from argyle_nb.sandbox.hosts import allowed_hosts
from argyle_nb.sandbox.openapi import openapi_document
from argyle_nb.sandbox.store import Store
from argyle_nb.sandbox.synth import generate
from argyle_nb.sandbox.tokens import TokenIssuer

NOW = datetime(2026, 5, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"), [(None, 10), ("1", 1), ("200", 200), ("201", 200), ("9" * 40, 200)]
)
def test_limit_defaults_and_clamps(text: str | None, expected: int) -> None:
    assert parse_count(text, name="limit", default=10, minimum=1, maximum=200) == expected


@pytest.mark.parametrize("text", ["0", "-1", "x", "", "1e3", "２"])
def test_bad_limits_raise_a_field_error(text: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_count(text, name="limit", default=10, minimum=1, maximum=200)
    assert caught.value.status == 400 and "limit" in caught.value.body


def test_parse_uuid() -> None:
    assert parse_uuid("0994b847cc694d98bc99c5e65e762add") == "0994b847-cc69-4d98-bc99-c5e65e762add"
    assert parse_uuid("nope") is None
    assert parse_uuid("0" * 1000) is None


def test_basic_auth_header_parsing() -> None:
    auth = BasicAuth(app=None, key_id="id", key_secret="se:cret")  # type: ignore[arg-type]
    good = base64.b64encode(b"id:se:cret")
    assert auth.accepts(b"Basic " + good)
    assert auth.accepts(b"basic " + good)
    for bad in (None, b"", b"Basic", b"Basic " + base64.b64encode(b"id"), b"Bearer " + good):
        assert not auth.accepts(bad)


def test_tokens_expire_after_30_days() -> None:
    issuer = TokenIssuer("k" * 32, "client")
    token = issuer.access("user-1", NOW)
    assert issuer.decode(token, NOW + timedelta(days=29))["user_id"] == "user-1"
    with pytest.raises(jwt.ExpiredSignatureError):
        issuer.decode(token, NOW + timedelta(days=30, seconds=1))
    with pytest.raises(jwt.InvalidSignatureError):
        TokenIssuer("other" * 8, "client").decode(token, NOW)
    assert "k" * 32 not in repr(issuer)


def test_faults_validate_their_fractions() -> None:
    with pytest.raises(ValueError):
        Faults(rate_limit=-0.1)
    with pytest.raises(ValueError):
        Faults(rate_limit=0.7, server_error=0.7)
    with pytest.raises(ValueError):
        Faults(server_error_status=502)
    assert not Faults().active and Faults(latency=0.1).active
    assert Faults(retry_after=1.2).retry_after_header() == "2"


def test_openapi_documents_every_status_the_handlers_use() -> None:
    paths = openapi_document()["paths"]
    for operations in paths.values():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            assert {"401", "429", "500", "503"} <= set(operation["responses"])


def test_store_sweep_and_cascade(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    store.insert(generate(200, seed=2, now=NOW))
    users, accounts = store.counts()
    assert users == 200
    assert store.sweep(NOW) == 0
    swept = store.sweep(NOW + timedelta(days=31))
    assert swept > 0 and store.counts() == (200, accounts - swept)
    count, page = store.list_users(limit=200, offset=0)
    assert count == 200 and len(page) == 200
    store.close()


def test_corrupt_faults_pick_records_by_id_and_seed() -> None:
    with pytest.raises(ValueError, match="corrupt"):
        Faults(corrupt=1.2)
    ids = [f"{i:08d}-0000-0000-0000-000000000000" for i in range(2000)]
    faults = Faults(corrupt=0.1, seed=5)
    picked = {i for i in ids if faults.corrupts(i)}
    assert 140 < len(picked) < 260  # about a tenth
    assert picked == {i for i in ids if Faults(corrupt=0.1, seed=5).corrupts(i)}
    assert picked != {i for i in ids if Faults(corrupt=0.1, seed=6).corrupts(i)}
    assert not any(Faults(seed=5).corrupts(i) for i in ids)
    record = b'{"id":"%s","created_at":"2026-01-01T00:00:00Z"}'
    clean = next(i for i in ids if i not in picked)
    bad = next(iter(picked))
    assert faults.corrupt_record("users", record % clean.encode()) == record % clean.encode()
    assert faults.corrupt_record("users", record % bad.encode()) != record % bad.encode()


LOOPBACK = ["localhost", "127.0.0.1", "[::1]"]


@pytest.mark.parametrize(
    ("bind", "extra", "expected"),
    [
        ("127.0.0.1", [], LOOPBACK),
        ("::1", [], LOOPBACK),  # the bind address is loopback already
        ("0.0.0.0", [], LOOPBACK),  # every interface names no host of its own
        ("::", [], LOOPBACK),
        ("10.0.0.7", [], [*LOOPBACK, "10.0.0.7"]),
        ("0.0.0.0", "Box.Local", [*LOOPBACK, "box.local"]),  # one name, as Host spells it
        (
            "0.0.0.0",
            ["FE80::1", "[fe80::1]", "*.lan.example"],
            [*LOOPBACK, "[fe80::1]", "*.lan.example"],
        ),
        ("0.0.0.0", ["*"], [*LOOPBACK, "*"]),
    ],
)
def test_allowed_hosts_are_spelled_as_a_host_header_spells_them(
    bind: str, extra: list[str] | str, expected: list[str]
) -> None:
    assert allowed_hosts(bind, extra) == expected


@pytest.mark.parametrize(
    "name", ["box:8000", "[::1]:80", "a b", "x/y", "*x", "a.*.b", "", "fe80::g"]
)
def test_an_allowed_host_with_a_port_or_not_a_name_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not a host name"):
        allowed_hosts("127.0.0.1", [name])
