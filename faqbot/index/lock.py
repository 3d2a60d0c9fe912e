"""One re-index of an index directory at a time, across processes: an flock on <index_dir>/reindex.lock."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from ..errors import FaqbotError

LOCK_FILE = "reindex.lock"


class IndexBusy(FaqbotError):
    """Another re-index of the same index directory is running."""


class BuildLock:
    """An exclusive lock on an index directory's re-index, across processes (released if one dies)."""

    def __init__(self, index_dir: str | Path):
        self.path = Path(index_dir) / LOCK_FILE
        self.fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock if it is free; False when another re-index holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def release(self) -> None:
        """Let the next re-index run."""
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor drops the flock
            self.fd = None

    def __enter__(self) -> "BuildLock":
        if not self.acquire():
            raise IndexBusy(f"Another re-index of {self.path.parent} is running; try again when it has finished.")
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def is_locked(index_dir: str | Path) -> bool:
    """Whether a re-index of index_dir is running right now (in any process)."""
    lock = BuildLock(index_dir)
    if lock.acquire():
        lock.release()
        return False
    return True
