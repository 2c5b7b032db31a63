"""The kernels ``argyle-nb report`` starts: over IPC sockets where the platform has them.

A kernel started the default way listens on TCP ports of the loopback interface, and
ipykernel then warns, once per kernel, that "Kernel is running over TCP without
encryption ... susceptible to eavesdropping" — a warning the reader of a report cannot
act on. A kernel on IPC listens on Unix sockets (files only this user can open, in
Jupyter's runtime folder, removed when it stops): nothing on the network, so no warning,
because no cause. Windows has no IPC transport: there the kernels stay on TCP.

Examples:
    >>> manager = kernel_manager_class()
    >>> manager.__name__ in ("IPCKernelManager", "AsyncKernelManager")
    True
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

__all__ = ["MAX_SOCKET_FOLDER", "kernel_manager_class"]

#: The longest folder the kernels' sockets go in: a socket's path (folder, name and the
#: port number jupyter adds) must fit in the 107 bytes Unix allows.
MAX_SOCKET_FOLDER = 70


def kernel_manager_class() -> type[Any]:
    """The kernel manager class nbclient (and so papermill) is given: kernels on IPC on
    POSIX systems, jupyter_client's own elsewhere."""
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.paths import jupyter_runtime_dir
    from traitlets import default

    if os.name != "posix":
        return AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        """A kernel manager whose kernels listen on Unix sockets, not TCP ports."""

        @default("transport")
        def _transport_default(self) -> str:
            return "ipc"

        @default("ip")
        def _ip_default(self) -> str:
            # The sockets' common path prefix: <runtime>/argyle-kernel-<id>-<n> (jupyter
            # removes them when the kernel stops). Never relative: not in the cwd.
            runtime = Path(jupyter_runtime_dir())
            if len(str(runtime)) > MAX_SOCKET_FOLDER:
                # A Unix socket's path has at most 107 bytes: a long runtime folder
                # (a deep $HOME) gets a short private one instead.
                runtime = Path(tempfile.mkdtemp(prefix="argyle-kernels-"))
            runtime.mkdir(parents=True, exist_ok=True, mode=0o700)
            return str(runtime / f"argyle-kernel-{uuid.uuid4().hex[:12]}")

    return IPCKernelManager
