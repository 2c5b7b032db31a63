"""Sandbox benchmark: seeding 100,000 users, pages of 200 accounts served per second, and
the demo's days (``advance``).

The page rate is measured beside a minimal Starlette app (same uvicorn, same loopback,
same client) answering one prebuilt page, and printed as a ratio from one run. A day of
the 10,000-user demo (issue 28: "well under a second") is timed over its first 30 days
advanced, one at a time: each reads every account, lives its day and writes what changed
in one transaction.

Measured 2026-12-07 on 2 cores: a day of the demo 0.55-0.62 s (median of 30; the slowest
0.67-0.87 s), of which about 0.25 s is SQLite writing the day's changed documents.
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from pathlib import Path

import requests
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from argyle_nb.sandbox import DEMO_SEED, DEMO_USERS, start

USERS = 100_000
PAGES = 500
LIMIT = 200


def _minimal_server(page: bytes) -> tuple[str, uvicorn.Server, threading.Thread]:
    async def answer(request: Request) -> Response:
        return Response(page, media_type="application/json")

    app = Starlette(routes=[Route("/v1/accounts", answer)])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return f"http://127.0.0.1:{sock.getsockname()[1]}/v1", server, thread


def _pages_per_second(session: requests.Session, urls: list[str]) -> float:
    started = time.perf_counter()
    for url in urls:
        answer = session.get(url, timeout=30)
        answer.raise_for_status()
        assert answer.content
    return len(urls) / (time.perf_counter() - started)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite"
        started = time.perf_counter()
        sandbox = start(db=db, users=USERS, seed=1)
        seeding = time.perf_counter() - started
        try:
            users, accounts = sandbox.store.counts()
            size_mb = db.stat().st_size / 1e6
            print(f"seeding {users:,} users / {accounts:,} accounts: {seeding:.1f} s "
                  f"({size_mb:.0f} MB SQLite)")  # fmt: skip
            session = requests.Session()
            session.auth = sandbox.auth
            base = f"{sandbox.base_url}/accounts?limit={LIMIT}&offset="
            urls = [base + str(i * LIMIT) for i in range(PAGES)]
            session.get(urls[0]).raise_for_status()  # warm up
            served = _pages_per_second(session, urls)
            page = session.get(urls[0]).content
            minimal_url, server, thread = _minimal_server(page)
            try:
                plain = requests.Session()
                plain.get(f"{minimal_url}/accounts").raise_for_status()
                baseline = _pages_per_second(plain, [f"{minimal_url}/accounts"] * PAGES)
            finally:
                server.should_exit = True
                thread.join(10)
        finally:
            sandbox.stop()
    print(
        f"pages of {LIMIT} accounts ({len(page) / 1e3:.0f} KB), offsets 0..{(PAGES - 1) * LIMIT}:"
    )
    print(f"  sandbox (auth + SQLite + envelope): {served:7.1f} pages/s")
    print(f"  minimal Starlette, prebuilt page:   {baseline:7.1f} pages/s")
    print(f"  ratio sandbox / minimal:            {served / baseline:7.2f}")

    _days()


def _days() -> None:
    """The demo advanced 30 days, a day at a time: each day's seconds."""
    with start(users=DEMO_USERS, seed=DEMO_SEED) as sandbox:
        seconds = []
        for _ in range(30):
            started = time.perf_counter()
            sandbox.advance(1)
            seconds.append(time.perf_counter() - started)
        users, accounts = sandbox.store.counts()
    seconds.sort()
    print(
        f"a day of the {DEMO_USERS:,}-user demo: median {seconds[15]:.2f} s, slowest "
        f"{seconds[-1]:.2f} s (30 days; then {users:,} users, {accounts:,} accounts)"
    )


if __name__ == "__main__":
    main()
