"""An S3-compatible object store on loopback for the tests: moto's server, started in a
process of its own on a free port and stopped by its PID (``moto[server]`` is a dev
dependency: ``make test`` installs it)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

#: Credentials the server accepts (it checks none): test values, not secrets.
_KEYS = {"AWS_ACCESS_KEY_ID": "test-key-id", "AWS_SECRET_ACCESS_KEY": "test-secret"}


@dataclass(frozen=True)
class ObjectStore:
    """A running server: its endpoint, and deltalake's storage options for it."""

    endpoint: str
    pid: int

    def options(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_REGION": "us-east-1",
            "AWS_ALLOW_HTTP": "true",
            **_KEYS,
        }

    def bucket(self, name: str) -> str:
        """A new bucket ``name``; its ``s3://`` URL."""
        answer = requests.put(f"{self.endpoint}/{name}", timeout=10)
        answer.raise_for_status()
        return f"s3://{name}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def object_store(log: Path) -> Iterator[ObjectStore]:
    """moto's S3 server on ``127.0.0.1`` while the block runs (its output to ``log``)."""
    port = _free_port()
    server = Path(sys.executable).with_name("moto_server")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(server), "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=out
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(endpoint, timeout=1)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"moto's S3 server did not start on {endpoint}: {log.read_text()[-2000:]}"
                    ) from None
                time.sleep(0.1)
        yield ObjectStore(endpoint, process.pid)
    finally:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
