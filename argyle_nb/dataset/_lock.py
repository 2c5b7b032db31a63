"""File locks (``flock``) that keep the versions of a dataset safe from each other.

Three kinds, all on files of the dataset's versions folder:

- ``.lock`` in the versions folder, held (exclusive) by a writer while it makes its version
  current and removes old ones, and while it clears interrupted exports: one writer at a
  time reads the link, swaps it and decides what is old.
- ``_dataset.json`` of a version being written (``.partial``), held exclusive by its
  writer from the moment the folder exists: a folder whose lock can be taken is an
  interrupted export, whatever process, thread or machine wrote it.
- ``_dataset.json`` of a complete version, held shared by each open
  :class:`~argyle_nb.dataset.Dataset` reading it: a refresh removes a version only when
  it can take this lock, so a version is never removed under an open dataset.

``flock`` locks belong to an open file: two opens of one file conflict even in one
process, and a process's locks go when it ends, however it ends.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

from argyle_nb.dataset._manifest import DatasetError

__all__ = ["Lock", "lock"]

#: errno values that say the file system has no ``flock``.
_UNSUPPORTED = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}


class Lock:
    """A held ``flock`` on one open file; :meth:`release` (or garbage collection) drops it."""

    def __init__(self, fd: int, file: Path) -> None:
        self.fd = fd
        self.file = file
        self._pid = os.getpid()

    def release(self) -> None:
        """Drop the lock and close the file (once; later calls do nothing)."""
        fd, self.fd = self.fd, -1
        if fd < 0:
            return
        try:
            # A process forked while this was held shares the open file: only the
            # process that took the lock unlocks it (closing never unlocks a shared one).
            if os.getpid() == self._pid:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def removed(self) -> bool:
        """Whether the locked file was removed (unlinked) since it was opened."""
        return os.fstat(self.fd).st_nlink == 0

    def __enter__(self) -> Lock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __del__(self) -> None:
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
