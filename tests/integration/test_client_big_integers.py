"""Integers no int64 holds, created through the client in the real sandbox: every read keeps
them exact (issue 25: 2**63 failed users_frame() and export() whole with a raw
OverflowError; a 30-digit integer became 1.2345678901234568e+29, or could not be sent)."""

from __future__ import annotations

import json
from pathlib import Path

from argyle_nb import analysis
from argyle_nb.sandbox import Sandbox
from tests.integration.clients import client_on

#: Integers around and far beyond int64 and uint64, each a user's "n" (and one ordinary).
NUMBERS = [2**63, 2**64 - 1, 2**64, -(2**63) - 1, 10**29 + 7, -(10**40), 5]


def test_big_integers_are_created_and_read_exactly(fresh_sandbox: Sandbox, tmp_path: Path) -> None:
    with client_on(fresh_sandbox) as client:
        made = {
            str(client.users.create(external_metadata={"n": n, "tag": "big"}).id): n
            for n in NUMBERS
        }
        for user_id, n in made.items():
            assert client.users.get(user_id).external_metadata == {"n": n, "tag": "big"}
        listed = {str(u.id): u.external_metadata for u in client.users.list()}
        assert listed == {user_id: {"n": n, "tag": "big"} for user_id, n in made.items()}
        users = client.users_frame()
        with client.export(tmp_path / "portfolio") as ds:
            written = dict(ds.sql("select id, external_metadata from users").fetchall())
            groups = analysis.metadata_groups(ds, "n", min_users=1)
    frame = dict(zip(users["id"].astype("str"), users["meta.n"], strict=True))
    for user_id, n in made.items():  # int64 values as ints, the others as their exact text
        assert frame[user_id] == (n if -(2**63) <= n < 2**63 else str(n))
    raw = dict(zip(users["id"].astype("str"), users["external_metadata"], strict=True))
    assert {k: json.loads(v)["n"] for k, v in raw.items()} == made
    assert {str(k): json.loads(v)["n"] for k, v in written.items()} == made
    assert groups["users"].to_dict() == {str(n): 1 for n in NUMBERS}
