"""File locks (``flock``) that keep the exports staging into one dataset safe from each
other.

Two kinds, both in the dataset's ``_staging`` folder:

- ``.lock``, held (exclusive) by a writer while it makes its staging folder and clears
  interrupted exports: one writer at a time decides what is left over.
- ``_writing`` of an export being staged (``.partial``), held exclusive by its writer from
  the moment the folder exists: a folder whose lock can be taken is an interrupted
  export, whatever process, thread or machine wrote it.

``flock`` locks belong to an open file: two opens of one file conflict even in one
process, and a process's locks go when it ends, however it ends. Where ``flock`` is
emulated by record locks (NFS), locks of one process do not conflict with each other:
:func:`held_here` tells what this process holds, whatever the file system.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import threading
from collections import Counter
from pathlib import Path

from argyle_nb.dataset._tables import DatasetError

__all__ = ["Lock", "held_here", "lock"]

#: errno values that say the file system has no ``flock``.
_UNSUPPORTED = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}
#: The files (device, inode) this process holds locks on, and how many.
_HELD: Counter[tuple[int, int]] = Counter()
_HELD_LOCK = threading.Lock()


def held_here(file: Path) -> bool:
    """Whether this process holds a lock on ``file`` (false if it is not there)."""
    try:
        found = os.stat(file)
    except OSError:
        return False
    with _HELD_LOCK:
        return _HELD[(found.st_dev, found.st_ino)] > 0


class Lock:
    """A held ``flock`` on one open file; :meth:`release` (or garbage collection) drops it."""

    def __init__(self, fd: int, file: Path) -> None:
        self.fd = fd
        self.file = file
        self._pid = os.getpid()
        found = os.fstat(fd)
        self._key = (found.st_dev, found.st_ino)
        with _HELD_LOCK:
            _HELD[self._key] += 1

    def release(self) -> None:
        """Drop the lock and close the file (once; later calls do nothing)."""
        fd, self.fd = self.fd, -1
        if fd < 0:
            return
        with _HELD_LOCK:
            _HELD[self._key] -= 1
            if _HELD[self._key] <= 0:
                del _HELD[self._key]
        try:
            # A process forked while this was held shares the open file: only the
            # process that took the lock unlocks it (closing never unlocks a shared one).
            if os.getpid() == self._pid:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __enter__(self) -> Lock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # at interpreter exit, os may be gone
            self.release()


def lock(
    file: Path, *, shared: bool = False, wait: bool = True, create: bool = False
) -> Lock | None:
    """Lock ``file``: shared or exclusive; ``None`` if ``wait`` is false and another holds it.

    Raises:
        FileNotFoundError: ``file`` is not there (and ``create`` is false).
        DatasetError: the file system cannot lock files.
    """
    flags = os.O_RDONLY | os.O_CLOEXEC
    if create:
        flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
    fd = os.open(file, flags, 0o644)
    how = (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | (0 if wait else fcntl.LOCK_NB)
    try:
        fcntl.flock(fd, how)
    except BlockingIOError:
        os.close(fd)
        return None
    except OSError as exc:
        os.close(fd)
        if exc.errno in _UNSUPPORTED:
            raise DatasetError(
                f"{file}: this file system cannot lock files ({exc.strerror}), which a dataset "
                "needs to be refreshed safely: export to a folder on a local disk"
            ) from None
        raise
    return Lock(fd, file)
