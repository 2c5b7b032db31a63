"""Lists read while another client writes: the real sandbox, a writer thread creating and
deleting users during the fetch, and the result checked against the server's own state."""

from __future__ import annotations

import random
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from argyle_nb import ListChangedWarning, provenance_of
from argyle_nb.sandbox import Sandbox, start
from tests.integration.clients import client_on

pytestmark = pytest.mark.embedded_only("writes to its own sandbox while it reads it")

USERS = 1200


@pytest.fixture
def busy(tmp_path: Path) -> Iterator[Sandbox]:
    with start(db=tmp_path / "busy.sqlite", users=USERS, seed=11) as sandbox:
        yield sandbox


def _ids(sandbox: Sandbox) -> set[str]:
    _, rows = sandbox.store.list_users(limit=10**6, offset=0)
    return {orjson.loads(row)["id"] for row in rows}


@pytest.mark.parametrize("workers", [1, 8])
def test_every_user_that_existed_throughout_comes_exactly_once(busy: Sandbox, workers: int) -> None:
    before = _ids(busy)
    deletable = random.Random(5).sample(sorted(before), 150)
    stop = threading.Event()
    writing = threading.Event()
    created: set[str] = set()
    writes = 0

    def writer() -> None:
        nonlocal writes
        with client_on(busy, progress=False) as other:
            for victim in deletable:
                if stop.is_set():
                    return
                created.add(str(other.users.create(external_metadata={"writer": True}).id))
                other.users.delete(victim)  # a user in the middle of the list goes
                writes += 2
                writing.set()

    thread = threading.Thread(target=writer)
    with client_on(busy, workers=workers, progress=False) as reader:
        thread.start()
        try:
            assert writing.wait(60)
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always", ListChangedWarning)
                writes_before = writes
                frame = reader.users_frame()
                writes_during = writes - writes_before
        finally:
            stop.set()
            thread.join(timeout=120)
    after = _ids(busy)
    got = list(frame["id"])
    assert writes_during > 0, "the list did not change while it was read"
    # (whether a write fell inside the walk itself varies; the fakes of
    # tests/unit/client/test_pagination.py pin down that each kind of change is noticed)
    provenance = provenance_of(frame)
    assert provenance is not None
    missing = len(before & after - set(got))
    state = f"consistent={provenance.consistent}, passes={provenance.passes}, missing={missing}"
    assert len(got) == len(set(got)), f"a user came twice ({state})"
    assert set(got) <= before | created, f"a user that never existed ({state})"
    if provenance.consistent:  # vouched for: complete
        assert missing == 0, f"a user that existed throughout is missing ({state})"
    vouched = [w for w in seen if issubclass(w.category, ListChangedWarning)]
    assert provenance.consistent == (not vouched)  # a warning exactly when not vouched for
