"""Report kernels listen on IPC sockets whose paths Unix accepts, in a private folder."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from argyle_nb._kernels import MAX_SOCKET_FOLDER, kernel_manager_class

pytestmark = pytest.mark.skipif(os.name != "posix", reason="IPC sockets are POSIX-only")

#: The longest path of a Unix socket (sun_path holds 108 bytes with the final NUL).
SUN_PATH = 107


def _socket_paths(runtime: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(runtime))
    manager = kernel_manager_class()()
    # jupyter_client names each socket <ip>-<port>; ports are at most 5 digits.
    return manager.transport, f"{manager.ip}-65535"


def test_sockets_go_in_the_runtime_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    transport, path = _socket_paths(tmp_path / "runtime", monkeypatch)
    assert transport == "ipc"
    assert Path(path).parent == tmp_path / "runtime"
    assert stat.S_IMODE((tmp_path / "runtime").stat().st_mode) == 0o700


def test_a_runtime_folder_too_deep_for_a_socket_gets_a_short_private_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    assert len(str(deep)) > MAX_SOCKET_FOLDER
    _, path = _socket_paths(deep, monkeypatch)
    assert len(path.encode()) <= SUN_PATH
    folder = Path(path).parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    folder.rmdir()
