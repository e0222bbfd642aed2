"""Process locks: only one relay may run against a SQLite database.

The lock is an advisory ``flock`` on a file beside the database, so the operating system drops it
when the holder dies, even by SIGKILL; a stale lock file never blocks a restart.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from syncledger.errors import SyncledgerError


class LockHeldError(SyncledgerError, RuntimeError):
    """Another process holds the lock."""


class RelayLock:
    """An exclusive lock named after a SQLite database file."""

    def __init__(self, db_path: str) -> None:
        self.path = Path(f"{db_path}.relay.lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise ``LockHeldError`` naming the holder."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise LockHeldError(
                f"another relay (pid {holder}) is already running against this database; "
                "only one relay may run against a SQLite database (use PostgreSQL for several)"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def held_elsewhere(self) -> bool:
        """True if another process holds the lock right now."""
        try:
            self.acquire()
        except LockHeldError:
            return True
        self.release()
        return False

    def release(self) -> None:
        """Let the lock go."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RelayLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
